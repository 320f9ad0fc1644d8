//! `ronda review` and `ronda referral` as a user runs them; and the
//! "must hold" of the referral workflow: items, decisions and referrals
//! acknowledged by a `ronda serve` survive it being killed (SIGKILL) in
//! the middle of a stream of writes, and nothing is left half-written.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ronda_store::{
    Actor, ItemFilter, ItemStatus, ItemViewer, NewUser, PlatformKind, PlatformSpec, ReferralFilter,
    ReferralStatus, ReferralViewer, Role, Store,
};
use serde_json::{Value, json};

use crate::{json_lines, ronda};

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn review_decide_refer_and_respond_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data-dir", data.as_str()]);
        ronda(&all, b"")
    };
    ok(&run(&[
        "platform",
        "add",
        "Board",
        "--kind",
        "forum",
        "--domain",
        "board.example.net",
    ]));
    let out = run(&[
        "item",
        "add",
        "https://board.example.net/t/1",
        "--file",
        "samples/bridge-512.jpg",
    ]);
    ok(&out);
    let item = json_lines(&out)[0]["id"].as_i64().unwrap();

    // The queue: the item, then nothing (exit 1).
    let out = run(&["review", "next"]);
    ok(&out);
    assert_eq!(json_lines(&out)[0]["item"]["id"], item);
    let out = run(&[
        "review",
        "decide",
        &item.to_string(),
        "--verdict",
        "terrorist_content",
    ]);
    assert_eq!(out.status.code(), Some(2), "a reason is required");
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason"));
    let out = run(&[
        "review",
        "decide",
        &item.to_string(),
        "--verdict",
        "terrorist_content",
        "--reason",
        "instruction",
        "--severity",
        "3",
    ]);
    ok(&out);
    assert_eq!(json_lines(&out)[0]["verdict"], "terrorist_content");
    let out = run(&["review", "next"]);
    assert_eq!(out.status.code(), Some(1), "the queue is empty");

    // Refer it, send it by hand, record the platform's Annex II.
    let out = run(&["referral", "create", &item.to_string()]);
    ok(&out);
    let referral = json_lines(&out)[0]["id"].as_i64().unwrap();
    let out = run(&["referral", "create", &item.to_string()]);
    assert_eq!(out.status.code(), Some(2), "never twice");
    ok(&run(&["referral", "event", &referral.to_string(), "send"]));
    let out = run(&[
        "referral",
        "respond",
        &referral.to_string(),
        "--annex",
        "ii",
        "--measure",
        "disabled",
        "--platform-ref",
        "B-1",
    ]);
    ok(&out);
    assert_eq!(json_lines(&out)[0]["source"], "manual");
    let out = run(&["referral", "list", "--status", "removed"]);
    ok(&out);
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], referral);
    let out = run(&["referral", "list", "--status", "draft"]);
    assert_eq!(out.status.code(), Some(1));
}

/// `ronda serve` on `data`, and its address (read from its stderr).
fn serve(data: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ronda"))
        .args([
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--allow-fetch",
            "127.0.0.1/32",
            "--snapshot-every",
            "0",
        ])
        .current_dir(crate::repo())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ronda serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("ronda serve said where it serves")
            .expect("stderr is text");
        if let Some(rest) = line.split("serving on ").nth(1) {
            let url = rest.split_whitespace().next().unwrap();
            break url.trim_start_matches("http://").to_owned();
        }
    };
    // Keep draining stderr so that the server never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..500 {
        if let Ok(r) = client.get(format!("{base}/status")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("ronda serve never became ready");
}

/// What the server acknowledged (2xx) before it was killed.
#[derive(Debug, Default)]
struct Acked {
    items: Vec<i64>,
    decided: Vec<i64>,
    referrals: Vec<i64>,
    sent: Vec<i64>,
}

