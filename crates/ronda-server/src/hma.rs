//! The routes of Meta's Hasher-Matcher-Actioner, with its paths,
//! parameters, JSON shapes, status codes and error texts, so that HMA
//! clients work unchanged (see `docs/hma-api.md`). Deliberate differences:
//! a bearer token is required, URL fetches are SSRF-safe, and content
//! routes only see content of the bank named in the path.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json};
use ronda_hash::{Signal, SignalType};
use ronda_store::{Bank, BankUpdate, Entry, EntryUpdate, NewBank, NewEntry, Principal};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult, rejection};
use crate::hashing::{
    Hashed, fetch_for_hashing, hash_upload, parse_hma_signal, read_upload, select_types,
};
use crate::matcher::{Hit, now_ms};
use crate::{AppState, CURATE, MATCH, PUBLIC, READ, Route, spec};

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        (
            spec(
                M::GET,
                "/status",
                PUBLIC,
                "Readiness: 200 I-AM-ALIVE once the index has loaded",
            ),
            get(status),
        ),
        (
            spec(
                M::GET,
                "/status/live",
                PUBLIC,
                "Liveness: always 200 I-AM-ALIVE",
            ),
            get(live),
        ),
        (
            spec(M::GET, "/h/hash", MATCH, "Hash the media at a URL"),
            get(hash_url),
        ),
        (
            spec(
                M::POST,
                "/h/hash",
                MATCH,
                "Hash an uploaded file (field name = content type)",
            ),
            post(hash_file),
        ),
        (
            spec(
                M::GET,
                "/m/raw_lookup",
                MATCH,
                "Bank content ids matching a signal",
            ),
            get(raw_lookup),
        ),
        (
            spec(
                M::GET,
                "/m/lookup",
                MATCH,
                "Matches of a signal or URL, grouped by bank",
            ),
            get(lookup_get),
        ),
        (
            spec(
                M::POST,
                "/m/lookup",
                MATCH,
                "Matches of an uploaded file, by signal type and bank",
            ),
            post(lookup_post),
        ),
        (
            spec(M::POST, "/m/compare", MATCH, "Compare pairs of signals"),
            post(compare),
        ),
        (
            spec(
                M::GET,
                "/m/index/status",
                READ,
                "Index size and freshness per signal type",
            ),
            get(index_status),
        ),
        (
            spec(M::GET, "/c/banks", READ, "List banks"),
            get(list_banks),
        ),
        (
            spec(M::POST, "/c/banks", CURATE, "Create a bank"),
            post(create_bank),
        ),
        (
            spec(M::GET, "/c/bank/{name}", READ, "Get a bank"),
            get(get_bank),
        ),
        (
            spec(M::PUT, "/c/bank/{name}", CURATE, "Update a bank"),
            put(update_bank),
        ),
        (
            spec(
                M::DELETE,
                "/c/bank/{name}",
                CURATE,
                "Delete a bank and its content",
            ),
            delete(delete_bank),
        ),
        (
            spec(
                M::POST,
                "/c/bank/{name}/content",
                CURATE,
                "Add content by URL or upload",
            ),
            post(add_content),
        ),
        (
            spec(
                M::POST,
                "/c/bank/{name}/signal",
                CURATE,
                "Add content from signals",
            ),
            post(add_signal),
        ),
        (
            spec(
                M::GET,
                "/c/bank/{name}/content/{id}",
                READ,
                "Get bank content",
            ),
            get(get_content),
        ),
        (
            spec(
                M::PUT,
                "/c/bank/{name}/content/{id}",
                CURATE,
                "Update bank content",
            ),
            put(update_content),
        ),
        (
            spec(
                M::DELETE,
                "/c/bank/{name}/content/{id}",
                CURATE,
                "Delete bank content",
            ),
            delete(delete_content),
        ),
    ]
}

// ---------------------------------------------------------------- health

