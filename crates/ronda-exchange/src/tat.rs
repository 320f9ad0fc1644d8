//! A client for the Tech Against Terrorism (TCAP) hash-list API, v2.
//!
//! The protocol, as TAT documents it (terrorismanalytics.org, "Content Hash
//! List API (v2.0.0)") and as python-threatexchange's client speaks it
//! (`threatexchange/exchanges/clients/techagainstterrorism/api.py`):
//!
//! 1. `POST {base}token-auth/tcap/` with the TCAP username and password
//!    answers `{"token": "<jwt>", "user": {..}}`. This client sends the body
//!    as JSON (TAT's documented form; python-threatexchange sends the same
//!    fields form-encoded, which the server also takes).
//! 2. `GET {base}api/hash-list/v2/all?order=asc[&after=<checkpoint>]` with
//!    `Authorization: Bearer <jwt>` answers a page
//!    `{count, next, previous, checkpoint, results: [..]}`; each result is
//!    `{id, hash_digest, algorithm, ideology, file_type, deleted, created_on,
//!    updated_on}`. `next` is the URL of the following page, `null` on the
//!    last one. `checkpoint` is `"<updated_on seconds>,<id>"` of the page's
//!    last entry; passing it back as the `after` query parameter
//!    ([`CHECKPOINT_PARAM`]) lists only what changed since.
//!
//! The caller drives [`Pages::next_page`] and, after committing each page's
//! records, persists [`Page::checkpoint`]; after a crash or an error it calls
//! [`TatClient::pages`] with the last persisted checkpoint. A failed
//! `next_page` leaves the position where it was, so calling it again
//! retries the same page.
//!
//! Mapping of `algorithm` (case-insensitive): `PDQ` → `pdq`; `SHA256` →
//! `sha256`; `MD5` → `video_md5` when `file_type` is a video container
//! (python-threatexchange maps only those, to `video_md5`), `md5`
//! otherwise. Anything else (TAT also lists SHA512) is a per-entry
//! [`RecordError`], as is an unknown `ideology`, a bad hash or a missing
//! field; the rest of the page is unaffected.
//!
//! Safety rails: the token is only ever sent to the configured origin (a
//! `next` link or redirect elsewhere is an error, an `http` link on the
//! `https` host is upgraded), the base URL must be `https` except on a
//! loopback address, and the token and password appear in no error, log or
//! `Debug` output. The token is short-lived; a 401 or 403 on a page makes
//! the client log in again once and retry.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::{StatusCode, Url};
use ronda_hash::{Signal, SignalType};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{clip, describe};
use crate::{Error, Ideology, Record, RecordError};

/// The production base URL, as python-threatexchange uses it.
pub const DEFAULT_BASE_URL: &str = "https://app.terrorismanalytics.org/";
/// The token endpoint, relative to the base URL.
pub const AUTH_PATH: &str = "token-auth/tcap/";
/// The hash-list endpoint, relative to the base URL.
pub const HASH_LIST_PATH: &str = "api/hash-list/v2/all";
/// The query parameter that carries a checkpoint to resume from.
pub const CHECKPOINT_PARAM: &str = "after";

/// File types whose MD5 is a `video_md5` (python-threatexchange's list:
/// mov, m4v, mp4, webm; plus other common containers).
const VIDEO_FILE_TYPES: &[&str] = &[
    "mov", "m4v", "mp4", "webm", "mkv", "avi", "flv", "wmv", "3gp", "mpg", "mpeg", "ogv",
];

/// A TCAP username and password. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The TCAP username.
    pub username: String,
    /// The TCAP password.
    pub password: String,
}

impl Credentials {
    /// Credentials from a username and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Bounds on what the client will do for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TatLimits {
    /// The longest a request may take, body included.
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
    /// The largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most pages one [`Pages`] will fetch.
    pub max_pages: u64,
}

impl Default for TatLimits {
    /// 60 s per request (python-threatexchange's figure), 10 s to connect,
    /// 32 MiB per body (a page of 1,000 entries is about 250 KB) and
    /// 100,000 pages (100 million entries at the default page size).
    fn default() -> Self {
        TatLimits {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 32 << 20,
            max_pages: 100_000,
        }
    }
}

