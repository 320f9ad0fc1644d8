//! `ronda match`: match files and signals against a bank file in
//! ThreatExchange `local_file` format, one JSON object per query.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ronda_hash::pdq::Dihedral;
use ronda_hash::text::MinHasher;
use ronda_hash::{Signal, SignalType};
use ronda_index::exact::{ExactIndex, ExactKey};
use ronda_index::hamming::HammingIndex;
use ronda_index::lsh::MinHashLsh;
use ronda_index::url::{UrlIndex, UrlRule};
use ronda_index::video::VpdqIndex;
use ronda_media::DecodeOptions;
use ronda_media::signals::{ContentType, HashOptions, hash_bytes, hash_video_file, text_signals};
use ronda_media::video::VideoOptions;
use serde_json::{Value, json};

use crate::commands::hash::{LimitArgs, VideoArgs, is_video_file};
use crate::output::{Outcome, Printer};

/// Largest bank file read, in bytes.
const MAX_BANK_BYTES: u64 = 4 << 30;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bank file: `<signal_type> <value>` per line (ThreatExchange `local_file`).
    #[arg(long, value_name = "FILE")]
    bank: PathBuf,
    /// Largest PDQ Hamming distance that counts as a match.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=128))]
    radius: u32,
    /// Also match the 7 rotations and mirror images of query images.
    #[arg(long)]
    dihedral: bool,
    /// Smallest estimated Jaccard similarity for a near-duplicate text match.
    #[arg(long, default_value_t = 0.8)]
    text_threshold: f64,
    /// Smallest share of a query video's frames that must match a bank
    /// video, in percent (python-threatexchange's default).
    #[arg(long, default_value_t = ronda_hash::vpdq::QUERY_MATCH_THRESHOLD_PERCENT)]
    vpdq_query_threshold: f64,
    /// Smallest share of the bank video's frames that the query must match,
    /// in percent.
    #[arg(long, default_value_t = ronda_hash::vpdq::COMPARED_MATCH_THRESHOLD_PERCENT)]
    vpdq_compared_threshold: f64,
    /// Files to hash, or signals as `pdq:<hex>`, `md5:<hex>`, `sha256:<hex>`,
    /// `video_md5:<hex>`, `url:<url>`, `text:<text>`, `vpdq:<json list>`.
    #[arg(value_name = "QUERY", required = true)]
    queries: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    video: VideoArgs,
}

/// The bank, indexed. Ids are 1-based line numbers of the bank file.
struct Bank {
    lines: Vec<Option<Signal>>,
    pdq: HammingIndex,
    exact: ExactIndex<u64>,
    urls: UrlIndex<u64>,
    texts: MinHashLsh,
    minhasher: MinHasher,
    videos: VpdqIndex,
}

impl Bank {
    fn signal(&self, line: u64) -> Option<&Signal> {
        self.lines.get(line as usize - 1)?.as_ref()
    }
}