async fn status(State(state): State<AppState>) -> Response {
    let s = state.matcher.status();
    let plain = |code: StatusCode, body: &'static str| {
        (
            code,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    };
    if !s.ready {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "INDEX-NOT-LOADED");
    }
    let stale = state.config.max_index_staleness.as_millis() as i64;
    if stale > 0 && now_ms() - s.last_sync > stale {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "INDEX-STALE");
    }
    plain(StatusCode::OK, "I-AM-ALIVE")
}

async fn live() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "I-AM-ALIVE",
    )
        .into_response()
}

// ---------------------------------------------------------------- helpers

/// A query string parsed into the route's struct; bad input is 422 with
/// `{"message"}` (HMA answers 422 from its request models).
fn query<T: serde::de::DeserializeOwned>(q: &str) -> ApiResult<T> {
    serde_urlencoded_from_str(q).map_err(ApiError::unprocessable)
}

fn serde_urlencoded_from_str<T: serde::de::DeserializeOwned>(q: &str) -> Result<T, String> {
    Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| "bad query string".to_owned())?,
    )
    .map(|Query(t)| t)
    .map_err(|e| e.body_text())
}

/// HMA's booleans: true/false, 1/0, yes/no, on/off, t/f, y/n.
fn parse_bool(name: &str, v: Option<&str>) -> ApiResult<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(false),
        Some("true" | "1" | "yes" | "on" | "t" | "y") => Ok(true),
        Some("false" | "0" | "no" | "off" | "f" | "n") => Ok(false),
        Some(_) => Err(ApiError::unprocessable(format!(
            "{name}: input should be a valid boolean"
        ))),
    }
}

fn bank_json(b: &Bank) -> Value {
    json!({ "matching_enabled_ratio": b.matching_enabled_ratio, "name": b.name })
}

fn check_bank_name(name: &str) -> ApiResult<()> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 100;
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Bank names must be UPPER_WITH_UNDERSCORE",
        ))
    }
}

async fn bank_or_404(state: &AppState, name: &str) -> ApiResult<Bank> {
    state
        .store
        .bank(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("bank '{name}' not found")))
}

