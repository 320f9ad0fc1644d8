//! The crate's error enum and the two per-entry errors it carries.
//!
//! Messages name the line, the URL or the record concerned and never the
//! TAT token or password. They quote at most a short, escaped prefix of
//! input-derived text, so that a hostile file cannot flood a log.

use reqwest::{StatusCode, Url};
use ronda_hash::{ParseSignalError, SignalType};

/// Everything that can go wrong in this crate.
///
/// [`Error::Line`] is the only recoverable variant of a file reader: the
/// reader yields it for one bad line and carries on. Every other variant a
/// reader yields ends the stream.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One line (or CSV record) is bad; the reader carries on.
    #[error(transparent)]
    Line(#[from] LineError),
    /// Reading the input failed; the reader stops.
    #[error("reading line {line}: {source}")]
    Io {
        /// The line being read when it failed.
        line: u64,
        /// What the reader said.
        #[source]
        source: std::io::Error,
    },
    /// The CSV does not start with the python-threatexchange header; the
    /// reader stops.
    #[error("csv header is {found:?}, expected {expected:?}")]
    Header {
        /// The first line, clipped.
        found: String,
        /// The header this format requires.
        expected: &'static str,
    },
    /// A record cannot be written in this format without losing meaning.
    #[error("cannot write {signal_type} record: {reason}")]
    Unwritable {
        /// The record's signal type.
        signal_type: SignalType,
        /// Why not.
        reason: &'static str,
    },
    /// Writing to the output failed.
    #[error("writing: {0}")]
    Write(#[source] std::io::Error),
    /// The TAT base URL is unusable.
    #[error("invalid tat base url {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given, clipped.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The TAT token endpoint refused the credentials.
    #[error("tat authentication failed at {url}: http {status} (check the username and password)")]
    Auth {
        /// The token endpoint.
        url: Url,
        /// The status it answered with.
        status: StatusCode,
    },
    /// An HTTP request got an unsuccessful status.
    #[error("http {status} from {url}")]
    Status {
        /// The URL requested.
        url: Url,
        /// The status it answered with.
        status: StatusCode,
    },
    /// An HTTP request failed before a complete response arrived (connect,
    /// timeout, cut-off body).
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL requested.
        url: Url,
        /// The transport error, without its own copy of the URL.
        #[source]
        source: reqwest::Error,
    },
    /// A response body is not the JSON the API documents.
    #[error("malformed json from {url}: {message}")]
    Json {
        /// The URL requested.
        url: Url,
        /// What was wrong.
        message: String,
    },
    /// A response body is over the size limit.
    #[error("response from {url} is over the limit of {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: Url,
        /// The limit in bytes.
        limit: usize,
    },
    /// The listing has more pages than the limit allows.
    #[error(
        "tat hash list has more than {limit} pages; stopped (raise the page limit or resume from the last checkpoint)"
    )]
    TooManyPages {
        /// The page limit.
        limit: u64,
    },
    /// A `next` link leads away from the configured server; following it
    /// would hand the token to another host.
    #[error("next page {next} is not on {base}")]
    ForeignNext {
        /// The link as the server gave it, clipped.
        next: String,
        /// The configured base URL.
        base: Url,
    },
}

/// One bad line (or CSV record) of a hash-list file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    /// The 1-based line number; for a CSV record spanning lines, its first.
    pub line: u64,
    /// What was wrong: unknown signal type, bad hex, wrong length, line too
    /// long, not UTF-8, wrong field count.
    pub message: String,
}

/// One bad entry in a page of the TAT hash list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tat entry {}: {message}", .id.as_deref().unwrap_or("without id"))]
pub struct RecordError {
    /// The entry's `id`, when it had a usable one.
    pub id: Option<String>,
    /// What was wrong: unknown algorithm, bad hash, missing field.
    pub message: String,
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// The message for a value of type `ty` that did not parse: the type is
/// named, input-derived text is clipped.
pub(crate) fn describe(ty: &str, e: &ParseSignalError) -> String {
    let message = match e {
        ParseSignalError::UnknownType(t) => format!("unknown signal type {:?}", clip(t, 40)),
        ParseSignalError::Length { .. }
        | ParseSignalError::NotHex(_)
        | ParseSignalError::Url(_) => {
            format!("bad {ty} value: {e}")
        }
        other => other.to_string(),
    };
    clip(&message, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_char_boundaries() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn record_error_names_the_id() {
        let e = RecordError {
            id: Some("42".into()),
            message: "unknown algorithm \"SHA512\"".into(),
        };
        assert_eq!(e.to_string(), "tat entry 42: unknown algorithm \"SHA512\"");
        let e = RecordError {
            id: None,
            message: "missing field `id`".into(),
        };
        assert_eq!(e.to_string(), "tat entry without id: missing field `id`");
    }
}
