//! `/api/v1` routes of the workflow after collection: the review queue
//! (claim, release, decide), referrals and removal orders (create, list,
//! history, status events, delivery queue), Annex II/III responses,
//! liveness history, and group-run platforms' providers.
//!
//! Who sees what is the store's rule ([`ReferralViewer`],
//! [`ItemViewer`]), chosen here from the caller: a `platform` caller sees
//! only the referrals addressed to its organisation's platforms, and
//! answers only those; anything it may not see is "not found".

use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json};
use ronda_store::{
    Assessment, DEFAULT_LEASE_MS, ItemLiveness, LivenessCheck, Millis, NewAssessment, NewReferral,
    NewResponse, Principal, ProviderRole, Referral, ReferralDetail, ReferralEvent, ReferralFilter,
    ReferralKind, ReferralStatus, ReferralViewer, RemovalOrderSpec, Response as OrderResponse,
    ResponseSource, ReviewTask, Role, Store,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult, rejection};
use crate::items::viewer_of;
use crate::{ADMIN, AppState, CURATE, ITEMS, READ, RESPOND, REVIEW, Route, spec};

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        (
            spec(
                M::GET,
                "/api/v1/review/queue",
                ITEMS,
                "The review queue, highest priority first, and the caller's count today",
            ),
            get(review_queue),
        ),
        (
            spec(
                M::POST,
                "/api/v1/review/claim",
                REVIEW,
                "Claim the next item to review (a lease; 204 when the queue is empty)",
            ),
            post(claim),
        ),
        (
            spec(
                M::POST,
                "/api/v1/review/{id}/release",
                REVIEW,
                "Give up one's claim on an item",
            ),
            post(release),
        ),
        (
            spec(
                M::POST,
                "/api/v1/review/{id}/decide",
                REVIEW,
                "Decide on an item: verdict, TCO reason, group, outlet, severity, notes",
            ),
            post(decide),
        ),
        (
            spec(
                M::GET,
                "/api/v1/items/{id}/assessments",
                ITEMS,
                "An item's assessments",
            ),
            get(assessments),
        ),
        (
            spec(
                M::GET,
                "/api/v1/items/{id}/liveness",
                ITEMS,
                "An item's liveness checks and what they found",
            ),
            get(liveness),
        ),
        (
            spec(
                M::POST,
                "/api/v1/referrals",
                CURATE,
                "Refer an item (to its platform, or a group-run platform's providers), or every assessed item of a campaign",
            ),
            post(create_referrals),
        ),
        (
            spec(
                M::GET,
                "/api/v1/referrals",
                READ,
                "List referrals and orders the caller may see",
            ),
            get(list_referrals),
        ),
        (
            spec(
                M::GET,
                "/api/v1/referrals/{id}",
                READ,
                "A referral with its history, delivery attempts and responses",
            ),
            get(get_referral),
        ),
        (
            spec(
                M::POST,
                "/api/v1/referrals/{id}/events",
                RESPOND,
                "Move a referral by hand (platforms: acknowledge, dispute)",
            ),
            post(referral_event),
        ),
        (
            spec(
                M::POST,
                "/api/v1/referrals/{id}/queue",
                CURATE,
                "Queue a draft for delivery through its channel",
            ),
            post(queue_referral),
        ),
        (
            spec(
                M::POST,
                "/api/v1/referrals/{id}/responses",
                RESPOND,
                "Answer a referral or order: Annex II feedback or Annex III impossibility",
            ),
            post(respond),
        ),
        (
            spec(
                M::GET,
                "/api/v1/orders",
                READ,
                "Removal orders with their live deadlines (`?overdue=true`: only overdue ones)",
            ),
            get(list_orders),
        ),
        (
            spec(
                M::GET,
                "/api/v1/platforms/{name}/providers",
                ITEMS,
                "A group-run platform's infrastructure providers",
            ),
            get(providers),
        ),
        (
            spec(
                M::POST,
                "/api/v1/platforms/{name}/providers",
                CURATE,
                "Link a provider (hosting, registrar, cdn) to a group-run platform",
            ),
            post(add_provider),
        ),
        (
            spec(
                M::POST,
                "/api/v1/platforms/{name}/providers/remove",
                CURATE,
                "Unlink a provider from a group-run platform",
            ),
            post(remove_provider),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/platforms/{name}/org",
                ADMIN,
                "Say which organisation runs a platform (its platform tokens see its referrals)",
            ),
            put(set_org),
        ),
    ]
}

