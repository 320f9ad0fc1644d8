//! Items, campaigns and the platform directory through `/api/v1`:
//! capture by URL (from a loopback file server) and by upload, bank
//! matches, platform assignment, deconfliction across organisations, and
//! who sees what.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use ronda_media::signals::{HashOptions, hash_bytes};
use ronda_server::ServerConfig;
use ronda_store::{Actor, NewUser, Role};
use serde_json::{Value, json};

use crate::support::{FileServer, Reply, Server, bridge_jpg, call, enc, loopback_config};

/// A server whose fetcher reaches loopback, with captures archived in
/// `blobs`.
async fn start(blobs: &std::path::Path) -> Server {
    let config = ServerConfig {
        blob_dir: Some(blobs.to_path_buf()),
        ..loopback_config()
    };
    Server::start(config).await
}

/// An analyst of a new organisation `org`; returns the token's secret.
async fn analyst(s: &Server, org: &str, name: &str) -> String {
    let actor = Actor::local("test");
    let o = s.store.create_organisation(org, &actor).await.unwrap();
    let mut user = NewUser::new(name, Role::Analyst);
    user.org_id = Some(o.id);
    s.store.create_user(&user, &actor).await.unwrap();
    s.store
        .create_user_token(name, name, None, &actor)
        .await
        .unwrap()
        .1
}

async fn post_as(s: &Server, secret: &str, path: &str, body: &Value) -> Reply {
    call(
        s.client
            .request(Method::POST, s.url(path))
            .bearer_auth(secret)
            .json(body),
    )
    .await
}

async fn get_as(s: &Server, secret: &str, path: &str) -> Reply {
    call(s.client.get(s.url(path)).bearer_auth(secret)).await
}

