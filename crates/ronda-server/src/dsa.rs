//! Submitting statements of reasons to the DSA Transparency Database.
//!
//! [`DsaClient::submit`] takes statements built by `ronda-compliance`,
//! refuses locally every one the database would refuse (its rules, and a
//! `puid` repeated in the same submission), and posts the rest to
//! `POST {base}/api/v1/statements` as `{"statements": [...]}`, at most 100
//! per call, with the platform's bearer token. It returns one
//! [`Outcome`] per statement, in input order.
//!
//! The database answers a call as a whole: `201` creates every statement
//! in it, `422` creates none. So after a `422` the statements it names
//! (`errors.statement_<i>`) are reported with their field errors and the
//! others are sent again without them. A `422` that names `puid`s the
//! database already has (`errors.existing_puids`) means an earlier attempt
//! got through although its answer was lost (a timeout, a dropped
//! connection): those statements are reported as [`Outcome::AlreadyPresent`]
//! and the rest are sent again. That makes retrying safe, because a `puid`
//! is Ronda's stable id for the decision. Network errors, `429` and `5xx`
//! are retried with exponential back-off and jitter; any other answer
//! (`401`, `403`, ...) fails the call without retrying.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use ronda_compliance::sor::{FieldErrors, MAX_BATCH, Statement, parse_statement_key, plan};
use ronda_fetch::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER,
};
use ronda_fetch::{FetchError, Fetcher};
use serde_json::Value;

/// The path of the database's batch endpoint, under its base URL.
pub const STATEMENTS_PATH: &str = "/api/v1/statements";

/// Where and how to submit.
#[derive(Clone)]
pub struct DsaSettings {
    /// The database's base URL, e.g. `https://transparency.dsa.ec.europa.eu`
    /// (or the sandbox the Digital Services Coordinator gives access to).
    pub base_url: String,
    /// The platform's API token (sent as `Authorization: Bearer ...`).
    pub token: String,
    /// Attempts per call before giving up on network errors, 429 and 5xx.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; doubled after each.
    pub first_backoff: Duration,
    /// The longest wait between attempts (also caps `Retry-After`).
    pub max_backoff: Duration,
}

impl DsaSettings {
    /// Settings with the default retry policy: 5 attempts, 2 s doubling up to 60 s.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> DsaSettings {
        DsaSettings {
            base_url: base_url.into(),
            token: token.into(),
            max_attempts: 5,
            first_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

// By hand, so that the token never reaches a log line.
impl fmt::Debug for DsaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DsaSettings")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("max_attempts", &self.max_attempts)
            .field("first_backoff", &self.first_backoff)
            .field("max_backoff", &self.max_backoff)
            .finish()
    }
}

/// Why a client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DsaError {
    #[error("invalid transparency database url {url:?}")]
    BadUrl {
        url: String,
        #[source]
        source: Box<FetchError>,
    },
    #[error("the transparency database token is empty or not a valid header value")]
    BadToken,
}

/// What became of one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The database created it (`201`); its `uuid` there, when the answer named it.
    Created { uuid: Option<String> },
    /// The database already had its `puid`: an earlier attempt created it.
    AlreadyPresent,
    /// Refused here, never sent: it breaks the database's rules, or an
    /// earlier statement in the submission has the same `puid`.
    Invalid(FieldErrors),
    /// The database refused it (`422`) with these field errors.
    Rejected(FieldErrors),
    /// Not submitted: the call failed for good (an answer other than 201 or
    /// 422, or still failing after the last attempt). Worth submitting again later.
    Failed {
        http_status: Option<u16>,
        error: String,
    },
}

impl Outcome {
    /// Whether the database has the statement now.
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Created { .. } | Outcome::AlreadyPresent)
    }
}

/// Submits statements of reasons to one Transparency Database.
#[derive(Debug, Clone)]
pub struct DsaClient {
    fetcher: Fetcher,
    settings: DsaSettings,
    endpoint: String,
    headers: HeaderMap,
}

/// How one call (with its retries) ended.
enum Answer {
    Created(Value),
    Unprocessable(Value),
    Failed {
        http_status: Option<u16>,
        error: String,
    },
}

