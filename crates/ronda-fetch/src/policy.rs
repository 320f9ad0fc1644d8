//! What a [`Fetcher`](crate::Fetcher) may do: addresses, redirects, sizes, times.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::addr::{BlockReason, IpCidr, classify};

/// Limits and exceptions for fetching.
///
/// The default refuses every address that is not public unicast (see
/// [`classify`](crate::classify)), follows at most 5 redirects, reads at most
/// 64 MiB of body, and gives up after 20 s in all (5 s to connect).
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Address blocks fetched from even though [`classify`] refuses them.
    /// Tests and the demo allow `127.0.0.1`.
    pub allow: Vec<IpCidr>,
    /// A static host table consulted instead of DNS: lower-case host name →
    /// addresses. Its addresses are checked like any others. The demo's
    /// simulated platforms use it to give loopback servers real-looking names.
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Largest body read, in bytes.
    pub max_body_bytes: u64,
    /// Time for the whole fetch: every hop, and the body.
    pub total_timeout: Duration,
    /// Time to set up one connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// `User-Agent` header sent with every request.
    pub user_agent: String,
}

/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "ronda-fetch/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/ronda-project/ronda)"
);

impl Default for FetchPolicy {
    fn default() -> FetchPolicy {
        FetchPolicy {
            allow: Vec::new(),
            hosts: BTreeMap::new(),
            max_redirects: 5,
            max_body_bytes: 64 * 1024 * 1024,
            total_timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

impl FetchPolicy {
    /// Adds an address block to the allow-list.
    pub fn allow(mut self, block: impl Into<IpCidr>) -> FetchPolicy {
        self.allow.push(block.into());
        self
    }

    /// Adds a static host table entry (replacing any earlier one for `host`).
    pub fn host(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> FetchPolicy {
        self.hosts
            .insert(host.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }

    /// Whether a connection to `ip` is allowed, and if not, why.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), BlockReason> {
        match classify(ip) {
            None => Ok(()),
            Some(_) if self.allow.iter().any(|block| block.contains(ip)) => Ok(()),
            Some(reason) => Err(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn allow_list_makes_exceptions() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            FetchPolicy::default().check_ip(ip),
            Err(BlockReason::Loopback)
        );
        let p = FetchPolicy::default().allow(Ipv4Addr::LOCALHOST);
        assert_eq!(p.check_ip(ip), Ok(()));
        assert!(p.check_ip("127.0.0.2".parse().expect("valid")).is_err());
        assert!(p.check_ip("8.8.8.8".parse().expect("valid")).is_ok());
    }
}