/// Submits, decides, refers and sends items one after another until a
/// request fails (the server was killed); records every 2xx.
async fn write_until_killed(
    client: reqwest::Client,
    base: String,
    token: String,
    acks: Arc<AtomicUsize>,
) -> Acked {
    // A port nothing listens on: the fetch is refused at once and the item
    // is recorded with a capture error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut done = Acked::default();
    let post = async |path: &str, body: Value| -> Option<Value> {
        let r = client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            panic!("{path}: {status} {text}");
        }
        let v = r.json::<Value>().await.ok()?;
        acks.fetch_add(1, Ordering::SeqCst);
        Some(v)
    };
    for i in 0..10_000 {
        let url = format!("http://127.0.0.1:{closed}/kill/{i}");
        let Some(v) = post("/api/v1/items", json!({ "url": url })).await else {
            break;
        };
        let item = v["id"].as_i64().unwrap();
        done.items.push(item);
        let decision = json!({ "verdict": "terrorist_content", "reason": "threat" });
        if post(&format!("/api/v1/review/{item}/decide"), decision)
            .await
            .is_none()
        {
            break;
        }
        done.decided.push(item);
        let Some(v) = post("/api/v1/referrals", json!({ "item_id": item })).await else {
            break;
        };
        let referral = v["referrals"][0]["id"].as_i64().unwrap();
        done.referrals.push(referral);
        let send = json!({ "event": "send" });
        if post(&format!("/api/v1/referrals/{referral}/events"), send)
            .await
            .is_none()
        {
            break;
        }
        done.sent.push(referral);
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_items_decisions_and_referrals_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_str = data.display().to_string();
    let token = {
        let store = Store::open(None, &data).await.unwrap();
        let actor = Actor::local("test");
        let org = store.create_organisation("Unit", &actor).await.unwrap();
        let mut user = NewUser::new("ana", Role::Analyst);
        user.org_id = Some(org.id);
        store.create_user(&user, &actor).await.unwrap();
        let mut spec = PlatformSpec::new("Loopback", PlatformKind::FileHost);
        spec.domains = vec!["127.0.0.1".into()];
        store.create_platform(&spec, &actor).await.unwrap();
        let (_, secret) = store
            .create_user_token("ana", "ana", None, &actor)
            .await
            .unwrap();
        store.close().await;
        secret
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let (mut server, addr) = serve(&data_str);
    let base = format!("http://{addr}");
    wait_ready(&client, &base).await;
    let acks = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(write_until_killed(
        client.clone(),
        base.clone(),
        token.clone(),
        acks.clone(),
    ));
    // Kill it in the middle of the stream: after 30 acknowledged writes,
    // with the writer still going.
    while acks.load(Ordering::SeqCst) < 30 {
        assert!(!writer.is_finished(), "the writer stopped early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let acked = writer.await.unwrap();
    assert!(acked.items.len() >= 7, "{acked:?}");
    eprintln!(
        "killed after {} items, {} decisions, {} referrals, {} sent acknowledged",
        acked.items.len(),
        acked.decided.len(),
        acked.referrals.len(),
        acked.sent.len()
    );

    // Restarted on the same data, the server has every acknowledged write.
    let (mut server, addr) = serve(&data_str);
    let base = format!("http://{addr}");
    wait_ready(&client, &base).await;
    let get = async |path: String| -> Value {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    };
    for id in &acked.items {
        let v = get(format!("/api/v1/items/{id}")).await;
        assert_eq!(v["id"], *id);
    }
    for id in &acked.decided {
        let v = get(format!("/api/v1/items/{id}/assessments")).await;
        assert_eq!(v["assessments"].as_array().unwrap().len(), 1, "item {id}");
    }
    for id in &acked.referrals {
        let v = get(format!("/api/v1/referrals/{id}")).await;
        if acked.sent.contains(id) {
            assert_eq!(v["status"], "sent", "referral {id}");
        } else {
            // The send may have committed with its answer lost.
            assert!(v["status"] == "draft" || v["status"] == "sent", "{v}");
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Nothing half-written: every status has what it stands on.
    let store = Store::open(None, &data).await.unwrap();
    let items = store
        .list_items(
            &ItemFilter {
                limit: 1000,
                ..ItemFilter::default()
            },
            ItemViewer::Everyone,
        )
        .await
        .unwrap();
    assert!(items.len() >= acked.items.len());
    let referrals = store
        .list_referrals(
            &ReferralFilter {
                limit: 1000,
                ..ReferralFilter::default()
            },
            ReferralViewer::Everyone,
        )
        .await
        .unwrap();
    for v in &items {
        let i = &v.item;
        let assessments = store.assessments(i.id, ItemViewer::Everyone).await.unwrap();
        let referred = referrals.iter().filter(|r| r.item_id == i.id).count();
        match i.status {
            ItemStatus::New => {
                assert!(
                    assessments.is_empty(),
                    "item {} is new with a decision",
                    i.id
                );
                assert_eq!(referred, 0);
            }
            ItemStatus::Assessed => {
                assert_eq!(assessments.len(), 1, "item {}", i.id);
                assert_eq!(referred, 0, "item {} is assessed with a referral", i.id);
            }
            ItemStatus::Referred => {
                assert_eq!(assessments.len(), 1, "item {}", i.id);
                assert_eq!(referred, 1, "item {} is referred without a referral", i.id);
            }
            other => panic!("item {} is {other}", i.id),
        }
    }
    for r in &referrals {
        let d = store
            .referral(r.id, ReferralViewer::Everyone)
            .await
            .unwrap()
            .unwrap();
        let events: Vec<&str> = d.history.iter().map(|h| h.event.as_str()).collect();
        match r.status {
            ReferralStatus::Draft => {
                assert_eq!(events, ["create"]);
                assert!(r.sent_at.is_none());
            }
            ReferralStatus::Sent => {
                assert_eq!(events, ["create", "send"]);
                assert!(r.sent_at.is_some());
            }
            other => panic!("referral {} is {other}", r.id),
        }
    }
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}