/// The entry `id` if it is in `bank`, else HMA's 404.
async fn content_or_404(state: &AppState, bank: &Bank, id: &str) -> ApiResult<Entry> {
    let missing = || ApiError::not_found(format!("content '{id}' not found"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    match state.store.entry(id).await? {
        Some(e) if e.bank_id == bank.id => Ok(e),
        _ => Err(missing()),
    }
}

/// HMA's `disable_until_ts`: 1 enabled, 0 disabled, else disabled until
/// that Unix time (seconds).
fn disable_until_ts(e: &Entry, now: i64) -> i64 {
    if !e.enabled {
        0
    } else {
        match e.disable_until {
            Some(t) if t > now => t / 1000,
            _ => 1,
        }
    }
}

fn hashed_json(h: &Hashed) -> Value {
    let mut m = Map::new();
    for (t, v) in &h.values {
        m.insert(t.as_str().to_owned(), Value::String(v.clone()));
    }
    Value::Object(m)
}

fn distance_str(h: &Hit) -> String {
    h.distance.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

fn bank_filter(banks: Option<&str>) -> Option<HashSet<String>> {
    banks.map(|b| b.split(',').map(str::to_owned).collect())
}

// ---------------------------------------------------------------- hashing

#[derive(Deserialize)]
struct HashQuery {
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
}

async fn hash_url(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: HashQuery = query(req.uri().query().unwrap_or(""))?;
    let url = q
        .url
        .ok_or_else(|| ApiError::unprocessable("url: field required"))?;
    let (bytes, ct) = fetch_for_hashing(&state, &url, q.content_type.as_deref()).await?;
    let types = select_types(ct, q.types.as_deref())?;
    let hashed = hash_upload(&state, bytes, ct, types, false).await?;
    Ok(Json(hashed_json(&hashed)))
}

async fn hash_file(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: HashQuery = query(req.uri().query().unwrap_or(""))?;
    let multipart = Multipart::from_request(req, &state)
        .await
        .map_err(rejection)?;
    let upload = read_upload(multipart).await?;
    let types = select_types(upload.content_type, q.types.as_deref())?;
    let hashed = hash_upload(&state, upload.bytes, upload.content_type, types, false).await?;
    Ok(Json(hashed_json(&hashed)))
}

// ---------------------------------------------------------------- matching

#[derive(Deserialize)]
struct RawLookupQuery {
    signal: Option<String>,
    signal_type: Option<String>,
    banks: Option<String>,
    include_distance: Option<String>,
}

async fn raw_lookup(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: RawLookupQuery = query(req.uri().query().unwrap_or(""))?;
    let (Some(signal), Some(signal_type)) = (q.signal, q.signal_type) else {
        return Err(ApiError::unprocessable(
            "signal and signal_type: field required",
        ));
    };
    let include_distance = parse_bool("include_distance", q.include_distance.as_deref())?;
    let signal = parse_hma_signal(&signal_type, &signal)?;
    state.ensure_ready()?;
    let banks = bank_filter(q.banks.as_deref());
    let hits = state.matcher.lookup(&signal, state.config.pdq_radius);
    let hits = hits.into_iter().filter(|h| match &banks {
        None => true,
        Some(names) => state
            .matcher
            .bank(h.meta.bank_id)
            .is_some_and(|b| names.contains(&b.name)),
    });
    let matches: Vec<Value> = if include_distance {
        hits.map(|h| json!({ "bank_content_id": h.entry_id, "distance": distance_str(&h) }))
            .collect()
    } else {
        hits.map(|h| json!(h.entry_id)).collect()
    };
    Ok(Json(json!({ "matches": matches })))
}

/// The coin flip of HMA's lookup: a bank takes part when its ratio is at
/// least `r`, drawn from `seed` (or at random); `bypass` makes `r` 0.
fn coin(seed: Option<&str>, bypass: bool) -> f64 {
    use sha2::{Digest, Sha256};
    if bypass {
        return 0.0;
    }
    let bytes: [u8; 32] = match seed {
        Some(s) => Sha256::digest(s.as_bytes()).into(),
        None => {
            let mut b = [0u8; 32];
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            b[..16].copy_from_slice(&nanos.to_le_bytes());
            Sha256::digest(b).into()
        }
    };
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    (u64::from_le_bytes(word) >> 11) as f64 / (1u64 << 53) as f64
}

/// Matches grouped by bank name, after HMA's filters: enabled content,
/// enabled banks that win the coin flip, and the `banks` list.
fn grouped(
    state: &AppState,
    hits: Vec<Hit>,
    banks: &Option<HashSet<String>>,
    r: f64,
) -> Map<String, Value> {
    let now = now_ms();
    let mut by_bank: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for h in hits {
        if !h.meta.is_active(now) {
            continue;
        }
        let Some(bank) = state.matcher.bank(h.meta.bank_id) else {
            continue;
        };
        // A disabled bank takes part only when the coin flip is bypassed.
        if bank.matching_enabled_ratio < r || (!bank.enabled && r > 0.0) {
            continue;
        }
        if banks.as_ref().is_some_and(|b| !b.contains(&bank.name)) {
            continue;
        }
        by_bank
            .entry(bank.name.clone())
            .or_default()
            .push(json!({ "bank_content_id": h.entry_id, "distance": distance_str(&h) }));
    }
    by_bank
        .into_iter()
        .map(|(k, v)| (k, Value::Array(v)))
        .collect()
}

#[derive(Deserialize)]
struct LookupQuery {
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
    signal: Option<String>,
    signal_type: Option<String>,
    banks: Option<String>,
    seed: Option<String>,
    #[allow(dead_code)]
    bypass_coinflip: Option<String>,
}

async fn lookup_get(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: LookupQuery = query(req.uri().query().unwrap_or(""))?;
    let banks = bank_filter(q.banks.as_deref());
    // HMA ignores bypass_coinflip on GET.
    let r = coin(q.seed.as_deref(), false);
    if let Some(url) = &q.url {
        let (bytes, ct) = fetch_for_hashing(&state, url, q.content_type.as_deref()).await?;
        let types = select_types(ct, q.types.as_deref())?;
        let hashed = hash_upload(&state, bytes, ct, types, false).await?;
        state.ensure_ready()?;
        let mut out = by_signal_type(&state, &hashed, &banks, r);
        if let Some(t) = &q.signal_type {
            let inner = out.remove(t).unwrap_or_else(|| json!({}));
            return Ok(Json(inner));
        }
        return Ok(Json(Value::Object(out)));
    }
    let (Some(signal), Some(signal_type)) = (&q.signal, &q.signal_type) else {
        return Err(ApiError::bad_request(
            "Either url or both signal and signal_type are required",
        ));
    };
    let signal = parse_hma_signal(signal_type, signal)?;
    state.ensure_ready()?;
    let hits = state.matcher.lookup(&signal, state.config.pdq_radius);
    Ok(Json(Value::Object(grouped(&state, hits, &banks, r))))
}

fn by_signal_type(
    state: &AppState,
    hashed: &Hashed,
    banks: &Option<HashSet<String>>,
    r: f64,
) -> Map<String, Value> {
    let mut out = Map::new();
    for signal in &hashed.signals {
        let hits = state.matcher.lookup(signal, state.config.pdq_radius);
        out.insert(
            signal.signal_type().as_str().to_owned(),
            Value::Object(grouped(state, hits, banks, r)),
        );
    }
    out
}

async fn lookup_post(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: LookupQuery = query(req.uri().query().unwrap_or(""))?;
    let bypass = q.bypass_coinflip.as_deref() == Some("true");
    let multipart = Multipart::from_request(req, &state)
        .await
        .map_err(rejection)?;
    let upload = read_upload(multipart).await?;
    let types = select_types(upload.content_type, q.types.as_deref())?;
    let hashed = hash_upload(&state, upload.bytes, upload.content_type, types, false).await?;
    state.ensure_ready()?;
    let banks = bank_filter(q.banks.as_deref());
    let r = coin(q.seed.as_deref(), bypass);
    Ok(Json(Value::Object(by_signal_type(
        &state, &hashed, &banks, r,
    ))))
}

async fn compare(State(state): State<AppState>, body: axum::body::Bytes) -> ApiResult<Json<Value>> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Failed to decode JSON object: {e}")))?;
    let Value::Object(pairs) = value else {
        return Err(ApiError::bad_request("Request input was not a dict"));
    };
    let mut out = Map::new();
    for (t, v) in pairs {
        let Value::Array(list) = v else {
            return Err(ApiError::bad_request(format!(
                "Comparison hashes for {t} was not a list"
            )));
        };
        if list.len() != 2 {
            return Err(ApiError::bad_request(
                "Comparison hash list length must be exactly 2",
            ));
        }
        let mut signals = Vec::with_capacity(2);
        for item in &list {
            let s = item.as_str().unwrap_or("");
            let signal = parse_hma_signal(&t, s).map_err(|e| {
                if e.message.starts_with("No such") {
                    e
                } else {
                    ApiError::bad_request(format!(
                        "Invalid {t} hash: {}",
                        e.message.trim_start_matches("invalid signal: ")
                    ))
                }
            })?;
            signals.push(signal);
        }
        let result = match (&signals[0], &signals[1]) {
            (Signal::Pdq(a), Signal::Pdq(b)) => {
                let d = a.distance(b);
                json!([d <= state.config.pdq_radius, { "distance": d }])
            }
            (a, b) => json!([a == b, {}]),
        };
        out.insert(t, result);
    }
    Ok(Json(Value::Object(out)))
}

#[derive(Deserialize)]
struct IndexStatusQuery {
    signal_type: Option<String>,
}

/// The signal types this server indexes.
const INDEXED: [SignalType; 7] = [
    SignalType::Pdq,
    SignalType::Md5,
    SignalType::Sha256,
    SignalType::VideoMd5,
    SignalType::Url,
    SignalType::RawText,
    SignalType::TextSha256,
];

async fn index_status(State(state): State<AppState>, req: Request) -> ApiResult<Json<Value>> {
    let q: IndexStatusQuery = query(req.uri().query().unwrap_or(""))?;
    let wanted: Vec<SignalType> = match &q.signal_type {
        Some(name) => vec![
            name.parse()
                .ok()
                .filter(|t| INDEXED.contains(t))
                .ok_or_else(|| ApiError::bad_request(format!("No such signal type '{name}'")))?,
        ],
        None => INDEXED.to_vec(),
    };
    let s = state.matcher.status();
    let mut out = Map::new();
    for t in wanted {
        let size = s.sizes.get(&t).copied().unwrap_or(0);
        let built_to = if s.ready && size > 0 {
            s.built_to / 1000
        } else {
            -1
        };
        out.insert(
            t.as_str().to_owned(),
            json!({ "built_to": built_to, "present": s.ready, "size": size }),
        );
    }
    Ok(Json(Value::Object(out)))
}

// ---------------------------------------------------------------- banks

async fn list_banks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let banks = state.store.list_banks().await?;
    Ok(Json(Value::Array(banks.iter().map(bank_json).collect())))
}

/// A JSON body, or `{}` when there is none or it is not JSON (HMA's
/// `get_json(silent=True) or {}`).
fn json_or_empty(body: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn ratio_field(m: &Map<String, Value>, key: &str) -> ApiResult<Option<f64>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|r| (0.0..=1.0).contains(r))
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{key} must be a number from 0 to 1"))),
    }
}

