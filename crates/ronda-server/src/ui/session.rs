//! Logging in and out, the session guard of every page, and CSRF checks.
//!
//! The session cookie (`ronda_session`) holds the session's secret and is
//! `HttpOnly; SameSite=Strict; Path=/`, with `Secure` when the request came
//! over HTTPS (a TLS-terminating proxy's `X-Forwarded-Proto: https`). The
//! login form, which has no session yet, is protected by a double-submit
//! token: a random value in a short-lived cookie that the form must repeat.

use axum::Form;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use ronda_store::{
    Actor, ItemViewer, Login, Principal, Role, SESSION_ABSOLUTE_MS, Session, UserRef,
};
use serde::Deserialize;

use super::PageSpec;
use super::error::{UiError, UiResult};
use super::layout;
use crate::AppState;

pub(crate) const SESSION_COOKIE: &str = "ronda_session";
const LOGIN_COOKIE: &str = "ronda_login";
/// Largest URL-encoded form the guard reads (uploads are multipart).
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// The person behind a request, as every page handler gets it.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub session: Session,
    /// The session as the API's rules see a caller: role, organisation and
    /// user (no token: `token_id` 0).
    pub principal: Principal,
}

impl Viewer {
    fn new(session: Session) -> Viewer {
        let principal = Principal {
            token_id: 0,
            label: "web session".into(),
            role: session.user.role,
            org_id: session.user.org_id,
            user: Some(UserRef {
                id: session.user.id,
                name: session.user.name.clone(),
            }),
        };
        Viewer { session, principal }
    }

    pub fn role(&self) -> Role {
        self.session.user.role
    }

    /// Whether the viewer's role is among `roles`.
    pub fn may(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role())
    }

    pub fn actor(&self) -> Actor {
        self.session.actor()
    }

    /// Which items the viewer sees: the API's rule.
    pub fn items(&self) -> ItemViewer {
        crate::items::viewer_of(&self.principal)
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, given: &str) -> UiResult<()> {
        if constant_time_eq(given.as_bytes(), self.csrf().as_bytes()) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }
}

fn csrf_refused() -> UiError {
    UiError::forbidden(
        "the form's security token is missing or stale; reload the page and try again",
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`, if the request has it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Whether the request reached the server over HTTPS (through a proxy).
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn set_cookie(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if over_https(headers) { "; Secure" } else { "" };
    let v = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

fn random_hex() -> UiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness available");
        UiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where a login may send the person next: a page of the UI, nothing else
/// (no other site, no protocol-relative `//host`).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/ui/",
    }
}

/// Percent-encodes a path segment or a query value: everything but
/// RFC 3986's unreserved characters.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The state of one page's guard: the app and the page's spec.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    pub state: AppState,
    pub spec: PageSpec,
}

fn to_login(req: &Request) -> Response {
    let next = if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| format!("?next={}", enc(p.as_str())))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Redirect::to(&format!("/ui/login{next}")).into_response()
}

/// The session guard: no session, the login page; a role the page does
/// not list, 403; a URL-encoded POST without the session's token, 403.
pub(crate) async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let Some(secret) = cookie(req.headers(), SESSION_COOKIE) else {
        return to_login(&req);
    };
    let session = match g.state.store.session(&secret).await {
        Ok(Some(s)) => s,
        Ok(None) => return to_login(&req),
        Err(e) => return UiError::from(e).into_response(),
    };
    let viewer = Viewer::new(session);
    if !viewer.may(g.spec.roles) {
        return UiError::forbidden(format!("the {} role may not use this page", viewer.role()))
            .into_response();
    }
    let mut req = req;
    if req.method() == Method::POST && !g.spec.multipart {
        req = match checked_form(req, &viewer).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// Reads a URL-encoded form, checks its `csrf` field and hands the request
/// on with the same body.
async fn checked_form(req: Request, viewer: &Viewer) -> UiResult<Request> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(UiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this page takes a URL-encoded form",
        ));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| UiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"))?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    viewer.check_csrf(&token)?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

// ---------------------------------------------------------------- login

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

fn login_page(
    status: StatusCode,
    token: &str,
    next: &str,
    name: &str,
    problem: Option<&str>,
) -> Response {
    let body = html! {
        main.login {
            h1 { "Ronda" }
            @if let Some(p) = problem {
                p.flash.bad role="alert" { (p) }
            }
            form.stacked method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="name" { "User name" }
                input #name type="text" name="name" value=(name) autocomplete="username"
                    autocapitalize="none" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password"
                    autocomplete="current-password" required;
                p { button type="submit" { "Log in" } }
            }
        }
    };
    (status, Html(layout::bare("Log in", body).into_string())).into_response()
}

pub(crate) async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> UiResult<Response> {
    let next = safe_next(q.next.as_deref());
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && state.store.session(&secret).await?.is_some()
    {
        return Ok(Redirect::to(next).into_response());
    }
    let token = random_hex()?;
    let mut response = login_page(StatusCode::OK, &token, next, "", None);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, LOGIN_COOKIE, &token, "/ui/login", 3600),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> UiResult<Response> {
    let Form(form) = form.map_err(|e| UiError::bad_request(e.body_text()))?;
    let next = safe_next(form.next.as_deref()).to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(csrf_refused());
    }
    let name = form.name.trim();
    match state.store.login(name, &form.password).await? {
        Login::Success(s) => {
            tracing::info!(
                user_id = s.session.user.id,
                session_id = s.session.id,
                "login"
            );
            let mut response = Redirect::to(&next).into_response();
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    &headers,
                    SESSION_COOKIE,
                    &s.secret,
                    "/",
                    SESSION_ABSOLUTE_MS / 1000,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&headers, LOGIN_COOKIE, "", "/ui/login", 0),
            );
            Ok(response)
        }
        Login::Refused => Ok(login_page(
            StatusCode::UNAUTHORIZED,
            &expected,
            &next,
            name,
            Some("Wrong user name or password."),
        )),
        Login::Locked { until } => {
            let at = layout::time(until);
            let message = format!(
                "Too many failed logins: this account is locked until {at}. \
                 An administrator can unlock it by setting a new password."
            );
            Ok(login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &expected,
                &next,
                name,
                Some(&message),
            ))
        }
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> UiResult<Response> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store.logout(&secret).await?;
    }
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", "/", 0),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ui_pages_are_next() {
        assert_eq!(safe_next(Some("/ui/items?q=a")), "/ui/items?q=a");
        for bad in [
            "https://evil.example/",
            "//evil.example/ui/",
            "/ui//evil",
            "/api/v1/items",
            "/ui/\\evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui/", "{bad}");
        }
        assert_eq!(safe_next(None), "/ui/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; ronda_session=abc"),
        );
        assert_eq!(cookie(&h, "ronda_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "a").as_deref(), Some("1"));
        assert_eq!(cookie(&h, "ronda"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
