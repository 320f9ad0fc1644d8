//! Referrals and removal orders: the list with filters (an order's
//! deadline with the time left, overdue ones highlighted), one referral
//! with its package, history, delivery attempts and responses, and the
//! forms to refer an assessed item, mark a hand-delivered referral sent,
//! and enter an Annex II/III response by hand. Who sees what is the API's
//! rule ([`crate::referral_viewer`]).

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use ronda_store::{
    ChannelKind, ImpossibilityReason, Measure, Millis, NewReferral, NewResponse, Referral,
    ReferralFilter, ReferralKind, ReferralStatus, ResponseKind, ResponseSource,
};
use serde::Deserialize;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout;
use super::session::enc;
use crate::{AppState, CURATE, RESPOND, referral_viewer};

/// Referrals per page.
const PAGE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    campaign: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    after: Option<i64>,
    created: Option<i64>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// "12 min left", "3 min overdue": whole minutes and seconds, from now.
pub(crate) fn time_left(deadline: Millis, now: Millis) -> String {
    let secs = (deadline - now) / 1000;
    let (abs, suffix) = if secs >= 0 {
        (secs, "left")
    } else {
        (-secs, "overdue")
    };
    let (h, m, s) = (abs / 3600, (abs % 3600) / 60, abs % 60);
    if h > 0 {
        format!("{h} h {m:02} min {suffix}")
    } else {
        format!("{m} min {s:02} s {suffix}")
    }
}

fn is_overdue(r: &Referral, now: Millis) -> bool {
    r.order
        .as_ref()
        .and_then(|o| o.clock.as_ref())
        .is_some_and(|c| c.is_overdue(now))
        && !r.status.is_final()
}

