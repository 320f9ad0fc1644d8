//! `ronda bench http`: PDQ lookups over HTTP against a bank of N entries
//! (1M by default), with the server and a load generator in this one
//! process, on one tokio runtime of `--threads` workers (2: the "2 cores
//! shared by server and client" set-up), talking over loopback.
//!
//! Steps, each printing one JSON line on stdout (progress goes to stderr):
//!
//! 1. `import`: the bank `BENCH` filled through `Store::import_batch` in
//!    batches of `MAX_BATCH` (skipped when `--data-dir` already holds the
//!    same bank, recognised by a marker file written after the import);
//! 2. `startup-store`, then `startup-snapshot`: the store reopened and the
//!    server started on 127.0.0.1:0, timed from just before `Store::open`
//!    until `GET /status` answers 200 (polled every 20 ms); first with no
//!    index snapshot (every entry read from the store), then again after a
//!    clean stop has written the snapshot (`index.snapshot` in the data
//!    directory), which the second start loads before catching up;
//! 3. one line per route (`/m/raw_lookup`, `/api/v1/lookup`): C keep-alive
//!    connections sending lookups round-robin over the queries for
//!    `--duration` seconds after `--warmup` seconds, with throughput,
//!    latency percentiles and errors (non-200 answers and transport
//!    errors). Before the timed run, the answers to the first `--check`
//!    queries are compared with a brute-force scan (distance ≤ 31) of the
//!    stored hashes, by hash and distance, so the check does not depend on
//!    the ids the store assigns.
//!
//! The hashes are a `gen_hashes.py` dataset (`--dataset DIR`: db.bin is the
//! bank, queries.bin the queries) or N random codes from a seeded PRNG with
//! 1000 queries, every other one a stored hash with 1 to 24 bits flipped
//! (so lookups find it) and the rest fresh random codes.
//!
//! The default client is a minimal HTTP/1.1 keep-alive client over tokio
//! `TcpStream` (`--client raw`), which leaves more of the two cores to the
//! server than reqwest (`--client reqwest`) does.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use ronda_hash::{PdqHash, Signal};
use ronda_store::{Actor, MAX_BATCH, NewBank, NewEntry, Role, Store};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOOL: &str = "ronda-http";
const BANK: &str = "BENCH";
const RADIUS: u32 = 31;
const MARKER: &str = "bench-http.json";
const ROUTES: [&str; 2] = ["raw_lookup", "api_lookup"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bank size. Default 1,000,000; with --dataset, all of db.bin (a
    /// smaller N takes its first N rows).
    #[arg(long)]
    entries: Option<usize>,
    /// Data directory of the store. One that already holds this bank (same
    /// N and source) is reused without importing. Default: a temporary
    /// directory, removed at the end.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A `gen_hashes.py` directory: db.bin is the bank, queries.bin the
    /// queries. Without it: random hashes from --seed.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Concurrent keep-alive connections of the load generator.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds measured per route.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before the measured window (not counted).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Routes to load: raw_lookup (/m/raw_lookup), api_lookup (/api/v1/lookup).
    #[arg(long, value_delimiter = ',', default_value = "raw_lookup,api_lookup")]
    routes: Vec<String>,
    /// Tokio worker threads, shared by the server and the load generator.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Load generator: `raw` (hand-rolled HTTP/1.1 keep-alive) or `reqwest`.
    #[arg(long, default_value = "raw")]
    client: String,
    /// Queries generated without --dataset.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// PRNG seed for generated hashes and queries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Queries whose answers are checked against a brute-force scan.
    #[arg(long, default_value_t = 100)]
    check: usize,
}

/// Hashes as four 64-bit words (big-endian byte order: the hex form).
type Words = [u64; 4];

fn to_words(b: &[u8]) -> Words {
    let mut w = [0u64; 4];
    for (i, c) in b.chunks_exact(8).enumerate() {
        w[i] = u64::from_be_bytes(c.try_into().unwrap_or([0; 8]));
    }
    w
}

fn to_bytes(w: &Words) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, x) in w.iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&x.to_be_bytes());
    }
    b
}