fn bool_field(m: &Map<String, Value>, key: &str) -> ApiResult<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::unprocessable(format!(
            "{key}: input should be a valid boolean"
        ))),
    }
}

async fn create_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let m = json_or_empty(&body);
    let name = match m.get("name") {
        Some(Value::String(n)) => n.clone(),
        _ => return Err(ApiError::unprocessable("name: field required")),
    };
    check_bank_name(&name)?;
    // HMA: enabled_ratio defaults to 1.0 and wins; `enabled` counts only
    // when enabled_ratio is explicitly null.
    let ratio = match m.get("enabled_ratio") {
        Some(Value::Null) => match bool_field(&m, "enabled")? {
            Some(false) => 0.0,
            _ => 1.0,
        },
        _ => ratio_field(&m, "enabled_ratio")?.unwrap_or(1.0),
    };
    let mut bank = NewBank::named(name);
    bank.matching_enabled_ratio = ratio;
    bank.enabled = ratio > 0.0;
    bank.org_id = who.org_id;
    match state.store.create_bank(&bank, &who.actor()).await {
        Ok(b) => Ok((StatusCode::CREATED, Json(bank_json(&b))).into_response()),
        Err(ronda_store::StoreError::Conflict { .. }) => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "Bank already exists"))
        }
        Err(e) => Err(e.into()),
    }
}

