//! The frame every page shares (head, navigation, who is logged in, the
//! logout button) and small helpers pages are built from.

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};
use ronda_store::{Millis, Role};

use super::Viewer;
use super::assets::{CSS_PATH, JS_PATH};
use crate::{CURATE, ITEMS, READ};

/// One link of the navigation: shown to the roles that may open it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NavItem {
    pub label: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
    /// The keyboard shortcut that opens it.
    pub key: &'static str,
}

/// The navigation, in order. A page that belongs here gets a line.
pub(crate) const NAV: &[NavItem] = &[
    NavItem {
        label: "Dashboard",
        path: "/ui/",
        roles: READ,
        key: "d",
    },
    NavItem {
        label: "Items",
        path: "/ui/items",
        roles: ITEMS,
        key: "i",
    },
    NavItem {
        label: "Submit",
        path: "/ui/items/new",
        roles: CURATE,
        key: "n",
    },
    NavItem {
        label: "Review",
        path: "/ui/review",
        roles: ITEMS,
        key: "v",
    },
    NavItem {
        label: "Referrals",
        path: "/ui/referrals",
        roles: READ,
        key: "f",
    },
    NavItem {
        label: "Platforms",
        path: "/ui/platforms",
        roles: ITEMS,
        key: "p",
    },
    NavItem {
        label: "Banks",
        path: "/ui/banks",
        roles: READ,
        key: "b",
    },
    NavItem {
        label: "Reports",
        path: "/ui/reports",
        roles: ITEMS,
        key: "r",
    },
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Ronda" }
            link rel="stylesheet" href=(CSS_PATH);
            script src=(JS_PATH) defer {}
        }
    }
}

/// A page without the navigation (login, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { (body) }
        }
    }
}

/// A whole page for a logged-in viewer; `active` is the navigation path
/// it belongs under.
pub(crate) fn page(viewer: &Viewer, title: &str, active: &str, body: Markup) -> Html<String> {
    let user = &viewer.session.user;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header.top {
                    a.brand href="/ui/" { "Ronda" }
                    nav aria-label="main" {
                        @for item in NAV.iter().filter(|n| viewer.may(n.roles)) {
                            a.active[item.path == active] href=(item.path) data-key=(item.key) {
                                (item.label) " " kbd { (item.key) }
                            }
                        }
                    }
                    div.who {
                        a href="/ui/preferences" title="Wellness preferences" {
                            (user.display_name.as_deref().unwrap_or(&user.name))
                            " (" (viewer.role()) ")"
                        }
                        form method="post" action="/ui/logout" {
                            (csrf_field(viewer))
                            button.link type="submit" { "Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    Html(markup.into_string())
}

/// The hidden field every POST form carries.
pub(crate) fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf()); }
}

/// A time for people: `2026-11-29 14:05 UTC`.
pub(crate) fn time(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| "-".into())
}

/// An optional text, or a dash.
pub(crate) fn or_dash(s: Option<&str>) -> &str {
    s.filter(|s| !s.is_empty()).unwrap_or("-")
}