impl DsaClient {
    /// A client posting through `fetcher` (whose address policy applies:
    /// tests allow 127.0.0.1).
    pub fn new(fetcher: Fetcher, settings: DsaSettings) -> Result<DsaClient, DsaError> {
        let endpoint = format!(
            "{}{STATEMENTS_PATH}",
            settings.base_url.trim_end_matches('/')
        );
        fetcher
            .check_url(&endpoint)
            .map_err(|source| DsaError::BadUrl {
                url: settings.base_url.clone(),
                source: Box::new(source),
            })?;
        if settings.token.trim().is_empty() {
            return Err(DsaError::BadToken);
        }
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", settings.token))
            .map_err(|_| DsaError::BadToken)?;
        bearer.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, bearer);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(DsaClient {
            fetcher,
            settings,
            endpoint,
            headers,
        })
    }

    /// The URL statements are posted to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Submits `statements`; one outcome per statement, in the same order.
    /// Statements that fail validation are never sent.
    pub async fn submit(&self, statements: &[Statement]) -> Vec<Outcome> {
        let plan = plan(statements);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; statements.len()];
        for (i, errors) in plan.rejected {
            outcomes[i] = Some(Outcome::Invalid(errors));
        }
        for batch in plan.batches {
            debug_assert!(batch.len() <= MAX_BATCH);
            self.submit_batch(statements, batch, &mut outcomes).await;
        }
        let outcomes: Vec<Outcome> = outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(Outcome::Failed {
                    http_status: None,
                    error: "not submitted".into(),
                })
            })
            .collect();
        let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
        tracing::info!(
            statements = outcomes.len(),
            created = count(|o| matches!(o, Outcome::Created { .. })),
            already_present = count(|o| matches!(o, Outcome::AlreadyPresent)),
            invalid = count(|o| matches!(o, Outcome::Invalid(_))),
            rejected = count(|o| matches!(o, Outcome::Rejected(_))),
            failed = count(|o| matches!(o, Outcome::Failed { .. })),
            "submitted statements of reasons"
        );
        outcomes
    }

    /// Sends one batch until every statement in it has an outcome.
    async fn submit_batch(
        &self,
        statements: &[Statement],
        mut pending: Vec<usize>,
        outcomes: &mut [Option<Outcome>],
    ) {
        while !pending.is_empty() {
            match self.call(statements, &pending).await {
                Answer::Created(body) => {
                    let uuids = created_uuids(&body);
                    for i in pending.drain(..) {
                        let uuid = uuids.get(statements[i].puid.as_str()).cloned();
                        outcomes[i] = Some(Outcome::Created { uuid });
                    }
                }
                Answer::Unprocessable(body) => {
                    let settled = settle_unprocessable(statements, &pending, &body, outcomes);
                    if settled.is_empty() {
                        // An answer that names nothing we sent: refuse the lot
                        // rather than send the same call again.
                        let errors = whole_errors(&body);
                        for i in pending.drain(..) {
                            outcomes[i] = Some(Outcome::Rejected(errors.clone()));
                        }
                    } else {
                        pending.retain(|i| !settled.contains(i));
                    }
                }
                Answer::Failed { http_status, error } => {
                    tracing::warn!(statements = pending.len(), ?http_status, %error, "statements of reasons not submitted");
                    for i in pending.drain(..) {
                        outcomes[i] = Some(Outcome::Failed {
                            http_status,
                            error: error.clone(),
                        });
                    }
                }
            }
        }
    }

    /// One call, with retries on network errors, 429 and 5xx.
    async fn call(&self, statements: &[Statement], batch: &[usize]) -> Answer {
        let body =
            ronda_compliance::sor::request_body(batch.iter().map(|&i| &statements[i])).to_string();
        let attempts = self.settings.max_attempts.max(1);
        let mut last = (None, String::new());
        for attempt in 1..=attempts {
            let mut retry_after = None;
            match self
                .fetcher
                .post(
                    &self.endpoint,
                    self.headers.clone(),
                    body.clone().into_bytes(),
                )
                .await
            {
                Ok(answer) => match answer.status {
                    201 => return Answer::Created(parse_json(&answer.body)),
                    422 => return Answer::Unprocessable(parse_json(&answer.body)),
                    status @ (429 | 500..=599) => {
                        retry_after = answer
                            .headers
                            .get(RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok())
                            .map(Duration::from_secs);
                        last = (
                            Some(status),
                            format!("the transparency database answered {status}"),
                        );
                    }
                    status => {
                        return Answer::Failed {
                            http_status: Some(status),
                            error: format!("the transparency database answered {status}"),
                        };
                    }
                },
                Err(e) if !is_retryable(&e) => {
                    return Answer::Failed {
                        http_status: None,
                        error: e.to_string(),
                    };
                }
                Err(e) => last = (None, e.to_string()),
            }
            tracing::debug!(attempt, statements = batch.len(), error = %last.1, "retrying statements of reasons");
            if attempt < attempts {
                tokio::time::sleep(self.backoff(attempt, retry_after)).await;
            }
        }
        Answer::Failed {
            http_status: last.0,
            error: format!("gave up after {attempts} attempts: {}", last.1),
        }
    }

    /// The wait after failed attempt `attempt` (1-based): the first back-off
    /// doubled each time, at most the maximum, plus up to a quarter more
    /// as jitter so that many clients do not retry in step; a server's
    /// `Retry-After` is honoured up to the maximum.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let max = self.settings.max_backoff;
        let exp = self
            .settings
            .first_backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(max);
        let quarter = u64::try_from(exp.as_millis() / 4).unwrap_or(u64::MAX);
        let jitter = match getrandom::u64() {
            Ok(r) if quarter > 0 => Duration::from_millis(r % (quarter + 1)),
            _ => Duration::ZERO,
        };
        let wait = exp + jitter;
        match retry_after {
            Some(r) => r.min(max).max(wait.min(max)),
            None => wait,
        }
    }
}

