//! `/api/v1` routes of the referral workflow, first slice: the platform
//! directory, campaigns, and items (submitted, captured, deconflicted).
//! Who sees which item is the store's [`ItemViewer`] rule, chosen here from
//! the caller's role and organisation.

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json};
use ronda_hash::url::canonicalize;
use ronda_store::{
    AddedItem, Campaign, ItemFilter, ItemStatus, ItemView, ItemViewer, Millis, NewCampaign,
    OtherReport, Platform, PlatformSpec, Principal, Role, Store,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::collect::{CaptureError, Captured, Capturer, Submission};
use crate::error::{ApiError, ApiResult, rejection};
use crate::{ADMIN, AppState, CURATE, ITEMS, Route, WORK, spec};

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        (
            spec(
                M::GET,
                "/api/v1/platforms",
                ITEMS,
                "List the platform directory",
            ),
            get(list_platforms),
        ),
        (
            spec(M::POST, "/api/v1/platforms", CURATE, "Add a platform"),
            post(create_platform),
        ),
        (
            spec(
                M::POST,
                "/api/v1/platforms/resolve",
                WORK,
                "Which platform a URL (`?url=`) belongs to",
            ),
            post(resolve_platform),
        ),
        (
            spec(M::GET, "/api/v1/platforms/{name}", ITEMS, "Get a platform"),
            get(get_platform),
        ),
        (
            spec(
                M::PUT,
                "/api/v1/platforms/{name}",
                CURATE,
                "Replace a platform",
            ),
            put(update_platform),
        ),
        (
            spec(
                M::DELETE,
                "/api/v1/platforms/{name}",
                ADMIN,
                "Delete a platform (its items keep their URLs)",
            ),
            delete(delete_platform),
        ),
        (
            spec(M::GET, "/api/v1/campaigns", ITEMS, "List campaigns"),
            get(list_campaigns),
        ),
        (
            spec(M::POST, "/api/v1/campaigns", CURATE, "Create a campaign"),
            post(create_campaign),
        ),
        (
            spec(
                M::POST,
                "/api/v1/items",
                CURATE,
                "Submit an item: a URL (JSON), or a URL and its file (multipart)",
            ),
            post(submit_item),
        ),
        (
            spec(
                M::GET,
                "/api/v1/items",
                ITEMS,
                "List the items the caller may see",
            ),
            get(list_items),
        ),
        (
            spec(M::GET, "/api/v1/items/{id}", ITEMS, "Get an item"),
            get(get_item),
        ),
    ]
}

/// The visibility rule for a caller: administrators and auditors see every
/// item; everyone else their organisation's.
pub fn viewer_of(who: &Principal) -> ItemViewer {
    match who.role {
        Role::Admin | Role::Auditor => ItemViewer::Everyone,
        Role::Analyst | Role::Reviewer | Role::Platform => ItemViewer::Org(who.org_id),
    }
}

fn time(ms: Millis) -> Value {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => Value::String(t.to_string()),
        Err(_) => Value::Null,
    }
}

fn opt_time(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, time)
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::unprocessable(format!("invalid JSON body: {e}")))
}

// ---------------------------------------------------------------- platforms

pub fn platform_json(p: &Platform) -> Value {
    let mut v = serde_json::to_value(&p.spec).unwrap_or(Value::Null);
    v["id"] = json!(p.id);
    v["created_at"] = time(p.created_at);
    v["updated_at"] = time(p.updated_at);
    v
}

async fn list_platforms(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.list_platforms().await?;
    Ok(Json(
        json!({ "platforms": all.iter().map(platform_json).collect::<Vec<_>>() }),
    ))
}

async fn create_platform(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let spec: PlatformSpec = json_body(&body)?;
    let p = state.store.create_platform(&spec, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(platform_json(&p))).into_response())
}

async fn get_platform(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = state
        .store
        .platform(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("platform {name:?} not found")))?;
    Ok(Json(platform_json(&p)))
}

async fn update_platform(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let spec: PlatformSpec = json_body(&body)?;
    let p = state
        .store
        .update_platform(&name, &spec, &who.actor())
        .await?;
    Ok(Json(platform_json(&p)))
}

