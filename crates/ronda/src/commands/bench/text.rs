//! `ronda bench text`: MinHash signatures and LSH over a `gen_text.py`
//! corpus, printing the JSON line of `../shared/bench/baseline_text.py`
//! (same fields, same definitions) so that `compare.py` can pair them.
//!
//! Timed phases, as in the baseline: shingling alone (here: normalisation
//! and shingle hashing), signatures from raw text (normalisation, shingles
//! and sketch), inserts of every signature into the LSH index, then each
//! query from raw text to LSH candidates, one at a time. Recall counts the
//! query's family members among the candidates. The verified query (the
//! candidates whose estimated similarity reaches the threshold) is reported
//! on stderr only, since the baseline has no such figure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use rayon::prelude::*;
use ronda_hash::text::{MinHashSignature, MinHasher, normalize_into, shingle_hashes};
use ronda_index::lsh::{LshParams, MinHashLsh};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory written by gen_text.py (corpus.jsonl, queries.jsonl).
    #[arg(long)]
    data: PathBuf,
    /// Slots per MinHash signature.
    #[arg(long, default_value_t = 128)]
    num_perm: usize,
    /// Jaccard similarity threshold of the LSH index.
    #[arg(long, default_value_t = 0.8)]
    threshold: f64,
    /// LSH bands, with num_perm / bands rows each (16 gives rensa's 16 x 8).
    /// Default: derived from the threshold for 95 % recall at it.
    #[arg(long)]
    bands: Option<usize>,
    /// Threads building signatures; 1 runs without a thread pool.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The `tool` field of the JSON line.
    #[arg(long, default_value = "ronda-minhash")]
    tool: String,
}

#[derive(Debug, serde::Deserialize)]
struct Doc {
    id: String,
    text: String,
}

#[derive(Debug, serde::Deserialize)]
struct Query {
    text: String,
    family: Vec<String>,
    jaccard: Vec<f64>,
}

/// The baseline's line, field for field and in its order.
#[derive(Debug, serde::Serialize)]
struct Line {
    tool: String,
    docs: usize,
    queries: usize,
    num_perm: usize,
    threshold: f64,
    bands: usize,
    rows: usize,
    shingle_per_s: f64,
    sig_per_s: f64,
    insert_per_s: f64,
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    recall: f64,
    family_recall: f64,
    cand_mean: f64,
    extra: usize,
    rss_mb: f64,
}

/// Found and total family members, and candidates outside the family.
#[derive(Debug, Default)]
struct Tally {
    found_near: usize,
    near: usize,
    found_family: usize,
    family: usize,
    extra: usize,
    candidates: usize,
}

impl Tally {
    fn add(&mut self, candidates: &[u64], family: &[u64], near: &[u64]) {
        self.found_near += near.iter().filter(|id| candidates.contains(id)).count();
        self.near += near.len();
        self.found_family += family.iter().filter(|id| candidates.contains(id)).count();
        self.family += family.len();
        self.extra += candidates.iter().filter(|id| !family.contains(id)).count();
        self.candidates += candidates.len();
    }

    fn recall(&self) -> f64 {
        ratio(self.found_near, self.near)
    }

    fn family_recall(&self) -> f64 {
        ratio(self.found_family, self.family)
    }
}

