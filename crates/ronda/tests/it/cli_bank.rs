//! `ronda bank` and `ronda admin`, as a user runs them: imports that report
//! bad lines and keep the good ones, idempotent re-imports, a kill in the
//! middle of an import, exports that read back, the audit chain.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{json_lines, ronda};

/// `n` distinct PDQ lines, deterministic.
fn pdq_list(n: u64) -> String {
    let mut s = String::with_capacity(n as usize * 70);
    for i in 0..n {
        let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        s.push_str(&format!("pdq {x:016x}{i:016x}{x:016x}{:016x}\n", !i));
    }
    s
}

fn data_dir(dir: &tempfile::TempDir) -> String {
    dir.path().join("data").display().to_string()
}

fn bank_entries(data: &str, bank: &str) -> u64 {
    let out = ronda(&["bank", "list", "--data-dir", data], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out)
        .iter()
        .find(|b| b["name"] == bank)
        .and_then(|b| b["entries"].as_u64())
        .unwrap_or(0)
}

#[test]
fn import_reports_bad_lines_keeps_good_ones_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let list = "pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\n\
                pdq nothex!\n\
                md5 d41d8cd98f00b204e9800998ecf8427e\n\
                unknown_type 1234\n";
    let path = dir.path().join("list.txt");
    std::fs::write(&path, list).unwrap();
    let path = path.display().to_string();

    let out = ronda(
        &["bank", "import", "--data-dir", &data, "--bank", "B", &path],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "no bank yet and no --create");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--create"));

    let out = ronda(
        &[
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "B",
            "--create",
            &path,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "bad lines make the exit code 2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{path}:2: ")), "{stderr}");
    assert!(stderr.contains(&format!("{path}:4: ")), "{stderr}");
    assert!(!stderr.contains(&format!("{path}:1: ")), "{stderr}");
    let summary = &json_lines(&out)[0];
    assert_eq!(
        (summary["added"].as_u64(), summary["bad_lines"].as_u64()),
        (Some(2), Some(2))
    );

    // The same file again adds nothing.
    let out = ronda(
        &["bank", "import", "--data-dir", &data, "--bank", "B", &path],
        b"",
    );
    let summary = &json_lines(&out)[0];
    assert_eq!(
        (summary["added"].as_u64(), summary["unchanged"].as_u64()),
        (Some(0), Some(2)),
        "{summary}"
    );
    assert_eq!(bank_entries(&data, "B"), 2);

    // Export reads back as the same signals, in both formats.
    let out = ronda(&["bank", "export", "--data-dir", &data, "--bank", "B"], b"");
    assert!(out.status.success());
    let exported = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(exported.lines().count(), 2);
    let out = ronda(
        &[
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "C",
            "--create",
            "-",
        ],
        exported.as_bytes(),
    );
    assert_eq!(json_lines(&out)[0]["added"].as_u64(), Some(2));
    let csv_path = dir.path().join("b.csv").display().to_string();
    let out = ronda(
        &[
            "bank",
            "export",
            "--data-dir",
            &data,
            "--bank",
            "B",
            "--format",
            "csv",
            "-o",
            &csv_path,
        ],
        b"",
    );
    assert!(out.status.success());
    let out = ronda(
        &[
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "D",
            "--create",
            &csv_path,
        ],
        b"",
    );
    let summary = &json_lines(&out)[0];
    assert_eq!(
        (summary["format"].as_str(), summary["added"].as_u64()),
        (Some("csv"), Some(2))
    );

    // Every change is in the audit chain, and the chain checks out.
    let out = ronda(&["admin", "audit", "verify", "--data-dir", &data], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(json_lines(&out)[0]["events"].as_u64().unwrap() >= 6);
}

#[test]
fn an_import_killed_midway_resumes_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let n = 200_000u64;
    let path = dir.path().join("big.txt");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(pdq_list(n).as_bytes())
        .unwrap();
    let path = path.display().to_string();

    // Kill the import as soon as some batches have committed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args([
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "BIG",
            "--create",
            &path,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("data/ronda.db-wal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !db.exists() || std::fs::metadata(&db).map_or(0, |m| m.len()) < 2_000_000 {
        assert!(Instant::now() < deadline, "the import never got going");
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = bank_entries(&data, "BIG");
    assert!(
        partial < n,
        "the import finished before the kill ({partial}); make the list longer"
    );
    // Whatever committed, committed in whole batches.
    assert_eq!(partial % 1000, 0, "a batch was half-written: {partial}");

    let out = ronda(
        &[
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "BIG",
            &path,
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = &json_lines(&out)[0];
    assert_eq!(summary["added"].as_u64(), Some(n - partial), "{summary}");
    assert_eq!(bank_entries(&data, "BIG"), n);
}

#[test]
fn tokens_are_shown_once_and_stored_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let out = ronda(
        &[
            "admin",
            "token",
            "create",
            "--data-dir",
            &data,
            "--role",
            "platform",
            "--org",
            "P1",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        secret.starts_with("ronda_") && secret.len() > 40,
        "{secret}"
    );
    let db = std::fs::read(dir.path().join("data/ronda.db")).unwrap();
    let wal = std::fs::read(dir.path().join("data/ronda.db-wal")).unwrap_or_default();
    let needle = secret.as_bytes();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "secret stored in clear"
        );
    }
    let out = ronda(&["admin", "token", "list", "--data-dir", &data], b"");
    let tokens = json_lines(&out);
    assert_eq!(tokens[0]["role"], "platform");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret));

    let out = ronda(
        &[
            "admin",
            "token",
            "create",
            "--data-dir",
            &data,
            "--role",
            "overlord",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}
