//! Fetching untrusted URLs without becoming a proxy into the private network.
//!
//! Ronda fetches URLs that analysts and platforms hand it: captures of
//! reported items, liveness checks, `GET /h/hash?url=`. Each is a
//! server-side request forgery risk: a URL (or a redirect, or a DNS answer)
//! that points at `127.0.0.1`, a database on `10.0.0.5`, or the cloud
//! metadata service on `169.254.169.254`. This crate is the one way Ronda
//! fetches such URLs.
//!
//! - [`Fetcher::get`] fetches a URL under a [`FetchPolicy`] and returns a
//!   [`Fetched`] (status, final URL, content type, headers, body), or a
//!   [`FetchError`] that names the URL and the reason.
//! - [`classify`] says why an address is not public unicast ([`BlockReason`]);
//!   [`FetchPolicy::allow`] makes exceptions ([`IpCidr`]), which tests and the
//!   demo use for `127.0.0.1`.
//!
//! The key decision: **the address checked is the address connected to.**
//! Host names are resolved by a resolver installed in the HTTP client that
//! filters its own answer, so no second lookup exists that a rebinding DNS
//! server could answer differently; IP-literal hosts (in every spelling the
//! URL standard accepts, such as `http://2130706433/` or `http://0x7f.1/`,
//! which the parser turns into `127.0.0.1`) are checked before the request.
//! Redirects are followed by hand, at most [`FetchPolicy::max_redirects`],
//! each target checked again. Proxies from the environment are ignored. The
//! body is streamed and abandoned past [`FetchPolicy::max_body_bytes`]; the
//! whole fetch runs under one deadline. Bodies are never decompressed and
//! never printed by `Debug`.

mod addr;
mod error;
mod fetch;
mod policy;

pub use addr::{BlockReason, Embedding, IpCidr, ParseCidrError, classify};
pub use error::FetchError;
pub use fetch::{Fetched, Fetcher};
pub use policy::{DEFAULT_USER_AGENT, FetchPolicy};
/// Header types for [`Fetcher::post`].
pub use reqwest::header;
