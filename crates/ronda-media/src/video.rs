//! Video frames through FFmpeg child processes, hashed with vPDQ.
//!
//! # Why child processes
//!
//! The reference (PyPI `vpdq` 0.2.5) links the FFmpeg libraries; Ronda runs
//! the `ffmpeg` and `ffprobe` programs of the same FFmpeg instead. A decoder
//! crash or hang on hostile bytes then takes down a child, not the server,
//! a deadline is enforced by killing it, and no `unsafe` FFI is needed. The
//! frames are the same: the child's `scale` filter calls the same
//! `libswscale` as the reference with the same settings (area scaling, BT.601
//! matrix, the range the pixel format implies), so on every sample video
//! the RGB frames, and so the hashes, are identical.
//!
//! # The pipeline
//!
//! 1. `ffprobe` reads the first video stream's size, pixel format and average
//!    frame rate (the reference's frame rate, falling back to `r_frame_rate`)
//!    and the container's duration; the limits are checked on those.
//! 2. `ffmpeg` decodes every frame (frame-threaded, on all cores), its
//!    `select` filter keeps frames `n % interval == 0` (the reference's
//!    numbering: decoder output order), and only those are scaled and
//!    converted to RGB24 and written to a pipe.
//! 3. A reader thread cuts the pipe into frames; the calling thread hashes
//!    them (see `ronda_hash::vpdq`) while FFmpeg decodes the next ones.
//!
//! A decode error ends the run with an error, as it does in the reference
//! (`-xerror`), so truncated files fail instead of hashing a prefix.
//!
//! # Blocking
//!
//! Everything here blocks the calling thread for as long as decoding takes
//! (bounded by [`VideoLimits::max_wall`]). Async callers run it on a blocking
//! thread (`tokio::task::spawn_blocking`).

mod process;

use std::io::{ErrorKind, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ronda_hash::vpdq::{FrameHasher, VpdqFrame, frame_interval, frame_timestamp};

use crate::MediaError;
use process::Running;

/// Demuxers FFmpeg may use on untrusted input: the containers Ronda sniffs
/// as video. Playlists (HLS, concat) are excluded, since they can name
/// other files or URLs.
const DEMUXERS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts";

/// Hard limits for one video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Longest video, in seconds (container duration, and frame timestamps
    /// while decoding).
    pub max_seconds: f64,
    /// Largest frame, in pixels (width × height), checked before decoding.
    pub max_pixels: u64,
    /// Most frames decoded.
    pub max_frames: u64,
    /// Longest wall time for probing and decoding together; the child
    /// processes are killed then.
    pub max_wall: Duration,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits {
            max_bytes: 2 << 30,
            max_seconds: 3.0 * 3600.0,
            // 4096 × 2304: 4K UHD and DCI 4K fit.
            max_pixels: 4096 * 2304,
            max_frames: 1_000_000,
            max_wall: Duration::from_secs(600),
        }
    }
}

/// What to hash and how.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// One frame each this many seconds; 0 hashes every frame. The
    /// reference's default is 1.
    pub seconds_per_hash: f64,
    /// Scale frames to this width before hashing (the reference's
    /// `downsample_width`); `None` keeps the video's width.
    pub downsample_width: Option<u32>,
    /// Scale frames to this height before hashing; `None` keeps the height.
    pub downsample_height: Option<u32>,
    /// Decoder threads; 0 lets FFmpeg use every core.
    pub decoder_threads: usize,
    pub limits: VideoLimits,
    /// The `ffmpeg` program (found on `PATH` by default).
    pub ffmpeg: PathBuf,
    /// The `ffprobe` program.
    pub ffprobe: PathBuf,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            seconds_per_hash: 1.0,
            downsample_width: None,
            downsample_height: None,
            decoder_threads: 0,
            limits: VideoLimits::default(),
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
        }
    }
}

/// What `ffprobe` says of the first video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    /// Average frame rate (the reference's choice), or `r_frame_rate` when
    /// the average is unknown.
    pub fps: f64,
    /// Container duration in seconds, when known.
    pub duration: Option<f64>,
    pub codec: String,
    pub pix_fmt: String,
}

/// The vPDQ hash of a video.
#[derive(Debug, Clone)]
pub struct VideoHash {
    pub info: VideoInfo,
    /// Size of the frames hashed (after downsampling).
    pub width: u32,
    pub height: u32,
    /// Frames `n` with `n % interval == 0` were hashed.
    pub interval: u64,
    pub frames: Vec<VpdqFrame>,
    /// Time spent hashing on the calling thread (the rest of the wall time
    /// is probing and waiting for decoded frames).
    pub hash_time: Duration,
}