/// The deadline cell: the time, and the time left as the server saw it
/// (the script counts it down live from `data-deadline`).
fn deadline_cell(r: &Referral, now: Millis) -> Markup {
    let deadline = r
        .order
        .as_ref()
        .and_then(|o| o.clock.as_ref())
        .and_then(|c| c.deadline);
    html! {
        @if let Some(d) = deadline {
            (layout::time(d)) " "
            span.clock data-deadline=(d) data-now=(now) { (time_left(d, now)) }
        } @else if r.kind == ReferralKind::RemovalOrder {
            "-"
        }
    }
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
    let mut filter = ReferralFilter {
        after: q.after.unwrap_or(0).max(0),
        limit: PAGE,
        ..ReferralFilter::default()
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
        filter.status = Some(s.parse::<ReferralStatus>().map_err(UiError::bad_request)?);
    }
    if let Some(k) = given(&q.kind) {
        filter.kind = Some(k.parse::<ReferralKind>().map_err(UiError::bad_request)?);
    }
    let all = store
        .list_referrals(&filter, referral_viewer(&viewer.principal))
        .await?;
    let now = store.now();
    let next_link = (all.len() as i64 == PAGE)
        .then(|| all.last().map(|r| r.id))
        .flatten()
        .map(|after| {
            let mut link = format!("/ui/referrals?after={after}");
            for (k, v) in [
                ("campaign", &q.campaign),
                ("platform", &q.platform),
                ("status", &q.status),
                ("kind", &q.kind),
            ] {
                if let Some(v) = given(v) {
                    link.push_str(&format!("&{k}={}", enc(v)));
                }
            }
            link
        });
    let selected = |v: &Option<String>, x: &str| given(v) == Some(x);
    let orders = selected(&q.kind, ReferralKind::RemovalOrder.as_str());
    let title = if orders {
        "Removal orders"
    } else {
        "Referrals"
    };
    let body = html! {
        h1 { (title) }
        @if let Some(n) = q.created {
            p.flash #created { (n) " referral(s) created." }
        }
        p {
            a href="/ui/referrals?kind=removal_order" { "Removal orders only" }
            " · "
            a href="/ui/referrals" { "All" }
        }
        form.filters method="get" action="/ui/referrals" role="search" {
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
                    @for s in ReferralStatus::ALL {
                        option value=(s.as_str()) selected[selected(&q.status, s.as_str())] { (s.as_str()) }
                    }
                }
            }
            label { "Kind" br;
                select name="kind" {
                    option value="" { "any" }
                    @for k in [ReferralKind::Referral, ReferralKind::RemovalOrder] {
                        option value=(k.as_str()) selected[selected(&q.kind, k.as_str())] { (k.as_str()) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if all.is_empty() {
            p.muted #no-referrals { "No referrals match." }
        } @else {
            table #referrals {
                thead {
                    tr {
                        th { "#" } th { "item" } th { "platform" } th { "kind" } th { "status" }
                        th { "channel" } th { "sent" } th { "deadline" }
                    }
                }
                tbody {
                    @for r in &all {
                        tr.overdue[is_overdue(r, now)] {
                            td { a href={ "/ui/referrals/" (r.id) } { (r.id) } }
                            td { a href={ "/ui/items/" (r.item_id) } { (r.item_id) } }
                            td { (r.platform) }
                            td { (r.kind.as_str()) }
                            td.status { (r.status.as_str()) }
                            td { (r.channel.kind.as_str()) }
                            td { (r.sent_at.map(layout::time).unwrap_or_else(|| "-".into())) }
                            td { (deadline_cell(r, now)) }
                        }
                    }
                }
            }
        }
        @if let Some(link) = next_link {
            p.pager { a href=(link) rel="next" { "Next page →" } }
        }
    };
    Ok(layout::page(&viewer, title, "/ui/referrals", body))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    sent: bool,
    #[serde(default)]
    answered: bool,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    q: Result<Query<ShowQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let Query(q) = q.map_err(|e| UiError::bad_request(e.body_text()))?;
    let d = state
        .store
        .referral(id, referral_viewer(&viewer.principal))
        .await?
        .ok_or_else(|| UiError::not_found(format!("referral {id} not found")))?;
    let now = state.store.now();
    let r = &d.referral;
    let package = serde_json::to_string_pretty(&r.package).unwrap_or_default();
    let by_hand = matches!(r.channel.kind, ChannelKind::Manual | ChannelKind::WebForm);
    let body = html! {
        h1 { "Referral " (r.id) }
        @if q.sent { p.flash #marked-sent { "Marked sent." } }
        @if q.answered { p.flash #answered { "Response recorded." } }
        div.overdue[is_overdue(r, now)] {
            dl.fields {
                dt { "item" } dd { a href={ "/ui/items/" (r.item_id) } { (r.item_id) } }
                dt { "URL" } dd.mono { (r.url) }
                dt { "platform" } dd { (r.platform) }
                dt { "kind" } dd { (r.kind.as_str()) }
                dt { "status" } dd #referral-status { (r.status.as_str()) }
                dt { "channel" } dd {
                    (r.channel.kind.as_str())
                    @if let Some(t) = &r.channel.target { " " span.mono { (t) } }
                }
                dt { "created" } dd { (layout::time(r.created_at)) " by " (r.created_by) }
                dt { "queued" } dd { (r.queued_at.map(layout::time).unwrap_or_else(|| "-".into())) }
                dt { "sent" } dd #referral-sent { (r.sent_at.map(layout::time).unwrap_or_else(|| "-".into())) }
                @if r.kind == ReferralKind::RemovalOrder {
                    dt { "deadline" } dd #deadline { (deadline_cell(r, now)) }
                }
            }
        }
        @if r.status == ReferralStatus::Draft && viewer.may(CURATE) {
            form #mark-sent method="post" action={ "/ui/referrals/" (r.id) "/sent" } {
                (layout::csrf_field(&viewer))
                @if by_hand {
                    p { "This platform takes referrals by hand: paste the package below into its "
                        (r.channel.kind.as_str()) ", then mark it sent." }
                }
                button type="submit" { "Mark sent" }
            }
        }
        h2 { "Package" }
        pre.package #package { (package) }
        h2 { "History" }
        @if d.history.is_empty() {
            p.muted { "None." }
        } @else {
            table #history {
                thead { tr { th { "at" } th { "event" } th { "from" } th { "to" } th { "by" } } }
                tbody {
                    @for h in &d.history {
                        tr {
                            td { (layout::time(h.at)) } td { (h.event) } td { (h.from_status) }
                            td { (h.to_status) } td { (h.actor) }
                        }
                    }
                }
            }
        }
        h2 { "Delivery attempts" }
        @if d.attempts.is_empty() {
            p.muted { "None." }
        } @else {
            table #attempts {
                thead { tr { th { "at" } th { "outcome" } th { "HTTP status" } th { "error" } } }
                tbody {
                    @for a in &d.attempts {
                        tr {
                            td { (layout::time(a.at)) }
                            td { (serde_json::to_value(a.outcome).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                            td { (a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into())) }
                            td { (layout::or_dash(a.error.as_deref())) }
                        }
                    }
                }
            }
        }
        h2 { "Responses" }
        @if d.responses.is_empty() {
            p.muted { "None." }
        } @else {
            table #responses {
                thead { tr { th { "received" } th { "kind" } th { "measure / reason" } th { "explanation" }
                                th { "platform's reference" } th { "source" } } }
                tbody {
                    @for x in &d.responses {
                        tr {
                            td { (layout::time(x.at)) }
                            td { (x.kind.as_str()) }
                            td {
                                @if let Some(m) = x.measure { (m.as_str()) }
                                @if let Some(why) = x.reason { (why.as_str()) }
                            }
                            td { (layout::or_dash(x.explanation.as_deref())) }
                            td { (layout::or_dash(x.platform_file_ref.as_deref())) }
                            td { (x.source.as_str()) }
                        }
                    }
                }
            }
        }
        @if viewer.may(RESPOND) && r.status != ReferralStatus::Draft && !r.status.is_final() {
            h2 { "Enter a response by hand" }
            form.stacked #respond method="post" action={ "/ui/referrals/" (r.id) "/responses" } {
                (layout::csrf_field(&viewer))
                label for="kind" { "Kind" }
                select #kind name="kind" {
                    option value="annex_ii" { "Annex II: feedback (removed or disabled)" }
                    option value="annex_iii" { "Annex III: impossibility" }
                }
                label for="measure" { "Measure (Annex II)" }
                select #measure name="measure" {
                    option value="" { "(none)" }
                    option value="removed" { "removed" }
                    option value="disabled" { "disabled" }
                }
                label for="reason" { "Reason (Annex III)" }
                select #reason name="reason" {
                    option value="" { "(none)" }
                    @for why in ImpossibilityReason::ALL {
                        option value=(why.as_str()) { (why.as_str()) }
                    }
                }
                label for="explanation" { "Explanation (Annex III)" }
                textarea #explanation name="explanation" rows="3" {}
                label for="platform_file_ref" { "The platform's reference" }
                input #platform_file_ref type="text" name="platform_file_ref";
                p { button type="submit" { "Record the response" } }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Referral {id}"),
        "/ui/referrals",
        body,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReferForm {
    item_id: i64,
}

/// Refers an assessed item to its platform (or a group-run platform's
/// providers), queued for delivery through the platform's channel.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    form: Result<Form<ReferForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(f) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let new = NewReferral {
        item_id: f.item_id,
        platform_id: None,
        kind: ReferralKind::Referral,
        order: None,
        emergency: false,
        queue: true,
    };
    let made = state
        .store
        .create_referrals(&new, viewer.items(), &viewer.actor())
        .await?;
    Ok(match made.as_slice() {
        [one] => Redirect::to(&format!("/ui/referrals/{}", one.id)).into_response(),
        _ => Redirect::to(&format!("/ui/referrals?created={}", made.len())).into_response(),
    })
}

