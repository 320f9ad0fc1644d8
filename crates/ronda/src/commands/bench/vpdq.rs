//! `ronda bench vpdq`: vPDQ hashing of whole video files, printing the JSON
//! lines of `../shared/bench/baseline_vpdq.py` so `compare.py` can pair them.
//!
//! Same protocol as the baseline: `seconds` is the wall time for the whole
//! file (probe, decode, hash), the median over `--reps`; `video_seconds` is
//! the container duration from ffprobe. Extra fields say where the time
//! went: `hash_seconds` is PDQ on the calling thread, `decode_share` the
//! rest of the wall time (probing, and waiting for FFmpeg's frames).
//!
//! `--make-clips DIR` first writes synthetic test clips (FFmpeg's `testsrc2`
//! with noise, never real material) at 720p and 1080p, 30 fps, with the
//! encoder settings of `../shared/bench/README.md`, and benchmarks those.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use ronda_media::video::{VideoOptions, hash_video_file};
use serde_json::json;

use super::pdq::median;
use crate::output::Printer;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Video files to hash.
    #[arg(long)]
    video: Vec<PathBuf>,
    /// Write synthetic 720p and 1080p clips into DIR (kept when already
    /// there) and benchmark them too.
    #[arg(long, value_name = "DIR")]
    make_clips: Option<PathBuf>,
    /// Length of the synthetic clips, in seconds.
    #[arg(long, default_value_t = 60)]
    clip_seconds: u32,
    /// One hash each this many seconds; 0 = every frame.
    #[arg(long, default_value_t = 1.0)]
    seconds_per_hash: f64,
    /// Reported to pair with the baseline's `--threads` (its hashing
    /// threads); Ronda hashes on one thread while FFmpeg decodes.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// FFmpeg decoder threads; 0 = all cores.
    #[arg(long, default_value_t = 0)]
    decoder_threads: usize,
    /// Repetitions per video; the median is reported.
    #[arg(long, default_value_t = 1)]
    reps: usize,
}

/// The synthetic clips: name, size, bit rate.
const CLIPS: [(&str, &str, &str); 2] = [
    ("clip720.mp4", "1280x720", "3M"),
    ("clip1080.mp4", "1920x1080", "6M"),
];

fn make_clips(dir: &Path, seconds: u32) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::new();
    for (name, size, rate) in CLIPS {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("writing {} ({size}, {seconds} s)", path.display());
            let status = Command::new("ffmpeg")
                .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
                .arg(format!("testsrc2=size={size}:rate=30,noise=alls=8:allf=t"))
                .args(["-t", &seconds.to_string()])
                .args(["-c:v", "libx264", "-preset", "veryfast"])
                .args(["-b:v", rate, "-maxrate", rate, "-bufsize", rate])
                .args(["-pix_fmt", "yuv420p"])
                .arg(&path)
                .status()
                .context("cannot run ffmpeg (install FFmpeg)")?;
            anyhow::ensure!(
                status.success(),
                "ffmpeg could not write {}",
                path.display()
            );
        }
        out.push(path);
    }
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut videos = args.video.clone();
    if let Some(dir) = &args.make_clips {
        videos.extend(make_clips(dir, args.clip_seconds)?);
    }
    anyhow::ensure!(!videos.is_empty(), "give --video FILE or --make-clips DIR");
    let options = VideoOptions {
        seconds_per_hash: args.seconds_per_hash,
        decoder_threads: args.decoder_threads,
        ..VideoOptions::default()
    };
    let tool = format!("ronda-{}", env!("CARGO_PKG_VERSION"));
    let mut printer = Printer::stdout();
    for path in &videos {
        let label = path.display().to_string();
        let mut walls = Vec::new();
        let mut hashes = Vec::new();
        let mut last = None;
        for _ in 0..args.reps.max(1) {
            let started = Instant::now();
            match hash_video_file(path, &options) {
                Ok(h) => {
                    walls.push(started.elapsed().as_secs_f64());
                    hashes.push(h.hash_time.as_secs_f64());
                    last = Some(h);
                }
                Err(e) => {
                    printer.line(&json!({"tool": tool, "video": label, "error": e.to_string()}))?;
                    break;
                }
            }
        }
        let Some(h) = last.filter(|_| walls.len() == args.reps.max(1)) else {
            continue;
        };
        let seconds = median(&mut walls);
        let hash_seconds = median(&mut hashes);
        let (video_seconds, from) = match h.info.duration {
            Some(d) => (d, "ffprobe"),
            None => (
                h.frames
                    .last()
                    .map_or(0.0, |f| f.timestamp + args.seconds_per_hash),
                "timestamps",
            ),
        };
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        printer.line(&json!({
            "tool": tool,
            "video": label,
            "seconds_per_hash": args.seconds_per_hash,
            "threads": args.threads,
            "seconds": round(seconds, 4),
            "frames_hashed": h.frames.len(),
            "video_seconds": round(video_seconds, 3),
            "video_seconds_from": from,
            "x_realtime": (seconds > 0.0).then(|| round(video_seconds / seconds, 2)),
            "bytes": bytes,
            "decoder_threads": args.decoder_threads,
            "hash_seconds": round(hash_seconds, 4),
            "decode_share": (seconds > 0.0).then(|| round(1.0 - hash_seconds / seconds, 3)),
            "seconds_per_video_minute": (video_seconds > 0.0)
                .then(|| round(seconds * 60.0 / video_seconds, 3)),
        }))?;
    }
    printer.flush()?;
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}