/// Where a running hash is, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub frames_hashed: u64,
    /// The frame just hashed.
    pub frame: u64,
    /// Its timestamp, in seconds.
    pub timestamp: f64,
    /// The container's duration, when known.
    pub duration: Option<f64>,
}

/// Checks that `ffmpeg` and `ffprobe` run, with an error that says to
/// install FFmpeg when they do not.
pub fn check_ffmpeg(options: &VideoOptions) -> Result<(), MediaError> {
    for (program, path) in [("ffmpeg", &options.ffmpeg), ("ffprobe", &options.ffprobe)] {
        let status = Command::new(path)
            .arg("-version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| MediaError::FfmpegUnavailable {
                program,
                reason: e.to_string(),
            })?;
        if !status.success() {
            return Err(MediaError::FfmpegUnavailable {
                program,
                reason: format!("`{} -version` failed ({status})", path.display()),
            });
        }
    }
    Ok(())
}

/// Reads the first video stream's parameters and checks them against the
/// limits.
pub fn probe_video(path: &Path, options: &VideoOptions) -> Result<VideoInfo, MediaError> {
    let deadline = Instant::now() + options.limits.max_wall;
    check_file(path, &options.limits)?;
    probe(path, options, deadline)
}

/// vPDQ of the video file at `path`: the reference's frames, hashes and
/// timestamps. Blocks until done (see the module documentation).
pub fn hash_video_file(path: &Path, options: &VideoOptions) -> Result<VideoHash, MediaError> {
    hash_video_file_with_progress(path, options, &mut |_| ControlFlow::Continue(()))
}

/// Like [`hash_video_file`], calling `progress` after each hashed frame;
/// returning `ControlFlow::Break` from it stops decoding and gives
/// [`MediaError::Cancelled`].
pub fn hash_video_file_with_progress(
    path: &Path,
    options: &VideoOptions,
    progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
) -> Result<VideoHash, MediaError> {
    let deadline = Instant::now() + options.limits.max_wall;
    if !(options.seconds_per_hash.is_finite() && options.seconds_per_hash >= 0.0) {
        return Err(MediaError::InvalidVideoOption(
            "seconds per hash must be a number of at least 0",
        ));
    }
    if options.downsample_width == Some(0) || options.downsample_height == Some(0) {
        return Err(MediaError::InvalidVideoOption(
            "downsampled width and height must be at least 1",
        ));
    }
    check_file(path, &options.limits)?;
    let info = probe(path, options, deadline)?;
    let width = options.downsample_width.unwrap_or(info.width);
    let height = options.downsample_height.unwrap_or(info.height);
    if u64::from(width) * u64::from(height) > options.limits.max_pixels {
        return Err(limit(
            "frame size",
            width * height,
            options.limits.max_pixels,
        ));
    }
    let interval = frame_interval(options.seconds_per_hash, info.fps);
    let frame_bytes = width as usize * height as usize * 3;

    let mut command = Command::new(&options.ffmpeg);
    command.args([
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-v",
        "error",
        "-xerror",
    ]);
    if options.decoder_threads > 0 {
        command.args(["-threads", &options.decoder_threads.to_string()]);
    }
    command
        .args(input_args(path))
        .args(["-map", "0:v:0", "-an", "-sn", "-dn"])
        .args(["-vf", &filter(&info, interval, width, height)])
        .args(["-fps_mode", "passthrough"])
        // FFmpeg stops by itself at the frame limit; one more frame than
        // allowed tells us the video was over it.
        .args([
            "-frames:v",
            &(options.limits.max_frames / interval + 1).to_string(),
        ])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
    let mut child = Running::spawn("ffmpeg", command, deadline)?;
    let stdout = child
        .take_stdout()
        .ok_or_else(|| MediaError::CorruptVideo {
            reason: "ffmpeg gave no output pipe".to_owned(),
        })?;

    // The reader thread cuts the pipe into frames; two frames in flight let
    // FFmpeg decode while this thread hashes. Buffers go back for reuse.
    let (frames_tx, frames_rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut stdout = stdout;
        loop {
            let mut buf = spare_rx.try_recv().unwrap_or_default();
            buf.resize(frame_bytes, 0);
            match read_frame(&mut stdout, &mut buf) {
                Ok(true) => {
                    if frames_tx.send(Ok(buf)).is_err() {
                        return;
                    }
                }
                Ok(false) => return,
                Err(e) => {
                    let _ = frames_tx.send(Err(e));
                    return;
                }
            }
        }
    });

    let mut hasher = FrameHasher::new();
    let mut frames = Vec::new();
    let mut hash_time = Duration::ZERO;
    let mut stop: Option<MediaError> = None;
    for item in frames_rx.iter() {
        let buf = match item {
            Ok(buf) => buf,
            Err(e) => {
                stop = Some(MediaError::CorruptVideo {
                    reason: format!("cannot read decoded frames: {e}"),
                });
                break;
            }
        };
        let frame = frames.len() as u64 * interval;
        if frame >= options.limits.max_frames {
            stop = Some(limit("frame count", frame + 1, options.limits.max_frames));
            break;
        }
        let timestamp = frame_timestamp(frame, info.fps);
        if timestamp > options.limits.max_seconds {
            stop = Some(limit_f(
                "duration (seconds)",
                timestamp,
                options.limits.max_seconds,
            ));
            break;
        }
        let started = Instant::now();
        let pdq = hasher
            .hash_rgb8(&buf, width as usize, height as usize)
            .map_err(|e| MediaError::CorruptVideo {
                reason: format!("frame {frame}: {e}"),
            });
        hash_time += started.elapsed();
        let pdq = match pdq {
            Ok(p) => p,
            Err(e) => {
                stop = Some(e);
                break;
            }
        };
        let _ = spare_tx.send(buf);
        frames.push(VpdqFrame {
            frame,
            hash: pdq.hash,
            quality: pdq.quality,
            timestamp,
        });
        let report = Progress {
            frames_hashed: frames.len() as u64,
            frame,
            timestamp,
            duration: info.duration,
        };
        if progress(&report).is_break() {
            stop = Some(MediaError::Cancelled);
            break;
        }
    }
    if stop.is_some() {
        child.kill();
    }
    drop(frames_rx);
    let _ = reader.join();
    let finished = child.finish()?;
    // A kill at the deadline also cuts the last frame short: report the
    // deadline, not the short read.
    if finished.timed_out {
        return Err(MediaError::VideoTimeout {
            limit: options.limits.max_wall,
        });
    }
    if let Some(e) = stop {
        return Err(e);
    }
    if !finished.status.success() {
        return Err(MediaError::CorruptVideo {
            reason: format!("ffmpeg failed: {}", finished.last_error_line()),
        });
    }
    if frames.is_empty() {
        return Err(MediaError::CorruptVideo {
            reason: "no frame could be decoded".to_owned(),
        });
    }
    Ok(VideoHash {
        info,
        width,
        height,
        interval,
        frames,
        hash_time,
    })
}

