//! `ronda hash`: the signals of files, texts and URLs, one JSON object per
//! input on stdout.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rayon::prelude::*;
use ronda_hash::pdq::Dihedral;
use ronda_media::signals::{
    ContentSignals, ContentType, HashOptions, hash_bytes, hash_video_file, text_signals,
};
use ronda_media::video::{VideoHash, VideoLimits, VideoOptions, hash_video_bytes};
use ronda_media::{DecodeOptions, Limits, MediaKind, sniff};
use serde_json::{Map, Value, json};

use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (walked recursively) to hash; `-` reads stdin.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also print the 8 dihedral PDQ hashes of images.
    #[arg(long)]
    dihedral: bool,
    /// Apply the EXIF orientation before hashing (the reference does not).
    #[arg(long)]
    exif: bool,
    /// Hash this text (repeatable).
    #[arg(long, value_name = "TEXT")]
    text: Vec<String>,
    /// Canonicalise this URL (repeatable).
    #[arg(long, value_name = "URL")]
    url: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    video: VideoArgs,
}

/// How videos are hashed (vPDQ) and their limits, shared by every command
/// that hashes video.
#[derive(Debug, Clone, clap::Args)]
pub struct VideoArgs {
    /// Hash one video frame each this many seconds; 0 hashes every frame.
    #[arg(long, env = "RONDA_SECONDS_PER_HASH", default_value_t = 1.0)]
    pub seconds_per_hash: f64,
    /// Scale video frames to this width before hashing (default: the video's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub downsample_width: Option<u32>,
    /// Scale video frames to this height before hashing (default: the video's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub downsample_height: Option<u32>,
    /// Largest video file, in bytes.
    #[arg(long, env = "RONDA_MAX_VIDEO_BYTES", default_value_t = VideoLimits::default().max_bytes)]
    pub max_video_bytes: u64,
    /// Longest video, in seconds.
    #[arg(long, env = "RONDA_MAX_VIDEO_SECONDS", default_value_t = VideoLimits::default().max_seconds)]
    pub max_video_seconds: f64,
    /// Longest time hashing one video may take, in seconds; FFmpeg is killed then.
    #[arg(long, env = "RONDA_MAX_VIDEO_WALL_S", default_value_t = VideoLimits::default().max_wall.as_secs_f64())]
    pub max_video_wall_s: f64,
}

impl VideoArgs {
    pub fn options(&self) -> anyhow::Result<VideoOptions> {
        if !(self.seconds_per_hash.is_finite() && self.seconds_per_hash >= 0.0) {
            anyhow::bail!("--seconds-per-hash must be a number of at least 0");
        }
        let wall = Duration::try_from_secs_f64(self.max_video_wall_s)
            .map_err(|_| anyhow::anyhow!("--max-video-wall-s must be a number of seconds"))?;
        Ok(VideoOptions {
            seconds_per_hash: self.seconds_per_hash,
            downsample_width: self.downsample_width,
            downsample_height: self.downsample_height,
            limits: VideoLimits {
                max_bytes: self.max_video_bytes,
                max_seconds: self.max_video_seconds,
                max_wall: wall,
                ..VideoLimits::default()
            },
            ..VideoOptions::default()
        })
    }
}

/// Decoder limits, shared by every command that decodes media.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Largest input file, in bytes.
    #[arg(long, env = "RONDA_MAX_BYTES", default_value_t = Limits::default().max_bytes)]
    pub max_bytes: u64,
    /// Largest image, in pixels (width × height), checked before decoding.
    #[arg(long, env = "RONDA_MAX_PIXELS", default_value_t = Limits::default().max_pixels)]
    pub max_pixels: u64,
    /// Longest time one decode may take, in milliseconds.
    #[arg(long, env = "RONDA_MAX_DECODE_MS", default_value_t = Limits::default().max_duration.as_millis() as u64)]
    pub max_decode_ms: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_bytes,
            max_pixels: self.max_pixels,
            max_duration: Duration::from_millis(self.max_decode_ms),
        }
    }
}

/// One thing to hash.
enum Input {
    File(PathBuf),
    Stdin,
    Text(usize, String),
    Url(String),
}

