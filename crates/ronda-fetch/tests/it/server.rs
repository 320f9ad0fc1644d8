//! A loopback test server with the behaviours the fetcher must cope with.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;

/// A running server on `127.0.0.1:<port>`; it stops with the test runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/ok",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        "hello",
                    )
                }),
            )
            .route("/echo-ua", get(echo_ua))
            .route("/echo-host", get(echo_host))
            .route("/echo-post", axum::routing::post(echo_post))
            .route("/redirect", get(redirect).post(redirect))
            .route("/loop", get(redirect_loop))
            .route("/big", get(|| async { vec![b'x'; 1 << 20] }))
            .route("/big-chunked", get(big_chunked))
            .route("/slow", get(slow))
            .route("/trickle", get(trickle))
            .route(
                "/missing",
                get(|| async { (StatusCode::NOT_FOUND, "gone") }),
            )
            .with_state(Arc::clone(&hits));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("test server runs");
        });
        TestServer { addr, hits }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A URL that redirects (302) to `target`.
    pub fn redirect_to(&self, target: &str) -> String {
        let mut url = url::Url::parse(&self.url("/redirect")).expect("valid");
        url.query_pairs_mut().append_pair("to", target);
        url.into()
    }

    /// Requests counted by `/loop`.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn echo_ua(headers: HeaderMap) -> String {
    header_text(&headers, header::USER_AGENT)
}

/// Echoes a POST: its idempotency key, then its body.
async fn echo_post(headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let key = header_text(&headers, header::HeaderName::from_static("idempotency-key"));
    (
        StatusCode::ACCEPTED,
        format!("{key}:{}", String::from_utf8_lossy(&body)),
    )
}

async fn echo_host(headers: HeaderMap) -> String {
    header_text(&headers, header::HOST)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q.get("to").cloned().unwrap_or_else(|| "/ok".to_owned());
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

async fn redirect_loop(State(hits): State<Arc<AtomicUsize>>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response()
}

/// 1 MiB in 64 KiB chunks, with no `Content-Length`.
async fn big_chunked() -> Response {
    let chunks = (0..16).map(|_| Ok::<_, Infallible>(Bytes::from(vec![b'y'; 64 * 1024])));
    Body::from_stream(futures_util::stream::iter(chunks)).into_response()
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

/// Headers at once, then one byte every 100 ms for a long time.
async fn trickle() -> Response {
    let stream = futures_util::stream::unfold(0u32, |n| async move {
        if n >= 600 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, Infallible>(Bytes::from_static(b"z")), n + 1))
    });
    Body::from_stream(stream).into_response()
}
