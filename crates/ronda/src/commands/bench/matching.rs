//! `ronda bench match`: Hamming search on a `gen_hashes.py` dataset, printing
//! the JSON lines of `../shared/bench/baseline_match.py` so that `compare.py`
//! pairs them with FAISS's.
//!
//! The modes follow the baseline: `batch` (all queries in one call, spread
//! over `--threads`), `single` (one query per call) and, with `--dihedral`,
//! `image` (each 8 consecutive queries are one image; ronda answers the 8 in
//! one call, where the baseline makes 8). Timing covers the query calls and
//! building the result lists, not loading files or building the index;
//! recall and false positives are checked against `truth.jsonl` on every run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use ronda_hash::PdqHash;
use ronda_index::hamming::{Config, HammingIndex, KernelLevel, Structure, VariantMatch};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory written by `gen_hashes.py` (db.bin, queries.bin, truth.jsonl, meta.json).
    #[arg(long)]
    data: PathBuf,
    /// Structures to measure: `flat`, `mih` (tables tuned to N), `mihM`
    /// (M tables), `auto` (the default config: tables or flat per lookup).
    #[arg(long, value_delimiter = ',', default_value = "flat,mih")]
    methods: Vec<String>,
    /// Modes: `batch`, `single`; `--dihedral` adds `image`.
    #[arg(long, value_delimiter = ',', default_value = "batch,single")]
    modes: Vec<String>,
    /// Threads for batch mode (and the table build).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also run the per-image mode (8 dihedral needles per call).
    #[arg(long)]
    dihedral: bool,
    /// Use only the first LIMIT queries (0: all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Force a flat-scan kernel: portable, popcnt, avx2, avx512 (default: the best the CPU has).
    #[arg(long)]
    kernel: Option<String>,
    /// Also time a snapshot save and load of each index in this directory
    /// (reported on stderr; the loaded index must answer as the built one).
    #[arg(long)]
    snapshot_dir: Option<PathBuf>,
}

struct Dataset {
    meta: Value,
    db: Vec<u8>,
    queries: Vec<PdqHash>,
    /// Per query: id -> distance.
    truth: Vec<BTreeMap<u64, u32>>,
}

fn read_hashes(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() % 32 != 0 {
        bail!(
            "{}: size {} is not a multiple of 32",
            path.display(),
            bytes.len()
        );
    }
    Ok(bytes)
}

fn to_hashes(bytes: &[u8]) -> impl Iterator<Item = PdqHash> + '_ {
    bytes.chunks_exact(32).map(|c| {
        let mut h = [0u8; 32];
        h.copy_from_slice(c);
        PdqHash(h)
    })
}

fn load(dir: &Path, limit: usize) -> anyhow::Result<Dataset> {
    let meta_path = dir.join("meta.json");
    let meta: Value = serde_json::from_slice(
        &std::fs::read(&meta_path).with_context(|| format!("reading {}", meta_path.display()))?,
    )
    .with_context(|| format!("parsing {}", meta_path.display()))?;
    let db = read_hashes(&dir.join("db.bin"))?;
    let mut queries: Vec<PdqHash> = to_hashes(&read_hashes(&dir.join("queries.bin"))?).collect();
    let truth_path = dir.join("truth.jsonl");
    let text = std::fs::read_to_string(&truth_path)
        .with_context(|| format!("reading {}", truth_path.display()))?;
    let mut truth = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", truth_path.display(), i + 1))?;
        let ids = v["ids"].as_array().context("truth line without ids")?;
        let dist = v["dist"].as_array().context("truth line without dist")?;
        let mut m = BTreeMap::new();
        for (id, d) in ids.iter().zip(dist) {
            let id = id.as_u64().context("truth id is not an integer")?;
            let d = d.as_u64().context("truth distance is not an integer")?;
            m.insert(id, d as u32);
        }
        truth.push(m);
    }
    let n = meta["n"].as_u64().context("meta.json without n")? as usize;
    if db.len() / 32 != n || queries.len() != truth.len() {
        bail!(
            "{}: inconsistent dataset (db rows, n, queries, truth lines)",
            dir.display()
        );
    }
    if limit > 0 {
        queries.truncate(limit);
        truth.truncate(limit);
    }
    Ok(Dataset {
        meta,
        db,
        queries,
        truth,
    })
}

/// Resident set size in MiB, from /proc/self/statm (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / (1024.0 * 1024.0))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Linear interpolation, as numpy.percentile's default.
    if sorted.is_empty() {
        return 0.0;
    }
    let x = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo as f64)
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn parse_method(m: &str) -> anyhow::Result<(String, Config)> {
    let config = |structure, tables| Config { structure, tables };
    Ok(match m {
        "flat" => ("ronda-flat".into(), config(Structure::Flat, None)),
        "mih" => ("ronda-mih".into(), config(Structure::MultiIndex, None)),
        "auto" => ("ronda".into(), config(Structure::Auto, None)),
        _ => match m.strip_prefix("mih").and_then(|t| t.parse::<u8>().ok()) {
            Some(t) if (4..=64).contains(&t) => (
                format!("ronda-mih{t}"),
                config(Structure::MultiIndex, Some(t)),
            ),
            _ => bail!("unknown method {m:?} (flat, mih, mihM with M in 4..=64, auto)"),
        },
    })
}

