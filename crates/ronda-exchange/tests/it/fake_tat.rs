//! A loopback stand-in for the TAT hash-list API, speaking the documented
//! shapes: `POST /token-auth/tcap/` → `{token, user}`; `GET
//! /api/hash-list/v2/all?order=asc&after=<checkpoint>&offset=&limit=` →
//! `{count, next, previous, checkpoint, results}` with DRF-style absolute
//! `next` links, entries ordered by `(updated_on, id)`, and `after`
//! filtering on that order. Faults can be queued per page offset.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret-password";
pub const PAGE_SIZE: usize = 3;

pub const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// Something to do instead of (or before) answering a page normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 once.
    ServerError,
    /// Answer 200 with the page's JSON cut in half, once.
    Truncated,
    /// Forget every token issued so far (as if they expired), once.
    ExpireTokens,
    /// Point `next` at another host, once.
    ForeignNext,
    /// Sleep this long before answering, once.
    Slow(Duration),
}

#[derive(Debug, Default)]
pub struct Inner {
    pub entries: Vec<Value>,
    pub valid_tokens: Vec<String>,
    pub logins: u32,
    /// Faults by page offset, each used once.
    pub faults: HashMap<usize, Vec<Fault>>,
    /// Every hash-list request: (query, authorization header).
    pub requests: Vec<(HashMap<String, String>, String)>,
    pub base: String,
}

#[derive(Debug, Clone)]
pub struct Fake {
    pub inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl Fake {
    /// Starts a server with `entries` on 127.0.0.1 and a free port.
    pub async fn start(entries: Vec<Value>) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            entries,
            base: base.clone(),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/token-auth/tcap/", post(login))
            .route("/api/hash-list/v2/all", get(list))
            .with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fake { inner, base }
    }

    pub fn fault(&self, offset: usize, fault: Fault) {
        let mut inner = self.inner.lock().unwrap();
        inner.faults.entry(offset).or_default().push(fault);
    }

    pub fn logins(&self) -> u32 {
        self.inner.lock().unwrap().logins
    }

    pub fn requests(&self) -> Vec<(HashMap<String, String>, String)> {
        self.inner.lock().unwrap().requests.clone()
    }
}

/// Seven entries, as TAT lists them: MD5 videos, PDQ images, one withdrawn
/// (`deleted: true`), one with an algorithm Ronda has no type for.
pub fn seven_entries() -> Vec<Value> {
    let md5 = |n: u32| format!("{n:032x}");
    let e =
        |id: u32, hash: String, algorithm: &str, ideology: &str, file_type: &str, deleted: bool| {
            json!({
                "id": id,
                "hash_digest": hash,
                "algorithm": algorithm,
                "ideology": ideology,
                "file_type": file_type,
                "deleted": deleted,
                "created_on": "2025-03-03T23:05:22.587000",
                "updated_on": 1_704_901_040.0 + f64::from(id),
            })
        };
    vec![
        e(2819, md5(1), "MD5", "islamist", "mp4", false),
        e(2820, md5(2), "MD5", "far-right", "mp4", false),
        e(2821, PDQ.to_owned(), "PDQ", "islamist", "gif", false),
        e(2822, md5(4), "MD5", "far-right", "jpg", true),
        e(2823, "ab".repeat(64), "SHA512", "islamist", "mp4", false),
        e(2824, "cd".repeat(32), "SHA256", "islamist", "pdf", false),
        e(2825, md5(7), "MD5", "islamist", "webm", false),
    ]
}

async fn login(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let mut inner = inner.lock().unwrap();
    if body["username"] == USER && body["password"] == PASSWORD {
        inner.logins += 1;
        let token = format!("tok-{}", inner.logins);
        inner.valid_tokens.push(token.clone());
        Json(json!({"token": token, "user": {"username": USER}})).into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"non_field_errors": ["Unable to log in with provided credentials."]})),
        )
            .into_response()
    }
}

/// `(updated_on, id)` of an entry, the listing's order.
fn key(entry: &Value) -> (f64, u64) {
    (
        entry["updated_on"].as_f64().unwrap(),
        entry["id"].as_u64().unwrap(),
    )
}

async fn list(
    State(state): State<Arc<Mutex<Inner>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let offset: usize = query.get("offset").map_or(0, |o| o.parse().unwrap());
    let limit: usize = query.get("limit").map_or(PAGE_SIZE, |l| l.parse().unwrap());
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let fault = {
        let mut inner = state.lock().unwrap();
        inner.requests.push((query.clone(), auth.clone()));
        let fault = inner
            .faults
            .get_mut(&offset)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
        if fault == Some(Fault::ExpireTokens) {
            inner.valid_tokens.clear();
        }
        fault
    };
    if let Some(Fault::Slow(d)) = fault {
        tokio::time::sleep(d).await;
    }
    let inner = state.lock().unwrap();
    let authorised = auth
        .strip_prefix("Bearer ")
        .is_some_and(|t| inner.valid_tokens.iter().any(|v| v == t));
    if !authorised {
        return (
            StatusCode::FORBIDDEN,
            "Authentication error: Token has expired. Please refresh.",
        )
            .into_response();
    }
    if fault == Some(Fault::ServerError) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
    }
    let after = query.get("after").map(|a| {
        let (secs, id) = a.split_once(',').unwrap();
        (secs.parse::<f64>().unwrap(), id.parse::<u64>().unwrap())
    });
    let mut matching: Vec<&Value> = inner
        .entries
        .iter()
        .filter(|e| after.is_none_or(|a| key(e) > a))
        .collect();
    matching.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap());
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    let link = |offset: usize| {
        let mut url = format!(
            "{}api/hash-list/v2/all?order=asc&limit={limit}&offset={offset}",
            inner.base
        );
        if let Some(a) = query.get("after") {
            url.push_str(&format!("&after={a}"));
        }
        url
    };
    let mut next = (offset + limit < matching.len()).then(|| link(offset + limit));
    if fault == Some(Fault::ForeignNext) {
        next = Some("https://evil.example/api/hash-list/v2/all?offset=3".to_owned());
    }
    let checkpoint = page.last().map(|e| {
        let (secs, id) = key(e);
        format!("{secs},{id}")
    });
    let body = json!({
        "count": matching.len(),
        "next": next,
        "previous": (offset > 0).then(|| link(offset.saturating_sub(limit))),
        "checkpoint": checkpoint,
        "results": page,
    })
    .to_string();
    if fault == Some(Fault::Truncated) {
        let cut = body[..body.len() / 2].to_owned();
        return ([(header::CONTENT_TYPE, "application/json")], cut).into_response();
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
