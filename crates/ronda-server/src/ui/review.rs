//! Review: the organisation's queue, "claim next", one claimed item with
//! its details behind the viewer's wellness preferences, and the decision
//! form (verdict buttons with keyboard shortcuts, TCO Art. 2(7) reason,
//! group, outlet, severity, language, notes). The rules are the store's
//! and the API's: the same roles ([`crate::ITEMS`] to see the queue,
//! [`crate::REVIEW`] to claim and decide) and the same item visibility.

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use ronda_store::{
    DEFAULT_LEASE_MS, ItemStatus, Millis, NewAssessment, Store, Verdict, parse_tco_reason,
};
use serde::Deserialize;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout::{self, or_dash};
use crate::{AppState, CURATE, REVIEW};

/// Queue entries shown.
const SHOWN: i64 = 200;

/// The TCO Art. 2(7) reasons, as the store spells them, with labels.
pub(crate) const TCO_REASONS: [(&str, &str); 5] = [
    (
        "incites",
        "(a) incites the commission of terrorist offences",
    ),
    (
        "solicits_to_commit",
        "(b) solicits a person or group to commit terrorist offences",
    ),
    (
        "solicits_to_participate",
        "(c) solicits participation in a terrorist group's activities",
    ),
    (
        "instruction",
        "(d) instructs on weapons, explosives or methods",
    ),
    ("threat", "(e) threatens to commit a terrorist offence"),
];

/// The verdict buttons: verdict, label, shortcut key (not one the
/// navigation uses).
const VERDICTS: [(Verdict, &str, &str); 3] = [
    (Verdict::TerroristContent, "Terrorist content", "t"),
    (Verdict::NotTerroristContent, "Not terrorist content", "o"),
    (Verdict::Escalate, "Escalate", "e"),
];

/// The start of the store's current UTC day.
fn today_start(store: &Store) -> Millis {
    let now = store.now();
    now - now.rem_euclid(86_400_000)
}

async fn reviewed_today(state: &AppState, viewer: &Viewer) -> UiResult<i64> {
    Ok(state
        .store
        .reviews_since(&viewer.actor(), today_start(&state.store))
        .await?)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    empty: bool,
    decided: Option<i64>,
    #[serde(default)]
    released: bool,
}