/// vPDQ of a video held in memory: written to a temporary file first, since
/// MP4 files need seeking.
pub fn hash_video_bytes(bytes: &[u8], options: &VideoOptions) -> Result<VideoHash, MediaError> {
    use std::io::Write as _;
    let len = bytes.len() as u64;
    if len > options.limits.max_bytes {
        return Err(limit("file size (bytes)", len, options.limits.max_bytes));
    }
    let io = |e: std::io::Error| MediaError::VideoIo(e.to_string());
    let mut file = tempfile::Builder::new()
        .prefix("ronda-video-")
        .tempfile()
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.flush().map_err(io)?;
    hash_video_file(file.path(), options)
}

/// Fills `buf` from `r`. `Ok(false)` at a clean end before the first byte;
/// a partial frame is an error.
fn read_frame(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "partial frame",
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Input options: the file protocol only, the video demuxers only, no
/// rotation from metadata (the reference ignores it).
fn input_args(path: &Path) -> Vec<std::ffi::OsString> {
    let mut file = std::ffi::OsString::from("file:");
    file.push(path.as_os_str());
    vec![
        "-noautorotate".into(),
        "-protocol_whitelist".into(),
        "file".into(),
        "-format_whitelist".into(),
        DEMUXERS.into(),
        "-i".into(),
        file,
    ]
}

/// The filter graph: keep the sampled frames, then one `swscale` call as the
/// reference makes it (area scaling to the hashed size, BT.601, the range
/// the pixel format implies rather than the stream's tags).
fn filter(info: &VideoInfo, interval: u64, width: u32, height: u32) -> String {
    let mut f = String::new();
    if interval > 1 {
        f.push_str(&format!("select=not(mod(n\\,{interval})),"));
    }
    f.push_str(&format!(
        "scale={width}:{height}:flags=area:in_color_matrix=bt601"
    ));
    if info.pix_fmt.starts_with("yuvj") {
        f.push_str(":in_range=pc");
    } else if info.pix_fmt.starts_with("yuv") {
        f.push_str(":in_range=tv");
    }
    f
}

fn check_file(path: &Path, limits: &VideoLimits) -> Result<(), MediaError> {
    let meta = std::fs::metadata(path).map_err(|e| MediaError::VideoIo(e.to_string()))?;
    if !meta.is_file() {
        return Err(MediaError::VideoIo("not a regular file".to_owned()));
    }
    if meta.len() == 0 {
        return Err(MediaError::Empty);
    }
    if meta.len() > limits.max_bytes {
        return Err(limit("file size (bytes)", meta.len(), limits.max_bytes));
    }
    Ok(())
}

fn probe(path: &Path, options: &VideoOptions, deadline: Instant) -> Result<VideoInfo, MediaError> {
    let mut command = Command::new(&options.ffprobe);
    command
        .args(["-v", "error", "-hide_banner"])
        .args(
            input_args(path)
                .into_iter()
                .filter(|a| a != "-noautorotate"),
        )
        .args(["-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,pix_fmt,avg_frame_rate,r_frame_rate:format=duration",
        ])
        .args(["-of", "default=noprint_wrappers=1"]);
    let mut child = Running::spawn("ffprobe", command, deadline)?;
    let mut out = String::new();
    if let Some(stdout) = child.take_stdout() {
        // ffprobe prints a few short lines; cap what is read all the same.
        let _ = stdout.take(64 * 1024).read_to_string(&mut out);
    }
    let finished = child.finish()?;
    if finished.timed_out {
        return Err(MediaError::VideoTimeout {
            limit: options.limits.max_wall,
        });
    }
    if !finished.status.success() {
        return Err(MediaError::CorruptVideo {
            reason: finished.last_error_line(),
        });
    }
    let field = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "N/A")
    };
    let Some(codec) = field("codec_name") else {
        return Err(MediaError::NoVideoStream);
    };
    let dim = |key: &str| -> Result<u32, MediaError> {
        field(key)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
            .ok_or_else(|| MediaError::CorruptVideo {
                reason: format!("video stream has no {key}"),
            })
    };
    let (width, height) = (dim("width")?, dim("height")?);
    let fps = field("avg_frame_rate")
        .and_then(parse_rate)
        .or_else(|| field("r_frame_rate").and_then(parse_rate))
        .ok_or_else(|| MediaError::CorruptVideo {
            reason: "video frame rate is unknown or zero".to_owned(),
        })?;
    let duration = field("duration").and_then(|d| d.parse::<f64>().ok());
    let limits = &options.limits;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::VideoLimit {
            what: "frame size (pixels)",
            value: format!("{width}x{height}"),
            max: limits.max_pixels.to_string(),
        });
    }
    if let Some(d) = duration
        && d > limits.max_seconds
    {
        return Err(limit_f("duration (seconds)", d, limits.max_seconds));
    }
    Ok(VideoInfo {
        width,
        height,
        fps,
        duration,
        codec: codec.to_owned(),
        pix_fmt: field("pix_fmt").unwrap_or("unknown").to_owned(),
    })
}

