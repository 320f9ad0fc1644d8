//! URL signals: canonical URLs, registrable domains and outlinks found in
//! text.
//!
//! Two people who paste the same link, one as `youtu.be/abc?si=x` and one as
//! `https://www.youtube.com/watch?v=abc&feature=share`, must end up with the
//! same string, or deconfliction and exact URL matching miss. [`canonicalize`]
//! turns a URL into that string, a [`CanonicalUrl`]; [`registrable_domain`]
//! gives the domain that domain rules match on; [`extract_urls`] finds the
//! URLs in a text, including defanged ones (`hxxps://example[.]com`).
//!
//! A canonical URL is a *matching key*, not a fetching address: it folds
//! `http` into `https` and `twitter.com` into `x.com`. Callers keep the URL as
//! submitted for fetching and liveness checks.
//!
//! This module is pure: no I/O, no network, no clock. Shorteners that need an
//! HTTP request to resolve (`bit.ly`, `t.co`, `vm.tiktok.com`) are left as
//! they are; only rewrites that follow from the URL's text are done.
//!
//! # Canonicalisation rules
//!
//! Applied by [`canonicalize`] in this order. Every rule is idempotent, and so
//! is the whole: `canonicalize(c.as_str())` returns `c` for every canonical
//! `c`.
//!
//! 1. **Limits.** Input longer than [`MAX_URL_LEN`] bytes (8 KiB) is an error,
//!    and so is a result that would be longer. Leading and trailing
//!    whitespace is ignored; tabs and newlines inside are removed (WHATWG).
//! 2. **Scheme.** Only `http` and `https` are accepted, in any letter case;
//!    any other scheme (`ftp:`, `mailto:`, `javascript:`, `data:`) is an
//!    error. Input without a scheme (`example.com/a`, `//example.com/a`) is
//!    read as `https`. `host:port` (`example.com:8080/a`) is not mistaken for
//!    a scheme, but `user:pass@host` without a scheme is, and is rejected.
//!    **`http` is folded into `https`**: the scheme says how a page is
//!    fetched, not which content it is, and two analysts' `http` and `https`
//!    copies of one link must deconflict.
//! 3. **Parsing** follows the WHATWG URL standard (the `url` crate): `\` is
//!    read as `/`, and non-ASCII characters in the path and query are
//!    percent-encoded as UTF-8.
//! 4. **User info** (`user:pass@`) is dropped.
//! 5. **Host.** Lower-cased; international names converted to punycode with
//!    UTS 46 (`Bücher.example` → `xn--bcher-kva.example`; punycode stays
//!    punycode; invalid punycode is an error); percent-escapes in the host
//!    decoded; a trailing dot dropped (`example.com.` → `example.com`). A
//!    name must be at most 253 bytes of labels of 1 to 63 characters from
//!    `a-z 0-9 - _`, else it is an error. IP addresses are kept, normalised:
//!    IPv4 in dotted decimal (`0x7f.1` → `127.0.0.1`), IPv6 compressed and
//!    bracketed (`[2001:db8::1]`).
//! 6. **Host variants.** A leading `www.`, `m.`, `mobile.` or `mbasic.` label
//!    is removed, repeatedly, but only while what remains is still a
//!    registrable domain or deeper (see below): `www.example.co.uk` →
//!    `example.co.uk`, but `www.co.uk`, `m.example` (where `example` is not a
//!    registrable domain) and `m.blogspot.com` (`blogspot.com` is a public
//!    suffix) stay. This is safe because these prefixes are, by long
//!    convention, the desktop and mobile front ends of one site run by the
//!    owner of the registrable domain, serving the same content at the same
//!    paths; a remaining registrable domain keeps the owner the same.
//! 7. **Port.** The default port (80 for `http`, 443 for `https`) is dropped;
//!    other ports are kept.
//! 8. **Path.** Dot segments resolved (`/a/./b/../c` → `/a/c`, also when
//!    written `%2e`). Percent-encoding normalised: escapes of unreserved
//!    characters (`A-Z a-z 0-9 - . _ ~`) decoded, the hex of other escapes
//!    upper-cased (`%2f` → `%2F`), a `%` that starts no escape encoded as
//!    `%25`, and every byte that RFC 3986 does not allow in a path encoded
//!    (`|` → `%7C`). Trailing slashes removed from non-root paths (`/a/` →
//!    `/a`); the root path is `/`. Letter case is kept (paths are
//!    case-sensitive), except where a platform rule below says otherwise.
//! 9. **Query.** Split on `&`; empty pieces dropped; each key and value
//!    percent-normalised as in the path (`+` is kept as it is). Tracking
//!    parameters removed: keys starting `utm_`, the keys in
//!    [`TRACKING_PARAMS`], `feature=share` and `feature=shared`, and the keys
//!    in [`SITE_TRACKING_PARAMS`] for that site's registrable domain. Keys
//!    are compared without regard to letter case. The remaining parameters
//!    are sorted by key (bytewise), stably, so repeated keys keep their
//!    order; an empty query is dropped along with its `?`.
//! 10. **Fragment** dropped, except a hashbang (`#!…`), which by the old AJAX
//!     crawling convention carries the page's identity (`example.com/#!/page`);
//!     it is kept, percent-normalised. Platform rules below turn the known
//!     hashbang URLs into plain ones.
//! 11. **Platforms.** Pure rewrites for well-known sites, done on the folded
//!     host:
//!     - `youtu.be/ID`, `youtube.com/shorts/ID`, `/embed/ID`, `/v/ID`,
//!       `/live/ID`, `/e/ID` and `youtube-nocookie.com/embed/ID` →
//!       `https://youtube.com/watch?v=ID` (ID of `A-Z a-z 0-9 - _`). A
//!       `youtube.com/watch` URL keeps only its first `v` parameter: the
//!       timestamp, playlist and share parameters do not change the video.
//!     - `twitter.com`, and the embed fixers `fxtwitter.com`, `vxtwitter.com`,
//!       `fixupx.com` and `fixvx.com`, → `x.com`. Old hashbang URLs
//!       (`twitter.com/#!/user/status/1`) → `x.com/user/status/1`. The first
//!       path segment is lower-cased when it is a handle (`A-Z a-z 0-9 _`),
//!       as handles are case-insensitive. Fragments are dropped.
//!     - `telegram.me` and `telegram.dog` → `t.me`; the web preview
//!       `t.me/s/NAME/…` → `t.me/NAME/…`; the first path segment is
//!       lower-cased when it is a username (`A-Z a-z 0-9 _`), never an invite
//!       (`+…`, `joinchat/…`), whose case matters.
//!     - `mega.co.nz` → `mega.nz`; old links `mega.nz/#!ID!KEY` →
//!       `mega.nz/file/ID` and `mega.nz/#F!ID!KEY` → `mega.nz/folder/ID`.
//!       Fragments (the decryption keys) are dropped: the ID names the file.
//!     - `old.`, `new.` and `np.reddit.com` → `reddit.com`; `redd.it/ID` →
//!       `reddit.com/comments/ID`.
//!     - `web.facebook.com` and `touch.facebook.com` → `facebook.com`.
//!
//!     Not rewritten: shorteners that need a request (`bit.ly`, `t.co`,
//!     `goo.gl`, `vm.tiktok.com`, `fb.me`), `music.youtube.com`, Nitter and
//!     other third-party mirrors (instances come and go; a rule list for them
//!     belongs in data, not code), and archive wrappers (`web.archive.org/web/…`).
//!
//! # Registrable domains
//!
//! The registrable domain ("eTLD+1") is found with the public suffix list
//! compiled into the `psl` crate, private section included, so
//! `a.b.example.co.uk` → `example.co.uk` and `someone.github.io` stays
//! `someone.github.io` (each is its own owner). A name whose last label is not
//! in the list follows the list's default rule `*`, as browsers do:
//! `a.example.internal` → `example.internal`. A bare public suffix (`co.uk`),
//! a single label (`localhost`) and IP addresses have none.
//!
//! # Extraction from text
//!
//! [`extract_urls`] scans a text for URLs and returns each occurrence, in
//! order, with its byte span in the text and its canonical form. It does not
//! remove duplicates. It finds:
//!
//! - URLs with a scheme: `http`, `https` and the defanged `hxxp`, `hxxps`,
//!   `hXXps`, `h**p` (the two middle letters any of `t x *`, any case), with
//!   the separator `://`, `[://]`, `[:]//`, `(:)//`, `{:}//` or the
//!   JSON-escaped `:\/\/` (whose path's `\/` are read as `/`), optionally
//!   followed by spaces (`:// example.com`);
//! - bare hosts, with or without `www.` and a path: `example.com/path`,
//!   `www.example.org`, `t.me/somechannel`; these count only when the host's
//!   public suffix is in the list and the host is a registrable domain or
//!   deeper, and when the last label is in one letter case (`late.Today`
//!   is prose missing a space). So `e.g.`, `file.txt` and `report.pdf` are
//!   not URLs, but
//!   `notes.md` (Moldova), `setup.py` (Paraguay) and `photo.zip` are: an
//!   accepted false positive, as those are real top-level domains. Bare IP
//!   addresses (`1.2.3.4`, also a version number) are not extracted;
//! - defanged dots in hosts: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}`
//!   (any case, with optional spaces around), and `[.]`, `(.)`, `{.}`, `[dot]`
//!   in paths; a dot with spaces before it (`example . com`) when the label
//!   after it has no capital letter (prose puts no space before a full stop,
//!   and starts a sentence with a capital); the word ` dot ` (`example dot
//!   com`) only in a host that follows a scheme or starts with `www`, since
//!   prose says "the dot com boom". A host with a spaced dot or the word dot
//!   must end in a listed public suffix; otherwise only the part before the
//!   doubtful dot is kept;
//! - `[:]` before a port;
//! - `&amp;` in a path or query, as left in text scraped out of HTML, read
//!   as `&`.
//!
//! A URL ends at whitespace, at `"`, `<`, `>`, `\`, `^`, `` ` ``, `|`, at
//! non-ASCII characters that are not letters or digits (such as `«»“”。`), and
//! at a closing bracket `)`, `]` or `}` that closes nothing opened inside the
//! URL, so `(see example.com/a)` and Markdown `[x](https://example.com/a)`
//! give `example.com/a`. Trailing `. , ; : ! ? ' *` are not part of it. A
//! match must start a word: the character before it is not a letter, digit,
//! `_ - . / \ % @`, so neither the domain of an e-mail address
//! (`alice@example.com`) nor the host of an `ftp://` URL is taken. A known
//! limitation: a URL glued to letters, as in Chinese text without spaces,
//! is found only when it has a scheme and the letter before it is non-ASCII.
//!
//! At most the first [`MAX_TEXT_LEN`] bytes of a text are scanned (rounded
//! down to a character boundary), and at most [`MAX_EXTRACTED_URLS`] URLs
//! are returned.