async fn get_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(bank_json(&bank_or_404(&state, &name).await?)))
}

async fn update_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let m = json_or_empty(&body);
    let mut update = BankUpdate::default();
    if let Some(Value::String(n)) = m.get("name") {
        check_bank_name(n)?;
        update.name = Some(n.clone());
    }
    if let Some(e) = bool_field(&m, "enabled")? {
        update.matching_enabled_ratio = Some(if e { 1.0 } else { 0.0 });
    }
    if let Some(r) = ratio_field(&m, "enabled_ratio")? {
        update.matching_enabled_ratio = Some(r);
    }
    if let Some(r) = update.matching_enabled_ratio {
        update.enabled = Some(r > 0.0);
    }
    match state.store.update_bank(&name, &update, &who.actor()).await {
        Ok(b) => Ok(Json(bank_json(&b))),
        Err(ronda_store::StoreError::NotFound { .. }) => Err(ApiError::not_found("Bank not found")),
        Err(ronda_store::StoreError::Conflict { .. }) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Bank name already exists",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn delete_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    match state.store.delete_bank(&name, &who.actor()).await {
        Ok(()) | Err(ronda_store::StoreError::NotFound { .. }) => {
            Ok(Json(json!({ "message": "Done" })))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- content

/// HMA content never deduplicates: each add is a new entry.
fn fresh_external_id() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let digest = Sha256::digest(format!("{nanos}:{count}:{}", std::process::id()));
    format!("hma:{}", &hex_prefix(&digest))
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn hex_prefix(bytes: &[u8]) -> String {
    bytes[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_note(v: Option<&Value>) -> ApiResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > 255 => {
            Err(ApiError::bad_request("note must be at most 255 characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Bool(false)) => Ok(None),
        Some(_) => Err(ApiError::bad_request("note should be a string")),
    }
}

fn parse_metadata(v: Option<&Value>) -> ApiResult<Option<Value>> {
    let Some(v) = v else { return Ok(None) };
    let Value::Object(m) = v else {
        return Err(ApiError::bad_request("metadata should be a json object"));
    };
    let mut out = Map::new();
    for (k, val) in m {
        match (k.as_str(), val) {
            ("collab", _) => {}
            ("content_id" | "content_uri", Value::String(_) | Value::Null) => {
                out.insert(k.clone(), val.clone());
            }
            ("json", Value::Object(_) | Value::Null) => {
                out.insert(k.clone(), val.clone());
            }
            (k, _) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid metadata: field {k} is unknown or has the wrong type"
                )));
            }
        }
    }
    Ok(Some(Value::Object(out)))
}

fn signals_json(signals: &[Signal]) -> Value {
    let mut m = Map::new();
    for s in signals {
        m.insert(
            s.signal_type().as_str().to_owned(),
            Value::String(s.value()),
        );
    }
    Value::Object(m)
}

async fn store_content(
    state: &AppState,
    who: &Principal,
    bank: &Bank,
    signals: Vec<Signal>,
    note: Option<String>,
    metadata: Option<Value>,
) -> ApiResult<Json<Value>> {
    if signals.is_empty() {
        return Err(ApiError::bad_request("No signals given"));
    }
    let mut entry = NewEntry::from_signal(signals[0].clone());
    entry.signals = signals;
    entry.external_id = Some(fresh_external_id());
    entry.note = note;
    entry.metadata = metadata;
    entry.source = Some("api".to_owned());
    let (stored, _) = state.store.add_entry(bank, &entry, &who.actor()).await?;
    Ok(Json(
        json!({ "id": stored.id, "signals": signals_json(&stored.signals) }),
    ))
}

#[derive(Deserialize)]
struct AddContentQuery {
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
}

async fn add_content(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    req: Request,
) -> ApiResult<Json<Value>> {
    let bank = bank_or_404(&state, &name).await?;
    let q: AddContentQuery = query(req.uri().query().unwrap_or(""))?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (hashed, extras) = if let Some(url) = &q.url {
        let body = axum::body::Bytes::from_request(req, &state)
            .await
            .map_err(rejection)?;
        let extras = json_or_empty(&body);
        let (bytes, ct) = fetch_for_hashing(&state, url, q.content_type.as_deref()).await?;
        let types = select_types(ct, q.types.as_deref())?;
        (hash_upload(&state, bytes, ct, types, false).await?, extras)
    } else if is_multipart {
        let multipart = Multipart::from_request(req, &state)
            .await
            .map_err(rejection)?;
        let upload = read_upload(multipart).await?;
        let mut extras = Map::new();
        for (k, v) in upload.fields {
            let value = if k == "metadata" {
                serde_json::from_str(&v)
                    .map_err(|_| ApiError::bad_request("metadata form field must be valid JSON"))?
            } else {
                Value::String(v)
            };
            extras.insert(k, value);
        }
        let types = select_types(upload.content_type, q.types.as_deref())?;
        let hashed = hash_upload(&state, upload.bytes, upload.content_type, types, false).await?;
        (hashed, extras)
    } else {
        return Err(ApiError::bad_request(
            "Neither `url` nor multipart file upload was received",
        ));
    };
    if let Some((t, _)) = hashed.values.iter().find(|(_, v)| v.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "Invalid {t} signal: invalid PDQ hash"
        )));
    }
    let note = parse_note(extras.get("note"))?;
    let metadata = parse_metadata(extras.get("metadata"))?;
    store_content(&state, &who, &bank, hashed.signals, note, metadata).await
}

