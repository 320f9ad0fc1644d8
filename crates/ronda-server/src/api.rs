//! The native API under `/api/v1`: banks and entries with labels, lookups
//! across signal types (PDQ with dihedral variants), hashing, tokens, users
//! and the audit log. JSON in and out; errors are `{"message": ...}`.

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Extension, Json};
use ronda_hash::{PdqHash, Signal, SignalType};
use ronda_store::{
    Bank, BankUpdate, Entry, EntryUpdate, Labels, Millis, NewBank, NewEntry, NewUser, Principal,
    Role, StoreError, User,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, rejection};
use crate::hashing::{hash_upload, parse_content_type, signal_types_of};
use crate::matcher::{Hit, now_ms};
use crate::{ADMIN, AUDIT, AppState, CURATE, MATCH, PUBLIC, READ, Route, spec};

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        (
            spec(M::GET, "/api/v1/openapi.json", PUBLIC, "This document"),
            get(openapi),
        ),
        (
            spec(M::GET, "/metrics", PUBLIC, "Prometheus metrics"),
            get(crate::metrics::handler),
        ),
        (
            spec(
                M::GET,
                "/api/v1/whoami",
                READ,
                "The caller's token, role and organisation",
            ),
            get(whoami),
        ),
        (
            spec(
                M::GET,
                "/api/v1/banks",
                READ,
                "List banks with entry counts",
            ),
            get(list_banks),
        ),
        (
            spec(M::POST, "/api/v1/banks", CURATE, "Create a bank"),
            post(create_bank),
        ),
        (
            spec(M::GET, "/api/v1/banks/{name}", READ, "Get a bank"),
            get(get_bank),
        ),
        (
            spec(M::PATCH, "/api/v1/banks/{name}", CURATE, "Update a bank"),
            patch(update_bank),
        ),
        (
            spec(
                M::DELETE,
                "/api/v1/banks/{name}",
                ADMIN,
                "Delete a bank and its entries",
            ),
            delete(delete_bank),
        ),
        (
            spec(
                M::GET,
                "/api/v1/banks/{name}/entries",
                READ,
                "Page through a bank's entries",
            ),
            get(list_entries),
        ),
        (
            spec(
                M::POST,
                "/api/v1/banks/{name}/entries",
                CURATE,
                "Add an entry (idempotent on external_id)",
            ),
            post(add_entry),
        ),
        (
            spec(M::GET, "/api/v1/entries/{id}", READ, "Get an entry"),
            get(get_entry),
        ),
        (
            spec(M::PATCH, "/api/v1/entries/{id}", CURATE, "Update an entry"),
            patch(update_entry),
        ),
        (
            spec(M::DELETE, "/api/v1/entries/{id}", CURATE, "Delete an entry"),
            delete(delete_entry),
        ),
        (
            spec(M::GET, "/api/v1/lookup", MATCH, "Look one signal up"),
            get(lookup_get),
        ),
        (
            spec(
                M::POST,
                "/api/v1/lookup",
                MATCH,
                "Look signals up (PDQ with its dihedral variants)",
            ),
            post(lookup_post),
        ),
        (
            spec(
                M::POST,
                "/api/v1/hash",
                MATCH,
                "Hash the request body (an image or video file)",
            ),
            post(hash),
        ),
        (
            spec(
                M::GET,
                "/api/v1/tokens",
                ADMIN,
                "List tokens (never their secrets)",
            ),
            get(list_tokens),
        ),
        (
            spec(
                M::POST,
                "/api/v1/tokens",
                ADMIN,
                "Create a token; its secret is shown once",
            ),
            post(create_token),
        ),
        (
            spec(M::DELETE, "/api/v1/tokens/{id}", ADMIN, "Revoke a token"),
            delete(revoke_token),
        ),
        (
            spec(
                M::GET,
                "/api/v1/users",
                ADMIN,
                "List users, disabled ones included",
            ),
            get(list_users),
        ),
        (
            spec(M::POST, "/api/v1/users", ADMIN, "Create a user"),
            post(create_user),
        ),
        (
            spec(
                M::POST,
                "/api/v1/users/{name}/disable",
                ADMIN,
                "Disable a user and revoke its tokens",
            ),
            post(disable_user),
        ),
        (
            spec(
                M::GET,
                "/api/v1/audit",
                AUDIT,
                "Audit events after a sequence number",
            ),
            get(audit),
        ),
        (
            spec(
                M::GET,
                "/api/v1/audit/verify",
                AUDIT,
                "Check the audit hash chain",
            ),
            get(audit_verify),
        ),
    ]
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