mod canon;
mod extract;
mod platform;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::str::FromStr;

pub use canon::canonicalize;
pub use extract::extract_urls;
pub use platform::{HOST_ALIASES, HOST_VARIANT_PREFIXES, SITE_TRACKING_PARAMS, TRACKING_PARAMS};

/// The longest URL, in bytes, that [`canonicalize`] accepts or produces.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// How many bytes of a text [`extract_urls`] scans.
pub const MAX_TEXT_LEN: usize = 1024 * 1024;

/// How many URLs [`extract_urls`] returns at most.
pub const MAX_EXTRACTED_URLS: usize = 1000;

/// Why a string is not a URL that Ronda can canonicalise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("url is empty")]
    Empty,
    #[error("url is {len} bytes long, over the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("url scheme {0:?} is not http or https")]
    UnsupportedScheme(String),
    #[error("url host {0:?} is not a valid host name")]
    InvalidHost(String),
    #[error("url is malformed: {0}")]
    Malformed(String),
}

/// A URL in canonical form (see the module docs for the rules).
///
/// Built only by [`canonicalize`] (or its `FromStr` and `Deserialize`), so
/// holding one means the string is canonical. Serialises as the string.
#[derive(Clone)]
pub struct CanonicalUrl {
    serialized: String,
    /// Byte range of the host (with brackets for IPv6) in `serialized`.
    host: Range<usize>,
    /// Byte range of the path in `serialized`.
    path: Range<usize>,
    port: Option<u16>,
}