fn hex(w: &Words) -> String {
    PdqHash(to_bytes(w)).to_string()
}

fn distance(a: &Words, b: &Words) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// SplitMix64: small, seeded, good enough for test codes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn words(&mut self) -> Words {
        [self.next(), self.next(), self.next(), self.next()]
    }
}

struct Data {
    db: Vec<Words>,
    queries: Vec<Words>,
    /// `generated` or the dataset's distribution.
    dist: String,
    /// Identifies the bank's contents, for reusing a data directory.
    marker: Value,
}

fn read_rows(path: &Path) -> anyhow::Result<Vec<Words>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() % 32 != 0 {
        bail!(
            "{}: size {} is not a multiple of 32",
            path.display(),
            bytes.len()
        );
    }
    Ok(bytes.chunks_exact(32).map(to_words).collect())
}

fn load_data(args: &Args) -> anyhow::Result<Data> {
    if let Some(dir) = &args.dataset {
        let meta_path = dir.join("meta.json");
        let meta: Value = serde_json::from_slice(
            &std::fs::read(&meta_path)
                .with_context(|| format!("reading {}", meta_path.display()))?,
        )
        .with_context(|| format!("parsing {}", meta_path.display()))?;
        let mut db = read_rows(&dir.join("db.bin"))?;
        if let Some(n) = args.entries {
            if n > db.len() {
                bail!("--entries {n} is more than db.bin's {} rows", db.len());
            }
            db.truncate(n);
        }
        let queries = read_rows(&dir.join("queries.bin"))?;
        let dist = meta["distribution"]
            .as_str()
            .unwrap_or("dataset")
            .to_owned();
        let marker = json!({
            "format": "ronda-bench-http/1",
            "source": "dataset",
            "db_sha256": meta["db_sha256"],
            "n": db.len(),
        });
        return Ok(Data {
            db,
            queries,
            dist,
            marker,
        });
    }
    let n = args.entries.unwrap_or(1_000_000);
    let mut rng = Rng(args.seed);
    let db: Vec<Words> = (0..n).map(|_| rng.words()).collect();
    let mut queries = Vec::with_capacity(args.queries);
    for q in 0..args.queries {
        if q % 2 == 0 && n > 0 {
            // A near-copy: a stored hash with 1..=24 distinct bits flipped.
            let mut w = db[rng.below(n as u64) as usize];
            let flips = 1 + rng.below(24);
            let mut done = BTreeSet::new();
            while (done.len() as u64) < flips {
                let bit = rng.below(256) as usize;
                if done.insert(bit) {
                    w[bit / 64] ^= 1 << (bit % 64);
                }
            }
            queries.push(w);
        } else {
            queries.push(rng.words());
        }
    }
    let marker = json!({
        "format": "ronda-bench-http/1",
        "source": "generated",
        "seed": args.seed,
        "n": n,
    });
    Ok(Data {
        db,
        queries,
        dist: "generated".to_owned(),
        marker,
    })
}

/// Resident set size in MiB (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / (1024.0 * 1024.0))
}

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Linear interpolation, as numpy.percentile's default (as `bench match`).
fn percentile_us(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let x = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    let (a, b) = (f64::from(sorted[lo]), f64::from(sorted[hi]));
    a + (b - a) * (x - lo as f64)
}

// ------------------------------------------------------------ HTTP client

