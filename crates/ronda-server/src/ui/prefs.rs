//! A person's wellness preferences: how distressing media is shown to
//! them. Every role may change its own (they change nothing but the
//! person's own view).

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use ronda_store::WellnessPrefs;
use serde::Deserialize;

use super::Viewer;
use super::error::{UiError, UiResult};
use super::layout;
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    saved: bool,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    q: Result<axum::extract::Query<SavedQuery>, axum::extract::rejection::QueryRejection>,
) -> UiResult<Html<String>> {
    let saved = q.is_ok_and(|q| q.saved);
    let p = state.store.preferences(viewer.session.user.id).await?;
    let body = html! {
        h1 { "Wellness preferences" }
        @if saved { p.flash #saved { "Saved." } }
        p.muted { "How captured pictures and video are shown to you. The safe choice is on by default." }
        form.stacked #preferences method="post" action="/ui/preferences" {
            (layout::csrf_field(&viewer))
            label.check { input type="checkbox" name="blur_media" value="on" checked[p.blur_media]; " Blur pictures and video until I click them" }
            label.check { input type="checkbox" name="greyscale" value="on" checked[p.greyscale]; " Show pictures and video in greyscale" }
            label.check { input type="checkbox" name="mute_video" value="on" checked[p.mute_video]; " Start video muted" }
            label.check { input type="checkbox" name="pause_video" value="on" checked[p.pause_video]; " Never play video by itself" }
            p { button type="submit" { "Save" } }
        }
    };
    Ok(layout::page(
        &viewer,
        "Preferences",
        "/ui/preferences",
        body,
    ))
}

/// The form: a checkbox is sent only when ticked.
#[derive(Debug, Deserialize)]
pub(crate) struct PrefsForm {
    blur_media: Option<String>,
    greyscale: Option<String>,
    mute_video: Option<String>,
    pause_video: Option<String>,
}

pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    form: Result<Form<PrefsForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(f) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let prefs = WellnessPrefs {
        blur_media: f.blur_media.is_some(),
        greyscale: f.greyscale.is_some(),
        mute_video: f.mute_video.is_some(),
        pause_video: f.pause_video.is_some(),
    };
    state
        .store
        .set_preferences(viewer.session.user.id, &prefs, &viewer.actor())
        .await?;
    Ok(Redirect::to("/ui/preferences?saved=true").into_response())
}