fn load_bank(path: &Path, text_threshold: f64) -> anyhow::Result<Bank> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read bank {}", path.display()))?
        .len();
    if len > MAX_BANK_BYTES {
        anyhow::bail!(
            "bank {} is {len} bytes, over the limit of {MAX_BANK_BYTES}",
            path.display()
        );
    }
    let text =
        std::fs::read(path).with_context(|| format!("cannot read bank {}", path.display()))?;
    let minhasher = MinHasher::new();
    let mut bank = Bank {
        lines: Vec::new(),
        pdq: HammingIndex::new(),
        exact: ExactIndex::new(),
        urls: UrlIndex::new(),
        texts: MinHashLsh::new(minhasher.num_perm(), text_threshold)?,
        minhasher,
        videos: VpdqIndex::new(),
    };
    let mut pdq = Vec::new();
    let mut bad = 0usize;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = String::from_utf8_lossy(raw);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            bank.lines.push(None);
            continue;
        }
        match Signal::parse_line(line) {
            Ok(signal) => {
                match &signal {
                    Signal::Pdq(h) => pdq.push((*h, line_no)),
                    Signal::Md5(d) => _ = bank.exact.add(ExactKey::Md5(*d), line_no),
                    Signal::VideoMd5(d) => _ = bank.exact.add(ExactKey::VideoMd5(*d), line_no),
                    Signal::Sha256(d) => _ = bank.exact.add(ExactKey::Sha256(*d), line_no),
                    Signal::TextSha256(d) => _ = bank.exact.add(ExactKey::TextSha256(*d), line_no),
                    Signal::Url(u) => {
                        _ = bank
                            .urls
                            .add(UrlRule::Exact(u.as_str().to_owned()), line_no)
                    }
                    Signal::Vpdq(v) => {
                        if !bank.videos.add(line_no, &v.0) {
                            eprintln!(
                                "warning: {}:{line_no}: vpdq value has no frame of quality 50 or more; not matched",
                                path.display()
                            );
                        }
                    }
                    Signal::RawText(t) => {
                        let s = bank.minhasher.signals(t);
                        bank.exact
                            .add(ExactKey::TextSha256(s.normalized_sha256), line_no);
                        if let Some(m) = s.minhash {
                            bank.texts.insert(line_no, &m)?;
                        }
                    }
                }
                bank.lines.push(Some(signal));
            }
            Err(e) => {
                bad += 1;
                eprintln!("warning: {}:{line_no}: {e}", path.display());
                bank.lines.push(None);
            }
        }
    }
    bank.pdq.extend(pdq);
    if bad > 0 {
        eprintln!("warning: {}: {bad} bad line(s) skipped", path.display());
    }
    Ok(bank)
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let bank = load_bank(&args.bank, args.text_threshold)?;
    let video = args.video.options()?;
    let options = HashOptions {
        limits: args.limits.limits(),
        decode: DecodeOptions::default(),
        dihedral: args.dihedral,
    };
    let mut printer = Printer::stdout();
    let (mut matched, mut failed) = (false, false);
    for query in &args.queries {
        let record = match match_query(&bank, query, &args, &options, &video) {
            Ok(matches) => {
                matched |= !matches.is_empty();
                json!({"query": query_label(query), "matches": matches})
            }
            Err(e) => {
                failed = true;
                json!({"query": query_label(query), "error": format!("{e:#}")})
            }
        };
        printer.line(&record)?;
    }
    printer.flush()?;
    Ok(if failed {
        Outcome::Failed
    } else if matched {
        Outcome::Found
    } else {
        Outcome::NothingMatched
    })
}

/// Queries are echoed except text, which may be the content under review.
fn query_label(query: &str) -> String {
    match query.split_once(':') {
        Some(("text", _)) => "text:…".to_owned(),
        Some(("vpdq", _)) => "vpdq:…".to_owned(),
        _ => query.to_owned(),
    }
}

/// A query given as `type:value`, when it is one.
fn inline_signal(query: &str) -> Option<anyhow::Result<Signal>> {
    let (ty, value) = query.split_once(':')?;
    let ty = match ty {
        "text" => SignalType::RawText,
        "url" | "pdq" | "md5" | "sha256" | "video_md5" | "text_sha256" | "vpdq" => {
            ty.parse().ok()?
        }
        _ => return None,
    };
    Some(Signal::parse(ty, value).map_err(anyhow::Error::from))
}