async fn delete_platform(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    state.store.delete_platform(&name, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ResolveQuery {
    url: Option<String>,
}

async fn resolve_platform(
    State(state): State<AppState>,
    q: Result<Query<ResolveQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let url = q
        .url
        .ok_or_else(|| ApiError::bad_request("url: query parameter required"))?;
    let canonical =
        canonicalize(&url).map_err(|e| ApiError::bad_request(format!("invalid url: {e}")))?;
    let p = state.store.platform_for_url(&canonical).await?;
    Ok(Json(json!({
        "canonical_url": canonical.as_str(),
        "platform": p.as_ref().map(platform_json),
    })))
}

// ---------------------------------------------------------------- campaigns

fn campaign_json(c: &Campaign) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "starts_at": opt_time(c.starts_at),
        "ends_at": opt_time(c.ends_at),
        "created_at": time(c.created_at),
    })
}

async fn list_campaigns(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.list_campaigns().await?;
    Ok(Json(
        json!({ "campaigns": all.iter().map(campaign_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCampaign {
    name: String,
    starts_at: Option<String>,
    ends_at: Option<String>,
}

fn parse_time(field: &str, s: Option<&str>) -> ApiResult<Option<Millis>> {
    s.map(|s| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| ApiError::bad_request(format!("{field}: not an RFC 3339 time: {e}")))
    })
    .transpose()
}

async fn create_campaign(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateCampaign = json_body(&body)?;
    let new = NewCampaign {
        name: req.name,
        starts_at: parse_time("starts_at", req.starts_at.as_deref())?,
        ends_at: parse_time("ends_at", req.ends_at.as_deref())?,
    };
    let c = state.store.create_campaign(&new, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(campaign_json(&c))).into_response())
}

// ---------------------------------------------------------------- items

fn report_json(r: &OtherReport) -> Value {
    json!({
        "item_id": r.item_id,
        "org_id": r.org_id,
        "org": r.org,
        "reported_at": time(r.reported_at),
        "reason": r.reason,
    })
}

pub fn item_json(v: &ItemView) -> Value {
    let i = &v.item;
    json!({
        "id": i.id,
        "url": i.url,
        "canonical_url": i.canonical_url,
        "status": i.status,
        "org_id": i.org_id,
        "org": i.org,
        "submitted_by": i.submitted_by,
        "user_id": i.user_id,
        "campaign_id": i.campaign_id,
        "campaign": i.campaign,
        "platform_id": i.platform_id,
        "platform": i.platform,
        "blob_sha256": i.blob_sha256,
        "content_type": i.content_type,
        "note": i.note,
        "duplicate_of": i.duplicate_of,
        "created_at": time(i.created_at),
        "signals": i.signals.iter().map(|s| json!({
            "type": s.signal_type().as_str(),
            "value": s.value(),
        })).collect::<Vec<_>>(),
        "matches": i.matches,
        "other_reports": v.other_reports.iter().map(report_json).collect::<Vec<_>>(),
    })
}

/// The answer to a submission: the item, whether it was a duplicate, and
/// who reported it (or its content) before.
pub fn added_json(added: &AddedItem, capture_error: Option<&str>) -> Value {
    let view = ItemView {
        item: added.item.clone(),
        other_reports: added.already_reported_by.clone(),
    };
    let mut v = item_json(&view);
    v["duplicate"] = json!(added.duplicate);
    v["already_reported_by"] = json!(
        added
            .already_reported_by
            .iter()
            .map(report_json)
            .collect::<Vec<_>>()
    );
    v["capture_error"] = json!(capture_error);
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitJson {
    url: String,
    campaign: Option<String>,
    note: Option<String>,
}

async fn campaign_id(store: &Store, name: Option<&str>) -> ApiResult<Option<i64>> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => Ok(Some(
            store
                .campaign(n)
                .await?
                .ok_or_else(|| ApiError::bad_request(format!("campaign {n:?} not found")))?
                .id,
        )),
    }
}

/// A multipart submission: text fields `url`, `campaign`, `note`, and one
/// file part `file`.
async fn read_multipart(mut multipart: Multipart) -> ApiResult<(SubmitJson, Vec<u8>)> {
    let mut url = None;
    let mut campaign = None;
    let mut note = None;
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::bad_request("only one file part allowed"));
            }
            file = Some(data.to_vec());
            continue;
        }
        let text = String::from_utf8(data.to_vec())
            .map_err(|_| ApiError::bad_request(format!("form field {name:?} is not UTF-8")))?;
        match name.as_str() {
            "url" => url = Some(text),
            "campaign" => campaign = Some(text),
            "note" => note = Some(text),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown form field {other:?}: expected url, campaign, note and file"
                )));
            }
        }
    }
    let url = url.ok_or_else(|| ApiError::unprocessable("url: form field required"))?;
    let file = file.ok_or_else(|| ApiError::unprocessable("file: form part required"))?;
    Ok((
        SubmitJson {
            url,
            campaign,
            note,
        },
        file,
    ))
}

