//! The fetcher: one `reqwest` client whose name resolution is checked, and a
//! manual redirect loop that checks every hop.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use tokio::time::Instant;
use url::{Host, Url};

use crate::addr::BlockReason;
use crate::error::FetchError;
use crate::policy::FetchPolicy;

/// A response read to the end.
#[derive(Clone)]
pub struct Fetched {
    /// HTTP status of the last response (any status: a 404 is a result, not an error).
    pub status: u16,
    /// The URL that gave this response, after redirects.
    pub final_url: Url,
    /// The `Content-Type` header, if present and readable as text.
    pub content_type: Option<String>,
    /// All response headers of the last response.
    pub headers: HeaderMap,
    /// The body, at most [`FetchPolicy::max_body_bytes`] long.
    pub body: Bytes,
    /// The URLs that answered with a redirect, in order; empty when the
    /// first URL answered directly.
    pub redirects: Vec<Url>,
    /// The address the last response came from.
    pub remote_addr: Option<SocketAddr>,
}

impl Fetched {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

// By hand, so that the body never lands in a log line through `{:?}`.
impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("status", &self.status)
            .field("final_url", &self.final_url.as_str())
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("redirects", &self.redirects.len())
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

/// Fetches URLs under a [`FetchPolicy`]. Cheap to clone; clones share
/// connections.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// A fetcher with its own connection pool.
    pub fn new(policy: FetchPolicy) -> Result<Fetcher, FetchError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            // Redirects are followed by hand so that each target is checked.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would make the resolver check the proxy, not the target.
            .no_proxy()
            .connect_timeout(policy.connect_timeout)
            // A backstop; `get` enforces the same limit over all hops itself.
            .timeout(policy.total_timeout)
            .user_agent(policy.user_agent.clone())
            .dns_resolver(Arc::new(CheckedResolver {
                policy: Arc::clone(&policy),
            }))
            .build()
            .map_err(|source| FetchError::Setup { source })?;
        Ok(Fetcher { client, policy })
    }

    /// The policy this fetcher enforces.
    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Parses `input` and checks what can be checked without the network:
    /// the scheme, and the address when the host is an IP address (in any of
    /// the forms the URL standard accepts: `2130706433`, `0x7f.1`,
    /// `[::ffff:127.0.0.1]`, ...). Host names are checked when resolved.
    pub fn check_url(&self, input: &str) -> Result<Url, FetchError> {
        let url = Url::parse(input).map_err(|source| FetchError::InvalidUrl {
            input: input.to_owned(),
            source,
        })?;
        self.check_target(&url)?;
        Ok(url)
    }

    /// GETs `input`, following redirects, and reads the whole body.
    ///
    /// Any final status is `Ok`; see [`Fetched::is_success`].
    pub async fn get(&self, input: &str) -> Result<Fetched, FetchError> {
        let url = self.check_url(input)?;
        self.get_url(url).await
    }

    /// As [`get`](Fetcher::get), for a parsed URL.
    pub async fn get_url(&self, start: Url) -> Result<Fetched, FetchError> {
        let deadline = Instant::now() + self.policy.total_timeout;
        let mut url = start.clone();
        let mut redirects = Vec::new();
        loop {
            self.check_target(&url)?;
            let response = self
                .within(deadline, &url, self.client.get(url.clone()).send())
                .await?
                .map_err(|e| self.send_error(&url, e))?;
            let status = response.status().as_u16();
            // The host only: a full URL can carry credentials or tokens.
            tracing::debug!(
                host = url.host_str().unwrap_or(""),
                status,
                hop = redirects.len(),
                "fetched"
            );
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = response.headers().get(LOCATION)
            {
                let next = location
                    .to_str()
                    .ok()
                    .and_then(|loc| url.join(loc).ok())
                    .ok_or_else(|| FetchError::BadRedirect {
                        url: url.clone(),
                        location: String::from_utf8_lossy(location.as_bytes()).into_owned(),
                    })?;
                if redirects.len() >= self.policy.max_redirects {
                    return Err(FetchError::TooManyRedirects {
                        url: start,
                        limit: self.policy.max_redirects,
                    });
                }
                redirects.push(std::mem::replace(&mut url, next));
                continue;
            }
            return self.finish(deadline, url, redirects, response).await;
        }
    }

    /// POSTs `body` to `input` with `headers`, under the same address checks
    /// and limits as [`get`](Fetcher::get). Redirects are not followed (a
    /// POST is not repeated somewhere else): a 3xx is the answer.
    pub async fn post(
        &self,
        input: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Fetched, FetchError> {
        let url = self.check_url(input)?;
        let deadline = Instant::now() + self.policy.total_timeout;
        let response = self
            .within(
                deadline,
                &url,
                self.client
                    .post(url.clone())
                    .headers(headers)
                    .body(body)
                    .send(),
            )
            .await?
            .map_err(|e| self.send_error(&url, e))?;
        tracing::debug!(
            host = url.host_str().unwrap_or(""),
            status = response.status().as_u16(),
            "posted"
        );
        self.finish(deadline, url, Vec::new(), response).await
    }

    /// Reads the body of the last response under the size and time limits.
    async fn finish(
        &self,
        deadline: Instant,
        url: Url,
        redirects: Vec<Url>,
        mut response: reqwest::Response,
    ) -> Result<Fetched, FetchError> {
        let limit = self.policy.max_body_bytes;
        let too_large = |url: &Url| FetchError::TooLarge {
            url: url.clone(),
            limit,
        };
        let declared = response.content_length();
        if declared.is_some_and(|len| len > limit) {
            return Err(too_large(&url));
        }
        // Trust a declared length for the first allocation only up to 1 MiB.
        let capacity = declared.unwrap_or(0).min(limit).min(1 << 20);
        let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = self
            .within(deadline, &url, response.chunk())
            .await?
            .map_err(|e| self.send_error(&url, e))?
        {
            let total = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
            if total > limit {
                return Err(too_large(&url));
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Fetched {
            status: response.status().as_u16(),
            content_type,
            headers: std::mem::take(response.headers_mut()),
            remote_addr: response.remote_addr(),
            body: body.freeze(),
            redirects,
            final_url: url,
        })
    }

    /// The checks that need no name resolution.
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadScheme { url: url.clone() });
        }
        let ip = match url.host() {
            None => return Err(FetchError::NoHost { url: url.clone() }),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        };
        self.policy
            .check_ip(ip)
            .map_err(|reason| FetchError::Blocked {
                url: url.clone(),
                addr: ip,
                reason,
            })
    }

    async fn within<F: Future>(
        &self,
        deadline: Instant,
        url: &Url,
        fut: F,
    ) -> Result<F::Output, FetchError> {
        tokio::time::timeout_at(deadline, fut)
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.clone(),
                limit: self.policy.total_timeout,
            })
    }

    /// Turns a client error into ours, recovering the resolver's refusal
    /// from the cause chain.
    fn send_error(&self, url: &Url, e: reqwest::Error) -> FetchError {
        let mut cause: Option<&(dyn StdError + 'static)> = e.source();
        while let Some(c) = cause {
            if let Some(refusal) = c.downcast_ref::<ResolveError>() {
                return match refusal {
                    ResolveError::Blocked(addr, reason) => FetchError::Blocked {
                        url: url.clone(),
                        addr: *addr,
                        reason: *reason,
                    },
                    ResolveError::NoAddress => FetchError::NoAddress { url: url.clone() },
                    ResolveError::Lookup(io) => FetchError::Resolve {
                        url: url.clone(),
                        source: std::io::Error::new(io.kind(), io.to_string()),
                    },
                };
            }
            cause = c.source();
        }
        if e.is_timeout() {
            return if e.is_connect() {
                FetchError::ConnectTimeout {
                    url: url.clone(),
                    limit: self.policy.connect_timeout,
                }
            } else {
                FetchError::Timeout {
                    url: url.clone(),
                    limit: self.policy.total_timeout,
                }
            };
        }
        let mut innermost: &(dyn StdError + 'static) = &e;
        while let Some(next) = innermost.source() {
            innermost = next;
        }
        FetchError::Http {
            url: url.clone(),
            reason: innermost.to_string(),
            source: e.without_url(),
        }
    }
}

/// Name resolution that only ever hands the connector allowed addresses, so
/// the address checked is the address connected to: there is no second
/// lookup for a rebinding DNS server to answer differently.
struct CheckedResolver {
    policy: Arc<FetchPolicy>,
}

/// What the resolver reports through the client's error chain.
#[derive(Debug)]
enum ResolveError {
    Blocked(IpAddr, BlockReason),
    NoAddress,
    Lookup(std::io::Error),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::Blocked(addr, reason) => write!(f, "{addr} is {reason}"),
            ResolveError::NoAddress => f.write_str("no address"),
            ResolveError::Lookup(e) => write!(f, "lookup failed: {e}"),
        }
    }
}

impl StdError for ResolveError {}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let found: Vec<IpAddr> = match policy.hosts.get(&host) {
                Some(fixed) => fixed.clone(),
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await
                    .map_err(ResolveError::Lookup)?
                    .map(|sa| sa.ip())
                    .collect(),
            };
            // Keep the allowed addresses; refuse only when none is left, and
            // then name the first refused one.
            let mut allowed = Vec::with_capacity(found.len());
            let mut refused = None;
            for ip in found {
                match policy.check_ip(ip) {
                    Ok(()) => allowed.push(SocketAddr::new(ip, 0)),
                    Err(reason) => {
                        refused.get_or_insert(ResolveError::Blocked(ip, reason));
                    }
                }
            }
            if allowed.is_empty() {
                let err = refused.unwrap_or(ResolveError::NoAddress);
                return Err(Box::new(err) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