/// A client for one TAT server and one account.
pub struct TatClient {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    limits: TatLimits,
    /// `Bearer <jwt>`, marked sensitive.
    token: Option<HeaderValue>,
}

impl fmt::Debug for TatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TatClient")
            .field("base", &self.base.as_str())
            .field("credentials", &self.credentials)
            .field("limits", &self.limits)
            .field("logged_in", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl TatClient {
    /// A client for the server at `base_url` (for example
    /// [`DEFAULT_BASE_URL`]) with the default [`TatLimits`]. Nothing is sent
    /// until the first page or [`TatClient::authenticate`].
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, Error> {
        TatClient::with_limits(base_url, credentials, TatLimits::default())
    }

    /// A client with the given limits.
    pub fn with_limits(
        base_url: &str,
        credentials: Credentials,
        limits: TatLimits,
    ) -> Result<Self, Error> {
        let base = base_url_from(base_url)?;
        let origin = base.origin();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if attempt.url().origin() == origin {
                attempt.follow()
            } else {
                // Never carry the token to another origin.
                attempt.stop()
            }
        });
        let http = reqwest::Client::builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.connect_timeout)
            .redirect(redirects)
            .user_agent(concat!("ronda-exchange/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| Error::Http {
                url: base.clone(),
                source,
            })?;
        Ok(TatClient {
            http,
            base,
            credentials,
            limits,
            token: None,
        })
    }

    /// The base URL, normalised to end in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Logs in now and keeps the token. Pages log in by themselves when
    /// needed; call this to check credentials early.
    pub async fn authenticate(&mut self) -> Result<(), Error> {
        self.login().await.map(drop)
    }

    /// The listing from the start, or from after `checkpoint` (a
    /// [`Page::checkpoint`] persisted earlier).
    pub fn pages(&mut self, checkpoint: Option<&str>) -> Pages<'_> {
        let checkpoint = checkpoint.filter(|c| !c.is_empty()).map(str::to_owned);
        let mut first = self.endpoint(HASH_LIST_PATH);
        {
            let mut query = first.query_pairs_mut();
            query.append_pair("order", "asc");
            if let Some(c) = &checkpoint {
                query.append_pair(CHECKPOINT_PARAM, c);
            }
        }
        Pages {
            client: self,
            next: Some(first),
            fetched: 0,
            checkpoint,
        }
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        // The base path ends in `/`, so this appends.
        let joined = format!("{}{path}", url.path());
        url.set_path(&joined);
        url
    }

    /// Logs in, keeps the token and returns the header value.
    async fn login(&mut self) -> Result<HeaderValue, Error> {
        let url = self.endpoint(AUTH_PATH);
        tracing::debug!(url = %url, "tat: logging in");
        let body = serde_json::json!({
            "username": self.credentials.username,
            "password": self.credentials.password,
        });
        let response = self
            .http
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| http_error(&url, e))?;
        let status = response.status();
        if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(Error::Auth { url, status });
        }
        if !status.is_success() {
            return Err(Error::Status { url, status });
        }
        let body = read_body(&url, response, self.limits.max_body_bytes).await?;
        #[derive(Deserialize)]
        struct TokenResponse {
            token: String,
        }
        // serde's message could quote the body; say what was expected instead.
        let malformed = |message: &str| Error::Json {
            url: url.clone(),
            message: message.to_owned(),
        };
        let token = serde_json::from_slice::<TokenResponse>(&body)
            .map_err(|_| malformed("expected an object with a string \"token\""))?
            .token;
        if token.is_empty() {
            return Err(malformed("the token is empty"));
        }
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| malformed("the token is not a valid header value"))?;
        value.set_sensitive(true);
        self.token = Some(value.clone());
        Ok(value)
    }

    /// GETs `url` with the token, logging in (again) when needed.
    async fn get(&mut self, url: &Url) -> Result<Vec<u8>, Error> {
        let mut retried = false;
        loop {
            let token = match self.token.clone() {
                Some(t) => t,
                None => self.login().await?,
            };
            let response = self
                .http
                .get(url.clone())
                .header(AUTHORIZATION, token)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| http_error(url, e))?;
            let status = response.status();
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) && !retried {
                // The token has probably expired (TAT's last 5 minutes).
                tracing::debug!(url = %url, status = status.as_u16(), "tat: token refused, logging in again");
                retried = true;
                self.token = None;
                continue;
            }
            if !status.is_success() {
                return Err(Error::Status {
                    url: url.clone(),
                    status,
                });
            }
            return read_body(url, response, self.limits.max_body_bytes).await;
        }
    }
}

