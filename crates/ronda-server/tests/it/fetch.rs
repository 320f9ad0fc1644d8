//! `url=` parameters: SSRF-safe fetching (§2.1 and PRODUCT.md's invariants).

use std::time::Duration;

use axum::http::StatusCode;
use ronda_server::ServerConfig;
use ronda_store::Role;
use serde_json::json;

use crate::support::{
    FileServer, SYNC_TIMEOUT, Server, assert_error, bridge_expected, bridge_jpg, distance, enc,
    loopback_config,
};

const UNSAFE: &str = "Invalid or unsafe URL provided";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_by_default() {
    let files = FileServer::start(Duration::ZERO).await;
    let s = Server::start(ServerConfig::default()).await;
    let port = files.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/bridge.jpg"),
        format!("http://localhost:{port}/bridge.jpg"),
        format!("http://[::1]:{port}/bridge.jpg"),
        format!("http://2130706433:{port}/bridge.jpg"),
        format!("http://0x7f.1:{port}/bridge.jpg"),
        format!("http://[::ffff:127.0.0.1]:{port}/bridge.jpg"),
        "http://10.0.0.1/x.jpg".to_owned(),
        "http://192.168.1.1/x.jpg".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://0.0.0.0/x.jpg".to_owned(),
        "file:///etc/passwd".to_owned(),
        "ftp://example.com/x.jpg".to_owned(),
    ] {
        let r = s
            .get(&format!("/h/hash?url={}", enc(&url)), Some(Role::Platform))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert_eq!(r.json(), json!({ "message": UNSAFE }), "{url}");
    }
    // The same rule on every route that takes `url=`.
    let url = enc(&format!("http://127.0.0.1:{port}/bridge.jpg"));
    s.create_bank("FETCHED").await;
    assert_error(
        &s.get(&format!("/m/lookup?url={url}"), Some(Role::Platform))
            .await,
        StatusCode::BAD_REQUEST,
        UNSAFE,
    );
    assert_error(
        &s.post_json(
            &format!("/c/bank/FETCHED/content?url={url}"),
            Role::Analyst,
            &json!({}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        UNSAFE,
    );
}

/// HMA refuses a URL without an http(s) scheme and a host with its
/// "unsafe" text too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_urls_answer_like_hma() {
    let s = Server::start(ServerConfig::default()).await;
    for url in ["not a url", "/relative/path.jpg", "http://"] {
        assert_error(
            &s.get(&format!("/h/hash?url={}", enc(url)), Some(Role::Platform))
                .await,
            StatusCode::BAD_REQUEST,
            UNSAFE,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_listed_loopback_is_fetched_and_hashed() {
    let files = FileServer::start(Duration::ZERO).await;
    let s = Server::start(loopback_config()).await;
    let url = files.url("/bridge.jpg");

    let r = s
        .get(&format!("/h/hash?url={}", enc(&url)), Some(Role::Platform))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let pdq = v["pdq"].as_str().expect("a pdq string").to_owned();
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    // Our JPEG decoder may differ from libjpeg-turbo by a few bits.
    let d = distance(&pdq, &bridge_expected().pdq);
    assert!(d <= 10, "{d} bits from the reference hash");
    // The same bytes uploaded hash the same.
    let r = s
        .post_multipart(
            "/h/hash",
            Role::Platform,
            &[("photo", Some("b.jpg"), &bridge_jpg())],
        )
        .await;
    assert_eq!(r.json(), json!({ "pdq": pdq }));
    // A redirect on the same (allowed) host is followed.
    let r = s
        .get(
            &format!("/h/hash?url={}", enc(&files.url("/redirect-home.jpg"))),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "pdq": pdq }));

    // A redirect to an address off the allow-list is refused.
    assert_error(
        &s.get(
            &format!("/h/hash?url={}", enc(&files.url("/redirect-away.jpg"))),
            Some(Role::Platform),
        )
        .await,
        StatusCode::BAD_REQUEST,
        UNSAFE,
    );
    // Other loopback addresses stay refused (the allow-list is 127.0.0.1/32).
    let other = format!("http://127.0.0.2:{}/bridge.jpg", files.addr.port());
    assert_error(
        &s.get(
            &format!("/h/hash?url={}", enc(&other)),
            Some(Role::Platform),
        )
        .await,
        StatusCode::BAD_REQUEST,
        UNSAFE,
    );

    // Content types (§2.1 step 4).
    let txt = enc(&files.url("/page.txt"));
    assert_error(
        &s.get(&format!("/h/hash?url={txt}"), Some(Role::Platform))
            .await,
        StatusCode::BAD_REQUEST,
        "unsupported url ContentType: 'text/plain', if you know the expected type, provide it with the content_type query param",
    );
    assert_error(
        &s.get(
            &format!("/h/hash?url={}&content_type=banana", enc(&url)),
            Some(Role::Platform),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no such content_type: 'banana'",
    );
    let r = s
        .get(
            &format!("/h/hash?url={}&content_type=photo&types=sha256", enc(&url)),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({ "sha256": crate::support::sha256_hex(&bridge_jpg()) })
    );

    // Fetch failures.
    let r = s
        .get(
            &format!("/h/hash?url={}", enc(&files.url("/missing.jpg"))),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.message().starts_with("Failed to fetch URL: "),
        "{}",
        r.text
    );
    let r = s.get("/h/hash", Some(Role::Platform)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();

    // Adding content by URL, then looking the URL up.
    s.create_bank("FETCHED").await;
    let r = s
        .post_json(
            &format!("/c/bank/FETCHED/content?url={}", enc(&url)),
            Role::Analyst,
            &json!({ "note": "by url", "metadata": { "content_uri": url } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let id = v["id"].as_i64().expect("an id");
    assert_eq!(v["signals"], json!({ "pdq": pdq }));
    let r = s
        .get(
            &format!("/c/bank/FETCHED/content/{id}"),
            Some(Role::Auditor),
        )
        .await;
    let v = r.json();
    assert_eq!(v["note"], "by url");
    assert_eq!(v["metadata"]["content_uri"], url.as_str());
    assert_eq!(
        v["original_media_uri"],
        serde_json::Value::Null,
        "HMA never fills it"
    );

    let want = json!({ "pdq": { "FETCHED": [{ "bank_content_id": id, "distance": "0" }] } });
    let found = eventually!(SYNC_TIMEOUT, {
        s.get(
            &format!("/m/lookup?url={}", enc(&url)),
            Some(Role::Platform),
        )
        .await
        .json()
            == want
    });
    assert!(
        found.is_some(),
        "GET /m/lookup?url= never found the content"
    );
    let r = s
        .get(
            &format!("/m/lookup?url={}&signal_type=pdq", enc(&url)),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.json(), want["pdq"], "signal_type picks the inner map");
    let r = s
        .get(
            &format!("/m/lookup?url={}&signal_type=video_md5", enc(&url)),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.json(), json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_are_capped_in_size() {
    let files = FileServer::start(Duration::ZERO).await;
    let mut config = loopback_config();
    config.fetch.max_body_bytes = 10_000;
    let s = Server::start(config).await;
    assert_error(
        &s.get(
            &format!("/h/hash?url={}", enc(&files.url("/bridge.jpg"))),
            Some(Role::Platform),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Content too large",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_are_capped_in_time() {
    let files = FileServer::start(Duration::from_secs(3)).await;
    let mut config = loopback_config();
    config.fetch.total_timeout = Duration::from_millis(300);
    let s = Server::start(config).await;
    let started = std::time::Instant::now();
    let r = s
        .get(
            &format!("/h/hash?url={}", enc(&files.url("/slow.jpg"))),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.message().starts_with("Failed to fetch URL: "),
        "{}",
        r.text
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
