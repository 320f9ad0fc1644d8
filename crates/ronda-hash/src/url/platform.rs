//! Site knowledge for canonicalisation: host variants and aliases, tracking
//! parameters, and the pure rewrites for well-known platforms.
//!
//! Everything here is a rewrite that follows from the URL's text alone; a
//! rule that would need a request to be sure (a shortener) does not belong
//! here.

use super::canon::{Param, Parts};
use super::registrable_domain_of_ascii;

/// Leading host labels that name the desktop or mobile front end of a site,
/// removed while what remains is a registrable domain or deeper.
pub const HOST_VARIANT_PREFIXES: [&str; 4] = ["www", "m", "mobile", "mbasic"];

/// Hosts that serve the same content as another, after variant folding:
/// `(alias, canonical host)`.
pub const HOST_ALIASES: &[(&str, &str)] = &[
    ("twitter.com", "x.com"),
    ("fxtwitter.com", "x.com"),
    ("vxtwitter.com", "x.com"),
    ("fixupx.com", "x.com"),
    ("fixvx.com", "x.com"),
    ("telegram.me", "t.me"),
    ("telegram.dog", "t.me"),
    ("mega.co.nz", "mega.nz"),
    ("old.reddit.com", "reddit.com"),
    ("new.reddit.com", "reddit.com"),
    ("np.reddit.com", "reddit.com"),
    ("web.facebook.com", "facebook.com"),
    ("touch.facebook.com", "facebook.com"),
    ("youtube-nocookie.com", "youtube.com"),
];

/// Query keys removed on every host (lower case; a trailing `*` matches any
/// key with that prefix). Besides these, `feature=share` and
/// `feature=shared` are removed everywhere.
pub const TRACKING_PARAMS: &[&str] = &[
    "utm_*",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "__hsfp",
    "__hssc",
    "__hstc",
    "dclid",
    "fbclid",
    "gbraid",
    "gclid",
    "gclsrc",
    "igsh",
    "igshid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "mkt_tok",
    "msclkid",
    "oly_anon_id",
    "oly_enc_id",
    "ref_src",
    "ref_url",
    "spm",
    "srsltid",
    "ttclid",
    "twclid",
    "vero_conv",
    "vero_id",
    "wbraid",
    "wickedid",
    "yclid",
    "ysclid",
];

/// Query keys removed only under one registrable domain, where they are
/// known to be share or tracking tokens (elsewhere `si` or `t` may name
/// content): `(registrable domain, keys)`, with keys as in
/// [`TRACKING_PARAMS`].
pub const SITE_TRACKING_PARAMS: &[(&str, &[&str])] = &[
    ("youtube.com", &["si", "feature", "pp", "ab_channel"]),
    ("spotify.com", &["si"]),
    ("x.com", &["s", "t"]),
    (
        "facebook.com",
        &[
            "mibextid", "rdid", "sfnsn", "__tn__", "__cft__*", "__xts__*",
        ],
    ),
    (
        "tiktok.com",
        &[
            "_r",
            "_t",
            "is_copy_url",
            "is_from_webapp",
            "sender_device",
            "sender_web_id",
            "share_app_id",
            "share_item_id",
            "share_link_id",
            "social_sharing",
            "tt_from",
            "u_code",
            "web_id",
        ],
    ),
    ("reddit.com", &["share_id", "rdt", "ref", "ref_source"]),
    ("linkedin.com", &["trk", "trackingid", "lipi"]),
];

/// Hosts whose fragments never carry identity once the rewrites here ran.
const FRAGMENT_DROPPING_HOSTS: [&str; 2] = ["x.com", "mega.nz"];

/// Removes variant prefixes (`www.`, `m.`, ...) while a registrable domain
/// remains, then maps aliases.
pub(super) fn fold_host(host: &str) -> String {
    let mut h = host;
    while let Some((first, rest)) = h.split_once('.') {
        if HOST_VARIANT_PREFIXES.contains(&first) && psl::domain(rest.as_bytes()).is_some() {
            h = rest;
        } else {
            break;
        }
    }
    let h = HOST_ALIASES
        .iter()
        .find(|(alias, _)| *alias == h)
        .map_or(h, |(_, canonical)| canonical);
    h.to_owned()
}