/// One page of the listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The URL this page came from.
    pub url: Url,
    /// The page's entries in order, each parsed or with what was wrong.
    pub records: Vec<Result<Record, RecordError>>,
    /// Where to resume after this page, once its records are committed;
    /// `None` when the server gave none (an empty page).
    pub checkpoint: Option<String>,
    /// The next page, checked to be on the configured server; `None` on the
    /// last page.
    pub next: Option<Url>,
    /// The server's total number of entries in the listing, when given.
    pub count: Option<u64>,
}

/// The pages of one listing, fetched one at a time by
/// [`Pages::next_page`].
#[derive(Debug)]
pub struct Pages<'a> {
    client: &'a mut TatClient,
    next: Option<Url>,
    fetched: u64,
    checkpoint: Option<String>,
}

impl Pages<'_> {
    /// Fetches the next page; `Ok(None)` after the last. On an error nothing
    /// moves: calling again retries the same page.
    pub async fn next_page(&mut self) -> Result<Option<Page>, Error> {
        let Some(url) = self.next.clone() else {
            return Ok(None);
        };
        let limit = self.client.limits.max_pages;
        if self.fetched >= limit {
            return Err(Error::TooManyPages { limit });
        }
        let body = self.client.get(&url).await?;
        let page = parse_page(&url, &body, &self.client.base)?;
        tracing::debug!(
            url = %url,
            records = page.records.len(),
            bad = page.records.iter().filter(|r| r.is_err()).count(),
            "tat: page fetched"
        );
        self.fetched += 1;
        self.next = page.next.clone();
        if page.checkpoint.is_some() {
            self.checkpoint = page.checkpoint.clone();
        }
        Ok(Some(page))
    }

    /// The checkpoint of the last page fetched that had one, or the one the
    /// listing started from.
    pub fn checkpoint(&self) -> Option<&str> {
        self.checkpoint.as_deref()
    }

    /// The number of pages fetched so far.
    pub fn fetched(&self) -> u64 {
        self.fetched
    }
}