async fn multipart_as(s: &Server, secret: &str, parts: &[crate::support::Part<'_>]) -> Reply {
    let (content_type, body) = crate::support::multipart(parts);
    call(
        s.client
            .post(s.url("/api/v1/items"))
            .bearer_auth(secret)
            .header("content-type", content_type)
            .body(body),
    )
    .await
}

fn bridge_pdq() -> String {
    let signals = hash_bytes(&bridge_jpg(), None, &HashOptions::default()).unwrap();
    signals.image.unwrap().pdq.hash.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_captured_matched_assigned_and_deconflicted_across_organisations() {
    let blobs = tempfile::tempdir().unwrap();
    let s = start(blobs.path()).await;
    let files = FileServer::start(Duration::from_millis(10)).await;
    let alice = analyst(&s, "Org A", "alice").await;
    let bob = analyst(&s, "Org B", "bob").await;

    // A bank holding the bridge photo, followed by the index.
    s.create_bank("TERROR_A").await;
    let pdq = bridge_pdq();
    let entry = s.add_pdq("TERROR_A", &pdq).await;
    let synced = eventually!(
        crate::support::SYNC_TIMEOUT,
        !s.raw_ids(&pdq).await.is_empty()
    );
    assert!(synced.is_some(), "the index never saw the entry");

    // The loopback host is a platform; an action day groups the items.
    let r = s
        .post_json(
            "/api/v1/platforms",
            Role::Admin,
            &json!({
                "name": "Loopback Files",
                "kind": "file_host",
                "domains": ["127.0.0.1"],
                "channel": { "kind": "email", "target": "abuse@files.example.org" },
                "removal": { "status_codes": [404] },
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = s
        .post_json(
            "/api/v1/campaigns",
            Role::Analyst,
            &json!({ "name": "Day 1", "starts_at": "2026-01-01T08:00:00Z" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Alice submits the URL: fetched, archived, hashed, matched, assigned.
    let url = files.url("/bridge.jpg");
    let r = post_as(
        &s,
        &alice,
        "/api/v1/items",
        &json!({ "url": url, "campaign": "Day 1", "note": "alice's lead" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let first = r.json();
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["status"], "new");
    assert_eq!(first["org"], "Org A");
    assert_eq!(first["submitted_by"], "user:alice");
    assert_eq!(first["platform"], "Loopback Files");
    assert_eq!(first["campaign"], "Day 1");
    assert_eq!(first["content_type"], "photo", "{first}");
    assert_eq!(first["capture_error"], Value::Null);
    let sha = first["blob_sha256"].as_str().unwrap().to_owned();
    assert!(
        blobs
            .path()
            .join(&sha[0..2])
            .join(&sha[2..4])
            .join(&sha)
            .is_file(),
        "the capture is archived"
    );
    let signals = first["signals"].as_array().unwrap();
    assert!(
        signals
            .iter()
            .any(|v| v["type"] == "pdq" && v["value"] == pdq)
    );
    let matches = first["matches"].as_array().unwrap();
    assert!(
        matches
            .iter()
            .any(|m| m["entry_id"] == entry && m["signal_type"] == "pdq" && m["distance"] == 0),
        "{matches:?}"
    );
    let first_id = first["id"].as_i64().unwrap();

    // Bob submits the same URL: a duplicate, told who reported it first,
    // never told Alice's note.
    let r = post_as(
        &s,
        &bob,
        "/api/v1/items",
        &json!({ "url": url, "campaign": "Day 1", "note": "bob's lead" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let dup = r.json();
    assert_eq!(dup["duplicate"], true);
    assert_eq!(dup["duplicate_of"], first_id);
    let by = dup["already_reported_by"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{by:?}");
    assert_eq!(by[0]["org"], "Org A");
    assert_eq!(by[0]["item_id"], first_id);
    assert_eq!(by[0]["reason"], "url");
    assert!(!r.text.contains("alice's lead"), "{}", r.text);

    // Bob uploads the same file found at another URL: a new item (another
    // location to refer), with a content hint.
    let jpg = bridge_jpg();
    let r = multipart_as(
        &s,
        &bob,
        &[
            ("url", None, b"https://mirror.files.example.org/x.jpg"),
            ("campaign", None, b"Day 1"),
            ("file", Some("x.jpg"), &jpg),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mirror = r.json();
    assert_eq!(mirror["duplicate"], false);
    assert_eq!(mirror["blob_sha256"], sha.as_str());
    assert_eq!(mirror["platform"], Value::Null);
    let by = mirror["already_reported_by"].as_array().unwrap();
    assert!(
        by.iter()
            .any(|h| h["org"] == "Org A" && h["reason"] == "content"),
        "{by:?}"
    );

    // Bob lists his own items only, with the hints; Alice's item and note
    // stay hers.
    let r = get_as(&s, &bob, "/api/v1/items").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["org"] == "Org B"));
    assert!(!r.text.contains("alice's lead"));
    let r = get_as(&s, &bob, &format!("/api/v1/items/{first_id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = get_as(&s, &alice, &format!("/api/v1/items/{first_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mine = r.json();
    assert_eq!(mine["note"], "alice's lead");
    let others = mine["other_reports"].as_array().unwrap();
    assert!(
        others
            .iter()
            .any(|h| h["org"] == "Org B" && h["reason"] == "url")
    );
    assert!(
        others
            .iter()
            .any(|h| h["org"] == "Org B" && h["reason"] == "content")
    );
    assert!(!r.text.contains("bob's lead"));

    // Administrators and auditors see everything; filters apply.
    let r = s
        .get("/api/v1/items?first_only=true", Some(Role::Auditor))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
    let r = s
        .get(
            "/api/v1/items?platform=Loopback%20Files&campaign=Day%201",
            Some(Role::Admin),
        )
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = s.get("/api/v1/items?org=Org%20B", Some(Role::Admin)).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = s.get("/api/v1/items?status=gone", Some(Role::Admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // A URL that answers 404 is recorded, with why nothing was captured.
    let r = post_as(
        &s,
        &alice,
        "/api/v1/items",
        &json!({ "url": files.url("/missing.jpg") }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert_eq!(v["blob_sha256"], Value::Null);
    assert!(v["capture_error"].as_str().unwrap().contains("404"), "{v}");

    // The fetch policy still refuses private addresses; bad input is 4xx.
    let r = post_as(
        &s,
        &alice,
        "/api/v1/items",
        &json!({ "url": "http://10.1.2.3/x.jpg" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = post_as(&s, &alice, "/api/v1/items", &json!({ "url": "not a url" })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = post_as(
        &s,
        &alice,
        "/api/v1/items",
        &json!({ "url": url, "campaign": "No such day" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = multipart_as(&s, &alice, &[("url", None, url.as_bytes())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // Every submission is in the audit chain, which still verifies.
    let r = s.get("/api/v1/audit/verify", Some(Role::Auditor)).await;
    assert_eq!(r.json()["first_bad_seq"], Value::Null, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_directory_is_edited_and_resolves_urls() {
    let s = Server::start(ServerConfig::default()).await;
    let social = json!({
        "name": "Social",
        "kind": "social",
        "domains": ["social.example"],
        "url_patterns": [],
        "channel": { "kind": "api", "target": "https://api.social.example/referrals" },
        "tco_contact": "tco@social.example",
        "language": "en",
        "removal": { "status_codes": [404, 410], "page_patterns": ["Post unavailable"] },
    });
    let r = s
        .post_json("/api/v1/platforms", Role::Analyst, &social)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = s
        .post_json("/api/v1/platforms", Role::Analyst, &social)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let mut groups = social.clone();
    groups["name"] = json!("Social groups");
    groups["domains"] = json!([]);
    groups["url_patterns"] = json!(["social.example/groups/"]);
    let r = s.post_json("/api/v1/platforms", Role::Admin, &groups).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Bad kinds and channels are refused with a reason.
    let mut bad = social.clone();
    bad["name"] = json!("Bad");
    bad["kind"] = json!("newspaper");
    let r = s.post_json("/api/v1/platforms", Role::Admin, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    bad["kind"] = json!("chat");
    bad["channel"] = json!({ "kind": "email", "target": "nobody" });
    let r = s.post_json("/api/v1/platforms", Role::Admin, &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    let resolve = async |url: &str| {
        let r = s
            .post_json(
                &format!("/api/v1/platforms/resolve?url={}", enc(url)),
                Role::Reviewer,
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["platform"]["name"].clone()
    };
    assert_eq!(
        resolve("https://social.example/groups/7").await,
        "Social groups"
    );
    assert_eq!(resolve("https://m.social.example/p/1").await, "Social");
    assert_eq!(resolve("https://example.org/").await, Value::Null);

    // Replace, read back (auditors read too), delete (administrators only).
    let mut edited = social.clone();
    edited["language"] = json!("fr");
    let r = s
        .put_json("/api/v1/platforms/Social", Role::Analyst, &edited)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s.get("/api/v1/platforms/Social", Some(Role::Auditor)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["language"], "fr");
    assert_eq!(r.json()["removal"]["status_codes"], json!([404, 410]));
    let r = s
        .delete("/api/v1/platforms/Social", Some(Role::Analyst))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = s
        .delete("/api/v1/platforms/Social", Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s.get("/api/v1/platforms", Some(Role::Reviewer)).await;
    let names: Vec<Value> = r.json()["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("Social groups")]);
    let r = s.get("/api/v1/platforms", Some(Role::Platform)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}