/// `num/den` as a positive frame rate.
fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    let r = n / d;
    (r.is_finite() && r > 0.0).then_some(r)
}

fn limit(what: &'static str, value: impl ToString, max: impl ToString) -> MediaError {
    MediaError::VideoLimit {
        what,
        value: value.to_string(),
        max: max.to_string(),
    }
}

fn limit_f(what: &'static str, value: f64, max: f64) -> MediaError {
    limit(what, format!("{value:.3}"), format!("{max:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_like_ffprobe_prints_them() {
        assert_eq!(parse_rate("30/1"), Some(30.0));
        assert_eq!(parse_rate("30000/1001"), Some(30000.0 / 1001.0));
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("25"), Some(25.0));
        assert_eq!(parse_rate("x"), None);
    }

    #[test]
    fn filter_selects_then_scales_once() {
        let info = VideoInfo {
            width: 640,
            height: 480,
            fps: 30.0,
            duration: None,
            codec: "h264".into(),
            pix_fmt: "yuv420p".into(),
        };
        assert_eq!(
            filter(&info, 30, 64, 64),
            "select=not(mod(n\\,30)),scale=64:64:flags=area:in_color_matrix=bt601:in_range=tv"
        );
        let full = VideoInfo {
            pix_fmt: "yuvj420p".into(),
            ..info.clone()
        };
        assert!(filter(&full, 1, 640, 480).ends_with(":in_range=pc"));
        assert!(!filter(&full, 1, 640, 480).starts_with("select"));
    }
}
