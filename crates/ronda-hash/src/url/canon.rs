//! The canonicalisation pipeline behind [`canonicalize`]: parse with the
//! WHATWG rules, then apply Ronda's normalisation, one component at a time.

use std::borrow::Cow;

use url::{Host, Url};

use super::{CanonicalUrl, MAX_URL_LEN, UrlError, platform};

/// Turns a URL into its canonical form; see the [module docs](super) for
/// the rules.
///
/// ```
/// use ronda_hash::url::canonicalize;
///
/// let url = canonicalize("HTTP://www.Example.com:80/a/./b/?utm_source=x&b=2&a=1#top")?;
/// assert_eq!(url.as_str(), "https://example.com/a/b?a=1&b=2");
/// assert_eq!(canonicalize("youtu.be/dQw4w9WgXcQ?si=abc")?.as_str(),
///            "https://youtube.com/watch?v=dQw4w9WgXcQ");
/// # Ok::<(), ronda_hash::url::UrlError>(())
/// ```
pub fn canonicalize(input: &str) -> Result<CanonicalUrl, UrlError> {
    if input.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong {
            len: input.len(),
            max: MAX_URL_LEN,
        });
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(UrlError::Empty);
    }
    let full: Cow<'_, str> = if has_scheme(trimmed) {
        Cow::Borrowed(trimmed)
    } else if trimmed.starts_with("//") {
        Cow::Owned(format!("https:{trimmed}"))
    } else {
        Cow::Owned(format!("https://{trimmed}"))
    };
    canonicalize_absolute(&full, true)
}

/// Whether `s` starts with a scheme (`name:`), as opposed to a host, or a
/// `host:port` such as `example.com:8080/a`.
fn has_scheme(s: &str) -> bool {
    let Some((name, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = name.chars();
    let name_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !name_ok {
        return false;
    }
    if rest.starts_with("//") {
        return true;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after_port = &rest[digits..];
    let looks_like_port =
        digits > 0 && (after_port.is_empty() || after_port.starts_with(['/', '?', '#']));
    !looks_like_port
}

/// One query parameter, its key and value already percent-normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Param {
    pub(super) key: String,
    /// `None` for a bare key (`?a`), `Some("")` for `?a=`.
    pub(super) value: Option<String>,
}

/// A URL taken apart, each part normalised; what the platform rules edit.
#[derive(Debug)]
pub(super) struct Parts {
    /// Lower-case ASCII, folded, aliased; IPv6 in brackets.
    pub(super) host: String,
    pub(super) port: Option<u16>,
    /// Starts with `/`.
    pub(super) path: String,
    pub(super) query: Vec<Param>,
    pub(super) fragment: Option<String>,
}

impl Parts {
    /// The path's segments, without the leading `/`.
    pub(super) fn segments(&self) -> Vec<&str> {
        self.path
            .strip_prefix('/')
            .unwrap_or(&self.path)
            .split('/')
            .collect()
    }
}

/// Canonicalises an absolute URL. `rewrite_hashbang` is false on the one
/// recursive call that re-reads an old `#!` URL, so that recursion ends.
fn canonicalize_absolute(s: &str, rewrite_hashbang: bool) -> Result<CanonicalUrl, UrlError> {
    let url = Url::parse(s).map_err(|e| UrlError::Malformed(e.to_string()))?;
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(UrlError::UnsupportedScheme(shorten(scheme)));
    }
    let (host, is_ip) = match url.host() {
        None => return Err(UrlError::Malformed("no host".to_owned())),
        Some(Host::Domain(d)) => {
            let d = d.strip_suffix('.').unwrap_or(d);
            validate_domain(d)?;
            (platform::fold_host(d), false)
        }
        Some(Host::Ipv4(a)) => (a.to_string(), true),
        Some(Host::Ipv6(a)) => (format!("[{a}]"), true),
    };
    // `port()` is already `None` for the default port of the URL's own
    // scheme; 443 written after `http` becomes the default once folded.
    let port = url.port().filter(|&p| p != 443);
    let mut parts = Parts {
        host,
        port,
        path: normalise(url.path(), Component::Path),
        query: url.query().map(parse_query).unwrap_or_default(),
        fragment: url.fragment().map(|f| normalise(f, Component::Fragment)),
    };

    if rewrite_hashbang
        && !is_ip
        && let Some(rewritten) = platform::hashbang_url(&parts)
    {
        return canonicalize_absolute(&rewritten, false);
    }

    strip_trailing_slashes(&mut parts.path);
    if !is_ip {
        platform::rewrite(&mut parts);
        platform::strip_tracking(&parts.host, &mut parts.query);
    }
    parts.query.sort_by(|a, b| a.key.cmp(&b.key));
    let keep_fragment = parts.fragment.as_deref().is_some_and(|f| {
        f.len() > 1 && f.starts_with('!') && !platform::drops_fragments(&parts.host)
    });
    if !keep_fragment {
        parts.fragment = None;
    }
    build(parts)
}

/// Serialises the parts and records where host and path lie.
fn build(parts: Parts) -> Result<CanonicalUrl, UrlError> {
    let mut s = String::with_capacity(16 + parts.host.len() + parts.path.len());
    s.push_str("https://");
    let host_start = s.len();
    s.push_str(&parts.host);
    let host_end = s.len();
    if let Some(port) = parts.port {
        s.push(':');
        s.push_str(&port.to_string());
    }
    let path_start = s.len();
    s.push_str(&parts.path);
    let path_end = s.len();
    for (i, param) in parts.query.iter().enumerate() {
        s.push(if i == 0 { '?' } else { '&' });
        s.push_str(&param.key);
        if let Some(value) = &param.value {
            s.push('=');
            s.push_str(value);
        }
    }
    if let Some(fragment) = &parts.fragment {
        s.push('#');
        s.push_str(fragment);
    }
    if s.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong {
            len: s.len(),
            max: MAX_URL_LEN,
        });
    }
    Ok(CanonicalUrl {
        serialized: s,
        host: host_start..host_end,
        path: path_start..path_end,
        port: parts.port,
    })
}

/// Checks a lower-case ASCII domain name: labels of 1 to 63 characters from
/// `a-z 0-9 - _`, at most 253 bytes in all.
pub(super) fn validate_domain(d: &str) -> Result<(), UrlError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    if d.is_empty() || d.len() > 253 || !d.split('.').all(label_ok) {
        return Err(UrlError::InvalidHost(shorten(d)));
    }
    Ok(())
}

/// At most 64 characters of `s`, for error messages.
fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

fn strip_trailing_slashes(path: &mut String) {
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
}

fn parse_query(query: &str) -> Vec<Param> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((k, v)) => Param {
                key: normalise(k, Component::Query),
                value: Some(normalise(v, Component::Query)),
            },
            None => Param {
                key: normalise(piece, Component::Query),
                value: None,
            },
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Component {
    Path,
    Query,
    Fragment,
}

/// RFC 3986 percent-encoding normalisation of one component: escapes of
/// unreserved characters decoded, other escapes upper-cased, a stray `%`
/// encoded, and every byte the component does not allow encoded.
pub(super) fn normalise(s: &str, component: Component) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                let v = hi << 4 | lo;
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    push_escape(&mut out, v);
                }
                i += 3;
            } else {
                out.push_str("%25");
                i += 1;
            }
            continue;
        }
        if is_allowed(b, component) {
            out.push(char::from(b));
        } else {
            push_escape(&mut out, b);
        }
        i += 1;
    }
    out
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` less `%` (handled apart), plus `/`, plus `?` outside the
/// path.
fn is_allowed(b: u8, component: Component) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
        || (b == b'?' && component != Component::Path)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}