/// The URL to re-read for an old X/Twitter hashbang URL
/// (`x.com/#!/user/status/1` → `https://x.com/user/status/1`).
pub(super) fn hashbang_url(parts: &Parts) -> Option<String> {
    if parts.host != "x.com" || parts.port.is_some() || parts.path != "/" {
        return None;
    }
    let rest = parts.fragment.as_deref()?.strip_prefix("!/")?;
    Some(format!("https://x.com/{rest}"))
}

/// Whether the host's fragments are dropped even when they are hashbangs.
pub(super) fn drops_fragments(host: &str) -> bool {
    FRAGMENT_DROPPING_HOSTS.contains(&host)
}

/// The platform path and query rewrites, on a folded host and a path
/// without trailing slashes.
pub(super) fn rewrite(parts: &mut Parts) {
    match parts.host.as_str() {
        "youtu.be" => {
            if let [id] = parts.segments()[..]
                && is_id(id)
            {
                let id = id.to_owned();
                parts.host = "youtube.com".to_owned();
                set_watch(parts, id);
            }
        }
        "youtube.com" => match parts.segments()[..] {
            ["shorts" | "embed" | "v" | "live" | "e", id] if is_id(id) => {
                let id = id.to_owned();
                set_watch(parts, id);
            }
            ["watch"] => {
                if let Some(v) = parts.query.iter().find(|p| p.key == "v").cloned() {
                    parts.query = vec![v];
                }
            }
            _ => {}
        },
        "x.com" => lowercase_handle(parts),
        "t.me" => {
            // `t.me/s/NAME` is the web preview of `t.me/NAME`.
            while parts.path.starts_with("/s/") {
                parts.path.drain(..2);
            }
            lowercase_handle(parts);
        }
        "mega.nz" if parts.path == "/" => {
            let target = parts.fragment.as_deref().and_then(|f| {
                let (kind, rest) = match f.strip_prefix("F!") {
                    Some(rest) => ("folder", rest),
                    None => ("file", f.strip_prefix('!')?),
                };
                let id = rest.split('!').next().filter(|id| is_id(id))?;
                Some(format!("/{kind}/{id}"))
            });
            if let Some(path) = target {
                parts.path = path;
                parts.fragment = None;
            }
        }
        "redd.it" => {
            if let [id] = parts.segments()[..]
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                parts.path = format!("/comments/{id}");
                parts.host = "reddit.com".to_owned();
            }
        }
        _ => {}
    }
}

/// Removes the global and the site's tracking parameters.
pub(super) fn strip_tracking(host: &str, query: &mut Vec<Param>) {
    if query.is_empty() {
        return;
    }
    let site_keys: &[&str] = registrable_domain_of_ascii(host)
        .and_then(|domain| SITE_TRACKING_PARAMS.iter().find(|(d, _)| *d == domain))
        .map_or(&[], |(_, keys)| keys);
    query.retain(|param| {
        let key = param.key.to_ascii_lowercase();
        let share_feature =
            key == "feature" && matches!(param.value.as_deref(), Some("share" | "shared"));
        !(share_feature || key_listed(&key, TRACKING_PARAMS) || key_listed(&key, site_keys))
    });
}

fn key_listed(key: &str, list: &[&str]) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == *entry,
    })
}

fn set_watch(parts: &mut Parts, id: String) {
    parts.path = "/watch".to_owned();
    parts.query = vec![Param {
        key: "v".to_owned(),
        value: Some(id),
    }];
}

/// A video, file or post id: 1 to 64 of `A-Z a-z 0-9 - _`.
fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lower-cases the first path segment when it is a handle (`A-Z a-z 0-9 _`),
/// which X and Telegram treat without regard to case.
fn lowercase_handle(parts: &mut Parts) {
    let Some(rest) = parts.path.strip_prefix('/') else {
        return;
    };
    let len = rest.find('/').unwrap_or(rest.len());
    let first = &rest[..len];
    if !first.is_empty()
        && first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        parts.path[1..=len].make_ascii_lowercase();
    }
}