async fn add_signal(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let bank = bank_or_404(&state, &name).await?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be a JSON object: {e}"),
        )
    })?;
    let Value::Object(m) = value else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let note = parse_note(m.get("note"))?;
    let mut signals = Vec::new();
    for (k, v) in &m {
        if k == "note" {
            continue;
        }
        let t: SignalType = k
            .parse()
            .map_err(|_| ApiError::bad_request(format!("No such signal type {k}")))?;
        let s = v.as_str().unwrap_or("");
        let signal = parse_hma_signal(t.as_str(), s).map_err(|e| {
            ApiError::bad_request(format!(
                "Invalid {k} signal: {}",
                e.message.trim_start_matches("invalid signal: ")
            ))
        })?;
        signals.push(signal);
    }
    store_content(&state, &who, &bank, signals, note, None).await
}

#[derive(Deserialize)]
struct ContentQuery {
    include_signals: Option<String>,
    include_metadata: Option<String>,
}

async fn get_content(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(q): Query<ContentQuery>,
) -> ApiResult<Json<Value>> {
    let bank = bank_or_404(&state, &name).await?;
    let e = content_or_404(&state, &bank, &id).await?;
    let include_signals = q
        .include_signals
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let include_metadata = !q
        .include_metadata
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let mut out = Map::new();
    out.insert("bank".into(), bank_json(&bank));
    out.insert(
        "disable_until_ts".into(),
        json!(disable_until_ts(&e, now_ms())),
    );
    out.insert("id".into(), json!(e.id));
    if include_metadata && let Some(Value::Object(m)) = &e.metadata {
        out.insert(
            "metadata".into(),
            json!({
                "collab": null,
                "content_id": m.get("content_id").cloned().unwrap_or(Value::Null),
                "content_uri": m.get("content_uri").cloned().unwrap_or(Value::Null),
                "json": m.get("json").cloned().unwrap_or(Value::Null),
            }),
        );
    }
    if let Some(n) = &e.note {
        out.insert("note".into(), json!(n));
    }
    out.insert("original_media_uri".into(), json!(e.original_media_uri));
    if include_signals {
        out.insert("signals".into(), signals_json(&e.signals));
    }
    Ok(Json(Value::Object(out)))
}