/// Marks a referral sent by hand (a web form or some other manual way).
pub(crate) async fn mark_sent(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> UiResult<Response> {
    // Only referrals the viewer sees.
    state
        .store
        .referral(id, referral_viewer(&viewer.principal))
        .await?
        .ok_or_else(|| UiError::not_found(format!("referral {id} not found")))?;
    state
        .store
        .mark_referral_sent(id, None, &viewer.actor())
        .await?;
    Ok(Redirect::to(&format!("/ui/referrals/{id}?sent=true")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ResponseForm {
    kind: Option<String>,
    measure: Option<String>,
    reason: Option<String>,
    explanation: Option<String>,
    platform_file_ref: Option<String>,
}

fn blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Records an Annex II/III response entered by hand.
pub(crate) async fn respond(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<i64>,
    form: Result<Form<ResponseForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(f) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let kind = blank(f.kind)
        .ok_or_else(|| UiError::bad_request("choose Annex II or Annex III"))?
        .parse::<ResponseKind>()
        .map_err(UiError::bad_request)?;
    let response = NewResponse {
        kind,
        measure: blank(f.measure)
            .map(|m| m.parse::<Measure>())
            .transpose()
            .map_err(UiError::bad_request)?,
        measure_at: None,
        reason: blank(f.reason)
            .map(|r| r.parse::<ImpossibilityReason>())
            .transpose()
            .map_err(UiError::bad_request)?,
        explanation: blank(f.explanation),
        authority_file_ref: None,
        platform_file_ref: blank(f.platform_file_ref),
        received_at: None,
    };
    let source = if viewer.role() == ronda_store::Role::Platform {
        ResponseSource::Platform
    } else {
        ResponseSource::Manual
    };
    state
        .store
        .record_response(
            id,
            &response,
            source,
            referral_viewer(&viewer.principal),
            &viewer.actor(),
        )
        .await?;
    Ok(Redirect::to(&format!("/ui/referrals/{id}?answered=true")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_for_people() {
        assert_eq!(time_left(61_000, 0), "1 min 01 s left");
        assert_eq!(time_left(0, 125_000), "2 min 05 s overdue");
        assert_eq!(time_left(3_600_000 + 120_000, 0), "1 h 02 min left");
    }
}