impl CanonicalUrl {
    /// The whole canonical URL.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// The canonical URL as an owned string.
    pub fn into_string(self) -> String {
        self.serialized
    }

    /// The host: lower-case ASCII (punycode), a dotted IPv4 address, or an
    /// IPv6 address in brackets.
    pub fn host(&self) -> &str {
        &self.serialized[self.host.clone()]
    }

    /// The port, when it is not the default one (443).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The host's registrable domain, e.g. `example.co.uk` for
    /// `https://a.b.example.co.uk/`; `None` for IP addresses, single labels
    /// and bare public suffixes.
    pub fn registrable_domain(&self) -> Option<&str> {
        registrable_domain_of_ascii(self.host())
    }

    /// The path, starting with `/`, without the query.
    pub fn path(&self) -> &str {
        &self.serialized[self.path.clone()]
    }

    /// The query, without the `?`, when there is one.
    pub fn query(&self) -> Option<&str> {
        let rest = &self.serialized[self.path.end..];
        let rest = rest.strip_prefix('?')?;
        Some(rest.split_once('#').map_or(rest, |(q, _)| q))
    }

    /// The kept hashbang fragment, without the `#`, when there is one.
    pub fn fragment(&self) -> Option<&str> {
        self.serialized[self.path.end..]
            .split_once('#')
            .map(|(_, f)| f)
    }
}