async fn update_content(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let bank = bank_or_404(&state, &name).await?;
    let e = content_or_404(&state, &bank, &id).await?;
    let m: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be a JSON object",
            ));
        }
    };
    let mut update = EntryUpdate::default();
    if let Some(v) = m.get("disable_until_ts") {
        let ts: i64 = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ApiError::bad_request(format!("Invalid int: '{shown}'"))
        })?;
        if ts < 0 {
            return Err(ApiError::bad_request(
                "disable_until_ts must be a non-negative integer",
            ));
        }
        if ts > now_ms() / 1000 + 5 * 365 * 86_400 {
            return Err(ApiError::bad_request(
                "disable_until_ts must be less than 5 years in the future",
            ));
        }
        match ts {
            1 => {
                update.enabled = Some(true);
                update.disable_until = Some(None);
            }
            0 => update.enabled = Some(false),
            t => {
                update.enabled = Some(true);
                update.disable_until = Some(Some(t * 1000));
            }
        }
    }
    if m.contains_key("note") {
        update.note = Some(parse_note(m.get("note"))?);
    }
    let e = state
        .store
        .update_entry(e.id, &update, &who.actor())
        .await?;
    Ok(Json(json!({
        "bank": bank_json(&bank),
        "collab_metadata": {},
        "disable_until_ts": disable_until_ts(&e, now_ms()),
        "id": e.id,
        "note": e.note,
        "original_media_uri": e.original_media_uri,
        "user_metadata": e.metadata,
    })))
}

async fn delete_content(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path((name, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let bank = bank_or_404(&state, &name).await?;
    let deleted = match content_or_404(&state, &bank, &id).await {
        Ok(e) => {
            state.store.delete_entry(e.id, &who.actor()).await?;
            1
        }
        Err(_) => 0,
    };
    Ok(Json(json!({ "deleted": deleted })))
}