/// Checks and normalises a base URL.
fn base_url_from(given: &str) -> Result<Url, Error> {
    let parsed = Url::parse(given);
    let refuse = |reason| Error::BaseUrl {
        url: shown_without_credentials(given, parsed.as_ref().ok()),
        reason,
    };
    let mut url = parsed.clone().map_err(|_| refuse("not an absolute url"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(refuse("no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(refuse("must be https (http only on a loopback address)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not hold credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A URL as given, fit for a message: without a username or password.
fn shown_without_credentials(given: &str, parsed: Option<&Url>) -> String {
    match parsed {
        Some(url) => {
            let mut url = url.clone();
            // Only fails for URLs that cannot have credentials anyway.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            clip(url.as_str(), 200)
        }
        None if given.contains('@') => "(not shown: it may hold credentials)".to_owned(),
        None => clip(given, 200),
    }
}

/// `next` resolved against the page it came from, if it stays on the
/// base's origin. An `http` link to the `https` base's host and default
/// port is upgraded: servers behind TLS-terminating proxies often build
/// links with the wrong scheme.
fn checked_next(page: &Url, next: &str, base: &Url) -> Result<Url, Error> {
    let foreign = || Error::ForeignNext {
        next: clip(next, 200),
        base: base.clone(),
    };
    let mut url = page.join(next).map_err(|_| foreign())?;
    let upgrade = url.scheme() == "http"
        && base.scheme() == "https"
        && url.host() == base.host()
        && url.port().is_none()
        && base.port().is_none();
    if upgrade {
        url.set_scheme("https").map_err(|()| foreign())?;
    }
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return Err(foreign());
    }
    Ok(url)
}

/// The page shape; unknown fields (`previous`) are ignored.
#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    checkpoint: Option<String>,
    results: Vec<Value>,
}

/// One entry's shape.
#[derive(Deserialize)]
struct RawEntry {
    hash_digest: String,
    algorithm: String,
    #[serde(default)]
    ideology: Option<String>,
    #[serde(default)]
    file_type: Option<String>,
    deleted: bool,
    #[serde(default)]
    created_on: Option<Value>,
    #[serde(default)]
    updated_on: Option<Value>,
}

fn parse_page(url: &Url, body: &[u8], base: &Url) -> Result<Page, Error> {
    let raw: RawPage = serde_json::from_slice(body).map_err(|e| Error::Json {
        url: url.clone(),
        message: clip(&e.to_string(), 300),
    })?;
    let next = match raw.next.as_deref() {
        None | Some("") => None,
        Some(n) => Some(checked_next(url, n, base)?),
    };
    if next.as_ref() == Some(url) {
        return Err(Error::Json {
            url: url.clone(),
            message: "next is this same page".to_owned(),
        });
    }
    Ok(Page {
        url: url.clone(),
        records: raw.results.into_iter().map(parse_entry).collect(),
        checkpoint: raw.checkpoint.filter(|c| !c.is_empty()),
        next,
        count: raw.count,
    })
}

/// The record in one result entry, or what was wrong with it (naming its
/// id when it has one).
pub(crate) fn parse_entry(value: Value) -> Result<Record, RecordError> {
    let id = match value.get("id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(clip(s, 64)),
        _ => None,
    };
    let fail = |message: String| RecordError {
        id: id.clone(),
        message: clip(&message, 300),
    };
    let Some(external_id) = id.clone() else {
        return Err(fail("missing or empty id".to_owned()));
    };
    let raw: RawEntry = serde_json::from_value(value).map_err(|e| fail(e.to_string()))?;
    let file_type = raw
        .file_type
        .as_deref()
        .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .map(|t| clip(&t, 32));
    let signal_type = signal_type_for(&raw.algorithm, file_type.as_deref()).ok_or_else(|| {
        fail(format!(
            "unsupported algorithm {:?}",
            clip(&raw.algorithm, 40)
        ))
    })?;
    let signal = Signal::parse(signal_type, &raw.hash_digest)
        .map_err(|e| fail(describe(signal_type.as_str(), &e)))?;
    let ideology = match raw.ideology.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            Ideology::from_name(name)
                .ok_or_else(|| fail(format!("unknown ideology {:?}", clip(name, 40))))?,
        ),
    };
    let created_on =
        timestamp(raw.created_on.as_ref()).map_err(|m| fail(format!("bad created_on: {m}")))?;
    let updated_on =
        timestamp(raw.updated_on.as_ref()).map_err(|m| fail(format!("bad updated_on: {m}")))?;
    Ok(Record {
        external_id: Some(external_id),
        deleted: raw.deleted,
        ideology,
        file_type,
        created_on,
        updated_on,
        ..Record::new(signal)
    })
}

fn signal_type_for(algorithm: &str, file_type: Option<&str>) -> Option<SignalType> {
    match algorithm.trim().to_ascii_uppercase().as_str() {
        "PDQ" => Some(SignalType::Pdq),
        "SHA256" | "SHA-256" => Some(SignalType::Sha256),
        "MD5" if file_type.is_some_and(|t| VIDEO_FILE_TYPES.contains(&t)) => {
            Some(SignalType::VideoMd5)
        }
        "MD5" => Some(SignalType::Md5),
        _ => None,
    }
}

/// A TAT timestamp: seconds since the epoch as a number or numeric string
/// (`updated_on`: `1704901040.222779`), or an ISO 8601 date-time
/// (`created_on`), UTC when it has no offset.
fn timestamp(value: Option<&Value>) -> Result<Option<jiff::Timestamp>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => {
            let secs = n.as_f64().ok_or("not a number")?;
            return from_epoch_seconds(secs)
                .map(Some)
                .ok_or_else(|| "out of range".to_owned());
        }
        Some(Value::String(s)) => s.trim(),
        Some(_) => return Err("not a number or a string".to_owned()),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(secs) = text.parse::<f64>() {
        return from_epoch_seconds(secs)
            .map(Some)
            .ok_or_else(|| "out of range".to_owned());
    }
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(Some(t));
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Some(z.timestamp()))
        .ok_or_else(|| format!("{:?} is not a date-time", clip(text, 40)))
}

