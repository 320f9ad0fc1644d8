//! Video end to end: `ronda hash` prints the reference's vPDQ frames, and
//! `ronda match` matches videos against `vpdq` lines of a `local_file` bank
//! in python-threatexchange's text form. Needs FFmpeg (CI installs it).

use std::io::Write as _;

use serde_json::Value;

use crate::{json_lines, ronda, shared_testdata};

const PADDED: &str = "crates/ronda-media/tests/data/vpdq/test-padded-dimensions.mp4";
const PADDED_1S: &str = "crates/ronda-media/tests/data/vpdq/test-padded-dimensions.1s.csv";
const DOORKNOB_1S: &str = "crates/ronda-index/tests/data/vpdq/doorknob-hd-no-bar.1s.csv";

/// Whether FFmpeg is here. Without it a video test says what to install
/// and skips, unless `RONDA_REQUIRE_FFMPEG=1` (CI sets it) makes that a
/// failure.
fn have_ffmpeg() -> bool {
    let found: Result<(), String> = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| ())
        .ok_or_else(|| "ffmpeg -version failed".to_owned());
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

/// An expected CSV (`frame,quality,hex,timestamp`) as python-threatexchange's
/// vPDQ signal string: a JSON list of `"hex,quality,timestamp"`.
fn signal_from_csv(path: &str) -> String {
    let text = std::fs::read_to_string(crate::repo().join(path)).expect("csv");
    let items: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let t: f64 = f[3].parse().expect("timestamp");
            format!("\"{},{},{t:?}\"", f[2], f[1])
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// `ronda hash` output's frames as a vPDQ signal string.
fn signal_from_hash(record: &Value) -> String {
    let items: Vec<String> = record["signals"]["vpdq"]
        .as_array()
        .expect("vpdq frames")
        .iter()
        .map(|f| {
            format!(
                "\"{},{},{}\"",
                f["pdq"].as_str().expect("pdq"),
                f["quality"],
                f["timestamp"]
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn bank(lines: &[String]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(lines.join("\n").as_bytes())
        .expect("write bank");
    f
}

#[test]
fn hash_prints_reference_frames() {
    if !have_ffmpeg() {
        return;
    }
    let out = ronda(&["hash", PADDED], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &json_lines(&out)[0];
    assert_eq!(r["content_type"], "video");
    let frames = r["signals"]["vpdq"].as_array().expect("frames");
    let csv = std::fs::read_to_string(crate::repo().join(PADDED_1S)).expect("csv");
    let want: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(frames.len(), want.len());
    for (f, w) in frames.iter().zip(&want) {
        assert_eq!(
            f["frame"].as_u64().map(|n| n.to_string()).as_deref(),
            Some(w[0])
        );
        assert_eq!(
            f["quality"].as_u64().map(|n| n.to_string()).as_deref(),
            Some(w[1])
        );
        assert_eq!(f["pdq"], w[2]);
        assert_eq!(
            f["timestamp"]
                .as_f64()
                .map(|t| format!("{t:.3}"))
                .as_deref(),
            Some(w[3])
        );
    }
    let md5 = r["signals"]["md5"].as_str().expect("md5");
    assert_eq!(md5.len(), 32);

    let every = ronda(&["hash", "--seconds-per-hash", "0", PADDED], b"");
    let r = &json_lines(&every)[0];
    assert_eq!(r["signals"]["vpdq"].as_array().map(Vec::len), Some(150));
    assert_eq!(r["signals"]["vpdq"][1]["timestamp"], 0.033);
}

#[test]
fn hash_fails_cleanly_on_bad_videos() {
    if !have_ffmpeg() {
        return;
    }
    let out = ronda(
        &[
            "hash",
            "crates/ronda-media/tests/data/garbage.mp4",
            "crates/ronda-media/tests/data/truncated.mp4",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert!(l["error"].is_string(), "{l}");
    }
    assert!(
        lines[1]["error"].as_str().unwrap_or("").contains("video"),
        "{}",
        lines[1]
    );
}

#[test]
fn match_finds_banked_video_by_vpdq_and_thresholds_apply() {
    if !have_ffmpeg() {
        return;
    }
    let padded = signal_from_csv(PADDED_1S);
    let doorknob = signal_from_csv(DOORKNOB_1S);
    let bank = bank(&[
        format!("vpdq {padded}"),
        format!("vpdq {doorknob}"),
        "vpdq [\"not a frame\"]".to_owned(),
    ]);
    let bank_path = bank.path().display().to_string();
    let out = ronda(&["match", "--bank", &bank_path, PADDED], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &json_lines(&out)[0];
    let matches = r["matches"].as_array().expect("matches");
    assert_eq!(matches.len(), 1, "{r}");
    assert_eq!(matches[0]["line"], 1);
    assert_eq!(matches[0]["signal_type"], "vpdq");
    assert_eq!(matches[0]["query_match_percent"], 100.0);
    assert_eq!(matches[0]["compared_match_percent"], 100.0);
    // The bad line is reported with its number.
    assert!(String::from_utf8_lossy(&out.stderr).contains(":3:"));

    // Inline: the doorknob's signal finds line 2; a compared threshold of
    // 100% still holds, and an impossible one finds nothing.
    let inline = format!("vpdq:{doorknob}");
    let out = ronda(&["match", "--bank", &bank_path, &inline], b"");
    let r = &json_lines(&out)[0];
    assert_eq!(r["query"], "vpdq:…");
    assert_eq!(r["matches"][0]["line"], 2);
    let out = ronda(
        &[
            "match",
            "--bank",
            &bank_path,
            "--vpdq-compared-threshold",
            "101",
            &inline,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn pattern_videos_match_as_the_reference_decides_when_shared_present() {
    let Some(root) = shared_testdata() else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    if !have_ffmpeg() {
        return;
    }
    let videos = root.join("vpdq/videos");
    let path = |name: &str| videos.join(format!("{name}.mp4")).display().to_string();
    let names = [
        "pattern-sd-with-small-logo-bar",
        "pattern-hd-no-bar",
        "doorknob-hd-no-bar",
        "chair-19-sd-bar",
    ];
    let paths: Vec<String> = names.iter().map(|n| path(n)).collect();
    let mut args = vec!["hash"];
    args.extend(paths.iter().map(String::as_str));
    let hashed = json_lines(&ronda(&args, b""));
    let lines: Vec<String> = hashed
        .iter()
        .map(|r| format!("vpdq {}", signal_from_hash(r)))
        .collect();
    let bank = bank(&lines);
    let bank_path = bank.path().display().to_string();
    let grey = path("pattern-sd-grey-bar");
    let out = ronda(
        &["match", "--bank", &bank_path, &grey, &paths[2], &paths[3]],
        b"",
    );
    let results = json_lines(&out);
    let lines_of = |r: &Value| -> Vec<i64> {
        r["matches"]
            .as_array()
            .map(|m| m.iter().filter_map(|x| x["line"].as_i64()).collect())
            .unwrap_or_default()
    };
    // The greyscale SD edit matches the SD logo edit (line 1) only: the
    // reference finds no frame of the portrait HD clip within distance 31.
    assert_eq!(lines_of(&results[0]), [1]);
    // The doorknob and the chair match only themselves.
    assert_eq!(lines_of(&results[1]), [3]);
    assert_eq!(lines_of(&results[2]), [4]);
}
