//! The platform directory: the list, one platform, and its edit form (for
//! the roles that curate: administrators and analysts).

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use ronda_store::{
    ChannelKind, Platform, PlatformKind, PlatformSpec, ReferralChannel, RemovalRules,
};
use serde::Deserialize;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout::{self, or_dash};
use super::session::enc;
use crate::{AppState, CURATE};

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let platforms = state.store.list_platforms().await?;
    let body = html! {
        h1 { "Platforms" }
        @if platforms.is_empty() {
            p.muted { "The directory is empty." }
        } @else {
            table #platforms {
                thead { tr { th { "name" } th { "kind" } th { "domains" } th { "referrals by" } th { "language" } } }
                tbody {
                    @for p in &platforms {
                        tr {
                            td { a href={ "/ui/platforms/" (enc(p.name())) } { (p.name()) } }
                            td { (p.spec.kind) }
                            td.mono { (p.spec.domains.join(" ")) }
                            td { (p.spec.channel.kind.as_str()) }
                            td { (or_dash(p.spec.language.as_deref())) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&viewer, "Platforms", "/ui/platforms", body))
}

async fn find(state: &AppState, name: &str) -> UiResult<Platform> {
    state
        .store
        .platform(name)
        .await?
        .ok_or_else(|| UiError::not_found(format!("platform {name:?} not found")))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
) -> UiResult<Html<String>> {
    let p = find(&state, &name).await?;
    let s = &p.spec;
    let codes: Vec<String> = s.removal.status_codes.iter().map(u16::to_string).collect();
    let body = html! {
        h1 { (s.name) }
        @if viewer.may(CURATE) {
            p { a.button href={ "/ui/platforms/" (enc(&s.name)) "/edit" } data-key="e" { "Edit " kbd { "e" } } }
        }
        dl.fields {
            dt { "kind" } dd { (s.kind) }
            dt { "domains" } dd.mono { (s.domains.join(" ")) }
            dt { "URL patterns" } dd.mono { (s.url_patterns.join(" ")) }
            dt { "referrals by" } dd { (s.channel.kind.as_str()) }
            dt { "referral target" } dd.mono { (or_dash(s.channel.target.as_deref())) }
            dt { "TCO contact point" } dd { (or_dash(s.tco_contact.as_deref())) }
            dt { "language" } dd { (or_dash(s.language.as_deref())) }
            dt { "removed when status" } dd { (codes.join(", ")) }
            dt { "removed when the page says" } dd {
                @for pat in &s.removal.page_patterns { div.mono { (pat) } }
            }
            dt { "updated" } dd { (layout::time(p.updated_at)) }
        }
        p { a href={ "/ui/items?platform=" (enc(&s.name)) } { "Items on this platform" } }
    };
    Ok(layout::page(&viewer, &s.name, "/ui/platforms", body))
}

pub(crate) async fn edit_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
) -> UiResult<Html<String>> {
    let p = find(&state, &name).await?;
    let s = &p.spec;
    let codes: Vec<String> = s.removal.status_codes.iter().map(u16::to_string).collect();
    let body = html! {
        h1 { "Edit " (s.name) }
        form.stacked #edit-platform method="post" action={ "/ui/platforms/" (enc(&s.name)) } {
            (layout::csrf_field(&viewer))
            label for="kind" { "Kind" }
            select #kind name="kind" {
                @for k in PlatformKind::ALL {
                    option value=(k) selected[k == s.kind] { (k) }
                }
            }
            label for="domains" { "Domains (one per line; each covers its subdomains)" }
            textarea #domains name="domains" rows="3" { (s.domains.join("\n")) }
            label for="url_patterns" { "URL patterns (host/path-prefix, one per line)" }
            textarea #url_patterns name="url_patterns" rows="3" { (s.url_patterns.join("\n")) }
            label for="channel" { "Referrals by" }
            select #channel name="channel" {
                @for k in ChannelKind::ALL {
                    option value=(k.as_str()) selected[k == s.channel.kind] { (k.as_str()) }
                }
            }
            label for="target" { "Referral target (API URL, e-mail address or form URL)" }
            input #target type="text" name="target" value=(s.channel.target.as_deref().unwrap_or(""));
            label for="tco_contact" { "TCO contact point" }
            input #tco_contact type="text" name="tco_contact" value=(s.tco_contact.as_deref().unwrap_or(""));
            label for="language" { "Language of referrals (e.g. de)" }
            input #language type="text" name="language" value=(s.language.as_deref().unwrap_or(""));
            label for="status_codes" { "Removed when the URL answers (status codes, comma-separated)" }
            input #status_codes type="text" name="status_codes" value=(codes.join(", "));
            label for="page_patterns" { "Removed when the page contains (one text per line)" }
            textarea #page_patterns name="page_patterns" rows="3" { (s.removal.page_patterns.join("\n")) }
            p { button type="submit" { "Save" } }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Edit {}", s.name),
        "/ui/platforms",
        body,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PlatformForm {
    kind: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    url_patterns: String,
    channel: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    tco_contact: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    status_codes: String,
    #[serde(default)]
    page_patterns: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl PlatformForm {
    fn into_spec(self, name: &str) -> UiResult<PlatformSpec> {
        let status_codes = self
            .status_codes
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.parse::<u16>()
                    .map_err(|_| UiError::bad_request(format!("{c:?} is not an HTTP status code")))
            })
            .collect::<UiResult<Vec<u16>>>()?;
        Ok(PlatformSpec {
            name: name.to_owned(),
            kind: self.kind.parse().map_err(UiError::bad_request)?,
            domains: lines(&self.domains),
            url_patterns: lines(&self.url_patterns),
            channel: ReferralChannel {
                kind: self.channel.parse().map_err(UiError::bad_request)?,
                target: optional(&self.target),
            },
            tco_contact: optional(&self.tco_contact),
            language: optional(&self.language),
            removal: RemovalRules {
                status_codes,
                page_patterns: lines(&self.page_patterns),
            },
        })
    }
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(name): Path<String>,
    form: Result<Form<PlatformForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(form) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let spec = form.into_spec(&name)?;
    let p = state
        .store
        .update_platform(&name, &spec, &viewer.actor())
        .await?;
    Ok(Redirect::to(&format!("/ui/platforms/{}", enc(p.name()))).into_response())
}