fn parse_kernel(name: &str) -> anyhow::Result<KernelLevel> {
    let level = match name {
        "portable" => KernelLevel::Portable,
        "popcnt" => KernelLevel::Popcnt,
        "avx2" => KernelLevel::Avx2,
        "avx512" => KernelLevel::Avx512,
        _ => bail!("unknown kernel {name:?} (portable, popcnt, avx2, avx512)"),
    };
    if !KernelLevel::supported().contains(&level) {
        bail!("this CPU cannot run the {name} kernel");
    }
    Ok(level)
}

/// Scores per-query results: (recall numerator, denominator, false positives).
fn score_single(found: &[Vec<(u64, u32)>], truth: &[BTreeMap<u64, u32>]) -> (usize, usize, usize) {
    let (mut hit, mut total, mut fp) = (0, 0, 0);
    for (f, t) in found.iter().zip(truth) {
        total += t.len();
        for (id, d) in f {
            match t.get(id) {
                // A right id at a wrong distance counts as a false positive.
                Some(td) if td == d => hit += 1,
                _ => fp += 1,
            }
        }
    }
    (hit, total, fp)
}

/// Scores merged per-image results against the union of the 8 queries'
/// truth: each id once, at its smallest distance, with the lowest variant
/// at that distance.
fn score_images(
    found: &[Vec<VariantMatch>],
    truth: &[BTreeMap<u64, u32>],
) -> (usize, usize, usize) {
    let (mut hit, mut total, mut fp) = (0, 0, 0);
    for (f, t8) in found.iter().zip(truth.chunks_exact(8)) {
        let mut want: BTreeMap<u64, (u32, u8)> = BTreeMap::new();
        for (v, t) in t8.iter().enumerate() {
            for (&id, &d) in t {
                let e = want.entry(id).or_insert((d, v as u8));
                if d < e.0 {
                    *e = (d, v as u8);
                }
            }
        }
        total += want.len();
        let mut seen = HashSet::new();
        for m in f {
            if want.get(&m.id) == Some(&(m.distance, m.variant)) && seen.insert(m.id) {
                hit += 1;
            } else {
                fp += 1;
            }
        }
    }
    (hit, total, fp)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let data = load(&args.data, args.limit)?;
    let dist = data.meta["distribution"]
        .as_str()
        .context("meta.json without distribution")?
        .to_owned();
    let n = data.meta["n"].as_u64().context("meta.json without n")?;
    let radius = data.meta["radius"]
        .as_u64()
        .context("meta.json without radius")? as u32;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.max(1))
        .build()
        .context("starting the thread pool")?;
    let mut modes = args.modes.clone();
    if args.dihedral {
        modes.push("image".into());
    }
    for m in &modes {
        if !["batch", "single", "image"].contains(&m.as_str()) {
            bail!("unknown mode {m:?} (batch, single; --dihedral adds image)");
        }
    }
    let kernel = args.kernel.as_deref().map(parse_kernel).transpose()?;
    let methods: Vec<(String, Config)> = args
        .methods
        .iter()
        .map(|m| parse_method(m))
        .collect::<anyhow::Result<_>>()?;
    let qs = &data.queries;
    // Shared machines: the load average goes with the numbers.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "# ronda {} thread(s), {dist} N={n} Q={}, kernel {}, load {}",
        args.threads,
        qs.len(),
        kernel.unwrap_or(KernelLevel::detect()).name(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );

    let mut db = Some(data.db);
    for (i, (tool, config)) in methods.iter().enumerate() {
        let bytes = db.as_ref().context("db.bin already released")?;
        let t0 = Instant::now();
        let mut index =
            pool.install(|| HammingIndex::from_entries(*config, to_hashes(bytes).zip(0u64..)));
        let build_s = t0.elapsed().as_secs_f64();
        if let Some(level) = kernel {
            index.set_kernel_level(level);
        }
        // The raw rows are not part of the index: release them before the
        // last method measures its resident set (earlier methods carry them,
        // as the baseline's figures carry its NumPy array).
        if i + 1 == methods.len() {
            db = None;
        }
        let rss = rss_mb();
        eprintln!(
            "# {tool}: built in {build_s:.3}s, {} tables, {:.1} bytes/hash",
            index.tables(),
            index.memory_bytes() as f64 / n.max(1) as f64
        );
        if let Some(dir) = &args.snapshot_dir {
            snapshot_round_trip(&index, dir, tool, qs, radius, &pool)?;
        }
        // Warm-up: one call of 8 queries, as the baseline.
        let warm = &qs[..qs.len().min(8)];
        std::hint::black_box(index.query_batch(warm, radius));

        for mode in &modes {
            let (queries, secs, lat, (hit, total, fp)) = match mode.as_str() {
                "batch" => {
                    let t = Instant::now();
                    let res = pool.install(|| index.query_batch(qs, radius));
                    let secs = t.elapsed().as_secs_f64();
                    let found: Vec<Vec<(u64, u32)>> = res
                        .iter()
                        .map(|r| r.iter().map(|m| (m.id, m.distance)).collect())
                        .collect();
                    (qs.len(), secs, None, score_single(&found, &data.truth))
                }
                "single" => {
                    let mut lat = Vec::with_capacity(qs.len());
                    let mut found = Vec::with_capacity(qs.len());
                    for q in qs {
                        let t = Instant::now();
                        let r = index.query(q, radius);
                        lat.push(t.elapsed().as_secs_f64());
                        found.push(r.iter().map(|m| (m.id, m.distance)).collect());
                    }
                    let secs = lat.iter().sum();
                    (qs.len(), secs, Some(lat), score_single(&found, &data.truth))
                }
                _ => {
                    let images = qs.len() / 8;
                    let mut lat = Vec::with_capacity(images);
                    let mut found = Vec::with_capacity(images);
                    for img in qs.chunks_exact(8) {
                        let needles: &[PdqHash; 8] =
                            img.try_into().context("chunks_exact gives 8")?;
                        let t = Instant::now();
                        let r = index.query_dihedral(needles, radius);
                        lat.push(t.elapsed().as_secs_f64());
                        found.push(r);
                    }
                    let secs = lat.iter().sum();
                    let truth = &data.truth[..8 * images];
                    (8 * images, secs, Some(lat), score_images(&found, truth))
                }
            };
            let recall = if total == 0 {
                1.0
            } else {
                hit as f64 / total as f64
            };
            let (p50, p99) = match &lat {
                Some(l) => {
                    let mut l = l.clone();
                    l.sort_by(f64::total_cmp);
                    (
                        json!(round(1e3 * percentile(&l, 50.0), 4)),
                        json!(round(1e3 * percentile(&l, 99.0), 4)),
                    )
                }
                None => (Value::Null, Value::Null),
            };
            let mut row = json!({
                "tool": tool,
                "dist": dist,
                "n": n,
                "queries": queries,
                "threads": args.threads,
                "radius": radius,
                "mode": mode,
                "qps": round(queries as f64 / secs, 2),
                "p50_ms": p50,
                "p99_ms": p99,
                "recall": round(recall, 6),
                "false_pos": fp,
                "build_s": round(build_s, 3),
                "rss_mb": round(rss, 1),
                "kernel": index.kernel_level().name(),
                "tables": index.tables(),
                "index_bytes_per_hash": round(index.memory_bytes() as f64 / n.max(1) as f64, 1),
            });
            if let (Some(l), Some(obj)) = (&lat, row.as_object_mut())
                && mode == "image"
            {
                obj.insert("images".into(), json!(l.len()));
            }
            println!("{row}");
        }
    }
    Ok(())
}

