//! Items: the list (search by URL, filters, paging), one item in detail
//! with its captured media behind the viewer's wellness preferences, the
//! media itself, and the submission form (the API's capture).
//!
//! Item URLs are shown as text, never as links: opening one would show
//! the content unblurred, outside Ronda.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use ronda_hash::Sha256Digest;
use ronda_store::{DedupReason, ItemFilter, ItemStatus, ItemView, ItemViewer, WellnessPrefs};
use serde::Deserialize;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout::{self, or_dash};
use super::session::enc;
use crate::collect::{CaptureError, Captured, Capturer, Submission};
use crate::{AppState, CURATE};

/// Items per page.
const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    campaign: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    org: Option<String>,
    after: Option<i64>,
}

/// A query value, or `None` when blank.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    let store = &state.store;
    let campaigns = store.list_campaigns().await?;
    let platforms = store.list_platforms().await?;
    let everyone = viewer.items() == ItemViewer::Everyone;
    let orgs = if everyone {
        store.list_organisations().await?
    } else {
        Vec::new()
    };
    let mut filter = ItemFilter {
        after: q.after.unwrap_or(0).max(0),
        limit: PAGE,
        ..ItemFilter::default()
    };
    if let Some(name) = given(&q.campaign) {
        let c = campaigns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| UiError::bad_request(format!("campaign {name:?} not found")))?;
        filter.campaign_id = Some(c.id);
    }
    if let Some(name) = given(&q.platform) {
        let p = platforms
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| UiError::bad_request(format!("platform {name:?} not found")))?;
        filter.platform_id = Some(p.id);
    }
    if let Some(s) = given(&q.status) {
        filter.status = Some(s.parse::<ItemStatus>().map_err(UiError::bad_request)?);
    }
    if let Some(name) = given(&q.org) {
        let o = store
            .organisation_by_name(name)
            .await?
            .ok_or_else(|| UiError::bad_request(format!("organisation {name:?} not found")))?;
        filter.org_id = Some(o.id);
    }
    let search = given(&q.q).unwrap_or("");
    let items = store.search_items(&filter, search, viewer.items()).await?;
    let next = (items.len() as i64 == PAGE)
        .then(|| items.last().map(|v| v.item.id))
        .flatten();
    let next_link = next.map(|after| {
        let mut link = format!("/ui/items?after={after}");
        for (k, v) in [
            ("q", &q.q),
            ("campaign", &q.campaign),
            ("platform", &q.platform),
            ("status", &q.status),
            ("org", &q.org),
        ] {
            if let Some(v) = given(v) {
                link.push_str(&format!("&{k}={}", enc(v)));
            }
        }
        link
    });
    let selected = |v: &Option<String>, x: &str| given(v) == Some(x);
    let body = html! {
        h1 { "Items" }
        @if viewer.may(CURATE) {
            p { a.button href="/ui/items/new" { "Submit an item" } }
        }
        form.filters method="get" action="/ui/items" role="search" {
            label { "URL contains" br;
                input type="search" name="q" value=(search) data-key="/"; }
            label { "Campaign" br;
                select name="campaign" {
                    option value="" { "any" }
                    @for c in &campaigns {
                        option value=(c.name) selected[selected(&q.campaign, &c.name)] { (c.name) }
                    }
                }
            }
            label { "Platform" br;
                select name="platform" {
                    option value="" { "any" }
                    @for p in &platforms {
                        option value=(p.name()) selected[selected(&q.platform, p.name())] { (p.name()) }
                    }
                }
            }
            label { "Status" br;
                select name="status" {
                    option value="" { "any" }
                    @for s in ItemStatus::ALL {
                        option value=(s) selected[selected(&q.status, s.as_str())] { (s) }
                    }
                }
            }
            @if everyone {
                label { "Organisation" br;
                    select name="org" {
                        option value="" { "any" }
                        @for o in &orgs {
                            option value=(o.name) selected[selected(&q.org, &o.name)] { (o.name) }
                        }
                    }
                }
            }
            button type="submit" { "Search" }
        }
        @if items.is_empty() {
            p.muted #no-items { "No items match." }
        } @else {
            table #items {
                thead {
                    tr {
                        th { "#" } th { "URL" } th { "platform" } th { "campaign" }
                        th { "organisation" } th { "status" } th { "reported" }
                    }
                }
                tbody {
                    @for v in &items {
                        (item_row(v))
                    }
                }
            }
        }
        @if let Some(link) = next_link {
            p.pager { a href=(link) rel="next" { "Next page →" } }
        }
    };
    Ok(layout::page(&viewer, "Items", "/ui/items", body))
}

