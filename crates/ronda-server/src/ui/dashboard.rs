//! The dashboard: what the viewer may see, counted.

use axum::Extension;
use axum::extract::State;
use axum::response::Html;
use maud::html;

use super::Viewer;
use super::error::UiResult;
use super::layout;
use crate::{AppState, ITEMS};

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let store = &state.store;
    let banks = store.list_banks().await?;
    let enabled_banks = banks.iter().filter(|b| b.enabled).count();
    let sees_items = viewer.may(ITEMS);
    let (counts, campaigns, platforms) = if sees_items {
        (
            store.item_counts(viewer.items()).await?,
            store.list_campaigns().await?.len(),
            store.list_platforms().await?.len(),
        )
    } else {
        (Vec::new(), 0, 0)
    };
    let total: i64 = counts.iter().map(|(_, n, _)| n).sum();
    let body = html! {
        h1 { "Dashboard" }
        div.cards {
            @if sees_items {
                a.card href="/ui/items" {
                    div.n #count-items { (total) }
                    div { "items" }
                }
                div.card {
                    div.n #count-campaigns { (campaigns) }
                    div { "campaigns" }
                }
                a.card href="/ui/platforms" {
                    div.n #count-platforms { (platforms) }
                    div { "platforms" }
                }
            }
            a.card href="/ui/banks" {
                div.n #count-banks { (banks.len()) }
                div { "banks (" (enabled_banks) " enabled)" }
            }
        }
        @if sees_items {
            h2 { "Items by status" }
            @if counts.is_empty() {
                p.muted { "No items yet." }
            } @else {
                table #items-by-status {
                    thead { tr { th { "status" } th { "items" } th { "first reports" } } }
                    tbody {
                        @for (status, n, first) in &counts {
                            tr {
                                td { a href={ "/ui/items?status=" (status) } { (status) } }
                                td { (n) }
                                td { (first) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Dashboard", "/ui/", body))
}
