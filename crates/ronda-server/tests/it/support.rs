//! What the tests share: a real server on a loopback port with one token per
//! role, a small HTTP client, multipart bodies, test images and their
//! expected hashes, and a loopback file server for `url=` fetches.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode, header};
use ronda_server::{AppState, ServerConfig};
use ronda_store::{Actor, Role, Store};
use serde_json::Value;

/// Evaluates `$check` (an expression that may `.await`) every 10 ms until
/// it is true; gives how long that took, or `None` after `$timeout`.
macro_rules! eventually {
    ($timeout:expr, $check:expr) => {{
        let start = std::time::Instant::now();
        let timeout: std::time::Duration = $timeout;
        loop {
            if $check {
                break Some(start.elapsed());
            }
            if start.elapsed() > timeout {
                break None::<std::time::Duration>;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }};
}

/// How long the tests wait for the index to follow the store. The follower
/// polls every 200 ms; the margin is for a loaded machine.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(5);

/// A token of each role: role → (token id, secret).
pub type Tokens = HashMap<Role, (i64, String)>;

/// Creates one token per role in `store`.
pub async fn make_tokens(store: &Store) -> Tokens {
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        let (info, secret) = store
            .create_token(role.as_str(), role, None, &Actor::local("test"))
            .await
            .unwrap();
        tokens.insert(role, (info.id, secret));
    }
    tokens
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One running server (`ronda_server::serve` on 127.0.0.1:0).
pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    pub store: Store,
    pub client: reqwest::Client,
    pub tokens: Tokens,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A server on a fresh SQLite store, ready (its index has loaded).
    pub async fn start(config: ServerConfig) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(None, dir.path()).await.unwrap();
        let tokens = make_tokens(&store).await;
        Server::on_store(store, tokens, config, Some(dir)).await
    }

    /// A server on an existing store, ready.
    pub async fn on_store(
        store: Store,
        tokens: Tokens,
        config: ServerConfig,
        dir: Option<tempfile::TempDir>,
    ) -> Server {
        let state = AppState::new(store.clone(), config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(ronda_server::serve(state.clone(), listener, async move {
            let _ = rx.await;
        }));
        let server = Server {
            base: format!("http://{addr}"),
            addr,
            store,
            client: client(),
            tokens,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        };
        server.wait_ready().await;
        server
    }

    /// Waits until `/status` answers 200.
    pub async fn wait_ready(&self) {
        let ok = eventually!(
            SYNC_TIMEOUT,
            self.get("/status", None).await.status == StatusCode::OK
        );
        assert!(ok.is_some(), "/status never became 200");
    }

    /// Sends the shutdown signal and returns what `serve` returned.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let handle = self.handle.take().expect("the server was already stopped");
        tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("serve did not return within 10 s of the shutdown signal")
            .expect("the serve task panicked")
    }

    pub fn secret(&self, role: Role) -> &str {
        &self.tokens[&role].1
    }

    pub fn token_id(&self, role: Role) -> i64 {
        self.tokens[&role].0
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request, with the bearer token of `role` if given.
    pub fn req(&self, method: Method, path: &str, role: Option<Role>) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match role {
            Some(r) => rb.bearer_auth(self.secret(r)),
            None => rb,
        }
    }

    pub async fn get(&self, path: &str, role: Option<Role>) -> Reply {
        call(self.req(Method::GET, path, role)).await
    }

    pub async fn delete(&self, path: &str, role: Option<Role>) -> Reply {
        call(self.req(Method::DELETE, path, role)).await
    }

    /// A request with a JSON body.
    pub async fn send_json(&self, method: Method, path: &str, role: Role, body: &Value) -> Reply {
        call(self.req(method, path, Some(role)).json(body)).await
    }

    pub async fn post_json(&self, path: &str, role: Role, body: &Value) -> Reply {
        self.send_json(Method::POST, path, role, body).await
    }

    pub async fn put_json(&self, path: &str, role: Role, body: &Value) -> Reply {
        self.send_json(Method::PUT, path, role, body).await
    }

    pub async fn patch_json(&self, path: &str, role: Role, body: &Value) -> Reply {
        self.send_json(Method::PATCH, path, role, body).await
    }

    /// A multipart/form-data POST.
    pub async fn post_multipart(&self, path: &str, role: Role, parts: &[Part<'_>]) -> Reply {
        let (content_type, body) = multipart(parts);
        call(
            self.req(Method::POST, path, Some(role))
                .header(header::CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }

    /// Creates an HMA bank (as an analyst) and checks it was created.
    pub async fn create_bank(&self, name: &str) {
        let r = self
            .post_json(
                "/c/banks",
                Role::Analyst,
                &serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    /// Adds a PDQ signal to an HMA bank; returns the content id.
    pub async fn add_pdq(&self, bank: &str, pdq: &str) -> i64 {
        let r = self
            .post_json(
                &format!("/c/bank/{bank}/signal"),
                Role::Analyst,
                &serde_json::json!({ "pdq": pdq }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["id"].as_i64().expect("a numeric content id")
    }

    /// `/m/raw_lookup` ids for a PDQ hash.
    pub async fn raw_ids(&self, pdq: &str) -> Vec<i64> {
        let r = self
            .get(
                &format!("/m/raw_lookup?signal_type=pdq&signal={pdq}"),
                Some(Role::Platform),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut ids: Vec<i64> = r.json()["matches"]
            .as_array()
            .expect("matches is an array")
            .iter()
            .map(|v| v.as_i64().expect("an integer id"))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// `/m/lookup` for a PDQ hash: bank name → matches.
    pub async fn hma_lookup(&self, pdq: &str, extra: &str) -> Value {
        let r = self
            .get(
                &format!("/m/lookup?signal_type=pdq&signal={pdq}{extra}"),
                Some(Role::Platform),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An answer: status, headers and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    /// The body as JSON; panics (with the body) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "status {}: the body is not JSON ({e}): {:?}",
                self.status, self.text
            )
        })
    }

    /// The `message` of an error body `{"message": ...}`; panics if the
    /// body has another shape.
    pub fn message(&self) -> String {
        let v = self.json();
        let obj = v
            .as_object()
            .unwrap_or_else(|| panic!("status {}: not an object: {}", self.status, self.text));
        assert!(
            obj.keys().all(|k| k == "message"),
            "status {}: an error body has only `message`: {}",
            self.status,
            self.text
        );
        obj.get("message")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("status {}: no string message: {}", self.status, self.text))
            .to_owned()
    }

    /// Whether the body is `{"message": "<string>"}`.
    pub fn is_message(&self) -> bool {
        match serde_json::from_str::<Value>(&self.text) {
            Ok(Value::Object(m)) => m.len() == 1 && m.get("message").is_some_and(Value::is_string),
            _ => false,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn call(rb: reqwest::RequestBuilder) -> Reply {
    let response = rb.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        text,
    }
}

/// Asserts an error answer: the status and `{"message": <message>}`.
#[track_caller]
pub fn assert_error(r: &Reply, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.message(), message, "status {}", r.status);
}

// ---------------------------------------------------------------- multipart

/// One multipart part: field name, file name (a file part when given), data.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

const BOUNDARY: &str = "ronda-test-boundary-5f1c2e";

/// A multipart/form-data body and its `Content-Type`.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, file_name, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
            }
            None => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
            }
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

// ---------------------------------------------------------------- test data

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared test data (`../shared/testdata` beside the repository).
pub fn testdata() -> PathBuf {
    repo().join("../shared/testdata")
}

pub fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A row of `pdq/expected.csv`.
#[derive(Debug, Clone)]
pub struct Expected {
    pub quality: u8,
    pub pdq: String,
    /// The 8 dihedral hashes in the reference's order (original first).
    pub dihedral: Vec<String>,
}

/// The expected hashes of `image` (a path relative to `pdq/`, e.g.
/// `images/misc-images/wee.jpg`).
pub fn expected(image: &str) -> Expected {
    let csv = String::from_utf8(read(testdata().join("pdq/expected.csv"))).unwrap();
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[0] == image {
            return Expected {
                quality: cols[4].parse().unwrap(),
                pdq: cols[5].to_owned(),
                dihedral: cols[5..13].iter().map(|s| (*s).to_owned()).collect(),
            };
        }
    }
    panic!("{image} is not in expected.csv");
}

/// A 34×42 PNG (Pillow's exact decode of `wee.jpg`), PDQ quality 100.
pub fn wee_png() -> Vec<u8> {
    read(testdata().join("pdq/decoded/misc-images__wee.png"))
}

pub fn wee_expected() -> Expected {
    expected("images/misc-images/wee.jpg")
}

/// A 224×399 PNG whose PDQ quality is 0.
pub fn low_quality_png() -> Vec<u8> {
    read(testdata().join("pdq/decoded/misc-images__small.png"))
}

/// `samples/bridge-512.jpg` (the test set's `square-512x512.jpg`).
pub fn bridge_jpg() -> Vec<u8> {
    read(repo().join("samples/bridge-512.jpg"))
}

pub fn bridge_expected() -> Expected {
    expected("images/bridge-mods/square-512x512.jpg")
}

// ---------------------------------------------------------------- hashes

/// The original bridge photo's PDQ.
pub const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
/// An unrelated photo's PDQ (far from [`BRIDGE`]).
pub const OTHER: &str = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064";

/// `hex` with its first `n` nibbles' lowest bit flipped: at Hamming
/// distance `n` from it (n ≤ 64).
pub fn flip_bits(hex: &str, n: usize) -> String {
    hex.chars()
        .enumerate()
        .map(|(i, c)| {
            if i < n {
                let v = c.to_digit(16).unwrap() ^ 1;
                char::from_digit(v, 16).unwrap()
            } else {
                c
            }
        })
        .collect()
}

/// Hamming distance of two PDQ hex strings.
pub fn distance(a: &str, b: &str) -> u32 {
    a.chars()
        .zip(b.chars())
        .map(|(x, y)| (x.to_digit(16).unwrap() ^ y.to_digit(16).unwrap()).count_ones())
        .sum()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------- file server

/// A loopback HTTP server that `url=` fetches are pointed at.
///
/// - `/bridge.jpg`: the bridge photo, `image/jpeg`
/// - `/slow.jpg`: the same after `slow` (default 800 ms)
/// - `/page.txt`: `text/plain`
/// - `/missing.jpg`: 404
/// - `/redirect-away.jpg`: 302 to 127.0.0.2 (loopback, not on a /32 allow-list)
/// - `/redirect-home.jpg`: 302 to `/bridge.jpg` on this server
pub struct FileServer {
    pub addr: SocketAddr,
    handle: tokio::task::JoinHandle<()>,
}

impl FileServer {
    pub async fn start(slow: Duration) -> FileServer {
        use axum::Router;
        use axum::response::IntoResponse;
        use axum::routing::get;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let jpeg = bridge_jpg();
        let jpeg2 = jpeg.clone();
        let port = addr.port();
        let app = Router::new()
            .route(
                "/bridge.jpg",
                get(move || {
                    let body = jpeg.clone();
                    async move { ([(header::CONTENT_TYPE, "image/jpeg")], body) }
                }),
            )
            .route(
                "/slow.jpg",
                get(move || {
                    let body = jpeg2.clone();
                    async move {
                        tokio::time::sleep(slow).await;
                        ([(header::CONTENT_TYPE, "image/jpeg")], body)
                    }
                }),
            )
            .route(
                "/page.txt",
                get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "hello") }),
            )
            .route(
                "/missing.jpg",
                get(|| async { (StatusCode::NOT_FOUND, "no").into_response() }),
            )
            .route(
                "/redirect-away.jpg",
                get(move || async move {
                    (
                        StatusCode::FOUND,
                        [(
                            header::LOCATION,
                            format!("http://127.0.0.2:{port}/bridge.jpg"),
                        )],
                    )
                }),
            )
            .route(
                "/redirect-home.jpg",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/bridge.jpg")]) }),
            );
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FileServer { addr, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// A server config whose fetcher may reach 127.0.0.1 (only).
pub fn loopback_config() -> ServerConfig {
    let mut config = ServerConfig::default();
    let loopback: ronda_fetch::IpCidr = "127.0.0.1/32".parse().unwrap();
    config.fetch = ronda_fetch::FetchPolicy::default().allow(loopback);
    config
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
