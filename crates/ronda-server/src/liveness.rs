//! Liveness checks: is a referred item still where it was reported?
//!
//! [`classify`] decides from one fetch, the platform's removal rules and the
//! hash of what was captured; it is the whole rule, so that the scheduler
//! (which picks items and records the results) holds no judgement of its own:
//!
//! - the fetch failed (refused, reset, timed out, no such host): `unavailable`
//!   — a check that learns nothing never counts as a removal;
//! - the status is one of the platform's removal codes (by default 404, 410
//!   and 451): `removed`;
//! - a 2xx page that contains one of the platform's removal patterns (a
//!   "this content has been removed" notice, case-insensitive): `removed`;
//! - a 2xx answer whose bytes are the captured bytes, or any 2xx answer when
//!   nothing was captured: `live`;
//! - a 2xx answer with other bytes: `changed` (the location lives, the
//!   content may not);
//! - anything else (5xx, 429, 401, 403, other 4xx): `unavailable`.

use ronda_fetch::FetchError;
use ronda_hash::Sha256Digest;
use ronda_hash::digest::sha256;
use ronda_store::RemovalRules;
use serde::Serialize;

/// Status codes that mean "removed" when a platform names none.
pub const DEFAULT_REMOVAL_CODES: [u16; 3] = [404, 410, 451];

/// Longest body searched for removal patterns (the start of the page).
const PATTERN_WINDOW: usize = 256 * 1024;

/// What one check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    Live,
    Removed,
    Unavailable,
    Changed,
}

impl Seen {
    pub fn as_str(self) -> &'static str {
        match self {
            Seen::Live => "live",
            Seen::Removed => "removed",
            Seen::Unavailable => "unavailable",
            Seen::Changed => "changed",
        }
    }
}

/// One check's verdict and its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub seen: Seen,
    /// The final HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// SHA-256 of the body read, when there was an answer.
    pub evidence_sha256: Option<Sha256Digest>,
    /// Why, in a few words (never page content).
    pub detail: String,
}

/// What a fetch answered: the final status and the body read.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

impl<'a> From<&'a ronda_fetch::Fetched> for Answer<'a> {
    fn from(f: &'a ronda_fetch::Fetched) -> Answer<'a> {
        Answer {
            status: f.status,
            body: &f.body,
        }
    }
}

/// Decides what one fetch of an item's URL says about it.
pub fn classify(
    rules: &RemovalRules,
    fetched: Result<Answer<'_>, &FetchError>,
    captured: Option<&Sha256Digest>,
) -> Verdict {
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            return Verdict {
                seen: Seen::Unavailable,
                http_status: None,
                evidence_sha256: None,
                detail: format!("no answer: {}", error_kind(e)),
            };
        }
    };
    let status = fetched.status;
    let evidence = sha256(fetched.body);
    let verdict = |seen, detail: String| Verdict {
        seen,
        http_status: Some(status),
        evidence_sha256: Some(evidence),
        detail,
    };
    let removal_code = if rules.status_codes.is_empty() {
        DEFAULT_REMOVAL_CODES.contains(&status)
    } else {
        rules.status_codes.contains(&status)
    };
    if removal_code {
        return verdict(Seen::Removed, format!("status {status} means removed"));
    }
    if !(200..300).contains(&status) {
        return verdict(Seen::Unavailable, format!("status {status}"));
    }
    if let Some(i) = matching_pattern(rules, fetched.body) {
        return verdict(Seen::Removed, format!("removal pattern {} matched", i + 1));
    }
    match captured {
        Some(c) if *c != evidence => verdict(Seen::Changed, "other bytes than captured".into()),
        Some(_) => verdict(Seen::Live, "the captured bytes".into()),
        None => verdict(Seen::Live, format!("status {status}")),
    }
}

/// The index of the first removal pattern found in the start of `body`.
fn matching_pattern(rules: &RemovalRules, body: &[u8]) -> Option<usize> {
    if rules.page_patterns.is_empty() {
        return None;
    }
    let window = &body[..body.len().min(PATTERN_WINDOW)];
    let page = String::from_utf8_lossy(window).to_lowercase();
    rules
        .page_patterns
        .iter()
        .position(|p| !p.trim().is_empty() && page.contains(&p.trim().to_lowercase()))
}

/// A fetch error in a few words, without the URL's query.
fn error_kind(e: &FetchError) -> &'static str {
    match e {
        FetchError::InvalidUrl { .. }
        | FetchError::BadScheme { .. }
        | FetchError::NoHost { .. } => "invalid url",
        FetchError::Blocked { .. } => "address refused by the fetch policy",
        FetchError::Resolve { .. } | FetchError::NoAddress { .. } => "host not found",
        FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => "bad redirects",
        FetchError::TooLarge { .. } => "body too large",
        FetchError::Timeout { .. } | FetchError::ConnectTimeout { .. } => "timed out",
        _ => "connection failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: u16, body: &str) -> Answer<'_> {
        Answer {
            status,
            body: body.as_bytes(),
        }
    }

    fn rules(codes: &[u16], patterns: &[&str]) -> RemovalRules {
        RemovalRules {
            status_codes: codes.to_vec(),
            page_patterns: patterns.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn status_codes_decide_first() {
        let none = rules(&[], &[]);
        for (code, seen) in [
            (404, Seen::Removed),
            (410, Seen::Removed),
            (451, Seen::Removed),
            (200, Seen::Live),
            (204, Seen::Live),
            (403, Seen::Unavailable),
            (429, Seen::Unavailable),
            (500, Seen::Unavailable),
            (503, Seen::Unavailable),
        ] {
            let v = classify(&none, Ok(page(code, "x")), None);
            assert_eq!(v.seen, seen, "status {code}");
            assert_eq!(v.http_status, Some(code));
            assert!(v.evidence_sha256.is_some());
        }
        // A platform's own codes replace the defaults.
        let own = rules(&[403], &[]);
        assert_eq!(classify(&own, Ok(page(403, "")), None).seen, Seen::Removed);
        assert_eq!(
            classify(&own, Ok(page(404, "")), None).seen,
            Seen::Unavailable
        );
    }

    #[test]
    fn removal_pages_are_recognised_case_insensitively() {
        let r = rules(&[], &["This content has been REMOVED", "  "]);
        let v = classify(
            &r,
            Ok(page(200, "<h1>Sorry</h1> this content has been removed.")),
            None,
        );
        assert_eq!(v.seen, Seen::Removed);
        assert_eq!(v.detail, "removal pattern 1 matched");
        // A blank pattern matches nothing.
        assert_eq!(classify(&r, Ok(page(200, "a page")), None).seen, Seen::Live);
    }

    #[test]
    fn captured_bytes_tell_live_from_changed() {
        let r = rules(&[], &[]);
        let body = "the captured bytes";
        let captured = sha256(body.as_bytes());
        assert_eq!(
            classify(&r, Ok(page(200, body)), Some(&captured)).seen,
            Seen::Live
        );
        let v = classify(&r, Ok(page(200, "something else")), Some(&captured));
        assert_eq!(v.seen, Seen::Changed);
        assert_eq!(v.evidence_sha256, Some(sha256(b"something else")));
    }

    #[test]
    fn a_failed_fetch_is_never_a_removal() {
        let e = FetchError::Timeout {
            url: "http://a.example/x".parse().unwrap(),
            limit: std::time::Duration::from_secs(1),
        };
        let v = classify(&rules(&[], &[]), Err(&e), None);
        assert_eq!(v.seen, Seen::Unavailable);
        assert_eq!(v.http_status, None);
        assert_eq!(v.detail, "no answer: timed out");
    }
}