fn time(ms: Option<Millis>) -> Value {
    match ms.and_then(|t| jiff::Timestamp::from_millisecond(t).ok()) {
        Some(t) => Value::String(t.to_string()),
        None => Value::Null,
    }
}

fn parse_time(field: &str, s: &str) -> ApiResult<Millis> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| ApiError::bad_request(format!("{field}: not an RFC 3339 time: {e}")))
}

fn signal_json(s: &Signal) -> Value {
    json!({ "type": s.signal_type().as_str(), "value": s.value() })
}

fn bank_json(b: &Bank, entries: Option<u64>) -> Value {
    let mut v = json!({
        "id": b.id,
        "name": b.name,
        "enabled": b.enabled,
        "matching_enabled_ratio": b.matching_enabled_ratio,
        "labels": b.labels,
        "org_id": b.org_id,
        "created_at": time(Some(b.created_at)),
        "updated_at": time(Some(b.updated_at)),
    });
    if let Some(n) = entries {
        v["entries"] = json!(n);
    }
    v
}

fn entry_json(e: &Entry, bank: Option<&str>) -> Value {
    json!({
        "id": e.id,
        "bank_id": e.bank_id,
        "bank": bank,
        "external_id": e.external_id,
        "enabled": e.enabled,
        "disable_until": time(e.disable_until),
        "active": e.is_active(now_ms()),
        "labels": e.labels,
        "source": e.source,
        "collab": e.collab,
        "note": e.note,
        "signals": e.signals.iter().map(signal_json).collect::<Vec<_>>(),
        "created_at": time(Some(e.created_at)),
        "updated_at": time(Some(e.updated_at)),
    })
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::unprocessable(format!("invalid JSON body: {e}")))
}

async fn whoami(Extension(who): Extension<Principal>) -> Json<Value> {
    Json(json!({
        "token_id": who.token_id,
        "label": who.label,
        "role": who.role,
        "org_id": who.org_id,
        "user": who.user,
    }))
}

// ---------------------------------------------------------------- banks

async fn list_banks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let banks = state.store.list_banks().await?;
    let mut out = Vec::with_capacity(banks.len());
    for b in &banks {
        out.push(bank_json(b, Some(state.store.count_entries(b.id).await?)));
    }
    Ok(Json(json!({ "banks": out })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBank {
    name: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default = "one")]
    matching_enabled_ratio: f64,
    #[serde(default)]
    labels: Labels,
}

fn yes() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

async fn create_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateBank = json_body(&body)?;
    let bank = NewBank {
        name: req.name,
        enabled: req.enabled,
        matching_enabled_ratio: req.matching_enabled_ratio,
        labels: req.labels,
        org_id: who.org_id,
    };
    let b = state.store.create_bank(&bank, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(bank_json(&b, Some(0)))).into_response())
}