/// Whether a failed request is worth repeating: the network or the server
/// failed, not the request or the policy.
fn is_retryable(e: &FetchError) -> bool {
    matches!(
        e,
        FetchError::Timeout { .. }
            | FetchError::ConnectTimeout { .. }
            | FetchError::Http { .. }
            | FetchError::Resolve { .. }
            | FetchError::NoAddress { .. }
    )
}

fn parse_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// `puid` to `uuid` from a `201` answer: `{"statements": [{"puid", "uuid", ...}]}`.
fn created_uuids(body: &Value) -> BTreeMap<&str, String> {
    body.get("statements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s.get("puid")?.as_str()?,
                s.get("uuid")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Gives an outcome to each statement of `pending` that a `422` answer
/// names, and returns their positions in the input.
fn settle_unprocessable(
    statements: &[Statement],
    pending: &[usize],
    body: &Value,
    outcomes: &mut [Option<Outcome>],
) -> BTreeSet<usize> {
    let mut settled = BTreeSet::new();
    let Some(errors) = body.get("errors").and_then(Value::as_object) else {
        return settled;
    };
    // PUIDs the database already has: created by an earlier attempt.
    let existing: BTreeSet<&str> = errors
        .get("existing_puids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for &i in pending {
        if existing.contains(statements[i].puid.as_str()) {
            outcomes[i] = Some(Outcome::AlreadyPresent);
            settled.insert(i);
        }
    }
    // Field errors of single statements, by position in the call.
    for (key, fields) in errors {
        let Some(&i) = parse_statement_key(key).and_then(|k| pending.get(k)) else {
            continue;
        };
        if settled.contains(&i) {
            continue;
        }
        let fields: FieldErrors = serde_json::from_value(fields.clone()).unwrap_or_else(|_| {
            let mut e = FieldErrors::default();
            e.add("statement", "refused by the transparency database");
            e
        });
        outcomes[i] = Some(Outcome::Rejected(fields));
        settled.insert(i);
    }
    settled
}

/// A `422` answer's errors as field errors, for an answer that names no
/// statement (a refused envelope).
fn whole_errors(body: &Value) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if let Some(map) = body.get("errors").and_then(Value::as_object) {
        for (field, messages) in map {
            for m in messages.as_array().into_iter().flatten() {
                if let Some(m) = m.as_str() {
                    errors.add(field, m);
                }
            }
        }
    }
    if errors.is_empty() {
        errors.add("statements", "refused by the transparency database (422)");
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let mut settings = DsaSettings::new("https://tdb.example", "t");
        settings.first_backoff = Duration::from_millis(100);
        settings.max_backoff = Duration::from_millis(1000);
        let client = DsaClient::new(
            Fetcher::new(ronda_fetch::FetchPolicy::default()).unwrap(),
            settings,
        )
        .unwrap();
        for (attempt, base) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            let wait = client.backoff(attempt, None).as_millis();
            assert!(
                (base..=base + base / 4).contains(&wait),
                "attempt {attempt}: {wait}"
            );
        }
        assert_eq!(
            client.backoff(1, Some(Duration::from_secs(600))),
            Duration::from_millis(1000)
        );
        assert!(client.backoff(1, Some(Duration::ZERO)) >= Duration::from_millis(100));
    }

    #[test]
    fn settings_never_print_the_token() {
        let settings = DsaSettings::new("https://tdb.example", "X|secret-token");
        assert!(!format!("{settings:?}").contains("secret"));
        let client = DsaClient::new(
            Fetcher::new(ronda_fetch::FetchPolicy::default()).unwrap(),
            settings,
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("secret"));
        assert_eq!(client.endpoint(), "https://tdb.example/api/v1/statements");
    }

    #[test]
    fn bad_settings_are_refused() {
        let fetcher = Fetcher::new(ronda_fetch::FetchPolicy::default()).unwrap();
        assert!(matches!(
            DsaClient::new(fetcher.clone(), DsaSettings::new("not a url", "t")),
            Err(DsaError::BadUrl { .. })
        ));
        assert!(matches!(
            DsaClient::new(
                fetcher.clone(),
                DsaSettings::new("https://tdb.example", " ")
            ),
            Err(DsaError::BadToken)
        ));
        assert!(matches!(
            DsaClient::new(fetcher, DsaSettings::new("https://tdb.example", "a\nb")),
            Err(DsaError::BadToken)
        ));
    }
}