impl Input {
    fn label(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_owned(),
            // Never echo the text itself: it may be the content under review.
            Input::Text(i, _) => format!("--text[{i}]"),
            Input::Url(u) => u.clone(),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.paths.is_empty() && args.text.is_empty() && args.url.is_empty() {
        anyhow::bail!("nothing to hash: give paths, --text or --url (see `ronda hash --help`)");
    }
    let options = HashOptions {
        limits: args.limits.limits(),
        decode: DecodeOptions {
            apply_exif_orientation: args.exif,
        },
        dihedral: args.dihedral,
    };
    let video = args.video.options()?;
    let mut printer = Printer::stdout();
    let mut failed = 0usize;
    let mut emit = |printer: &mut Printer, record: Value| -> io::Result<()> {
        if record.get("error").is_some() {
            failed += 1;
        }
        printer.line(&record)
    };

    for (i, text) in args.text.into_iter().enumerate() {
        emit(
            &mut printer,
            hash_input(&Input::Text(i, text), &options, &video),
        )?;
    }
    for url in args.url {
        emit(&mut printer, hash_input(&Input::Url(url), &options, &video))?;
    }

    let mut inputs = Vec::new();
    let mut walk_errors = Vec::new();
    for path in &args.paths {
        collect(path, &mut inputs, &mut walk_errors);
    }
    for record in walk_errors {
        emit(&mut printer, record)?;
    }
    let progress = crate::output::progress(inputs.len() as u64, "hashing");
    // Hash in parallel, print in input order, a chunk at a time so that
    // output streams and memory stays bounded.
    for chunk in inputs.chunks(64) {
        let records: Vec<Value> = chunk
            .par_iter()
            .map(|input| {
                let r = hash_input(input, &options, &video);
                progress.inc(1);
                r
            })
            .collect();
        for record in records {
            emit(&mut printer, record)?;
        }
    }
    progress.finish_and_clear();
    printer.flush()?;
    Ok(if failed > 0 {
        Outcome::Failed
    } else {
        Outcome::Found
    })
}

/// Expands `path` into inputs: a directory is walked recursively in name
/// order, `-` is stdin.
fn collect(path: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<Value>) {
    if path == Path::new("-") {
        inputs.push(Input::Stdin);
        return;
    }
    if !path.is_dir() {
        inputs.push(Input::File(path.to_owned()));
        return;
    }
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() => inputs.push(Input::File(e.into_path())),
            Ok(_) => {}
            Err(e) => {
                let p = e.path().unwrap_or(path).display().to_string();
                errors.push(json!({"path": p, "error": format!("cannot read directory: {e}")}));
            }
        }
    }
}

fn hash_input(input: &Input, options: &HashOptions, video: &VideoOptions) -> Value {
    let label = input.label();
    let result = match input {
        Input::Text(_, text) => Ok(text_record(text)),
        Input::Url(url) => url_record(url),
        Input::File(path) if is_video_file(path) => hash_video_file(path, video)
            .map(|s| signals_json(&s))
            .map_err(anyhow::Error::from),
        Input::File(path) => read_limited(path, options.limits.max_bytes).and_then(|bytes| {
            let declared = path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(ContentType::from_extension);
            content_record(&bytes, declared, options)
        }),
        Input::Stdin => {
            let mut bytes = Vec::new();
            io::stdin()
                .lock()
                .take(options.limits.max_bytes + 1)
                .read_to_end(&mut bytes)
                .context("cannot read stdin")
                .and_then(|_| {
                    if sniff(&bytes) == MediaKind::Video {
                        video_bytes_record(&bytes, video)
                    } else {
                        content_record(&bytes, None, options)
                    }
                })
        }
    };
    let mut record = Map::new();
    record.insert("path".into(), label.into());
    match result {
        Ok(Value::Object(fields)) => record.extend(fields),
        Ok(_) => unreachable!("records are objects"),
        Err(e) => {
            tracing::debug!(path = %input.label(), error = %format!("{e:#}"), "input failed");
            record.insert("error".into(), format!("{e:#}").into());
        }
    }
    Value::Object(record)
}

/// Whether the file's first bytes are a video container's (MP4/MOV,
/// Matroska/WebM, AVI, FLV, MPEG-TS); video files are not read into memory.
pub fn is_video_file(path: &Path) -> bool {
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .is_ok()
        && sniff(&head) == MediaKind::Video
}