async fn get_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let b = state.store.require_bank(&name).await?;
    let n = state.store.count_entries(b.id).await?;
    Ok(Json(bank_json(&b, Some(n))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBank {
    name: Option<String>,
    enabled: Option<bool>,
    matching_enabled_ratio: Option<f64>,
    labels: Option<Labels>,
}

async fn update_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let p: PatchBank = json_body(&body)?;
    let update = BankUpdate {
        name: p.name,
        enabled: p.enabled,
        matching_enabled_ratio: p.matching_enabled_ratio,
        labels: p.labels,
    };
    let b = state
        .store
        .update_bank(&name, &update, &who.actor())
        .await?;
    Ok(Json(bank_json(&b, None)))
}

async fn delete_bank(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_bank(&name, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- entries

#[derive(Deserialize)]
struct Page {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list_entries(
    State(state): State<AppState>,
    Path(name): Path<String>,
    q: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let bank = state.store.require_bank(&name).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = state
        .store
        .entries_page(bank.id, q.after.unwrap_or(0), limit)
        .await?;
    let next = (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.id));
    Ok(Json(json!({
        "entries": entries.iter().map(|e| entry_json(e, Some(&bank.name))).collect::<Vec<_>>(),
        "next_after": next.flatten(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalIn {
    #[serde(rename = "type")]
    signal_type: String,
    value: String,
}

impl SignalIn {
    fn parse(&self) -> ApiResult<Signal> {
        let t: SignalType = self
            .signal_type
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{e}")))?;
        Signal::parse(t, &self.value)
            .map_err(|e| ApiError::bad_request(format!("invalid {t} signal: {e}")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddEntry {
    external_id: Option<String>,
    signals: Vec<SignalIn>,
    #[serde(default)]
    labels: Labels,
    source: Option<String>,
    collab: Option<String>,
    note: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    disable_until: Option<String>,
}

async fn add_entry(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: AddEntry = json_body(&body)?;
    let bank = state.store.require_bank(&name).await?;
    let signals = req
        .signals
        .iter()
        .map(SignalIn::parse)
        .collect::<ApiResult<Vec<_>>>()?;
    let entry = NewEntry {
        external_id: req.external_id,
        signals,
        labels: req.labels,
        source: req.source,
        collab: req.collab,
        original_media_uri: None,
        note: req.note,
        metadata: None,
        enabled: req.enabled,
        disable_until: req
            .disable_until
            .as_deref()
            .map(|s| parse_time("disable_until", s))
            .transpose()?,
    };
    let (stored, added) = state.store.add_entry(&bank, &entry, &who.actor()).await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry_json(&stored, Some(&bank.name)))).into_response())
}

async fn entry_or_404(state: &AppState, id: i64) -> ApiResult<Entry> {
    state
        .store
        .entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("entry {id} not found")))
}

async fn get_entry(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let e = entry_or_404(&state, id).await?;
    let bank = state.matcher.bank(e.bank_id).map(|b| b.name);
    Ok(Json(entry_json(&e, bank.as_deref())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchEntry {
    enabled: Option<bool>,
    /// An RFC 3339 time, or `null` to clear.
    #[serde(default, with = "double_option")]
    disable_until: Option<Option<String>>,
    labels: Option<Labels>,
    #[serde(default, with = "double_option")]
    note: Option<Option<String>>,
}

/// Tells a missing field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn update_entry(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let p: PatchEntry = json_body(&body)?;
    let disable_until = match p.disable_until {
        None => None,
        Some(None) => Some(None),
        Some(Some(s)) => Some(Some(parse_time("disable_until", &s)?)),
    };
    let update = EntryUpdate {
        enabled: p.enabled,
        disable_until,
        labels: p.labels,
        note: p.note,
    };
    let e = state.store.update_entry(id, &update, &who.actor()).await?;
    let bank = state.matcher.bank(e.bank_id).map(|b| b.name);
    Ok(Json(entry_json(&e, bank.as_deref())))
}

async fn delete_entry(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_entry(id, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- lookup

fn hit_json(state: &AppState, signal_type: SignalType, h: &Hit) -> Value {
    let bank = state.matcher.bank(h.meta.bank_id);
    json!({
        "signal_type": signal_type.as_str(),
        "entry_id": h.entry_id,
        "bank": bank.as_ref().map(|b| b.name.as_str()),
        "distance": h.distance,
        "variant": h.variant.and_then(|v| ronda_hash::pdq::Dihedral::ALL.get(v as usize)).map(|d| d.as_str()),
        "labels": bank.as_ref().map(|b| &b.labels),
    })
}

/// Active entries in enabled banks only: what a platform acts on.
fn active(state: &AppState, hits: Vec<Hit>) -> Vec<Hit> {
    let now = now_ms();
    hits.into_iter()
        .filter(|h| {
            h.meta.is_active(now)
                && state
                    .matcher
                    .bank(h.meta.bank_id)
                    .is_some_and(|b| b.enabled)
        })
        .collect()
}

#[derive(Deserialize)]
struct LookupQuery {
    signal_type: String,
    signal: String,
    radius: Option<u32>,
}

fn radius(state: &AppState, r: Option<u32>) -> ApiResult<u32> {
    match r {
        None => Ok(state.config.pdq_radius),
        Some(r) if r <= 128 => Ok(r),
        Some(r) => Err(ApiError::bad_request(format!("radius {r} is above 128"))),
    }
}

async fn lookup_get(
    State(state): State<AppState>,
    q: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let signal = SignalIn {
        signal_type: q.signal_type,
        value: q.signal,
    }
    .parse()?;
    let r = radius(&state, q.radius)?;
    state.ensure_ready()?;
    let hits = active(&state, state.matcher.lookup(&signal, r));
    let t = signal.signal_type();
    Ok(Json(json!({
        "matches": hits.iter().map(|h| hit_json(&state, t, h)).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    #[serde(default)]
    signals: Vec<SignalIn>,
    /// An image's 8 dihedral PDQ hashes (original first), looked up in one
    /// pass.
    pdq_dihedral: Option<Vec<String>>,
    radius: Option<u32>,
}

async fn lookup_post(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let req: LookupBody = json_body(&body)?;
    if req.signals.len() > 1000 {
        return Err(ApiError::bad_request("at most 1000 signals per lookup"));
    }
    let r = radius(&state, req.radius)?;
    let signals = req
        .signals
        .iter()
        .map(SignalIn::parse)
        .collect::<ApiResult<Vec<_>>>()?;
    let dihedral = match &req.pdq_dihedral {
        None => None,
        Some(list) => {
            let hashes: Vec<PdqHash> = list
                .iter()
                .map(|h| {
                    h.parse()
                        .map_err(|e| ApiError::bad_request(format!("pdq_dihedral: {e}")))
                })
                .collect::<ApiResult<_>>()?;
            let arr: [PdqHash; 8] = hashes
                .try_into()
                .map_err(|_| ApiError::bad_request("pdq_dihedral needs exactly 8 hashes"))?;
            Some(arr)
        }
    };
    state.ensure_ready()?;
    let mut matches = Vec::new();
    for s in &signals {
        let hits = active(&state, state.matcher.lookup(s, r));
        matches.extend(hits.iter().map(|h| hit_json(&state, s.signal_type(), h)));
    }
    if let Some(needles) = &dihedral {
        let hits = active(&state, state.matcher.lookup_dihedral(needles, r));
        matches.extend(hits.iter().map(|h| hit_json(&state, SignalType::Pdq, h)));
    }
    Ok(Json(json!({ "matches": matches })))
}

#[derive(Deserialize)]
struct HashQuery {
    content_type: Option<String>,
}

async fn hash(
    State(state): State<AppState>,
    q: Result<Query<HashQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let ct = parse_content_type(q.content_type.as_deref().unwrap_or("photo"))?;
    let types = signal_types_of(ct).to_vec();
    let hashed = hash_upload(
        &state,
        body,
        ct,
        types,
        ct == ronda_media::signals::ContentType::Photo,
    )
    .await?;
    Ok(Json(json!({
        "signals": hashed.signals.iter().map(signal_json).collect::<Vec<_>>(),
        "pdq_quality": hashed.pdq_quality,
        "pdq_dihedral": hashed.dihedral.map(|d| d.iter().map(|h| h.to_string()).collect::<Vec<_>>()),
    })))
}

// ---------------------------------------------------------------- tokens

async fn list_tokens(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "tokens": state.store.list_tokens().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    label: String,
    /// Required for a service token; for a user's token, the user's role
    /// (which it must then equal) if left out.
    role: Option<Role>,
    org_id: Option<i64>,
    /// The name of the user the token acts for.
    user: Option<String>,
}

/// A record the request body names (an organisation, a user) that does
/// not exist is a bad request, not a missing route target.
fn named_in_body(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound { .. } => ApiError::bad_request(e.to_string()),
        e => e.into(),
    }
}

async fn create_token(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateToken = json_body(&body)?;
    let (info, secret) = match (&req.user, req.role) {
        (Some(user), role) => {
            if req.org_id.is_some() {
                return Err(ApiError::bad_request(
                    "a user's token takes the user's organisation: leave org_id out",
                ));
            }
            state
                .store
                .create_user_token(&req.label, user, role, &who.actor())
                .await
                .map_err(named_in_body)?
        }
        (None, Some(role)) => state
            .store
            .create_token(&req.label, role, req.org_id, &who.actor())
            .await
            .map_err(named_in_body)?,
        (None, None) => {
            return Err(ApiError::unprocessable(
                "invalid JSON body: a token needs a role or a user",
            ));
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": info, "secret": secret })),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.revoke_token(id, &who.actor()).await?;
    state.tokens.forget_token(id);
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- users

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "display_name": u.display_name,
        "role": u.role,
        "org_id": u.org_id,
        "org": u.org_name,
        "active": u.is_active(),
        "created_at": time(Some(u.created_at)),
        "disabled_at": time(u.disabled_at),
    })
}

async fn list_users(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let users = state.store.list_users().await?;
    Ok(Json(
        json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    name: String,
    role: Role,
    display_name: Option<String>,
    org_id: Option<i64>,
}

async fn create_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateUser = json_body(&body)?;
    let new = NewUser {
        name: req.name,
        display_name: req.display_name,
        role: req.role,
        org_id: req.org_id,
    };
    let u = state
        .store
        .create_user(&new, &who.actor())
        .await
        .map_err(named_in_body)?;
    Ok((StatusCode::CREATED, Json(user_json(&u))).into_response())
}

async fn disable_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let (u, revoked) = state.store.disable_user(&name, &who.actor()).await?;
    // This node stops accepting the user's tokens at once; other nodes
    // within their cache's lifetime.
    state.tokens.forget_user(u.id);
    Ok(Json(
        json!({ "user": user_json(&u), "revoked_tokens": revoked }),
    ))
}

// ---------------------------------------------------------------- audit

#[derive(Deserialize)]
struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .store
        .audit_events(q.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(json!({ "events": events })))
}

async fn audit_verify(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.store.verify_audit().await?)))
}
