//! Video: vPDQ frames against the reference's (`../shared/testdata/vpdq`,
//! PyPI `vpdq` 0.2.5 over Debian's FFmpeg 5.1), bad files, and the limits.
//!
//! These tests need the `ffmpeg` and `ffprobe` programs; without them they
//! fail with a message saying to install FFmpeg (CI installs it).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ronda_media::MediaError;
use ronda_media::video::{
    VideoHash, VideoLimits, VideoOptions, check_ffmpeg, hash_video_bytes, hash_video_file,
    hash_video_file_with_progress, probe_video,
};

use super::{local, shared_testdata};

/// Fails the test, saying what to install, when FFmpeg is missing.
/// Whether FFmpeg is here. Without it a video test says what to install
/// and skips, unless `RONDA_REQUIRE_FFMPEG=1` (CI sets it) makes that a
/// failure.
fn have_ffmpeg() -> bool {
    let found: Result<(), String> =
        check_ffmpeg(&VideoOptions::default()).map_err(|e| e.to_string());
    match found {
        Ok(()) => true,
        Err(e) if std::env::var_os("RONDA_REQUIRE_FFMPEG").is_some_and(|v| v == "1") => panic!(
            "video tests need FFmpeg's ffmpeg and ffprobe programs (apt-get install ffmpeg): {e}"
        ),
        Err(e) => {
            eprintln!("skipped: video tests need FFmpeg (apt-get install ffmpeg): {e}");
            false
        }
    }
}

/// Whether the FFmpeg here is 5.1, the version the expected hashes were
/// made with; other versions may decode a few levels differently.
fn ffmpeg_is_5_1() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("ffmpeg version 5.1"))
}

/// One line of an expected CSV: `frame,quality,hex,timestamp`.
#[derive(Debug)]
struct Expected {
    frame: u64,
    quality: u8,
    hex: String,
    timestamp: String,
}

fn read_expected(path: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.trim().split(',').collect();
            assert_eq!(f.len(), 4, "{}: {l}", path.display());
            Expected {
                frame: f[0].parse().expect("frame number"),
                quality: f[1].parse().expect("quality"),
                hex: f[2].to_owned(),
                timestamp: f[3].to_owned(),
            }
        })
        .collect()
}

/// Hashes `video` at `seconds_per_hash` and compares with `expected`: the
/// same frame numbers and timestamps, and per-frame hashes. Returns the
/// largest Hamming distance and the number of frames compared.
fn conform(video: &Path, expected: &Path, seconds_per_hash: f64) -> (u32, usize) {
    let options = VideoOptions {
        seconds_per_hash,
        ..VideoOptions::default()
    };
    let got =
        hash_video_file(video, &options).unwrap_or_else(|e| panic!("{}: {e}", video.display()));
    let want = read_expected(expected);
    let name = video.display();
    assert_eq!(got.frames.len(), want.len(), "{name}: frame count");
    let mut worst = 0;
    let mut quality_diffs = 0;
    for (g, w) in got.frames.iter().zip(&want) {
        assert_eq!(g.frame, w.frame, "{name}: frame numbers");
        assert_eq!(
            format!("{:.3}", g.timestamp),
            w.timestamp,
            "{name}: timestamp of frame {}",
            g.frame
        );
        let want_hash = w.hex.parse().expect("expected hex");
        worst = worst.max(g.hash.distance(&want_hash));
        quality_diffs += usize::from(g.quality != w.quality);
    }
    if ffmpeg_is_5_1() {
        assert_eq!(worst, 0, "{name}: hashes differ from the reference");
        assert_eq!(
            quality_diffs, 0,
            "{name}: qualities differ from the reference"
        );
    } else {
        assert!(worst <= 10, "{name}: hashes differ by up to {worst} bits");
    }
    (worst, want.len())
}

#[test]
fn bundled_sample_matches_reference_frames_and_hashes() {
    if !have_ffmpeg() {
        return;
    }
    let video = local("vpdq/test-padded-dimensions.mp4");
    let mut worst = 0;
    for (sph, csv) in [(1.0, "1s"), (0.0, "every-frame")] {
        let expected = local(&format!("vpdq/test-padded-dimensions.{csv}.csv"));
        let (w, n) = conform(&video, &expected, sph);
        eprintln!("test-padded-dimensions {csv}: {n} frames, largest distance {w}");
        worst = worst.max(w);
    }
    eprintln!("largest per-frame Hamming distance (bundled sample): {worst}");
}