fn ratio(found: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        found as f64 / total as f64
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.threads == 0 {
        bail!("--threads must be at least 1");
    }
    let params = match args.bands {
        Some(bands) => LshParams::with_bands(args.num_perm, bands),
        None => LshParams::for_threshold(args.num_perm, args.threshold),
    }
    .context("choosing LSH bands")?;
    let mut hasher = MinHasher::with_params(args.num_perm, 5).context("MinHash parameters")?;

    let corpus: Vec<Doc> = read_jsonl(&args.data.join("corpus.jsonl"))?;
    let queries: Vec<Query> = read_jsonl(&args.data.join("queries.jsonl"))?;
    let row: HashMap<&str, u64> = corpus
        .iter()
        .zip(0u64..)
        .map(|(d, i)| (d.id.as_str(), i))
        .collect();
    let texts: Vec<&str> = corpus.iter().map(|d| d.text.as_str()).collect();
    eprintln!(
        "# {} docs, {} queries; num_perm {}, {} x {}, threshold {}, {} signature thread(s)",
        texts.len(),
        queries.len(),
        args.num_perm,
        params.bands(),
        params.rows(),
        args.threshold,
        args.threads
    );

    let shingle_per_s = shingle_rate(&texts);

    let t0 = Instant::now();
    let signatures = signatures(&texts, &hasher, args.threads)?;
    let sig_s = t0.elapsed().as_secs_f64();

    let mut lsh = MinHashLsh::with_params(args.num_perm, args.threshold, params)
        .context("building the LSH index")?;
    let t1 = Instant::now();
    for (id, sig) in (0u64..).zip(&signatures) {
        if let Some(sig) = sig {
            lsh.insert(id, sig).context("inserting a signature")?;
        }
    }
    let insert_s = t1.elapsed().as_secs_f64();
    let rss_mb = rss_mb();
    drop(signatures);

    let mut latencies = Vec::with_capacity(queries.len());
    let (mut tally, mut verified) = (Tally::default(), Tally::default());
    for q in &queries {
        let start = Instant::now();
        let candidates = match hasher.signature(&q.text) {
            Some(sig) => lsh.query(&sig).context("querying the index")?,
            None => Vec::new(),
        };
        latencies.push(start.elapsed().as_secs_f64());

        let mut family = Vec::with_capacity(q.family.len());
        let mut near = Vec::new();
        for (id, &j) in q.family.iter().zip(&q.jaccard) {
            let r = *row
                .get(id.as_str())
                .with_context(|| format!("query family id {id} is not in corpus.jsonl"))?;
            family.push(r);
            if j >= args.threshold {
                near.push(r);
            }
        }
        tally.add(&candidates, &family, &near);
        let checked: Vec<u64> = match hasher.signature(&q.text) {
            Some(sig) => lsh
                .query_verified(&sig)
                .context("querying the index")?
                .iter()
                .map(|m| m.id)
                .collect(),
            None => Vec::new(),
        };
        verified.add(&checked, &family, &near);
    }
    let total_query_s: f64 = latencies.iter().sum();
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "# verified query (estimated similarity >= {}): recall {:.4}, family recall {:.4}, \
         {:.3} candidates a query, {} outside the family",
        args.threshold,
        verified.recall(),
        verified.family_recall(),
        verified.candidates as f64 / queries.len().max(1) as f64,
        verified.extra
    );

    let n = texts.len() as f64;
    let line = Line {
        tool: args.tool,
        docs: texts.len(),
        queries: queries.len(),
        num_perm: args.num_perm,
        threshold: args.threshold,
        bands: params.bands(),
        rows: params.rows(),
        shingle_per_s: round(shingle_per_s, 1),
        sig_per_s: round(n / sig_s, 1),
        insert_per_s: round(n / insert_s, 1),
        qps: round(latencies.len() as f64 / total_query_s, 1),
        p50_ms: round(1e3 * percentile(&latencies, 50.0), 4),
        p99_ms: round(1e3 * percentile(&latencies, 99.0), 4),
        recall: round(tally.recall(), 4),
        family_recall: round(tally.family_recall(), 4),
        cand_mean: round(tally.candidates as f64 / queries.len().max(1) as f64, 3),
        extra: tally.extra,
        rss_mb: round(rss_mb, 1),
    };
    println!("{}", serde_json::to_string(&line)?);
    Ok(())
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let raw =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), i + 1))
        })
        .collect()
}

/// Documents a second through normalisation and shingle hashing alone.
fn shingle_rate(texts: &[&str]) -> f64 {
    let (mut normalized, mut hashes) = (String::new(), Vec::new());
    let mut shingles = 0usize;
    let t0 = Instant::now();
    for t in texts {
        normalize_into(t, &mut normalized);
        shingle_hashes(&normalized, 5, &mut hashes);
        shingles += hashes.len();
    }
    let s = t0.elapsed().as_secs_f64();
    std::hint::black_box(shingles);
    texts.len() as f64 / s
}

fn signatures(
    texts: &[&str],
    hasher: &MinHasher,
    threads: usize,
) -> anyhow::Result<Vec<Option<MinHashSignature>>> {
    if threads == 1 {
        let mut h = hasher.clone();
        return Ok(texts.iter().map(|t| h.signature(t)).collect());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting the thread pool")?;
    Ok(pool.install(|| {
        texts
            .par_iter()
            .map_init(|| hasher.clone(), |h, t| h.signature(t))
            .collect()
    }))
}

/// numpy.percentile's default (linear) on sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted {
        [] => f64::NAN,
        [only] => *only,
        _ => {
            let pos = p / 100.0 * (sorted.len() - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(sorted.len() - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Resident set of this process in MiB (Linux), NaN elsewhere.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024.0)
        })
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert!((percentile(&v, 99.0) - 3.97).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn tally_counts_like_the_baseline() {
        let mut t = Tally::default();
        t.add(&[1, 2, 9], &[1, 2, 3], &[1, 3]);
        assert_eq!(
            (t.found_near, t.near, t.found_family, t.family),
            (1, 2, 2, 3)
        );
        assert_eq!((t.extra, t.candidates), (1, 3));
        assert_eq!(t.recall(), 0.5);
    }
}