/// One HTTP/1.1 keep-alive connection: a request written in one piece,
/// the answer read up to its Content-Length (no chunked bodies: the
/// server's JSON and text answers all carry a length).
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Sends one request; returns the status, the body and whether the
    /// server keeps the connection open.
    async fn request(&mut self, req: &[u8]) -> std::io::Result<(u16, &[u8], bool)> {
        use std::io::{Error, ErrorKind};
        self.stream.write_all(req).await?;
        let mut filled = 0;
        let head_end = loop {
            if filled == self.buf.len() {
                self.buf.resize(2 * self.buf.len(), 0);
            }
            let n = self.stream.read(&mut self.buf[filled..]).await?;
            if n == 0 {
                return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed"));
            }
            filled += n;
            if let Some(i) = find(&self.buf[..filled], b"\r\n\r\n") {
                break i + 4;
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| Error::new(ErrorKind::InvalidData, "header is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::new(ErrorKind::InvalidData, "bad status line"))?;
        let mut length = None;
        let mut keep_alive = true;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(Error::new(ErrorKind::Unsupported, "chunked answer"));
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                keep_alive = false;
            }
        }
        let length =
            length.ok_or_else(|| Error::new(ErrorKind::InvalidData, "answer without length"))?;
        let total = head_end + length;
        if self.buf.len() < total {
            self.buf.resize(total, 0);
        }
        while filled < total {
            let n = self.stream.read(&mut self.buf[filled..total]).await?;
            if n == 0 {
                return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed"));
            }
            filled += n;
        }
        Ok((status, &self.buf[head_end..total], keep_alive))
    }
}

/// Where and how the load generator talks.
struct Target {
    addr: SocketAddr,
    secret: String,
    reqwest: Option<reqwest::Client>,
}

impl Target {
    fn raw_request(&self, path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            self.addr, self.secret
        )
        .into_bytes()
    }
}

/// A connection of either client.
enum Client {
    Raw(Option<Conn>),
    Reqwest(reqwest::Client),
}

impl Client {
    fn new(target: &Target) -> Client {
        match &target.reqwest {
            Some(c) => Client::Reqwest(c.clone()),
            None => Client::Raw(None),
        }
    }

    /// One GET; the body only when `want_body`. Transport errors are `Err`.
    async fn get(
        &mut self,
        target: &Target,
        path: &str,
        raw: &[u8],
        want_body: bool,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        match self {
            Client::Raw(slot) => {
                let conn = match slot {
                    Some(c) => c,
                    None => slot.insert(Conn::connect(target.addr).await?),
                };
                match conn.request(raw).await {
                    Ok((status, body, keep)) => {
                        let body = if want_body { body.to_vec() } else { Vec::new() };
                        if !keep {
                            *slot = None;
                        }
                        Ok((status, body))
                    }
                    Err(e) => {
                        *slot = None;
                        Err(e.into())
                    }
                }
            }
            Client::Reqwest(c) => {
                let resp = c
                    .get(format!("http://{}{path}", target.addr))
                    .bearer_auth(&target.secret)
                    .send()
                    .await?;
                let status = resp.status().as_u16();
                // Read the body in all cases, so the connection is reused.
                let body = resp.bytes().await?;
                Ok((status, if want_body { body.to_vec() } else { Vec::new() }))
            }
        }
    }
}

// ------------------------------------------------------------ the bank

struct Imported {
    secret: String,
    bank_id: i64,
}

