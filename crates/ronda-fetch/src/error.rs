//! The one error type of this crate.

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::addr::BlockReason;

/// Why a fetch did not produce a response.
///
/// Every message names the URL concerned; for redirects, the hop that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The input is not an absolute URL.
    #[error("invalid url {input:?}: {source}")]
    InvalidUrl {
        input: String,
        #[source]
        source: url::ParseError,
    },
    /// Only `http` and `https` are fetched.
    #[error("refused to fetch {url}: scheme {:?} is not http or https", url.scheme())]
    BadScheme { url: Url },
    /// The URL has no host (e.g. `http:///x` after normalisation).
    #[error("refused to fetch {url}: no host")]
    NoHost { url: Url },
    /// The host is, or resolves only to, an address the policy refuses.
    #[error("refused to fetch {url}: {addr} is {reason}")]
    Blocked {
        url: Url,
        addr: IpAddr,
        reason: BlockReason,
    },
    /// Name resolution failed.
    #[error("could not resolve the host of {url}")]
    Resolve {
        url: Url,
        #[source]
        source: std::io::Error,
    },
    /// Name resolution succeeded with no address at all.
    #[error("the host of {url} resolved to no address")]
    NoAddress { url: Url },
    /// More redirects than the policy allows; `url` is the first URL.
    #[error("gave up on {url} after {limit} redirects")]
    TooManyRedirects { url: Url, limit: usize },
    /// A redirect whose `Location` is not a URL.
    #[error("redirect from {url} has an invalid location {location:?}")]
    BadRedirect { url: Url, location: String },
    /// The body is larger than the policy allows (by `Content-Length` or
    /// while streaming); nothing past the limit was read.
    #[error("response from {url} is larger than the limit of {limit} bytes")]
    TooLarge { url: Url, limit: u64 },
    /// The whole fetch, redirects and body included, ran past the time limit.
    #[error("fetching {url} took longer than {limit:?}")]
    Timeout { url: Url, limit: Duration },
    /// A connection could not be set up within the connect time limit.
    #[error("connecting for {url} took longer than {limit:?}")]
    ConnectTimeout { url: Url, limit: Duration },
    /// Connection, TLS or protocol failure. `reason` is the innermost cause
    /// (e.g. "Connection refused (os error 111)"), so that the one-line
    /// message says what happened; the whole chain is in `source`.
    #[error("could not fetch {url}: {reason}")]
    Http {
        url: Url,
        reason: String,
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("could not set up the http client")]
    Setup {
        #[source]
        source: reqwest::Error,
    },
}

impl FetchError {
    /// Whether the policy refused the request (scheme or address), as
    /// opposed to the remote side failing; `/h/hash` answers these with
    /// "Invalid or unsafe URL provided".
    pub fn is_refused(&self) -> bool {
        matches!(
            self,
            FetchError::BadScheme { .. } | FetchError::NoHost { .. } | FetchError::Blocked { .. }
        )
    }
}