/// The referral visibility rule for a caller.
pub fn referral_viewer(who: &Principal) -> ReferralViewer {
    match who.role {
        Role::Admin | Role::Auditor => ReferralViewer::Everyone,
        Role::Platform => ReferralViewer::Platform(who.org_id),
        Role::Analyst | Role::Reviewer => ReferralViewer::Org(who.org_id),
    }
}

fn time(ms: Millis) -> Value {
    jiff::Timestamp::from_millisecond(ms).map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn opt_time(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, time)
}

fn parse_time(field: &str, s: &str) -> ApiResult<Millis> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| ApiError::bad_request(format!("{field}: not an RFC 3339 time: {e}")))
}

/// Replaces RFC 3339 strings in `fields` of a JSON object with Unix ms,
/// so that the store's types read them.
fn times_to_ms(v: &mut Value, fields: &[&str]) -> ApiResult<()> {
    let Some(obj) = v.as_object_mut() else {
        return Err(ApiError::unprocessable("expected a JSON object"));
    };
    for f in fields {
        if let Some(Value::String(s)) = obj.get(*f) {
            let ms = parse_time(f, s)?;
            obj.insert((*f).to_owned(), json!(ms));
        } else if let Some(Value::Number(_)) = obj.get(*f) {
            return Err(ApiError::bad_request(format!(
                "{f}: expected an RFC 3339 time such as 2026-01-01T08:00:00Z"
            )));
        }
    }
    Ok(())
}

/// Replaces Unix ms in `fields` of a JSON object with RFC 3339 strings.
fn times_to_text(v: &mut Value, fields: &[&str]) {
    if let Some(obj) = v.as_object_mut() {
        for f in fields {
            if let Some(ms) = obj.get(*f).and_then(Value::as_i64) {
                obj.insert((*f).to_owned(), time(ms));
            }
        }
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::unprocessable(format!("invalid JSON body: {e}")))
}

fn from_value<T: serde::de::DeserializeOwned>(v: Value) -> ApiResult<T> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::unprocessable(format!("invalid JSON body: {e}")))
}

/// The start of the store's current UTC day.
fn today_start(store: &Store) -> Millis {
    let now = store.now();
    now - now.rem_euclid(86_400_000)
}

// ---------------------------------------------------------------- review

fn task_json(t: &ReviewTask) -> Value {
    let i = &t.item;
    json!({
        "item_id": i.id,
        "priority": t.priority,
        "enqueued_at": time(t.enqueued_at),
        "claimed_by": t.claimed_by,
        "claim_expires_at": opt_time(t.claim_expires_at),
        "item": {
            "id": i.id,
            "url": i.url,
            "canonical_url": i.canonical_url,
            "status": i.status,
            "org": i.org,
            "campaign": i.campaign,
            "platform": i.platform,
            "platform_id": i.platform_id,
            "blob_sha256": i.blob_sha256,
            "content_type": i.content_type,
            "note": i.note,
            "created_at": time(i.created_at),
            "matches": i.matches,
        },
    })
}