fn item_row(v: &ItemView) -> Markup {
    let i = &v.item;
    html! {
        tr {
            td { a href={ "/ui/items/" (i.id) } { (i.id) } }
            td.url { a href={ "/ui/items/" (i.id) } { (i.url) } }
            td { (or_dash(i.platform.as_deref())) }
            td { (or_dash(i.campaign.as_deref())) }
            td { (or_dash(i.org.as_deref())) }
            td {
                (i.status)
                @if let Some(first) = i.duplicate_of {
                    " (duplicate of " a href={ "/ui/items/" (first) } { "#" (first) } ")"
                }
            }
            td { (layout::time(i.created_at)) }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    reveal: bool,
    #[serde(default)]
    submitted: bool,
    #[serde(default)]
    capture_failed: bool,
}

fn reason(r: DedupReason) -> &'static str {
    match r {
        DedupReason::Url => "same URL",
        DedupReason::Content => "same content",
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    q: Result<Query<ShowQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    let view = state
        .store
        .item(id, viewer.items())
        .await?
        .ok_or_else(|| UiError::not_found(format!("item {id} not found")))?;
    let banks: HashMap<i64, String> = state
        .store
        .list_banks()
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let prefs = state.store.preferences(viewer.session.user.id).await?;
    let i = &view.item;
    let has_media = i.blob_sha256.is_some() && state.blobs.is_some();
    let body = html! {
        h1 { "Item " (i.id) }
        @if q.submitted {
            p.flash #submitted {
                @if i.duplicate_of.is_some() {
                    "Recorded. This URL was already reported in this campaign: it will be referred once."
                } @else {
                    "Submitted."
                }
            }
        }
        @if q.capture_failed {
            p.flash.bad { "The URL could not be captured; the item is recorded without content." }
        }
        dl.fields {
            dt { "URL" } dd.mono #item-url { (i.url) }
            dt { "canonical URL" } dd.mono { (i.canonical_url) }
            dt { "status" } dd #item-status { (i.status) }
            dt { "platform" } dd {
                @if let Some(p) = &i.platform {
                    a href={ "/ui/platforms/" (enc(p)) } { (p) }
                } @else { "-" }
            }
            dt { "campaign" } dd { (or_dash(i.campaign.as_deref())) }
            dt { "organisation" } dd { (or_dash(i.org.as_deref())) }
            dt { "submitted by" } dd { (i.submitted_by) }
            dt { "reported" } dd { (layout::time(i.created_at)) }
            @if let Some(first) = i.duplicate_of {
                dt { "duplicate of" } dd { a href={ "/ui/items/" (first) } { "#" (first) } }
            }
            dt { "content" } dd { (or_dash(i.content_type.as_deref())) }
            dt { "note" } dd #item-note { (or_dash(i.note.as_deref())) }
        }
        @if i.status == ItemStatus::Assessed && viewer.may(CURATE) {
            (super::review::refer_form(&viewer, i.id))
        }
        @if has_media {
            h2 { "Captured content" }
            (media_block(i.id, &format!("/ui/items/{}", i.id), i.content_type.as_deref(), &prefs, q.reveal))
        }
        h2 { "Bank matches" }
        @if i.matches.is_empty() {
            p.muted { "None." }
        } @else {
            table #matches {
                thead { tr { th { "bank" } th { "entry" } th { "signal" } th { "distance" } } }
                tbody {
                    @for m in &i.matches {
                        tr {
                            td { (banks.get(&m.bank_id).map_or("?", String::as_str)) }
                            td { (m.entry_id) }
                            td { (m.signal_type.as_str()) }
                            td { (m.distance.map_or_else(|| "exact".to_owned(), |d| d.to_string())) }
                        }
                    }
                }
            }
        }
        h2 { "Other reports" }
        @if view.other_reports.is_empty() {
            p.muted #no-other-reports { "No one else reported this URL or content." }
        } @else {
            table #other-reports {
                thead { tr { th { "item" } th { "organisation" } th { "reported" } th { "why" } } }
                tbody {
                    @for r in &view.other_reports {
                        tr {
                            td {
                                @if viewer.items().sees(r.org_id) {
                                    a href={ "/ui/items/" (r.item_id) } { "#" (r.item_id) }
                                } @else { "#" (r.item_id) }
                            }
                            td { (or_dash(r.org.as_deref())) }
                            td { (layout::time(r.reported_at)) }
                            td { (reason(r.reason)) }
                        }
                    }
                }
            }
        }
        h2 { "Signals" }
        @if i.signals.is_empty() {
            p.muted { "None." }
        } @else {
            table #signals {
                thead { tr { th { "type" } th { "value" } } }
                tbody {
                    @for s in &i.signals {
                        tr { td { (s.signal_type().as_str()) } td.mono { (s.value()) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Item {id}"),
        "/ui/items",
        body,
    ))
}

/// Captured media behind the viewer's preferences: blurred and grey until
/// revealed (a click with the script; without it, a link that reloads
/// `page` with `?reveal=true`).
pub(crate) fn media_block(
    id: i64,
    page: &str,
    content_type: Option<&str>,
    prefs: &WellnessPrefs,
    reveal: bool,
) -> Markup {
    let src = format!("/ui/items/{id}/media");
    let reveal_href = format!("{page}?reveal=true");
    let blur = prefs.blur_media && !reveal;
    let mut class = String::from("media");
    if blur {
        class.push_str(" blur");
    }
    if prefs.greyscale {
        class.push_str(" grey");
    }
    match content_type {
        Some("photo") => html! {
            a.reveal #media-reveal href=(reveal_href) title="Reveal" {
                img #media src=(src) class=(class) alt="captured picture";
                @if blur { span.hint { "Blurred: click to reveal." } }
            }
        },
        Some("video") => html! {
            div.reveal #media-reveal {
                video #media src=(src) class=(class) controls preload="none"
                    muted[prefs.mute_video] autoplay[!prefs.pause_video && !blur] {}
                @if blur { a.hint href=(reveal_href) { "Blurred: click to reveal." } }
            }
        },
        _ => html! {
            p { a #media href=(src) { "Open the captured file" } }
        },
    }
}

/// What a browser should take captured bytes for, from their first bytes;
/// anything unknown is an opaque download.
fn sniff(bytes: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if starts(b"BM") {
        "image/bmp"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        "video/mp4"
    } else if starts(b"\x1a\x45\xdf\xa3") {
        "video/webm"
    } else if std::str::from_utf8(&bytes[..bytes.len().min(4096)]).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// The captured bytes of an item the viewer may see, with headers that
/// keep a browser from running them: the sniffed type, `nosniff`, and a
/// CSP that allows nothing (a sandbox, no scripts, no fetches).
pub(crate) async fn media(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> UiResult<Response> {
    let view = state
        .store
        .item(id, viewer.items())
        .await?
        .ok_or_else(|| UiError::not_found(format!("item {id} not found")))?;
    let (Some(sha), Some(blobs)) = (view.item.blob_sha256, state.blobs.clone()) else {
        return Err(UiError::not_found(format!(
            "item {id} has no captured content"
        )));
    };
    let digest: Sha256Digest = sha
        .parse()
        .map_err(|_| UiError::not_found(format!("item {id} has no captured content")))?;
    let bytes = tokio::task::spawn_blocking(move || blobs.get(&digest))
        .await
        .map_err(|_| UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))??
        .ok_or_else(|| UiError::not_found(format!("item {id}'s content is not archived")))?;
    let content_type = sniff(&bytes);
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, "inline"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- submit

pub(crate) async fn new_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let campaigns = state.store.list_campaigns().await?;
    let body = html! {
        h1 { "Submit an item" }
        form.stacked #submit method="post" action="/ui/items" enctype="multipart/form-data" {
            (layout::csrf_field(&viewer))
            label for="url" { "URL where the content was found" }
            input #url type="url" name="url" required;
            label for="campaign" { "Campaign" }
            select #campaign name="campaign" {
                option value="" { "(none)" }
                @for c in &campaigns {
                    option value=(c.name) { (c.name) }
                }
            }
            label for="file" { "The captured file (optional: without one, Ronda fetches the URL)" }
            input #file type="file" name="file";
            label for="note" { "Note (seen only by your organisation)" }
            textarea #note name="note" rows="4" {}
            p { button type="submit" { "Submit" } }
        }
    };
    Ok(layout::page(
        &viewer,
        "Submit an item",
        "/ui/items/new",
        body,
    ))
}

/// The submission form's fields.
#[derive(Debug, Default)]
struct SubmitForm {
    url: String,
    campaign: Option<String>,
    note: Option<String>,
    file: Option<Vec<u8>>,
}

/// Reads the form; its first field must be the session's CSRF token, so
/// that nothing else is read from a forged request.
async fn read_submit(mut multipart: Multipart, viewer: &Viewer) -> UiResult<SubmitForm> {
    let bad = |e: axum::extract::multipart::MultipartError| UiError::new(e.status(), e.body_text());
    let first = multipart.next_field().await.map_err(bad)?;
    match first {
        Some(f) if f.name() == Some("csrf") => {
            let token = f.text().await.map_err(bad)?;
            viewer.check_csrf(&token)?;
        }
        _ => viewer.check_csrf("")?,
    }
    let mut form = SubmitForm::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let data = field.bytes().await.map_err(bad)?;
        let text = || {
            String::from_utf8(data.to_vec())
                .map_err(|_| UiError::bad_request(format!("form field {name:?} is not UTF-8")))
        };
        match name.as_str() {
            "url" => form.url = text()?,
            "campaign" => form.campaign = Some(text()?).filter(|c| !c.trim().is_empty()),
            "note" => form.note = Some(text()?).filter(|n| !n.trim().is_empty()),
            // A form sent without a file chosen has an empty, nameless part.
            "file" if data.is_empty() && file_name.as_deref().unwrap_or("").is_empty() => {}
            "file" => form.file = Some(data.to_vec()),
            other => {
                return Err(UiError::bad_request(format!(
                    "unknown form field {other:?}"
                )));
            }
        }
    }
    Ok(form)
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    req: Request,
) -> UiResult<Response> {
    let multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|e| UiError::bad_request(e.body_text()))?;
    let form = read_submit(multipart, &viewer).await?;
    if form.url.trim().is_empty() {
        return Err(UiError::bad_request("a URL is required"));
    }
    let campaign_id = match form.campaign.as_deref().map(str::trim) {
        None => None,
        Some(name) => Some(
            state
                .store
                .campaign(name)
                .await?
                .ok_or_else(|| UiError::bad_request(format!("campaign {name:?} not found")))?
                .id,
        ),
    };
    if !state.matcher.is_ready() {
        return Err(UiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the index is still loading; try again in a moment",
        ));
    }
    let capturer = Capturer {
        store: &state.store,
        blobs: state.blobs.as_ref(),
        fetcher: &state.fetcher,
        matcher: &state.matcher,
        hash: state.config.hash,
        pdq_radius: state.config.pdq_radius,
    };
    let submission = Submission {
        url: form.url,
        bytes: form.file,
        campaign_id,
        note: form.note,
        org_id: viewer.principal.org_id,
        user_id: Some(viewer.session.user.id),
    };
    let Captured {
        added,
        capture_error,
    } = capturer
        .capture(submission, &viewer.actor())
        .await
        .map_err(|e| match e {
            CaptureError::InvalidUrl(_) | CaptureError::Refused(_) | CaptureError::Empty => {
                UiError::bad_request(e.to_string())
            }
            CaptureError::Store(s) => s.into(),
            CaptureError::Internal(m) => {
                tracing::error!(error = %m, "capture failed");
                UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "capture failed")
            }
        })?;
    let failed = if capture_error.is_some() {
        "&capture_failed=true"
    } else {
        ""
    };
    Ok(Redirect::to(&format!(
        "/ui/items/{}?submitted=true{failed}",
        added.item.id
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), "image/png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), "image/jpeg");
        assert_eq!(sniff(b"GIF89a.."), "image/gif");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), "video/mp4");
        assert_eq!(
            sniff(b"<script>alert(1)</script>"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(sniff(b"\xff\xfe\x00\x01\x80"), "application/octet-stream");
    }
}