impl fmt::Debug for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CanonicalUrl")
            .field(&self.serialized)
            .finish()
    }
}

impl fmt::Display for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

impl AsRef<str> for CanonicalUrl {
    fn as_ref(&self) -> &str {
        &self.serialized
    }
}

// Equality, order and hash are those of the string: the ranges follow from it.
impl PartialEq for CanonicalUrl {
    fn eq(&self, other: &Self) -> bool {
        self.serialized == other.serialized
    }
}

impl Eq for CanonicalUrl {}

impl PartialOrd for CanonicalUrl {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CanonicalUrl {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.serialized.cmp(&other.serialized)
    }
}

impl std::hash::Hash for CanonicalUrl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.serialized.hash(state);
    }
}

impl FromStr for CanonicalUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        canonicalize(s)
    }
}

impl serde::Serialize for CanonicalUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.serialized)
    }
}

impl<'de> serde::Deserialize<'de> for CanonicalUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        canonicalize(&s).map_err(serde::de::Error::custom)
    }
}

/// One URL found in a text by [`extract_urls`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtractedUrl {
    /// Byte range of the URL as written in the text (trailing punctuation
    /// excluded).
    pub span: Range<usize>,
    /// Its canonical form.
    pub url: CanonicalUrl,
    /// Whether it was defanged (`hxxp`, `[.]`, spaced dots, ...).
    pub deobfuscated: bool,
}

/// The registrable domain of a host name, e.g. `example.co.uk` for
/// `a.b.example.co.uk`.
///
/// The host may be in any letter case, international or punycode, with or
/// without a trailing dot; the result is lower-case punycode. `None` for
/// IP addresses, single labels, bare public suffixes and strings that are
/// not host names (a whole URL is not a host name).
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host.strip_suffix('.').unwrap_or(host);
    match url::Host::parse(host).ok()? {
        url::Host::Domain(d) => {
            canon::validate_domain(&d).ok()?;
            registrable_domain_of_ascii(&d).map(str::to_owned)
        }
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => None,
    }
}

/// The registrable domain of a host that is already lower-case ASCII.
fn registrable_domain_of_ascii(host: &str) -> Option<&str> {
    if host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    psl::domain_str(host)
}

/// Whether a lower-case ASCII host is a registrable domain or deeper under a
/// suffix that is in the public suffix list (not only under the default
/// rule): the test bare hosts in text must pass.
fn has_listed_suffix(host: &str) -> bool {
    psl::suffix(host.as_bytes()).is_some_and(|s| s.is_known())
        && registrable_domain_of_ascii(host).is_some()
}
