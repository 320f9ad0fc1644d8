//! Campaign reports: the list of campaigns, and each campaign's report as
//! `ronda-report` renders it (aggregates only: no item URLs or notes).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout;
use crate::AppState;

/// The report page carries its own inline styles and SVG, nothing else.
const REPORT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let campaigns = state.store.list_campaigns().await?;
    let body = html! {
        h1 { "Campaign reports" }
        @if campaigns.is_empty() {
            p.muted { "No campaigns yet." }
        } @else {
            table #campaigns {
                thead { tr { th { "campaign" } th { "starts" } th { "ends" } } }
                tbody {
                    @for c in &campaigns {
                        tr {
                            td { a href={ "/ui/reports/" (c.id) } { (c.name) } }
                            td { (c.starts_at.map(layout::time).unwrap_or_default()) }
                            td { (c.ends_at.map(layout::time).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Reports", "/ui/reports", body))
}

/// The report as of the campaign's end, or now while it runs.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(_viewer): Extension<Viewer>,
    Path(id): Path<i64>,
) -> UiResult<Response> {
    let campaign = state
        .store
        .list_campaigns()
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| UiError::not_found("no such campaign"))?;
    let now = state.store.now();
    let as_of = campaign.ends_at.map_or(now, |end| end.min(now));
    let report = crate::report::campaign_report(&state.store, &campaign, as_of).await?;
    let mut response = Html(ronda_report::to_html(&report)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    Ok(response)
}