/// A video read from stdin: hashed from a temporary file.
fn video_bytes_record(bytes: &[u8], video: &VideoOptions) -> anyhow::Result<Value> {
    let hash = hash_video_bytes(bytes, video)?;
    let mut digester = ronda_hash::digest::Digester::new();
    digester.update(bytes);
    let (md5, sha256) = digester.finish();
    Ok(signals_json(&ContentSignals {
        content_type: ContentType::Video,
        md5,
        sha256,
        image: None,
        text: None,
        video: Some(hash),
    }))
}

/// The vPDQ frames as JSON: frame number, quality, hex hash and the
/// timestamp in seconds rounded to milliseconds (the reference prints 3
/// decimals).
pub fn vpdq_json(video: &VideoHash) -> Value {
    video
        .frames
        .iter()
        .map(|f| {
            json!({
                "frame": f.frame,
                "quality": f.quality,
                "pdq": f.hash.to_string(),
                "timestamp": millis(f.timestamp),
            })
        })
        .collect()
}

/// `x` printed with 3 decimals, as a JSON number.
fn millis(x: f64) -> Value {
    format!("{x:.3}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// Reads a file, refusing it before reading when it is over `max` bytes.
fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).context("cannot open")?;
    let len = file.metadata().context("cannot stat")?.len();
    if len > max {
        anyhow::bail!("file is {len} bytes, over the limit of {max}");
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .context("cannot read")?;
    Ok(bytes)
}

fn content_record(
    bytes: &[u8],
    declared: Option<ContentType>,
    options: &HashOptions,
) -> anyhow::Result<Value> {
    let s = hash_bytes(bytes, declared, options)?;
    Ok(signals_json(&s))
}

fn signals_json(s: &ContentSignals) -> Value {
    let mut signals = Map::new();
    let mut record = Map::new();
    record.insert("content_type".into(), s.content_type.as_str().into());
    if let Some(img) = &s.image {
        signals.insert("pdq".into(), img.pdq.hash.to_string().into());
        record.insert("format".into(), img.format.as_str().into());
        record.insert("width".into(), img.width.into());
        record.insert("height".into(), img.height.into());
        if let Some(o) = img.exif_orientation {
            record.insert("exif_orientation".into(), o.into());
        }
    }
    signals.insert("md5".into(), s.md5.to_string().into());
    signals.insert("sha256".into(), s.sha256.to_string().into());
    if let Some(t) = &s.text {
        add_text_signals(&mut signals, &mut record, t);
    }
    if let Some(v) = &s.video {
        signals.insert("vpdq".into(), vpdq_json(v));
        record.insert("width".into(), v.info.width.into());
        record.insert("height".into(), v.info.height.into());
        record.insert("fps".into(), json!(v.info.fps));
        record.insert("duration".into(), json!(v.info.duration));
        record.insert("codec".into(), v.info.codec.clone().into());
        record.insert("frames_hashed".into(), v.frames.len().into());
    }
    record.insert("signals".into(), signals.into());
    if let Some(img) = &s.image {
        record.insert("pdq_quality".into(), img.pdq.quality.into());
        if let Some(d) = &img.dihedral {
            let variants: Map<String, Value> = Dihedral::ALL
                .iter()
                .map(|&v| (v.as_str().to_owned(), d.get(v).to_string().into()))
                .collect();
            record.insert("pdq_dihedral".into(), variants.into());
        }
    }
    Value::Object(record)
}

fn add_text_signals(
    signals: &mut Map<String, Value>,
    record: &mut Map<String, Value>,
    t: &ronda_media::signals::TextContentSignals,
) {
    signals.insert(
        "text_sha256".into(),
        t.signals.normalized_sha256.to_string().into(),
    );
    if let Some(m) = &t.signals.minhash {
        signals.insert("text_minhash".into(), m.to_string().into());
    }
    let urls: Vec<Value> = t.urls.iter().map(|u| u.as_str().into()).collect();
    record.insert("urls".into(), urls.into());
}

fn text_record(text: &str) -> Value {
    let t = text_signals(text);
    let mut signals = Map::new();
    let mut record = Map::new();
    record.insert("content_type".into(), "text".into());
    add_text_signals(&mut signals, &mut record, &t);
    record.insert("signals".into(), signals.into());
    Value::Object(record)
}

fn url_record(url: &str) -> anyhow::Result<Value> {
    let canonical = ronda_hash::url::canonicalize(url)?;
    Ok(json!({
        "content_type": "url",
        "signals": {"url": canonical.as_str()},
        "host": canonical.host(),
        "registrable_domain": canonical.registrable_domain(),
    }))
}