async fn import(data: &Data, dir: &Path) -> anyhow::Result<Imported> {
    let actor = Actor::local("bench");
    let store = Store::open(None, dir)
        .await
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    let n = data.db.len();
    let marker_path = dir.join(MARKER);
    let marker_ok = std::fs::read(&marker_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|m| m == data.marker);
    let existing = store.bank(BANK).await?;
    let reuse = match &existing {
        Some(b) => marker_ok && store.count_entries(b.id).await? == n as u64,
        None => false,
    };
    let (bank, seconds, added) = if reuse {
        eprintln!("# reusing bank {BANK} ({n} entries) in {}", dir.display());
        (existing.context("bank vanished")?, None, 0)
    } else {
        if existing.is_some() {
            eprintln!(
                "# bank {BANK} in {} holds other entries: deleting it",
                dir.display()
            );
            store.delete_bank(BANK, &actor).await?;
        }
        let _ = std::fs::remove_file(&marker_path);
        let bank = store.create_bank(&NewBank::named(BANK), &actor).await?;
        eprintln!("# importing {n} entries into {}", dir.display());
        let t = Instant::now();
        let mut added = 0u64;
        let mut next_note = 100_000;
        for (i, chunk) in data.db.chunks(MAX_BATCH).enumerate() {
            let batch: Vec<NewEntry> = chunk
                .iter()
                .map(|w| NewEntry::from_signal(Signal::Pdq(PdqHash(to_bytes(w)))))
                .collect();
            let stats = store.import_batch(&bank, &batch, &[], None, &actor).await?;
            added += stats.added;
            let done = (i + 1) * MAX_BATCH;
            if done >= next_note {
                eprintln!(
                    "#   {done} entries, {:.1}s, {:.0}/s",
                    t.elapsed().as_secs_f64(),
                    done as f64 / t.elapsed().as_secs_f64()
                );
                next_note += 100_000;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        std::fs::write(&marker_path, data.marker.to_string())
            .with_context(|| format!("writing {}", marker_path.display()))?;
        (bank, Some(secs), added)
    };
    // Do entry ids follow the rows (1..=N in import order)? Sampled; the
    // correctness check compares hashes, so it does not rely on this.
    let mut rng = Rng(7);
    let mut sample: Vec<usize> = (0..20)
        .map(|_| rng.below(n.max(1) as u64) as usize)
        .collect();
    sample.extend([0, n.saturating_sub(1)]);
    let mut ids_are_rows = n > 0;
    for row in sample.into_iter().filter(|&r| r < n) {
        let want = format!("pdq:{}", hex(&data.db[row]));
        let got = store.entry(row as i64 + 1).await?;
        if got.is_none_or(|e| e.external_id != want || e.bank_id != bank.id) {
            ids_are_rows = false;
            break;
        }
    }
    // The token is made here, outside the start-up measurement.
    let (_, secret) = store
        .create_token("bench", Role::Platform, None, &actor)
        .await?;
    store.close().await;
    println!(
        "{}",
        json!({
            "tool": TOOL,
            "mode": "import",
            "dist": data.dist,
            "n": n,
            "entries": n,
            "added": added,
            "reused": reuse,
            "batch": MAX_BATCH,
            "seconds": seconds.map(|s| round(s, 3)),
            "entries_per_s": seconds.map(|s| round(n as f64 / s, 1)),
            "ids_are_rows": ids_are_rows,
        })
    );
    Ok(Imported {
        secret,
        bank_id: bank.id,
    })
}

// ------------------------------------------------------------ correctness

/// Per checked query: the (hash hex, distance) pairs a lookup must return.
fn brute_force(data: &Data, count: usize) -> Vec<BTreeSet<(String, u32)>> {
    data.queries
        .iter()
        .take(count)
        .map(|q| {
            data.db
                .iter()
                .filter_map(|h| {
                    let d = distance(q, h);
                    (d <= RADIUS).then(|| (hex(h), d))
                })
                .collect()
        })
        .collect()
}

fn route_path(route: &str, q: &Words) -> String {
    match route {
        "raw_lookup" => format!(
            "/m/raw_lookup?signal_type=pdq&signal={}&include_distance=true",
            hex(q)
        ),
        _ => format!("/api/v1/lookup?signal_type=pdq&signal={}", hex(q)),
    }
}

/// Compares a route's answers for the first queries with the brute force;
/// returns whether all agree, printing the first differences to stderr.
async fn check_route(
    route: &str,
    target: &Target,
    store: &Store,
    bank_id: i64,
    queries: &[Words],
    truth: &[BTreeSet<(String, u32)>],
) -> anyhow::Result<bool> {
    let mut client = Client::new(target);
    let mut ok = true;
    let mut reported = 0;
    for (i, (q, want)) in queries.iter().zip(truth).enumerate() {
        let path = route_path(route, q);
        let (status, body) = client
            .get(target, &path, &target.raw_request(&path), true)
            .await?;
        let mut got = BTreeSet::new();
        let mut bad = None;
        if status != 200 {
            bad = Some(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        } else {
            let v: Value = serde_json::from_slice(&body).context("answer is not JSON")?;
            let matches = v["matches"].as_array().context("answer without matches")?;
            for m in matches {
                let (id, d) = match route {
                    "raw_lookup" => (
                        m["bank_content_id"].as_i64(),
                        m["distance"].as_str().and_then(|s| s.parse::<u32>().ok()),
                    ),
                    _ => (
                        m["entry_id"].as_i64(),
                        m["distance"].as_u64().map(|d| d as u32),
                    ),
                };
                let (Some(id), Some(d)) = (id, d) else {
                    bad = Some(format!("unexpected match {m}"));
                    break;
                };
                match store.entry(id).await? {
                    Some(e) if e.bank_id == bank_id => match e.signals.first() {
                        Some(Signal::Pdq(h)) => {
                            got.insert((h.to_string(), d));
                        }
                        _ => bad = Some(format!("entry {id} has no PDQ signal")),
                    },
                    _ => bad = Some(format!("entry {id} is not in bank {BANK}")),
                }
            }
        }
        if bad.is_none() && got != *want {
            bad = Some(format!(
                "expected {} matches, got {}; missing {:?}, extra {:?}",
                want.len(),
                got.len(),
                want.difference(&got).take(3).collect::<Vec<_>>(),
                got.difference(want).take(3).collect::<Vec<_>>()
            ));
        }
        if let Some(why) = bad {
            ok = false;
            if reported < 5 {
                eprintln!("# {route}: query {i} ({}) wrong: {why}", hex(q));
                reported += 1;
            }
        }
    }
    Ok(ok)
}

// ------------------------------------------------------------ load

#[derive(Default)]
struct WorkerOut {
    lat_us: Vec<u32>,
    errors: u64,
    warm_errors: u64,
    first_error: Option<String>,
    last_done: Option<Instant>,
}

async fn worker(
    target: Arc<Target>,
    paths: Arc<Vec<(String, Vec<u8>)>>,
    next: Arc<AtomicUsize>,
    t_warm: Instant,
    t_end: Instant,
) -> WorkerOut {
    let mut out = WorkerOut {
        lat_us: Vec::with_capacity(16 * 1024),
        ..WorkerOut::default()
    };
    let mut client = Client::new(&target);
    loop {
        let start = Instant::now();
        if start >= t_end {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed) % paths.len();
        let (path, raw) = &paths[i];
        let result = client.get(&target, path, raw, false).await;
        let done = Instant::now();
        let error = match result {
            Ok((200, _)) => None,
            Ok((status, _)) => Some(format!("status {status}")),
            Err(e) => Some(format!("{e:#}")),
        };
        let counted = start >= t_warm;
        match error {
            None if counted => {
                let us = done.duration_since(start).as_micros();
                out.lat_us.push(u32::try_from(us).unwrap_or(u32::MAX));
            }
            None => {}
            Some(e) => {
                if counted {
                    out.errors += 1;
                } else {
                    out.warm_errors += 1;
                }
                out.first_error.get_or_insert(e);
                // Do not spin on a refused connection.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        if counted {
            out.last_done = Some(out.last_done.map_or(done, |t| t.max(done)));
        }
    }
    out
}

struct LoadResult {
    requests: u64,
    errors: u64,
    window_s: f64,
    lat_us: Vec<u32>,
    cpu_s: f64,
}

async fn load(
    target: &Arc<Target>,
    route: &str,
    queries: &[Words],
    args: &Args,
) -> anyhow::Result<LoadResult> {
    let paths: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        queries
            .iter()
            .map(|q| {
                let p = route_path(route, q);
                let raw = target.raw_request(&p);
                (p, raw)
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let now = Instant::now();
    let t_warm = now + Duration::from_secs_f64(args.warmup);
    let t_end = t_warm + Duration::from_secs_f64(args.duration);
    let handles: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(worker(
                target.clone(),
                paths.clone(),
                next.clone(),
                t_warm,
                t_end,
            ))
        })
        .collect();
    // CPU time over the measured window (server + client + SQLite threads).
    tokio::time::sleep_until(t_warm.into()).await;
    let cpu0 = cpu_s();
    let mut outs = Vec::with_capacity(handles.len());
    for h in handles {
        outs.push(h.await.context("a load worker panicked")?);
    }
    let cpu = cpu_s() - cpu0;
    let mut lat_us = Vec::new();
    let (mut errors, mut warm_errors, mut last) = (0, 0, t_warm);
    let mut first_error = None;
    for o in outs {
        lat_us.extend(o.lat_us);
        errors += o.errors;
        warm_errors += o.warm_errors;
        if let Some(t) = o.last_done {
            last = last.max(t);
        }
        if first_error.is_none() {
            first_error = o.first_error;
        }
    }
    if let Some(e) = first_error {
        eprintln!("# {route}: {errors} errors ({warm_errors} in warm-up); first: {e}");
    }
    lat_us.sort_unstable();
    let window_s = last.duration_since(t_warm).as_secs_f64();
    Ok(LoadResult {
        requests: lat_us.len() as u64 + errors,
        errors,
        window_s,
        lat_us,
        cpu_s: cpu,
    })
}

// ------------------------------------------------------------ main

pub fn run(args: Args) -> anyhow::Result<()> {
    for r in &args.routes {
        if !ROUTES.contains(&r.as_str()) {
            bail!("unknown route {r:?} (raw_lookup, api_lookup)");
        }
    }
    if !["raw", "reqwest"].contains(&args.client.as_str()) {
        bail!("unknown client {:?} (raw, reqwest)", args.client);
    }
    if args.connections == 0 || args.duration <= 0.0 || args.warmup < 0.0 {
        bail!("--connections and --duration must be positive, --warmup not negative");
    }
    let data = load_data(&args)?;
    if data.queries.is_empty() {
        bail!("no queries");
    }
    let (dir, temporary) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let d = std::env::temp_dir()
                .join(format!("ronda-bench-http-{}-{nanos}", std::process::id()));
            (d, true)
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = rt.block_on(run_async(&args, &data, &dir));
    drop(rt);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run_async(args: &Args, data: &Data, dir: &Path) -> anyhow::Result<()> {
    let n = data.db.len();
    let cpus = std::thread::available_parallelism().map_or(0, |p| p.get());
    let load_avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "# ronda bench http: {} N={n} Q={}, {} tokio threads, {cpus} CPUs, load {}",
        data.dist,
        data.queries.len(),
        args.threads,
        load_avg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let imported = import(data, dir).await?;

    let check = args.check.min(data.queries.len());
    let t = Instant::now();
    let truth = brute_force(data, check);
    eprintln!(
        "# brute force over {check} queries: {:.2}s, {} neighbours",
        t.elapsed().as_secs_f64(),
        truth.iter().map(BTreeSet::len).sum::<usize>()
    );

    // Start-up, twice: from the store (no snapshot yet), then, after a
    // clean stop that writes the index snapshot, from the snapshot. The
    // lookups run against the second server.
    let snapshot = ronda_server::SnapshotPolicy::in_dir(dir);
    match std::fs::remove_file(&snapshot.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("removing an old index snapshot"),
    }
    let first = start_server(dir, &imported, args, &snapshot, &data.dist, n).await?;
    first.stop().await;
    let Started {
        store,
        server,
        stop_tx,
        target,
    } = start_server(dir, &imported, args, &snapshot, &data.dist, n).await?;

    let queries = &data.queries;
    for route in &args.routes {
        let correct = check_route(
            route,
            &target,
            &store,
            imported.bank_id,
            &queries[..check],
            &truth,
        )
        .await?;
        eprintln!(
            "# {route}: {check} answers checked: {}; loading {} connections for {}s + {}s warm-up",
            if correct { "correct" } else { "WRONG" },
            args.connections,
            args.duration,
            args.warmup
        );
        let r = load(&target, route, queries, args).await?;
        let lat = &r.lat_us;
        let ms = |p: f64| round(percentile_us(lat, p) / 1e3, 3);
        let path = if route == "raw_lookup" {
            "/m/raw_lookup"
        } else {
            "/api/v1/lookup"
        };
        let req_per_s = if r.window_s > 0.0 {
            r.requests as f64 / r.window_s
        } else {
            0.0
        };
        println!(
            "{}",
            json!({
                "tool": TOOL,
                "mode": format!("http-{route}"),
                "route": path,
                "dist": data.dist,
                "n": n,
                "entries": n,
                "queries": queries.len(),
                "threads": args.threads,
                "radius": RADIUS,
                "client": args.client,
                "connections": args.connections,
                "duration_s": round(r.window_s, 3),
                "warmup_s": args.warmup,
                "requests": r.requests,
                "errors": r.errors,
                "req_per_s": round(req_per_s, 1),
                "p50_ms": ms(50.0),
                "p90_ms": ms(90.0),
                "p99_ms": ms(99.0),
                "max_ms": round(f64::from(lat.last().copied().unwrap_or(0)) / 1e3, 3),
                "correct": correct,
                "checked": check,
                "checked_neighbours": truth.iter().map(BTreeSet::len).sum::<usize>(),
                "cpu_util": if r.window_s > 0.0 { round(r.cpu_s / r.window_s, 2) } else { 0.0 },
                "cpus": cpus,
                "note": format!(
                    "server and load generator in one process on one tokio runtime of {} worker \
                     threads (plus sqlx's SQLite threads), over loopback; cpu_util is the \
                     process's CPU seconds per second over the window",
                    args.threads
                ),
            })
        );
    }

    Started {
        store,
        server,
        stop_tx,
        target,
    }
    .stop()
    .await;
    Ok(())
}

/// A server started by the bench.
struct Started {
    store: Store,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_tx: tokio::sync::oneshot::Sender<()>,
    target: Arc<Target>,
}

impl Started {
    /// Stops the server (it writes its snapshot on the way out).
    async fn stop(self) {
        let _ = self.stop_tx.send(());
        match tokio::time::timeout(Duration::from_secs(60), self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => eprintln!("# server stopped with an error: {e}"),
            Ok(Err(e)) => eprintln!("# server task failed: {e}"),
            Err(_) => eprintln!("# server did not stop within 60 s"),
        }
        self.store.close().await;
    }
}

/// Opens the store and starts a server on 127.0.0.1:0, timed from just
/// before `Store::open` until `GET /status` answers 200; prints the
/// `startup` line.
async fn start_server(
    dir: &Path,
    imported: &Imported,
    args: &Args,
    snapshot: &ronda_server::SnapshotPolicy,
    dist: &str,
    n: usize,
) -> anyhow::Result<Started> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let from = if snapshot.path.exists() {
        "snapshot"
    } else {
        "store"
    };
    let t0 = Instant::now();
    let store = Store::open(None, dir).await?;
    let open_s = t0.elapsed().as_secs_f64();
    let config = ronda_server::ServerConfig {
        snapshot: Some(snapshot.clone()),
        ..ronda_server::ServerConfig::default()
    };
    let state = ronda_server::AppState::new(store.clone(), config)
        .map_err(|e| anyhow!("server state: {e}"))?;
    let server = tokio::spawn(ronda_server::serve(state, listener, async move {
        let _ = stop_rx.await;
    }));
    let reqwest = if args.client == "reqwest" {
        Some(
            reqwest::Client::builder()
                .pool_max_idle_per_host(args.connections)
                .build()
                .context("building the reqwest client")?,
        )
    } else {
        None
    };
    let target = Arc::new(Target {
        addr,
        secret: imported.secret.clone(),
        reqwest,
    });
    let mut polls = 0u32;
    let ready_s = {
        let mut client = Client::Raw(None);
        let raw = target.raw_request("/status");
        loop {
            polls += 1;
            if let Ok((200, _)) = client.get(&target, "/status", &raw, false).await {
                break t0.elapsed().as_secs_f64();
            }
            if t0.elapsed() > Duration::from_secs(600) {
                bail!("the server was not ready after 600 s");
            }
            if server.is_finished() {
                bail!("the server stopped before it was ready");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let index = {
        let mut client = Client::Raw(None);
        let raw = target.raw_request("/m/index/status?signal_type=pdq");
        match client.get(&target, "", &raw, true).await {
            Ok((200, body)) => serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    };
    eprintln!("# ready from the {from} in {ready_s:.3}s ({polls} polls), index {index}");
    println!(
        "{}",
        json!({
            "tool": TOOL,
            "mode": format!("startup-{from}"),
            "dist": dist,
            "n": n,
            "threads": args.threads,
            "open_s": round(open_s, 3),
            "ready_s": round(ready_s, 3),
            "polls": polls,
            "index": index,
            "rss_mb": round(rss_mb(), 1),
            "note": "from just before Store::open until GET /status is 200 (polled every 20 ms); \
                     the database and snapshot files are in the page cache",
        })
    );
    Ok(Started {
        store,
        server,
        stop_tx,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_hex_is_the_pdq_form() {
        let mut rng = Rng(3);
        let w = rng.words();
        let b = to_bytes(&w);
        assert_eq!(to_words(&b), w);
        assert_eq!(hex(&w), PdqHash(b).to_string());
        assert_eq!(&hex(&w)[..2], format!("{:02x}", b[0]));
        let mut v = w;
        v[3] ^= 0b1011;
        assert_eq!(distance(&w, &v), 3);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1000, 2000, 3000, 4000];
        assert_eq!(percentile_us(&v, 50.0), 2500.0);
        assert!((percentile_us(&v, 99.0) - 3970.0).abs() < 1e-9);
        assert_eq!(percentile_us(&[], 99.0), 0.0);
    }

    #[test]
    fn generated_queries_are_half_near_copies() -> anyhow::Result<()> {
        let args = <Args as clap::Args>::augment_args(clap::Command::new("t"))
            .try_get_matches_from(["t", "--entries", "2000", "--queries", "10"])?;
        let args = <Args as clap::FromArgMatches>::from_arg_matches(&args)?;
        let data = load_data(&args)?;
        assert_eq!((data.db.len(), data.queries.len()), (2000, 10));
        let truth = brute_force(&data, 10);
        for (i, t) in truth.iter().enumerate() {
            // Even queries are within 24 bits of a stored hash; odd ones
            // are random codes, ~128 bits from everything.
            assert_eq!(!t.is_empty(), i % 2 == 0, "query {i}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn raw_client_reads_answers_split_across_reads() -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            for body in ["{\"matches\":[]}", "I-AM-ALIVE"] {
                let mut req = Vec::new();
                while find(&req, b"\r\n\r\n").is_none() {
                    let mut b = [0u8; 256];
                    let n = s.read(&mut b).await?;
                    req.extend_from_slice(&b[..n]);
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).await?;
                s.flush().await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                s.write_all(body.as_bytes()).await?;
            }
            anyhow::Ok(())
        });
        let mut c = Conn::connect(addr).await?;
        let (status, body, keep) = c.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await?;
        assert_eq!((status, body, keep), (200, &b"{\"matches\":[]}"[..], true));
        let (status, body, _) = c
            .request(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            .await?;
        assert_eq!((status, body), (200, &b"I-AM-ALIVE"[..]));
        server.await??;
        Ok(())
    }
}
