//! `ronda bank import --tat URL` end to end: the real binary against a
//! loopback stand-in for the TAT hash-list API (the documented shapes:
//! token login, pages with `next` and `checkpoint`, `after` to resume,
//! `deleted` entries). A page fails mid-way; the next run resumes from the
//! last committed page; a later run applies a withdrawal.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{json_lines, repo};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-password";
const PAGE: usize = 3;
const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

#[derive(Default)]
struct State {
    entries: Vec<Value>,
    /// Page offsets to answer with a 500, once each.
    fail_at: Vec<usize>,
    /// Every list request's query.
    queries: Vec<HashMap<String, String>>,
}

fn entry(id: u64, hash: &str, algorithm: &str, deleted: bool, updated: f64) -> Value {
    json!({
        "id": id,
        "hash_digest": hash,
        "algorithm": algorithm,
        "ideology": "far-right",
        "file_type": "mp4",
        "deleted": deleted,
        "created_on": "2025-03-03T23:05:22.587000",
        "updated_on": updated,
    })
}

fn key(e: &Value) -> (f64, u64) {
    (e["updated_on"].as_f64().unwrap(), e["id"].as_u64().unwrap())
}

/// One HTTP/1.1 exchange per connection, answered from `state`.
fn handle(mut stream: TcpStream, base: &str, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut length = 0usize;
    let mut auth = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "authorization" => auth = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let target = request_line.split(' ').nth(1).unwrap_or("").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%2C", ",")))
        .collect();
    let (status, reply) = match path {
        "/token-auth/tcap/" => {
            let creds: Value = serde_json::from_slice(&body).unwrap();
            if creds["username"] == USER && creds["password"] == PASSWORD {
                (200, json!({"token": "tok-1", "user": {"username": USER}}))
            } else {
                (400, json!({"non_field_errors": ["Unable to log in."]}))
            }
        }
        "/api/hash-list/v2/all" if auth == "Bearer tok-1" => list(base, &query, state),
        "/api/hash-list/v2/all" => (403, json!({"detail": "Token has expired."})),
        _ => (404, json!({"detail": "Not found."})),
    };
    let body = reply.to_string();
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn list(base: &str, query: &HashMap<String, String>, state: &Mutex<State>) -> (u16, Value) {
    let mut state = state.lock().unwrap();
    state.queries.push(query.clone());
    let offset: usize = query.get("offset").map_or(0, |o| o.parse().unwrap());
    if let Some(i) = state.fail_at.iter().position(|&o| o == offset) {
        state.fail_at.remove(i);
        return (500, json!({"detail": "boom"}));
    }
    let after = query.get("after").map(|a| {
        let (secs, id) = a.split_once(',').unwrap();
        (secs.parse::<f64>().unwrap(), id.parse::<u64>().unwrap())
    });
    let mut matching: Vec<&Value> = state
        .entries
        .iter()
        .filter(|e| after.is_none_or(|a| key(e) > a))
        .collect();
    matching.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap());
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(PAGE)
        .map(|v| (*v).clone())
        .collect();
    let mut next = None;
    if offset + PAGE < matching.len() {
        let mut url = format!(
            "{base}api/hash-list/v2/all?order=asc&limit={PAGE}&offset={}",
            offset + PAGE
        );
        if let Some(a) = query.get("after") {
            url.push_str(&format!("&after={a}"));
        }
        next = Some(url);
    }
    let checkpoint = page.last().map(|e| {
        let (secs, id) = key(e);
        format!("{secs},{id}")
    });
    (
        200,
        json!({
            "count": matching.len(),
            "next": next,
            "previous": null,
            "checkpoint": checkpoint,
            "results": page,
        }),
    )
}

/// Starts the stand-in on a free loopback port; returns its base URL.
fn start(state: Arc<Mutex<State>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let b = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            handle(stream, &b, &state);
        }
    });
    base
}

fn import(data: &str, base: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args([
            "bank",
            "import",
            "--data-dir",
            data,
            "--bank",
            "TAT",
            "--create",
            "--tat",
            base,
        ])
        .env("RONDA_TAT_USERNAME", USER)
        .env("RONDA_TAT_PASSWORD", PASSWORD)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn exported(data: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args(["bank", "export", "--data-dir", data, "--bank", "TAT"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn tat_import_resumes_after_a_failed_page_and_applies_withdrawals() {
    let md5 = |n: u32| format!("{n:032x}");
    let state = Arc::new(Mutex::new(State {
        entries: vec![
            entry(2819, &md5(1), "MD5", false, 1_704_901_041.0),
            entry(2820, &md5(2), "MD5", false, 1_704_901_042.0),
            entry(2821, PDQ, "PDQ", false, 1_704_901_043.0),
            entry(2822, &md5(4), "MD5", true, 1_704_901_044.0),
            entry(2823, &"ab".repeat(64), "SHA512", false, 1_704_901_045.0),
            entry(2824, &"cd".repeat(32), "SHA256", false, 1_704_901_046.0),
            entry(2825, &md5(7), "MD5", false, 1_704_901_047.0),
        ],
        fail_at: vec![3],
        ..State::default()
    }));
    let base = start(state.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();

    // Wrong credentials: a clear error, no secret in it.
    let out = Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args([
            "bank",
            "import",
            "--data-dir",
            &data,
            "--bank",
            "TAT",
            "--create",
            "--tat",
            &base,
        ])
        .env("RONDA_TAT_USERNAME", USER)
        .env("RONDA_TAT_PASSWORD", "not-the-password-xyz")
        .current_dir(repo())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("token-auth"), "{stderr}");
    assert!(!stderr.contains("not-the-password-xyz"), "{stderr}");

    // First run: page 1 commits, page 2 answers 500.
    let out = import(&data, &base);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("500"), "{stderr}");
    assert_eq!(exported(&data).len(), 3, "the first page only");

    // Second run: from the checkpoint, the rest; the withdrawn entry is not
    // added, the SHA-512 one (no such signal type) is reported, exit 2.
    let out = import(&data, &base);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2823"), "{stderr}");
    let summary = &json_lines(&out)[0];
    assert_eq!(summary["added"], 2, "{summary}");
    assert_eq!(summary["bad_entries"], 1, "{summary}");
    let resumed = state.lock().unwrap().queries.last().cloned().unwrap();
    assert_eq!(
        resumed.get("after").map(String::as_str),
        Some("1704901043,2821")
    );
    let lines = exported(&data);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(PDQ)), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains(&md5(4))), "{lines:?}");

    // Later: TAT withdraws 2819 and adds 2826; a run reads only that.
    {
        let mut s = state.lock().unwrap();
        s.entries[0] = entry(2819, &md5(1), "MD5", true, 1_704_990_000.0);
        s.entries
            .push(entry(2826, &md5(9), "MD5", false, 1_704_990_001.0));
    }
    let out = import(&data, &base);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary = &json_lines(&out)[0];
    assert_eq!(
        (&summary["added"], &summary["removed"]),
        (&json!(1), &json!(1)),
        "{summary}"
    );
    let lines = exported(&data);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains(&md5(1))), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(&md5(9))), "{lines:?}");
    // Nothing new: nothing changes.
    let out = import(&data, &base);
    assert!(out.status.success());
    let summary = &json_lines(&out)[0];
    assert_eq!(
        (&summary["added"], &summary["removed"]),
        (&json!(0), &json!(0)),
        "{summary}"
    );
}