#[test]
fn all_shared_samples_match_reference_when_present() {
    let Some(root) = shared_testdata() else {
        eprintln!("skipped: ../shared/testdata not found; only the bundled sample ran");
        return;
    };
    if !have_ffmpeg() {
        return;
    }
    let dir = root.join("vpdq");
    let mut videos: Vec<PathBuf> = std::fs::read_dir(dir.join("videos"))
        .expect("videos dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "mp4"))
        .collect();
    videos.sort();
    assert!(videos.len() >= 6, "sample videos missing");
    let (mut worst, mut frames) = (0, 0);
    for video in &videos {
        let stem = video.file_stem().and_then(|s| s.to_str()).expect("name");
        for (sph, csv) in [(1.0, "1s"), (0.0, "every-frame")] {
            let expected = dir.join(format!("expected/{stem}.{csv}.csv"));
            let (w, n) = conform(video, &expected, sph);
            eprintln!("{stem} {csv}: {n} frames, largest distance {w}");
            worst = worst.max(w);
            frames += n;
        }
    }
    eprintln!("largest per-frame Hamming distance over {frames} frames of all samples: {worst}");
}

#[test]
fn bytes_and_file_give_the_same_frames() {
    if !have_ffmpeg() {
        return;
    }
    let path = local("vpdq/test-padded-dimensions.mp4");
    let bytes = std::fs::read(&path).expect("sample");
    let options = VideoOptions::default();
    let a = hash_video_file(&path, &options).expect("file");
    let b = hash_video_bytes(&bytes, &options).expect("bytes");
    assert_eq!(a.frames, b.frames);
    assert_eq!(
        (a.info.width, a.info.height, a.info.fps),
        (1080, 1080, 30.0)
    );
}

#[test]
fn video_signals_include_digests_and_vpdq() {
    if !have_ffmpeg() {
        return;
    }
    let path = local("vpdq/test-padded-dimensions.mp4");
    let bytes = std::fs::read(&path).expect("sample");
    let s = ronda_media::signals::hash_video_file(&path, &VideoOptions::default()).expect("hash");
    assert_eq!(s.md5, ronda_hash::digest::md5(&bytes));
    assert_eq!(s.sha256, ronda_hash::digest::sha256(&bytes));
    assert_eq!(s.video.as_ref().map(|v| v.frames.len()), Some(5));
    // Random bytes named .mp4 are refused before FFmpeg sees them.
    let garbage =
        ronda_media::signals::hash_video_file(&local("garbage.mp4"), &VideoOptions::default());
    assert!(
        matches!(garbage, Err(MediaError::Mismatch { .. })),
        "{garbage:?}"
    );
}

#[test]
fn downsampling_hashes_smaller_frames() {
    if !have_ffmpeg() {
        return;
    }
    let path = local("vpdq/test-padded-dimensions.mp4");
    let options = VideoOptions {
        downsample_width: Some(64),
        downsample_height: Some(64),
        ..VideoOptions::default()
    };
    let small = hash_video_file(&path, &options).expect("hash");
    assert_eq!((small.width, small.height), (64, 64));
    let full = hash_video_file(&path, &VideoOptions::default()).expect("hash");
    assert_eq!(small.frames.len(), full.frames.len());
    // The same pictures: close hashes, but not computed from the same pixels.
    for (s, f) in small.frames.iter().zip(&full.frames) {
        assert!(s.hash.distance(&f.hash) <= 40, "frame {}", s.frame);
    }
    assert_ne!(
        small.frames.iter().map(|f| f.hash).collect::<Vec<_>>(),
        full.frames.iter().map(|f| f.hash).collect::<Vec<_>>()
    );
}

#[test]
fn bad_files_fail_cleanly() {
    if !have_ffmpeg() {
        return;
    }
    let options = VideoOptions::default();
    for name in ["truncated.mp4", "garbage.mp4"] {
        let r = hash_video_file(&local(name), &options);
        assert!(
            matches!(r, Err(MediaError::CorruptVideo { .. })),
            "{name}: {r:?}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").expect("write");
    assert!(matches!(
        hash_video_file(&empty, &options),
        Err(MediaError::Empty)
    ));
    let missing = dir.path().join("missing.mp4");
    assert!(matches!(
        hash_video_file(&missing, &options),
        Err(MediaError::VideoIo(_))
    ));
    // A picture is not a video: no video stream.
    let r = hash_video_file(&local("wee.jpg"), &options);
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn limits_are_enforced() {
    if !have_ffmpeg() {
        return;
    }
    let path = local("vpdq/test-padded-dimensions.mp4");
    let with = |limits: VideoLimits, sph: f64| {
        hash_video_file(
            &path,
            &VideoOptions {
                seconds_per_hash: sph,
                limits,
                ..VideoOptions::default()
            },
        )
    };
    let d = VideoLimits::default();
    let over = |r: Result<VideoHash, MediaError>, what: &str| match r {
        Err(MediaError::VideoLimit { what: w, .. }) => assert!(w.contains(what), "{w}"),
        other => panic!("{what}: {other:?}"),
    };
    over(
        with(
            VideoLimits {
                max_bytes: 1000,
                ..d
            },
            1.0,
        ),
        "file size",
    );
    over(
        with(
            VideoLimits {
                max_seconds: 1.0,
                ..d
            },
            1.0,
        ),
        "duration",
    );
    over(
        with(
            VideoLimits {
                max_pixels: 1000,
                ..d
            },
            1.0,
        ),
        "frame size",
    );
    // 150 frames, every frame hashed, at most 10 allowed.
    over(
        with(
            VideoLimits {
                max_frames: 10,
                ..d
            },
            0.0,
        ),
        "frame count",
    );
    // At one hash a second only frames 0..120 are reached: within 121.
    assert!(
        with(
            VideoLimits {
                max_frames: 121,
                ..d
            },
            1.0
        )
        .is_ok()
    );
    assert!(probe_video(&path, &VideoOptions::default()).is_ok());
}

#[test]
fn progress_reports_and_cancels() {
    if !have_ffmpeg() {
        return;
    }
    let path = local("vpdq/test-padded-dimensions.mp4");
    let mut seen = Vec::new();
    let r = hash_video_file_with_progress(&path, &VideoOptions::default(), &mut |p| {
        seen.push(p.frame);
        if p.frames_hashed == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert!(matches!(r, Err(MediaError::Cancelled)), "{r:?}");
    assert_eq!(seen, [0, 30]);
}

#[cfg(unix)]
#[test]
fn decoder_over_its_wall_time_is_killed_and_reaped() {
    use std::os::unix::fs::PermissionsExt as _;
    if !have_ffmpeg() {
        return;
    }
    // A stand-in for ffmpeg that never finishes: it records its pid and
    // sleeps.
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("pid");
    let script = dir.path().join("slow-ffmpeg");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nexec sleep 60\n",
            pid_file.display()
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let options = VideoOptions {
        ffmpeg: script,
        limits: VideoLimits {
            max_wall: Duration::from_millis(1500),
            ..VideoLimits::default()
        },
        ..VideoOptions::default()
    };
    let r = hash_video_file(&local("vpdq/test-padded-dimensions.mp4"), &options);
    assert!(matches!(r, Err(MediaError::VideoTimeout { .. })), "{r:?}");
    let pid = std::fs::read_to_string(&pid_file).expect("the script ran");
    // Reaped: no process (not even a zombie) is left under that pid.
    let proc_entry = PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(!proc_entry.exists(), "process {} still exists", pid.trim());
}

#[test]
fn missing_ffmpeg_says_to_install_it() {
    let options = VideoOptions {
        ffmpeg: PathBuf::from("/nonexistent/ffmpeg"),
        ..VideoOptions::default()
    };
    let e = check_ffmpeg(&options).expect_err("no such program");
    assert!(e.to_string().contains("install"), "{e}");
}
