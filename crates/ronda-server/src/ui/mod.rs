//! The web UI: server-rendered pages for people, under `/ui`.
//!
//! - **Templates** are [`maud`] macros: HTML checked at compile time and
//!   every interpolated value escaped (the opt-out, `PreEscaped`, is not
//!   used on anything a user typed). Assets (one stylesheet, one script)
//!   are compiled into the binary; nothing comes from elsewhere.
//! - **Sessions** (see [`session`]): a login sets an `HttpOnly;
//!   SameSite=Strict` cookie; every page route declares its roles in
//!   [`pages`], as the API's routes do, and the guard sends people without
//!   a session to the login page and answers 403 to a role not listed.
//!   Roles and item visibility are the API's: [`crate::ITEMS`],
//!   [`crate::CURATE`]… and [`crate::items::viewer_of`].
//! - **CSRF**: every POST form carries the session's synchronizer token,
//!   checked before the handler runs (URL-encoded forms) or by the
//!   handler as its first field (the one multipart form).
//! - **Headers**: a strict Content-Security-Policy (no inline script or
//!   style), `X-Frame-Options: DENY`, `nosniff`, no caching of pages.
//! - **Readable without JavaScript**; the script adds keyboard shortcuts
//!   (`data-key` on a link or button) and reveal-on-click for blurred
//!   media (without it, a "reveal" link does the same).
//!
//! A new page is a handler, a line in [`pages`] with its roles and, if it
//! belongs in the navigation, a line in [`layout::NAV`].

mod assets;
mod banks;
mod dashboard;
mod error;
mod items;
mod layout;
mod platforms;
mod prefs;
mod referrals;
mod reports;
mod review;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use ronda_store::Role;
use tower_http::timeout::TimeoutLayer;

use crate::{AppState, CURATE, ITEMS, READ, RESPOND, REVIEW};

pub(crate) use session::Viewer;

/// One page route: where, who may use it, and how its POST body comes.
#[derive(Debug, Clone)]
pub(crate) struct PageSpec {
    pub method: Method,
    pub path: &'static str,
    pub roles: &'static [Role],
    /// A multipart form, whose handler checks the CSRF token itself
    /// (every other POST is URL-encoded and checked by the guard).
    pub multipart: bool,
}

type Page = (PageSpec, MethodRouter<AppState>);

fn page(method: Method, path: &'static str, roles: &'static [Role]) -> PageSpec {
    PageSpec {
        method,
        path,
        roles,
        multipart: false,
    }
}

/// Every page that needs a session, with its roles.
pub(crate) fn pages() -> Vec<Page> {
    use Method as M;
    let mut submit = page(M::POST, "/ui/items", CURATE);
    submit.multipart = true;
    vec![
        (page(M::GET, "/ui/", READ), get(dashboard::show)),
        (page(M::POST, "/ui/logout", READ), post(session::logout)),
        (page(M::GET, "/ui/items", ITEMS), get(items::list)),
        (page(M::GET, "/ui/items/new", CURATE), get(items::new_form)),
        (submit, post(items::submit)),
        (page(M::GET, "/ui/items/{id}", ITEMS), get(items::show)),
        (
            page(M::GET, "/ui/items/{id}/media", ITEMS),
            get(items::media),
        ),
        (page(M::GET, "/ui/platforms", ITEMS), get(platforms::list)),
        (
            page(M::GET, "/ui/platforms/{name}", ITEMS),
            get(platforms::show),
        ),
        (
            page(M::GET, "/ui/platforms/{name}/edit", CURATE),
            get(platforms::edit_form),
        ),
        (
            page(M::POST, "/ui/platforms/{name}", CURATE),
            post(platforms::update),
        ),
        (page(M::GET, "/ui/banks", READ), get(banks::list)),
        (page(M::GET, "/ui/reports", ITEMS), get(reports::list)),
        (page(M::GET, "/ui/reports/{id}", ITEMS), get(reports::show)),
        (page(M::GET, "/ui/review", ITEMS), get(review::queue)),
        (
            page(M::POST, "/ui/review/claim", REVIEW),
            post(review::claim),
        ),
        (page(M::GET, "/ui/review/{id}", REVIEW), get(review::show)),
        (
            page(M::POST, "/ui/review/{id}/decide", REVIEW),
            post(review::decide),
        ),
        (
            page(M::POST, "/ui/review/{id}/release", REVIEW),
            post(review::release),
        ),
        (page(M::GET, "/ui/referrals", READ), get(referrals::list)),
        (
            page(M::POST, "/ui/referrals", CURATE),
            post(referrals::create),
        ),
        (
            page(M::GET, "/ui/referrals/{id}", READ),
            get(referrals::show),
        ),
        (
            page(M::POST, "/ui/referrals/{id}/sent", CURATE),
            post(referrals::mark_sent),
        ),
        (
            page(M::POST, "/ui/referrals/{id}/responses", RESPOND),
            post(referrals::respond),
        ),
        (page(M::GET, "/ui/preferences", READ), get(prefs::show)),
        (page(M::POST, "/ui/preferences", READ), post(prefs::update)),
    ]
}

/// The table of page routes (for tests).
pub fn page_specs() -> Vec<(Method, &'static str, &'static [Role])> {
    pages()
        .into_iter()
        .map(|(s, _)| (s.method, s.path, s.roles))
        .collect()
}

/// The UI's routes with the server's limits (body size, time, the shared
/// concurrency permits) and the UI's headers. Its fallback answers every
/// path no route claims: the UI's 404 page under `/ui`, the API's
/// `{"message"}` elsewhere.
pub(crate) fn router(state: AppState, permits: Arc<tokio::sync::Semaphore>) -> Router {
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(session::login_form).post(session::login))
        .route("/ui/assets/{name}", get(assets::serve));
    for (spec, handler) in pages() {
        let guard = session::Guard {
            state: state.clone(),
            spec: spec.clone(),
        };
        router = router.route(
            spec.path,
            handler.route_layer(middleware::from_fn_with_state(guard, session::guard)),
        );
    }
    let config = state.config.clone();
    router
        .fallback(fallback)
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            permits,
            crate::limit_concurrency,
        ))
        .with_state(state)
}

async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/ui/") {
        error::UiError::not_found("no such page").into_response()
    } else {
        crate::error::ApiError::not_found("not found").into_response()
    }
}

/// The page CSP: scripts, styles, images and media only from this server,
/// nothing inline, no framing, forms only to this server.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Adds the UI's security headers to every answer that has not set its
/// own (the media route sets a stricter CSP; assets their caching).
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let defaults: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}