fn assessment_json(a: &Assessment) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    times_to_text(&mut v, &["decided_at"]);
    v
}

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<i64>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn review_queue(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let tasks = state
        .store
        .review_queue(
            viewer_of(&who),
            q.offset.unwrap_or(0).max(0),
            q.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    let today = state
        .store
        .reviews_since(&who.actor(), today_start(&state.store))
        .await?;
    Ok(Json(json!({
        "queue": tasks.iter().map(task_json).collect::<Vec<_>>(),
        "reviewed_today": today,
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    /// How long the claim lasts (default 15 minutes, at most a day).
    lease_seconds: Option<i64>,
}

async fn claim(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: ClaimBody = if body.is_empty() {
        ClaimBody::default()
    } else {
        json_body(&body)?
    };
    let lease = match req.lease_seconds {
        None => DEFAULT_LEASE_MS,
        Some(s) => s.saturating_mul(1000),
    };
    let task = state
        .store
        .claim_next_review(viewer_of(&who), lease, &who.actor())
        .await?;
    Ok(match task {
        Some(t) => Json(task_json(&t)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn release(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.release_review(id, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn decide(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: NewAssessment = json_body(&body)?;
    let a = state
        .store
        .decide_review(id, &req, viewer_of(&who), &who.actor())
        .await?;
    let today = state
        .store
        .reviews_since(&who.actor(), today_start(&state.store))
        .await?;
    let mut v = assessment_json(&a);
    v["reviewed_today"] = json!(today);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn assessments(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let all = state.store.assessments(id, viewer_of(&who)).await?;
    Ok(Json(json!({
        "assessments": all.iter().map(assessment_json).collect::<Vec<_>>(),
    })))
}

fn check_json(c: &LivenessCheck) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    times_to_text(&mut v, &["checked_at"]);
    v
}

fn summary_json(l: &ItemLiveness) -> Value {
    let mut v = serde_json::to_value(l).unwrap_or(Value::Null);
    times_to_text(
        &mut v,
        &[
            "last_checked_at",
            "last_seen_live_at",
            "first_seen_removed_at",
        ],
    );
    v
}

async fn liveness(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let viewer = viewer_of(&who);
    let summary = state.store.item_liveness(id, viewer).await?;
    let checks = state
        .store
        .liveness_checks(
            id,
            viewer,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(json!({
        "item_id": id,
        "summary": summary.as_ref().map(summary_json),
        "checks": checks.iter().map(check_json).collect::<Vec<_>>(),
    })))
}

// ---------------------------------------------------------------- referrals

/// A referral on the wire: times as RFC 3339; a removal order with its
/// live deadline and whether it is overdue now.
pub fn referral_json(r: &Referral, now: Millis) -> Value {
    let order = r.order.as_ref().map(|o| {
        let mut annex = serde_json::to_value(&o.annex_i).unwrap_or(Value::Null);
        times_to_text(&mut annex, &["issued_at", "non_disclosure_until"]);
        let clock = o.clock.as_ref();
        json!({
            "annex_i": annex,
            "emergency": o.emergency,
            "notice_first": o.notice_first,
            "received_at": opt_time(o.received_at),
            "deadline": opt_time(clock.and_then(|c| c.deadline)),
            "paused_since": opt_time(clock.and_then(|c| c.paused_since)),
            "answered_at": opt_time(clock.and_then(|c| c.answered_at)),
            "answered_late": clock.is_some_and(|c| c.answered_late),
            "overdue": clock.is_some_and(|c| c.is_overdue(now)) && !r.status.is_final(),
        })
    });
    json!({
        "id": r.id,
        "item_id": r.item_id,
        "url": r.url,
        "org_id": r.org_id,
        "campaign_id": r.campaign_id,
        "platform_id": r.platform_id,
        "platform": r.platform,
        "kind": r.kind,
        "status": r.status,
        "idempotency_key": r.idempotency_key,
        "channel": r.channel,
        "package": r.package,
        "created_by": r.created_by,
        "created_at": time(r.created_at),
        "queued_at": opt_time(r.queued_at),
        "next_attempt_at": opt_time(r.next_attempt_at),
        "delivery_failed_at": opt_time(r.delivery_failed_at),
        "sent_at": opt_time(r.sent_at),
        "acknowledged_at": opt_time(r.acknowledged_at),
        "outcome_at": opt_time(r.outcome_at),
        "updated_at": time(r.updated_at),
        "order": order,
    })
}

fn response_json(r: &OrderResponse) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    times_to_text(&mut v, &["measure_at", "received_at", "at"]);
    v
}

fn detail_json(d: &ReferralDetail, now: Millis) -> Value {
    let mut v = referral_json(&d.referral, now);
    v["history"] = json!(
        d.history
            .iter()
            .map(|h| {
                let mut e = serde_json::to_value(h).unwrap_or(Value::Null);
                times_to_text(&mut e, &["at"]);
                e
            })
            .collect::<Vec<_>>()
    );
    v["attempts"] = json!(
        d.attempts
            .iter()
            .map(|a| {
                let mut e = serde_json::to_value(a).unwrap_or(Value::Null);
                times_to_text(&mut e, &["at", "next_retry_at"]);
                e
            })
            .collect::<Vec<_>>()
    );
    v["responses"] = json!(d.responses.iter().map(response_json).collect::<Vec<_>>());
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateReferrals {
    /// One item, or
    item_id: Option<i64>,
    /// every assessed item of a campaign (by name).
    campaign: Option<String>,
    /// The addressee (for a campaign: only its items on this platform).
    platform: Option<String>,
    #[serde(default = "default_kind")]
    kind: ReferralKind,
    /// Annex I fields, for a removal order (times in RFC 3339).
    order: Option<Value>,
    #[serde(default)]
    emergency: bool,
    /// Queue for delivery at once.
    #[serde(default)]
    queue: bool,
}

fn default_kind() -> ReferralKind {
    ReferralKind::Referral
}

async fn platform_id(store: &Store, name: Option<&str>) -> ApiResult<Option<i64>> {
    match name {
        None => Ok(None),
        Some(n) => Ok(Some(
            store
                .platform(n)
                .await?
                .ok_or_else(|| ApiError::bad_request(format!("platform {n:?} not found")))?
                .id,
        )),
    }
}

async fn campaign_id(store: &Store, name: &str) -> ApiResult<i64> {
    Ok(store
        .campaign(name)
        .await?
        .ok_or_else(|| ApiError::bad_request(format!("campaign {name:?} not found")))?
        .id)
}

async fn create_referrals(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateReferrals = json_body(&body)?;
    let store = &state.store;
    let now = store.now();
    let platform = platform_id(store, req.platform.as_deref()).await?;
    match (req.item_id, req.campaign.as_deref()) {
        (Some(item_id), None) => {
            let order = match req.order {
                Some(mut v) => {
                    times_to_ms(&mut v, &["issued_at", "non_disclosure_until"])?;
                    Some(from_value::<RemovalOrderSpec>(v)?)
                }
                None => None,
            };
            let new = NewReferral {
                item_id,
                platform_id: platform,
                kind: req.kind,
                order,
                emergency: req.emergency,
                queue: req.queue,
            };
            let made = store
                .create_referrals(&new, viewer_of(&who), &who.actor())
                .await?;
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "referrals": made.iter().map(|r| referral_json(r, now)).collect::<Vec<_>>(),
                })),
            )
                .into_response())
        }
        (None, Some(campaign)) => {
            if req.kind != ReferralKind::Referral || req.order.is_some() || req.emergency {
                return Err(ApiError::bad_request(
                    "a campaign is referred with voluntary referrals; removal orders are made one by one",
                ));
            }
            let id = campaign_id(store, campaign).await?;
            let made = store
                .refer_campaign(id, platform, req.queue, viewer_of(&who), &who.actor())
                .await?;
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "referrals": made.created.iter().map(|r| referral_json(r, now)).collect::<Vec<_>>(),
                    "skipped": made.skipped.iter().map(|(item, why)| json!({
                        "item_id": item,
                        "reason": why,
                    })).collect::<Vec<_>>(),
                })),
            )
                .into_response())
        }
        _ => Err(ApiError::unprocessable("give either item_id or campaign")),
    }
}

#[derive(Deserialize)]
struct ReferralQuery {
    item: Option<i64>,
    platform: Option<String>,
    campaign: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
    #[serde(default)]
    overdue: bool,
}

async fn referral_filter(store: &Store, q: &ReferralQuery) -> ApiResult<ReferralFilter> {
    Ok(ReferralFilter {
        item_id: q.item,
        platform_id: platform_id(store, q.platform.as_deref()).await?,
        campaign_id: match q.campaign.as_deref() {
            Some(c) => Some(campaign_id(store, c).await?),
            None => None,
        },
        status: q
            .status
            .as_deref()
            .map(str::parse::<ReferralStatus>)
            .transpose()
            .map_err(ApiError::bad_request)?,
        kind: q
            .kind
            .as_deref()
            .map(str::parse::<ReferralKind>)
            .transpose()
            .map_err(ApiError::bad_request)?,
        after: q.after.unwrap_or(0),
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    })
}

async fn list_referrals(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ReferralQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let filter = referral_filter(&state.store, &q).await?;
    let all = state
        .store
        .list_referrals(&filter, referral_viewer(&who))
        .await?;
    let now = state.store.now();
    Ok(Json(json!({
        "referrals": all.iter().map(|r| referral_json(r, now)).collect::<Vec<_>>(),
    })))
}

async fn list_orders(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ReferralQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let now = state.store.now();
    let viewer = referral_viewer(&who);
    let all = if q.overdue {
        state
            .store
            .overdue_orders(viewer, q.limit.unwrap_or(100).clamp(1, 1000))
            .await?
    } else {
        let mut filter = referral_filter(&state.store, &q).await?;
        filter.kind = Some(ReferralKind::RemovalOrder);
        state.store.list_referrals(&filter, viewer).await?
    };
    Ok(Json(json!({
        "orders": all.iter().map(|r| referral_json(r, now)).collect::<Vec<_>>(),
    })))
}

async fn get_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let d = state
        .store
        .referral(id, referral_viewer(&who))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("referral {id} not found")))?;
    Ok(Json(detail_json(&d, state.store.now())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    event: String,
    note: Option<String>,
}

async fn referral_event(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let req: EventBody = json_body(&body)?;
    let event: ReferralEvent = req.event.parse().map_err(ApiError::bad_request)?;
    // A platform speaks for itself: it confirms receipt or contests the
    // assessment; its other answers are Annex II/III responses.
    if who.role == Role::Platform
        && !matches!(event, ReferralEvent::Acknowledge | ReferralEvent::Dispute)
    {
        return Err(ApiError::bad_request(format!(
            "a platform may acknowledge or dispute a referral, not {event}; \
             removals and impossibility are answered with a response (Annex II or III)"
        )));
    }
    let r = state
        .store
        .transition_referral(
            id,
            event,
            req.note.as_deref(),
            referral_viewer(&who),
            &who.actor(),
        )
        .await?;
    Ok(Json(referral_json(&r, state.store.now())))
}

async fn queue_referral(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    // Only referrals the caller sees.
    state
        .store
        .referral(id, referral_viewer(&who))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("referral {id} not found")))?;
    let r = state.store.queue_referral(id, &who.actor()).await?;
    Ok(Json(referral_json(&r, state.store.now())))
}