fn capture_error(e: CaptureError) -> ApiError {
    match e {
        CaptureError::InvalidUrl(_) | CaptureError::Refused(_) | CaptureError::Empty => {
            ApiError::bad_request(e.to_string())
        }
        CaptureError::Store(s) => s.into(),
        CaptureError::Internal(m) => {
            tracing::error!(error = %m, "capture failed");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "capture failed")
        }
    }
}

async fn submit_item(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    req: Request,
) -> ApiResult<Response> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (fields, bytes) = if is_multipart {
        let multipart = Multipart::from_request(req, &state)
            .await
            .map_err(rejection)?;
        let (fields, file) = read_multipart(multipart).await?;
        (fields, Some(file))
    } else {
        let body = axum::body::Bytes::from_request(req, &state)
            .await
            .map_err(rejection)?;
        (json_body::<SubmitJson>(&body)?, None)
    };
    let campaign_id = campaign_id(&state.store, fields.campaign.as_deref()).await?;
    state.ensure_ready()?;
    let capturer = Capturer {
        store: &state.store,
        blobs: state.blobs.as_ref(),
        fetcher: &state.fetcher,
        matcher: &state.matcher,
        hash: state.config.hash,
        pdq_radius: state.config.pdq_radius,
    };
    let submission = Submission {
        url: fields.url,
        bytes,
        campaign_id,
        note: fields.note,
        org_id: who.org_id,
        user_id: who.user.as_ref().map(|u| u.id),
    };
    let Captured {
        added,
        capture_error: why,
    } = capturer
        .capture(submission, &who.actor())
        .await
        .map_err(capture_error)?;
    let status = if added.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(added_json(&added, why.as_deref()))).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    campaign: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    org: Option<String>,
    #[serde(default)]
    first_only: bool,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list_items(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(rejection)?;
    let mut filter = ItemFilter {
        campaign_id: campaign_id(&state.store, q.campaign.as_deref()).await?,
        first_reports_only: q.first_only,
        after: q.after.unwrap_or(0),
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
        ..ItemFilter::default()
    };
    if let Some(name) = &q.platform {
        let p = state
            .store
            .platform(name)
            .await?
            .ok_or_else(|| ApiError::bad_request(format!("platform {name:?} not found")))?;
        filter.platform_id = Some(p.id);
    }
    if let Some(s) = &q.status {
        filter.status = Some(s.parse::<ItemStatus>().map_err(ApiError::bad_request)?);
    }
    if let Some(name) = &q.org {
        let o = state
            .store
            .organisation_by_name(name)
            .await?
            .ok_or_else(|| ApiError::bad_request(format!("organisation {name:?} not found")))?;
        filter.org_id = Some(o.id);
    }
    let items = state.store.list_items(&filter, viewer_of(&who)).await?;
    let next = (items.len() as i64 == filter.limit)
        .then(|| items.last().map(|v| v.item.id))
        .flatten();
    Ok(Json(json!({
        "items": items.iter().map(item_json).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

async fn get_item(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let view = state
        .store
        .item(id, viewer_of(&who))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("item {id} not found")))?;
    Ok(Json(item_json(&view)))
}
