//! Banks of known content, with their entry counts.

use axum::Extension;
use axum::extract::State;
use axum::response::Html;
use maud::html;

use super::Viewer;
use super::error::UiResult;
use super::layout::{self, or_dash};
use crate::AppState;

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let banks = state.store.list_banks().await?;
    let mut rows = Vec::with_capacity(banks.len());
    for b in banks {
        let entries = state.store.count_entries(b.id).await?;
        rows.push((b, entries));
    }
    let body = html! {
        h1 { "Banks" }
        @if rows.is_empty() {
            p.muted { "No banks yet." }
        } @else {
            table #banks {
                thead {
                    tr {
                        th { "name" } th { "entries" } th { "matching" } th { "group" }
                        th { "severity" } th { "updated" }
                    }
                }
                tbody {
                    @for (b, entries) in &rows {
                        tr {
                            td { (b.name) }
                            td { (entries) }
                            td {
                                @if b.enabled { "enabled" } @else { "disabled" }
                                @if b.enabled && b.matching_enabled_ratio < 1.0 {
                                    " (" (format!("{:.0}", b.matching_enabled_ratio * 100.0)) "%)"
                                }
                            }
                            td { (or_dash(b.labels.group.as_deref())) }
                            td { (b.labels.severity.map_or_else(|| "-".to_owned(), |s| s.to_string())) }
                            td { (layout::time(b.updated_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Banks", "/ui/banks", body))
}
