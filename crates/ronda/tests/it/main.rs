//! Integration tests of the `ronda` binary, run as a user runs it, and the
//! machine-checked invariants of ARCHITECTURE.md.

mod cli_admin;
mod cli_bank;
mod cli_hash;
mod cli_item;
mod cli_match;
mod cli_tat;
mod cli_video;
mod cli_workflow;
mod invariants;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/testdata` beside the checkout, when present (CI has it).
pub fn shared_testdata() -> Option<PathBuf> {
    let p = repo().join("../shared/testdata");
    p.is_dir().then_some(p)
}

/// Runs `ronda ARGS` with `stdin` and returns its output.
pub fn ronda(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ronda starts");
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin).expect("write stdin");
    }
    child.wait_with_output().expect("ronda runs")
}

/// Stdout as parsed JSON lines.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}