fn from_epoch_seconds(secs: f64) -> Option<jiff::Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let whole = secs.floor();
    // TAT's floats are Python `time.time()` values, microseconds at best;
    // an f64 near 1.7e9 holds about a quarter of one, so round to them.
    let mut micros = ((secs - whole) * 1e6).round() as i32;
    // `as` saturates, and jiff rejects what is out of its range.
    let mut whole = whole as i64;
    if micros >= 1_000_000 {
        whole = whole.checked_add(1)?;
        micros = 0;
    }
    jiff::Timestamp::new(whole, micros * 1000).ok()
}

async fn read_body(
    url: &Url,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    let too_large = || Error::TooLarge {
        url: url.clone(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| http_error(url, e))? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn http_error(url: &Url, e: reqwest::Error) -> Error {
    Error::Http {
        url: url.clone(),
        source: e.without_url(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

    fn entry(id: i64, algorithm: &str, hash: &str, file_type: &str) -> Value {
        json!({
            "id": id, "hash_digest": hash, "algorithm": algorithm,
            "ideology": "islamist", "file_type": file_type, "deleted": false,
            "created_on": "2025-03-03T23:05:22.587000", "updated_on": 1704901040.222779
        })
    }

    #[test]
    fn maps_algorithms_like_python_threatexchange() {
        let t = |a, h, f| parse_entry(entry(1, a, h, f)).map(|r| r.signal.signal_type());
        assert_eq!(t("PDQ", PDQ, "gif"), Ok(SignalType::Pdq));
        assert_eq!(t("MD5", MD5, "mp4"), Ok(SignalType::VideoMd5));
        assert_eq!(t("MD5", MD5, ".MOV"), Ok(SignalType::VideoMd5));
        assert_eq!(t("md5", MD5, "jpg"), Ok(SignalType::Md5));
        let upper = PDQ.to_uppercase();
        assert_eq!(t("SHA256", &upper, "pdf"), Ok(SignalType::Sha256));
        let err = t("SHA512", MD5, "mp4").unwrap_err();
        assert_eq!(
            err.to_string(),
            "tat entry 1: unsupported algorithm \"SHA512\""
        );
    }

    #[test]
    fn keeps_labels_and_times() {
        let r = parse_entry(entry(2819, "MD5", MD5, "mp4")).unwrap();
        assert_eq!(r.external_id.as_deref(), Some("2819"));
        assert_eq!(r.ideology, Some(Ideology::Islamist));
        assert_eq!(r.file_type.as_deref(), Some("mp4"));
        assert!(!r.deleted);
        assert_eq!(
            r.created_on,
            Some("2025-03-03T23:05:22.587Z".parse().unwrap())
        );
        assert_eq!(
            r.updated_on,
            Some("2024-01-10T15:37:20.222779Z".parse().unwrap())
        );
    }

    #[test]
    fn timestamps_in_every_documented_form() {
        let t = |v: Value| timestamp(Some(&v));
        let want: jiff::Timestamp = "2024-01-10T15:37:20Z".parse().unwrap();
        assert_eq!(t(json!(1704901040)), Ok(Some(want)));
        assert_eq!(t(json!("1704901040")), Ok(Some(want)));
        assert_eq!(t(json!("2024-01-10T15:37:20Z")), Ok(Some(want)));
        assert_eq!(t(json!("2024-01-10T16:37:20+01:00")), Ok(Some(want)));
        assert_eq!(t(json!("2024-01-10 15:37:20")), Ok(Some(want)));
        assert_eq!(t(json!(null)), Ok(None));
        assert_eq!(t(json!("")), Ok(None));
        assert!(t(json!("yesterday")).is_err());
        assert!(t(json!(1e300)).is_err());
        assert!(t(json!([1])).is_err());
        assert_eq!(
            from_epoch_seconds(0.9999999999),
            Some(jiff::Timestamp::new(1, 0).unwrap())
        );
    }

    #[test]
    fn bad_entries_name_their_id_and_problem() {
        let mut e = entry(7, "PDQ", "abc", "jpg");
        let err = parse_entry(e.clone()).unwrap_err();
        assert_eq!(err.id.as_deref(), Some("7"));
        assert_eq!(
            err.message,
            "bad pdq value: expected 64 hex digits, got 3 characters"
        );

        e["hash_digest"] = json!(PDQ);
        e["ideology"] = json!("anarchist");
        assert_eq!(
            parse_entry(e.clone()).unwrap_err().message,
            "unknown ideology \"anarchist\""
        );

        e["ideology"] = json!("far-right");
        e.as_object_mut().unwrap().remove("deleted");
        assert!(
            parse_entry(e.clone())
                .unwrap_err()
                .message
                .contains("deleted")
        );

        e.as_object_mut().unwrap().remove("id");
        assert_eq!(
            parse_entry(e).unwrap_err(),
            RecordError {
                id: None,
                message: "missing or empty id".into()
            }
        );
        assert!(parse_entry(json!("not an object")).is_err());
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        let ok = |s| base_url_from(s).unwrap().to_string();
        assert_eq!(
            ok("https://app.terrorismanalytics.org"),
            "https://app.terrorismanalytics.org/"
        );
        assert_eq!(ok("https://example.org/tat"), "https://example.org/tat/");
        assert_eq!(ok("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/");
        assert_eq!(ok("http://localhost/"), "http://localhost/");
        for bad in [
            "http://app.terrorismanalytics.org/",
            "https://user:pw@example.org/",
            "https://example.org/?a=b",
            "ftp://example.org/",
            "not a url",
            "https://user:pw@exa mple.org/",
        ] {
            let err = base_url_from(bad).unwrap_err();
            assert!(matches!(err, Error::BaseUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
    }

    #[test]
    fn next_links_stay_on_the_base_origin() {
        let base = base_url_from("https://tat.example/").unwrap();
        let page: Url = "https://tat.example/api/hash-list/v2/all?order=asc"
            .parse()
            .unwrap();
        let next = |n| checked_next(&page, n, &base).map(|u| u.to_string());
        assert_eq!(
            next("https://tat.example/api/hash-list/v2/all?offset=2").unwrap(),
            "https://tat.example/api/hash-list/v2/all?offset=2"
        );
        assert_eq!(
            next("http://tat.example/api/hash-list/v2/all?offset=2").unwrap(),
            "https://tat.example/api/hash-list/v2/all?offset=2"
        );
        assert_eq!(
            next("/api/hash-list/v2/all?offset=4").unwrap(),
            "https://tat.example/api/hash-list/v2/all?offset=4"
        );
        for bad in [
            "https://evil.example/api/hash-list/v2/all",
            "https://tat.example:8443/api",
            "http://tat.example:8080/api",
            "https://u:p@tat.example/api",
        ] {
            assert!(matches!(next(bad), Err(Error::ForeignNext { .. })), "{bad}");
        }
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = Credentials::new("alice", "s3cret");
        let shown = format!("{c:?}");
        assert!(
            shown.contains("alice") && !shown.contains("s3cret"),
            "{shown}"
        );
        let client = TatClient::new("https://tat.example", c).unwrap();
        assert!(!format!("{client:?}").contains("s3cret"));
    }
}
