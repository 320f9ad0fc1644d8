//! Request limits and graceful shutdown.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use ronda_server::ServerConfig;
use ronda_store::Role;
use serde_json::json;

use crate::support::{BRIDGE, FileServer, Server, call, enc, loopback_config, wee_png};

fn small_bodies() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413() {
    let s = Server::start(small_bodies()).await;
    s.create_bank("LIMITS").await;
    // Under the limit: fine.
    s.add_pdq("LIMITS", BRIDGE).await;
    // Over it, on JSON routes of both APIs.
    let big = json!({ "pdq": BRIDGE, "padding": "x".repeat(2000) });
    for path in [
        "/c/bank/LIMITS/signal",
        "/m/compare",
        "/c/banks",
        "/api/v1/lookup",
    ] {
        let r = s.post_json(path, Role::Admin, &big).await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.text
        );
    }
    // Multipart uploads (wee.png is 5 KiB).
    let png = wee_png();
    assert!(png.len() > 1024);
    for path in ["/h/hash", "/m/lookup", "/c/bank/LIMITS/content"] {
        let r = s
            .post_multipart(path, Role::Admin, &[("photo", Some("wee.png"), &png)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.text
        );
    }
    // The native hash route reads the raw body.
    let r = call(
        s.req(Method::POST, "/api/v1/hash", Some(Role::Platform))
            .body(png.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    // A body sent in chunks, without Content-Length, is cut off too.
    let head = chunked_post(&s, "/m/compare", Role::Platform, 8, 512).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // The server still works.
    let r = s
        .post_multipart("/h/hash", Role::Platform, &[("photo", Some("x"), b"tiny")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

/// POSTs `chunks` chunks of `size` spaces with chunked transfer encoding
/// over a raw connection; returns the answer's head and body.
async fn chunked_post(s: &Server, path: &str, role: Role, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.addr,
        s.secret(role)
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        // The server may answer and close before it has read everything.
        let chunk = format!("{size:x}\r\n{}\r\n", " ".repeat(size));
        if conn.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// `/m/...` errors on 413 are `{"message"}` like every other HMA error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limit_errors_are_json_messages() {
    let s = Server::start(small_bodies()).await;
    s.create_bank("LIMITS").await;
    let big = json!({ "pdq": BRIDGE, "padding": "x".repeat(2000) });
    let mut failures = Vec::new();
    for path in [
        "/c/bank/LIMITS/signal",
        "/m/compare",
        "/c/banks",
        "/api/v1/lookup",
    ] {
        let r = s.post_json(path, Role::Admin, &big).await;
        if r.status != StatusCode::PAYLOAD_TOO_LARGE || !r.is_message() {
            failures.push(format!("{path}: {} {:?}", r.status, r.text));
        }
    }
    let png = wee_png();
    for path in ["/h/hash", "/m/lookup"] {
        let r = s
            .post_multipart(path, Role::Admin, &[("photo", Some("wee.png"), &png)])
            .await;
        if r.status != StatusCode::PAYLOAD_TOO_LARGE || !r.is_message() {
            failures.push(format!("{path}: {} {:?}", r.status, r.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `POST /c/bank/<name>/content?url=` reads its JSON extras within the
/// configured body limit too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_content_extras_respect_the_body_limit() {
    let files = FileServer::start(Duration::ZERO).await;
    let mut config = loopback_config();
    config.max_body_bytes = 1024;
    let s = Server::start(config).await;
    s.create_bank("LIMITS").await;
    let big = json!({ "note": "n", "metadata": { "json": { "padding": "x".repeat(4000) } } });
    let r = s
        .post_json(
            &format!(
                "/c/bank/LIMITS/content?url={}",
                enc(&files.url("/bridge.jpg"))
            ),
            Role::Analyst,
            &big,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_with_408() {
    let files = FileServer::start(Duration::from_secs(3)).await;
    let mut config = loopback_config();
    config.request_timeout = Duration::from_millis(300);
    let s = Server::start(config).await;
    let started = Instant::now();
    let r = s
        .get(
            &format!("/h/hash?url={}", enc(&files.url("/slow.jpg"))),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Fast requests are unaffected.
    assert_eq!(s.get("/status/live", None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    let files = FileServer::start(Duration::from_millis(800)).await;
    let mut s = Server::start(loopback_config()).await;
    let url = s.url(&format!("/h/hash?url={}", enc(&files.url("/slow.jpg"))));
    let secret = s.secret(Role::Platform).to_owned();
    let client = crate::support::client();
    let in_flight = tokio::spawn(async move { call(client.get(url).bearer_auth(secret)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let served = s.stop().await;
    assert!(served.is_ok(), "serve returned {served:?}");
    let r = in_flight.await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pdq = r.json()["pdq"].as_str().expect("a pdq").to_owned();
    assert_eq!(pdq.len(), 64);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listens any more.
    let refused = tokio::net::TcpStream::connect(s.addr).await;
    assert!(refused.is_err(), "the listener is still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_when_idle_returns_ok() {
    let mut s = Server::start(ServerConfig::default()).await;
    // A kept-alive connection must not hold shutdown up.
    assert_eq!(s.get("/status/live", None).await.status, StatusCode::OK);
    let started = Instant::now();
    assert!(s.stop().await.is_ok());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// `max_concurrency` bounds the whole server ("requests handled at once"),
/// not each route on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_is_server_wide() {
    let files = FileServer::start(Duration::from_millis(700)).await;
    let mut config = loopback_config();
    config.max_concurrency = 1;
    let s = Server::start(config).await;
    let slow = enc(&files.url("/slow.jpg"));
    let hash = format!("/h/hash?url={slow}");
    let lookup = format!("/m/lookup?url={slow}");
    // Two requests at once: the second waits for the first.
    let started = Instant::now();
    let (a, b) = tokio::join!(
        s.get(&hash, Some(Role::Platform)),
        s.get(&lookup, Some(Role::Platform))
    );
    let took = started.elapsed();
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert!(
        took >= Duration::from_millis(1300),
        "two requests on different routes ran at once with max_concurrency 1 ({took:?})"
    );
}

/// The same, on one route (this holds today; it shows the measurement
/// above works).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_holds_on_one_route() {
    let files = FileServer::start(Duration::from_millis(700)).await;
    let mut config = loopback_config();
    config.max_concurrency = 1;
    let s = Server::start(config).await;
    let hash = format!("/h/hash?url={}", enc(&files.url("/slow.jpg")));
    let started = Instant::now();
    let (a, b) = tokio::join!(
        s.get(&hash, Some(Role::Platform)),
        s.get(&hash, Some(Role::Platform))
    );
    let took = started.elapsed();
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert!(took >= Duration::from_millis(1300), "{took:?}");
}

/// A timed-out request answers 408 with `{"message"}` like other errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_json_messages() {
    let files = FileServer::start(Duration::from_secs(3)).await;
    let mut config = loopback_config();
    config.request_timeout = Duration::from_millis(300);
    let s = Server::start(config).await;
    let r = s
        .get(
            &format!("/h/hash?url={}", enc(&files.url("/slow.jpg"))),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text);
    assert!(r.is_message(), "{:?}", r.text);
}
