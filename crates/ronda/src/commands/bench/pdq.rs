//! `ronda bench pdq`: decode + PDQ per image, printing the JSON lines of
//! `../shared/bench/baseline_pdq.py` so `compare.py` can pair them.
//!
//! Same protocol as the baseline: file bytes are read before timing; each rep
//! times the decode into RGB (no EXIF rotation, no resize) and the hash at
//! full resolution; per image the medians over reps are printed, then a
//! summary of medians over images. Single-threaded, like the baseline.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ronda_hash::pdq::Hasher;
use ronda_media::{DecodeOptions, Limits, decode_image};
use serde_json::json;

use crate::output::Printer;

const EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image files and/or directories (walked recursively, in name order).
    #[arg(long, num_args = 1.., required = true)]
    images: Vec<PathBuf>,
    /// Repetitions per image; medians are reported.
    #[arg(long, default_value_t = 5)]
    reps: usize,
}

fn tool() -> String {
    format!("ronda-{}", env!("CARGO_PKG_VERSION"))
}

/// The images under `paths`, in the order the baseline visits them.
fn image_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let ext = e
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .map(str::to_ascii_lowercase);
                if e.file_type().is_file() && ext.is_some_and(|x| EXTENSIONS.contains(&x.as_str()))
                {
                    out.push(e.into_path());
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn ms(x: f64) -> f64 {
    (x * 1e6).round() / 1e3
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut printer = Printer::stdout();
    let limits = Limits::default();
    let options = DecodeOptions::default();
    let mut hasher = Hasher::new();
    let tool = tool();
    let reps = args.reps.max(1);
    let mut rows: Vec<[f64; 3]> = Vec::new();
    for path in image_paths(&args.images) {
        let label = path_label(&path);
        let bytes = std::fs::read(&path)?;
        let (mut dec, mut hsh, mut tot) = (Vec::new(), Vec::new(), Vec::new());
        let mut last = None;
        let mut failure = None;
        for _ in 0..reps {
            let t0 = Instant::now();
            let decoded = match decode_image(&bytes, &limits, &options) {
                Ok(d) => d,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            };
            let t1 = Instant::now();
            let img = &decoded.image;
            let pdq = match hasher.hash_rgb8(&img.pixels, img.width, img.height) {
                Ok(p) => p,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            };
            let t2 = Instant::now();
            dec.push((t1 - t0).as_secs_f64());
            hsh.push((t2 - t1).as_secs_f64());
            tot.push((t2 - t0).as_secs_f64());
            last = Some((img.width, img.height, pdq));
        }
        match (failure, last) {
            (None, Some((w, h, pdq))) => {
                let row = [median(&mut dec), median(&mut hsh), median(&mut tot)].map(ms);
                printer.line(&json!({
                    "tool": tool, "image": label, "w": w, "h": h,
                    "decode_ms": row[0], "hash_ms": row[1], "total_ms": row[2],
                    "pdq": pdq.hash.to_string(), "quality": pdq.quality,
                }))?;
                rows.push(row);
            }
            (failure, _) => {
                let error = failure.unwrap_or_else(|| "no result".to_owned());
                printer.line(&json!({"tool": tool, "image": label, "error": error}))?;
            }
        }
    }
    if !rows.is_empty() {
        let col = |i: usize| {
            let mut v: Vec<f64> = rows.iter().map(|r| r[i]).collect();
            (median(&mut v) * 1e3).round() / 1e3
        };
        let total: f64 = rows.iter().map(|r| r[2]).sum();
        printer.line(&json!({
            "tool": tool, "summary": true, "images": rows.len(), "reps": reps,
            "decode_ms": col(0), "hash_ms": col(1), "total_ms": col(2),
            "images_per_s": (1e3 * rows.len() as f64 / total * 100.0).round() / 100.0,
        }))?;
    }
    printer.flush()?;
    Ok(())
}

fn path_label(p: &Path) -> String {
    p.display().to_string()
}