/// Saves, reloads and spot-checks one index, timing both ways.
fn snapshot_round_trip(
    index: &HammingIndex,
    dir: &Path,
    tool: &str,
    qs: &[PdqHash],
    radius: u32,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<()> {
    let path = dir.join(format!("{tool}.snap"));
    let t = Instant::now();
    index.save(&path)?;
    let save_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = pool.install(|| HammingIndex::load(&path))?;
    let load_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let sample = &qs[..qs.len().min(64)];
    if back.query_batch(sample, radius) != index.query_batch(sample, radius) {
        bail!("{}: the reloaded index answers differently", path.display());
    }
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    eprintln!(
        "# {tool}: snapshot {:.1} MB saved in {save_s:.3}s, loaded (tables rebuilt) in {load_s:.3}s",
        size as f64 / 1e6
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert!((percentile(&v, 99.0) - 3.97).abs() < 1e-12);
    }

    #[test]
    fn image_scoring_wants_best_variant_per_id() {
        let mut truth = vec![BTreeMap::new(); 8];
        truth[2].insert(5u64, 9u32);
        truth[6].insert(5u64, 4u32);
        truth[6].insert(7u64, 1u32);
        let good = vec![vec![
            VariantMatch {
                id: 5,
                distance: 4,
                variant: 6,
            },
            VariantMatch {
                id: 7,
                distance: 1,
                variant: 6,
            },
        ]];
        assert_eq!(score_images(&good, &truth), (2, 2, 0));
        let wrong_variant = vec![vec![VariantMatch {
            id: 5,
            distance: 9,
            variant: 2,
        }]];
        assert_eq!(score_images(&wrong_variant, &truth), (0, 2, 1));
    }
}