async fn respond(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let mut v: Value = json_body(&body)?;
    times_to_ms(&mut v, &["measure_at", "received_at"])?;
    let req: NewResponse = from_value(v)?;
    let source = if who.role == Role::Platform {
        ResponseSource::Platform
    } else {
        ResponseSource::Manual
    };
    let r = state
        .store
        .record_response(id, &req, source, referral_viewer(&who), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(response_json(&r))).into_response())
}

// ---------------------------------------------------------------- platforms

async fn providers(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = state
        .store
        .platform(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("platform {name:?} not found")))?;
    let all = state.store.platform_providers(p.id).await?;
    Ok(Json(json!({
        "platform": p.spec.name,
        "providers": all.iter().map(|pp| json!({
            "role": pp.role,
            "provider": crate::items::platform_json(&pp.provider),
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderBody {
    provider: String,
    role: ProviderRole,
}

async fn add_provider(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let req: ProviderBody = json_body(&body)?;
    state
        .store
        .add_platform_provider(&name, &req.provider, req.role, &who.actor())
        .await?;
    Ok(StatusCode::CREATED)
}

async fn remove_provider(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let req: ProviderBody = json_body(&body)?;
    state
        .store
        .remove_platform_provider(&name, &req.provider, req.role, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgBody {
    /// The organisation's name; `null` clears it.
    org: Option<String>,
}

async fn set_org(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let req: OrgBody = json_body(&body)?;
    let org_id = match req.org.as_deref() {
        None => None,
        Some(o) => Some(
            state
                .store
                .organisation_by_name(o)
                .await?
                .ok_or_else(|| ApiError::bad_request(format!("organisation {o:?} not found")))?
                .id,
        ),
    };
    let p = state
        .store
        .set_platform_org(&name, org_id, &who.actor())
        .await?;
    let mut v = crate::items::platform_json(&p);
    v["org_id"] = json!(p.org_id);
    Ok(Json(v))
}