fn match_query(
    bank: &Bank,
    query: &str,
    args: &Args,
    options: &HashOptions,
    video: &VideoOptions,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    if let Some(signal) = inline_signal(query) {
        match_signal(bank, &signal?, args, &mut out);
        return Ok(out);
    }
    let path = Path::new(query);
    if is_video_file(path) {
        let s = hash_video_file(path, video)?;
        match_signal(bank, &Signal::Md5(s.md5), args, &mut out);
        match_signal(bank, &Signal::Sha256(s.sha256), args, &mut out);
        match_signal(bank, &Signal::VideoMd5(s.md5), args, &mut out);
        if let Some(v) = &s.video {
            let features = ronda_hash::vpdq::Vpdq::from_frames(&v.frames);
            match_signal(bank, &Signal::Vpdq(features), args, &mut out);
        }
        return Ok(out);
    }
    let bytes = std::fs::read(path).context("cannot read")?;
    let declared = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension);
    let s = hash_bytes(&bytes, declared, options)?;
    if let Some(img) = &s.image {
        match &img.dihedral {
            Some(d) => {
                for m in bank.pdq.query_dihedral(&d.hashes(), args.radius) {
                    out.push(hit(
                        bank,
                        m.id,
                        Some(m.distance),
                        Some(Dihedral::ALL[m.variant as usize]),
                    ));
                }
            }
            None => match_signal(bank, &Signal::Pdq(img.pdq.hash), args, &mut out),
        }
    }
    match_signal(bank, &Signal::Md5(s.md5), args, &mut out);
    match_signal(bank, &Signal::Sha256(s.sha256), args, &mut out);
    if s.content_type == ContentType::Video {
        match_signal(bank, &Signal::VideoMd5(s.md5), args, &mut out);
    }
    if let Some(t) = &s.text {
        match_text(bank, &t.signals, &mut out);
        for url in &t.urls {
            match_signal(bank, &Signal::Url(url.clone()), args, &mut out);
        }
    }
    Ok(out)
}

fn match_signal(bank: &Bank, signal: &Signal, args: &Args, out: &mut Vec<Value>) {
    let exact = |key: ExactKey, out: &mut Vec<Value>| {
        for &id in bank.exact.lookup(&key) {
            out.push(hit(bank, id, Some(0), None));
        }
    };
    match signal {
        Signal::Pdq(h) => {
            for m in bank.pdq.query(h, args.radius) {
                out.push(hit(bank, m.id, Some(m.distance), Some(Dihedral::Original)));
            }
        }
        Signal::Md5(d) => exact(ExactKey::Md5(*d), out),
        Signal::VideoMd5(d) => exact(ExactKey::VideoMd5(*d), out),
        Signal::Sha256(d) => exact(ExactKey::Sha256(*d), out),
        Signal::TextSha256(d) => exact(ExactKey::TextSha256(*d), out),
        Signal::Url(u) => {
            for h in bank.urls.lookup(u) {
                out.push(hit(bank, h.id, None, None));
            }
        }
        Signal::RawText(t) => match_text(bank, &text_signals(t).signals, out),
        Signal::Vpdq(v) => {
            let found = bank.videos.query_matches(
                &v.0,
                args.vpdq_query_threshold,
                args.vpdq_compared_threshold,
            );
            for m in found {
                let mut v = hit(bank, m.id, None, None);
                v["query_match_percent"] = json!(m.query_percent);
                v["compared_match_percent"] = json!(m.compared_percent);
                out.push(v);
            }
        }
    }
}

fn match_text(bank: &Bank, t: &ronda_hash::text::TextSignals, out: &mut Vec<Value>) {
    let exact: Vec<u64> = bank
        .exact
        .lookup(&ExactKey::TextSha256(t.normalized_sha256))
        .to_vec();
    for &id in &exact {
        let mut v = hit(bank, id, None, None);
        v["similarity"] = json!(1.0);
        out.push(v);
    }
    let Some(m) = &t.minhash else { return };
    if let Ok(found) = bank.texts.query_verified(m) {
        for f in found.into_iter().filter(|f| !exact.contains(&f.id)) {
            let mut v = hit(bank, f.id, None, None);
            v["similarity"] = json!((f.similarity * 1e4).round() / 1e4);
            out.push(v);
        }
    }
}

/// One match: the bank line, its signal, and how close it is.
fn hit(bank: &Bank, line: u64, distance: Option<u32>, variant: Option<Dihedral>) -> Value {
    let mut v = json!({"line": line});
    if let Some(s) = bank.signal(line) {
        v["signal_type"] = json!(s.signal_type().as_str());
        // Bank text is content: name it by line, never echo it. A vPDQ
        // value is long: the line names it.
        if !matches!(s.signal_type(), SignalType::RawText | SignalType::Vpdq) {
            v["value"] = json!(s.value());
        }
    }
    if let Some(d) = distance {
        v["distance"] = json!(d);
    }
    if let Some(d) = variant {
        v["variant"] = json!(d.as_str());
    }
    v
}