pub(crate) async fn queue(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    let tasks = state.store.review_queue(viewer.items(), 0, SHOWN).await?;
    let today = reviewed_today(&state, &viewer).await?;
    let now = state.store.now();
    let body = html! {
        h1 { "Review queue" }
        p #reviewed-today { "Reviewed today: " strong { (today) } }
        @if let Some(id) = q.decided {
            p.flash #decided { "Decision on item " (id) " recorded. The queue is empty." }
        }
        @if q.empty {
            p.flash #queue-empty { "Nothing to claim: the queue is empty or every item is claimed." }
        }
        @if q.released {
            p.flash #released { "Released." }
        }
        @if viewer.may(REVIEW) {
            form method="post" action="/ui/review/claim" {
                (layout::csrf_field(&viewer))
                button #claim type="submit" data-key="c" { "Claim next " kbd { "c" } }
            }
        }
        @if tasks.is_empty() {
            p.muted #no-tasks { "The queue is empty." }
        } @else {
            table #queue {
                thead {
                    tr {
                        th { "item" } th { "priority" } th { "URL" } th { "platform" }
                        th { "enqueued" } th { "claimed by" }
                    }
                }
                tbody {
                    @for t in &tasks {
                        @let claimed = t.claimed_by.as_deref()
                            .filter(|_| t.claim_expires_at.is_some_and(|e| e > now));
                        tr {
                            td { a href={ "/ui/items/" (t.item.id) } { (t.item.id) } }
                            td { (t.priority) }
                            td.url { (t.item.url) }
                            td { (or_dash(t.item.platform.as_deref())) }
                            td { (layout::time(t.enqueued_at)) }
                            td {
                                @if let Some(c) = claimed {
                                    (c)
                                    @if c == viewer.actor().0 && viewer.may(REVIEW) {
                                        " (" a href={ "/ui/review/" (t.item.id) } { "continue" } ")"
                                    }
                                } @else { "-" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Review", "/ui/review", body))
}

/// Claims the viewer's next item and opens it.
pub(crate) async fn claim(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Response> {
    let task = state
        .store
        .claim_next_review(viewer.items(), DEFAULT_LEASE_MS, &viewer.actor())
        .await?;
    Ok(match task {
        Some(t) => Redirect::to(&format!("/ui/review/{}", t.item.id)).into_response(),
        None => Redirect::to("/ui/review?empty=true").into_response(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    reveal: bool,
    decided: Option<i64>,
}

/// One item to review: details, media behind the preferences, the form.
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
    let prefs = state.store.preferences(viewer.session.user.id).await?;
    let today = reviewed_today(&state, &viewer).await?;
    let assessments = state.store.assessments(id, viewer.items()).await?;
    let i = &view.item;
    let has_media = i.blob_sha256.is_some() && state.blobs.is_some();
    let body = html! {
        h1 { "Review item " (i.id) }
        p #reviewed-today { "Reviewed today: " strong { (today) } }
        @if let Some(prev) = q.decided {
            p.flash #decided { "Decision on item " (prev) " recorded; here is your next item." }
        }
        dl.fields {
            dt { "URL" } dd.mono #item-url { (i.url) }
            dt { "status" } dd #item-status { (i.status) }
            dt { "platform" } dd { (or_dash(i.platform.as_deref())) }
            dt { "campaign" } dd { (or_dash(i.campaign.as_deref())) }
            dt { "organisation" } dd { (or_dash(i.org.as_deref())) }
            dt { "reported" } dd { (layout::time(i.created_at)) }
            dt { "note" } dd #item-note { (or_dash(i.note.as_deref())) }
        }
        p { a href={ "/ui/items/" (i.id) } { "Full item page (signals, matches, other reports)" } }
        @if has_media {
            h2 { "Captured content" }
            (super::items::media_block(i.id, &format!("/ui/review/{}", i.id), i.content_type.as_deref(), &prefs, q.reveal))
        }
        h2 { "Bank matches" }
        @if i.matches.is_empty() {
            p.muted { "None." }
        } @else {
            ul #matches {
                @for m in &i.matches {
                    li { "bank " (m.bank_id) ", entry " (m.entry_id) ", " (m.signal_type.as_str())
                        ", " (m.distance.map_or_else(|| "exact".to_owned(), |d| format!("distance {d}"))) }
                }
            }
        }
        h2 { "Other reports" }
        @if view.other_reports.is_empty() {
            p.muted { "No one else reported this URL or content." }
        } @else {
            ul #other-reports {
                @for r in &view.other_reports {
                    li { "#" (r.item_id) " by " (or_dash(r.org.as_deref())) ", " (layout::time(r.reported_at)) }
                }
            }
        }
        h2 { "Signals" }
        @if i.signals.is_empty() {
            p.muted { "None." }
        } @else {
            ul #signals {
                @for s in &i.signals {
                    li.mono { (s.signal_type().as_str()) ": " (s.value()) }
                }
            }
        }
        @if !assessments.is_empty() {
            h2 { "Earlier decisions" }
            ul #assessments {
                @for a in &assessments {
                    li { (a.verdict) " by " (a.reviewer) ", " (layout::time(a.decided_at)) }
                }
            }
        }
        @if matches!(i.status, ItemStatus::Assessed) && viewer.may(CURATE) {
            (refer_form(&viewer, i.id))
        }
        h2 { "Decision" }
        form.stacked #decide method="post" action={ "/ui/review/" (i.id) "/decide" } {
            (layout::csrf_field(&viewer))
            label for="reason" { "TCO Art. 2(7) reason (for terrorist content)" }
            select #reason name="reason" {
                option value="" { "(none)" }
                @for (value, label) in TCO_REASONS {
                    option value=(value) { (label) }
                }
            }
            label for="group" { "Group" }
            input #group type="text" name="group" maxlength="200";
            label for="outlet" { "Outlet" }
            input #outlet type="text" name="outlet" maxlength="200";
            label for="severity" { "Severity (1–5)" }
            input #severity type="number" name="severity" min="1" max="5";
            label for="language" { "Language" }
            input #language type="text" name="language" maxlength="200";
            label for="notes" { "Notes (seen only by your organisation)" }
            textarea #notes name="notes" rows="3" {}
            p.buttons {
                @for (verdict, label, key) in VERDICTS {
                    button type="submit" name="verdict" value=(verdict.as_str())
                        id={ "verdict-" (verdict.as_str()) } data-key=(key) {
                        (label) " " kbd { (key) }
                    }
                    " "
                }
            }
        }
        form method="post" action={ "/ui/review/" (i.id) "/release" } {
            (layout::csrf_field(&viewer))
            button #release type="submit" { "Release" }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Review item {id}"),
        "/ui/review",
        body,
    ))
}

/// The "refer" button: a referral to the item's platform, queued.
pub(crate) fn refer_form(viewer: &Viewer, item_id: i64) -> maud::Markup {
    html! {
        form #refer method="post" action="/ui/referrals" {
            (layout::csrf_field(viewer))
            input type="hidden" name="item_id" value=(item_id);
            button type="submit" { "Refer to its platform" }
        }
    }
}

/// The decision form's fields (blank means not given).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DecideForm {
    verdict: Option<String>,
    reason: Option<String>,
    group: Option<String>,
    outlet: Option<String>,
    severity: Option<String>,
    language: Option<String>,
    notes: Option<String>,
}

fn blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl DecideForm {
    fn assessment(self) -> UiResult<NewAssessment> {
        let verdict = blank(self.verdict)
            .ok_or_else(|| UiError::bad_request("choose a verdict"))?
            .parse::<Verdict>()
            .map_err(UiError::bad_request)?;
        let reason = blank(self.reason)
            .map(|r| parse_tco_reason(&r))
            .transpose()
            .map_err(UiError::bad_request)?;
        let severity = blank(self.severity)
            .map(|s| {
                s.parse::<u8>().map_err(|_| {
                    UiError::bad_request(format!("severity {s:?} is not a number from 1 to 5"))
                })
            })
            .transpose()?;
        Ok(NewAssessment {
            verdict: Some(verdict),
            reason,
            group: blank(self.group),
            outlet: blank(self.outlet),
            severity,
            language: blank(self.language),
            notes: blank(self.notes),
        })
    }
}

/// Records the decision, then claims the viewer's next item (or goes back
/// to the queue when there is none).
pub(crate) async fn decide(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    form: Result<Form<DecideForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(f) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let decision = f.assessment()?;
    state
        .store
        .decide_review(id, &decision, viewer.items(), &viewer.actor())
        .await?;
    let next = state
        .store
        .claim_next_review(viewer.items(), DEFAULT_LEASE_MS, &viewer.actor())
        .await?;
    Ok(match next {
        Some(t) => Redirect::to(&format!("/ui/review/{}?decided={id}", t.item.id)).into_response(),
        None => Redirect::to(&format!("/ui/review?decided={id}")).into_response(),
    })
}

/// Gives up the viewer's claim on the item.
pub(crate) async fn release(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> UiResult<Response> {
    // Only items the viewer sees (another organisation's is "not found").
    state
        .store
        .item(id, viewer.items())
        .await?
        .ok_or_else(|| UiError::not_found(format!("item {id} not found")))?;
    state.store.release_review(id, &viewer.actor()).await?;
    Ok(Redirect::to("/ui/review?released=true").into_response())
}
