//! Finding URLs, defanged ones included, in free text. What is and is not
//! recognised is listed in the [module docs](super).
//!
//! The scanner walks the text once. At each word start it tries a scheme
//! (`https://`, `hxxps[:]//`, ...) and then a host; the host's labels are
//! read with their separators (`.`, `[.]`, ` . `, ` dot `) so that doubtful
//! separators can be given up afterwards, keeping the longest host that
//! passes. The candidate is then rebuilt without the defanging and handed to
//! [`canonicalize`], which has the last word.

use super::{
    ExtractedUrl, MAX_EXTRACTED_URLS, MAX_TEXT_LEN, MAX_URL_LEN, canonicalize, has_listed_suffix,
};

/// The most bytes of text one host may take, defanging included.
const MAX_HOST_TEXT: usize = 512;
/// The most labels one host may have.
const MAX_LABELS: usize = 127;
/// The most spaces on one side of a defanged dot or after `://`.
const MAX_SPACES: usize = 3;
/// The most bytes of user info (`user:pass@`) skipped after a scheme.
const MAX_USERINFO: usize = 256;

/// Scheme separators: the text, whether it is defanged, whether it is
/// JSON-escaped (then the path's `\/` are read as `/`).
const SCHEME_SEPARATORS: [(&str, bool, bool); 6] = [
    ("://", false, false),
    (":\\/\\/", false, true),
    ("[://]", true, false),
    ("[:]//", true, false),
    ("(:)//", true, false),
    ("{:}//", true, false),
];

/// Defanged dots accepted between host labels, in any letter case.
const HOST_DOT_MARKERS: [&str; 6] = ["[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"];

/// Defanged dots accepted in a path, in any letter case.
const PATH_DOT_MARKERS: [&str; 4] = ["[.]", "(.)", "{.}", "[dot]"];

/// Characters trimmed from the end of a URL: sentence punctuation.
const TRAILING_PUNCTUATION: &[u8] = b".,;:!?'*";

/// Finds the URLs in `text`, in order of appearance, each with its byte span
/// and canonical form; see the [module docs](super) for what is recognised.
///
/// ```
/// use ronda_hash::url::extract_urls;
///
/// let text = "mirror at hxxps://files.example[.]org/a.mp4, chat t.me/somechannel.";
/// let found: Vec<_> = extract_urls(text).into_iter().map(|e| e.url.into_string()).collect();
/// assert_eq!(found, ["https://files.example.org/a.mp4", "https://t.me/somechannel"]);
/// ```
pub fn extract_urls(text: &str) -> Vec<ExtractedUrl> {
    let text = prefix_at_char_boundary(text, MAX_TEXT_LEN);
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() && found.len() < MAX_EXTRACTED_URLS {
        let step = i + char_len(text, i);
        let next = match attempt(text, i) {
            Attempt::Found(url) => {
                let end = url.span.end;
                found.push(url);
                end
            }
            Attempt::SkipTo(end) => end,
            Attempt::Nothing => step,
        };
        i = next.max(step);
    }
    found
}

/// What trying at one position gave.
enum Attempt {
    Found(ExtractedUrl),
    /// Nothing here, and nothing worth trying before this position.
    SkipTo(usize),
    Nothing,
}

/// Characters that, just before a match, show it would start mid-token.
fn joins_token(c: char) -> bool {
    matches!(c, '_' | '-' | '.' | '/' | '\\' | '%' | '@')
}

fn attempt(text: &str, i: usize) -> Attempt {
    let Some(c) = text[i..].chars().next() else {
        return Attempt::Nothing;
    };
    if !c.is_alphanumeric() {
        return Attempt::Nothing;
    }
    let prev = text[..i].chars().next_back();
    if matches!(c, 'h' | 'H')
        && !prev.is_some_and(|p| p.is_ascii_alphanumeric() || joins_token(p))
        && let Some(scheme) = parse_scheme(text, i)
    {
        return with_scheme(text, i, &scheme);
    }
    if prev.is_some_and(|p| p.is_alphanumeric() || joins_token(p)) {
        return Attempt::Nothing;
    }
    bare(text, i)
}

/// A scheme read from the text.
struct Scheme {
    https: bool,
    /// Where the host starts.
    end: usize,
    defanged: bool,
    json: bool,
}

/// Reads `http`, `https` or a defanged form, with a separator, at `i`.
fn parse_scheme(text: &str, i: usize) -> Option<Scheme> {
    let bytes = text.as_bytes();
    let at = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
    let middle = |b: u8| matches!(b.to_ascii_lowercase(), b't' | b'x' | b'*');
    if !(at(0).eq_ignore_ascii_case(&b'h')
        && middle(at(1))
        && middle(at(2))
        && at(3).eq_ignore_ascii_case(&b'p'))
    {
        return None;
    }
    let mut defanged = !(at(1).eq_ignore_ascii_case(&b't') && at(2).eq_ignore_ascii_case(&b't'));
    let https = at(4).eq_ignore_ascii_case(&b's');
    // The bytes read so far are ASCII, so this is a character boundary.
    let mut end = i + 4 + usize::from(https);
    let (separator, separator_defanged, json) = SCHEME_SEPARATORS
        .iter()
        .find(|(s, _, _)| text[end..].starts_with(s))?;
    end += separator.len();
    defanged |= separator_defanged;
    let spaces = count_spaces(text, end);
    if spaces > 0 {
        defanged = true;
        end += spaces;
    }
    Some(Scheme {
        https,
        end,
        defanged,
        json: *json,
    })
}

fn with_scheme(text: &str, start: usize, scheme: &Scheme) -> Attempt {
    let host_start = skip_userinfo(text, scheme.end);
    if text[host_start..].starts_with('[') {
        return match scan_ipv6(text, host_start) {
            Some(end) => finish(
                text,
                start,
                Some(scheme),
                &text[host_start..end],
                end,
                false,
            ),
            None => Attempt::Nothing,
        };
    }
    let labels = scan_host(text, host_start, true);
    match choose_host(text, &labels, false) {
        Some(chosen) => finish(
            text,
            start,
            Some(scheme),
            &chosen.host,
            chosen.end,
            chosen.defanged,
        ),
        None => Attempt::Nothing,
    }
}

fn bare(text: &str, start: usize) -> Attempt {
    let labels = scan_host(text, start, false);
    let Some(last) = labels.last() else {
        return Attempt::Nothing;
    };
    if labels.len() < 2 {
        return Attempt::Nothing;
    }
    if text[last.end..].starts_with('@') {
        // An e-mail address: neither its local part nor its domain is a URL.
        return Attempt::SkipTo(end_of_token(text, last.end));
    }
    match choose_host(text, &labels, true) {
        Some(chosen) => finish(text, start, None, &chosen.host, chosen.end, chosen.defanged),
        // A host starting at a later label of this run has the same last
        // labels, so it fails the same way: skipping keeps the scan linear.
        None => Attempt::SkipTo(last.end),
    }
}

/// How a host label was joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// The first label.
    None,
    /// `.`
    Dot,
    /// `[.]`, `(dot)`, ...: defanged but unambiguous.
    Marker,
    /// ` . ` or ` dot `: could be prose.
    Doubtful,
}

/// One host label in the text.
#[derive(Debug)]
struct Label {
    start: usize,
    end: usize,
    before: Separator,
}

/// Reads host labels and their separators from `start`, as far as they go.
fn scan_host(text: &str, start: usize, after_scheme: bool) -> Vec<Label> {
    let limit = start.saturating_add(MAX_HOST_TEXT).min(text.len());
    let mut labels: Vec<Label> = Vec::new();
    let mut strong = after_scheme;
    let mut p = start;
    let mut before = Separator::None;
    loop {
        let end = scan_label(text, p, limit);
        if end == p {
            break;
        }
        labels.push(Label {
            start: p,
            end,
            before,
        });
        if labels.len() == 1 && text[p..end].eq_ignore_ascii_case("www") {
            strong = true;
        }
        if labels.len() >= MAX_LABELS {
            break;
        }
        let Some((next, separator)) = parse_separator(text, end, strong) else {
            break;
        };
        let next_end = scan_label(text, next, limit);
        if next_end == next {
            break;
        }
        if separator == Separator::Doubtful && text[next..next_end].chars().any(char::is_uppercase)
        {
            break;
        }
        p = next;
        before = separator;
    }
    labels
}

/// The end of the label starting at `p`: letters, digits, `-` and `_`.
fn scan_label(text: &str, p: usize, limit: usize) -> usize {
    let mut end = p;
    for c in text[p..].chars() {
        if end >= limit || !(c.is_alphanumeric() || c == '-' || c == '_') {
            break;
        }
        end += c.len_utf8();
    }
    end
}

/// Reads a separator between host labels at `p`: where the next label would
/// start, and the separator's kind. ` dot ` only when `strong`.
fn parse_separator(text: &str, p: usize, strong: bool) -> Option<(usize, Separator)> {
    if text[p..].starts_with('.') {
        return Some((p + 1, Separator::Dot));
    }
    let before = count_spaces(text, p);
    let q = p + before;
    let rest = &text[q..];
    if let Some(marker) = HOST_DOT_MARKERS
        .iter()
        .find(|m| starts_with_ignore_ascii_case(rest, m))
    {
        let r = q + marker.len();
        return Some((r + count_spaces(text, r), Separator::Marker));
    }
    if before == 0 {
        return None;
    }
    if rest.starts_with('.') {
        let r = q + 1;
        return Some((r + count_spaces(text, r), Separator::Doubtful));
    }
    if strong && (rest.starts_with("dot") || rest.starts_with("DOT")) {
        let r = q + 3;
        let after = count_spaces(text, r);
        if after > 0 {
            return Some((r + after, Separator::Doubtful));
        }
    }
    None
}

/// The host kept from the scanned labels.
struct Chosen {
    host: String,
    end: usize,
    defanged: bool,
}

/// Keeps the longest run of leading labels that makes an acceptable host.
///
/// A bare host (no scheme) needs two labels, a public suffix from the list,
/// and a last label in one letter case (`Today` after a missing space is
/// prose). A host joined by a doubtful separator needs a listed suffix too.
fn choose_host(text: &str, labels: &[Label], bare: bool) -> Option<Chosen> {
    let min = if bare { 2 } else { 1 };
    (min..=labels.len()).rev().find_map(|k| {
        let kept = &labels[..k];
        let last = kept.last()?;
        let host = kept
            .iter()
            .map(|l| &text[l.start..l.end])
            .collect::<Vec<_>>()
            .join(".");
        let doubtful = kept.iter().any(|l| l.before == Separator::Doubtful);
        if bare || doubtful {
            let ascii = idna::domain_to_ascii(&host).ok()?;
            if !has_listed_suffix(&ascii) {
                return None;
            }
            let tld = &text[last.start..last.end];
            if bare && tld != tld.to_lowercase() && tld != tld.to_uppercase() {
                return None;
            }
        }
        Some(Chosen {
            host,
            end: last.end,
            defanged: kept
                .iter()
                .any(|l| matches!(l.before, Separator::Marker | Separator::Doubtful)),
        })
    })
}

/// Reads the port and path after the host, rebuilds the URL without its
/// defanging and canonicalises it.
fn finish(
    text: &str,
    start: usize,
    scheme: Option<&Scheme>,
    host: &str,
    host_end: usize,
    host_defanged: bool,
) -> Attempt {
    let mut defanged = host_defanged || scheme.is_some_and(|s| s.defanged);
    let mut candidate = String::new();
    if let Some(scheme) = scheme {
        candidate.push_str(if scheme.https { "https://" } else { "http://" });
    }
    candidate.push_str(host);
    let mut end = host_end;
    if let Some((port, port_end, port_defanged)) = scan_port(text, end) {
        candidate.push(':');
        candidate.push_str(port);
        end = port_end;
        defanged |= port_defanged;
    }
    let json = scheme.is_some_and(|s| s.json);
    let rest = &text[end..];
    if rest.starts_with(['/', '?', '#']) || (json && rest.starts_with("\\/")) {
        let raw_end = scan_path(text, end, json);
        if raw_end - start > MAX_URL_LEN {
            return Attempt::SkipTo(raw_end);
        }
        let path_end = trim_trailing(text, end, raw_end);
        let (path, path_defanged) = clean_path(&text[end..path_end], json);
        candidate.push_str(&path);
        defanged |= path_defanged;
        end = path_end;
    }
    match canonicalize(&candidate) {
        Ok(url) => Attempt::Found(ExtractedUrl {
            span: start..end,
            url,
            deobfuscated: defanged,
        }),
        Err(_) => Attempt::Nothing,
    }
}

/// Reads `:8080` or `[:]8080` at `p`: the digits, where they end, and
/// whether the colon was defanged.
fn scan_port(text: &str, p: usize) -> Option<(&str, usize, bool)> {
    let rest = &text[p..];
    let (digits_start, defanged) = if rest.starts_with(':') {
        (p + 1, false)
    } else if rest.starts_with("[:]") {
        (p + 3, true)
    } else {
        return None;
    };
    let digits = text[digits_start..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = digits_start + digits;
    let followed_by_word = text[end..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric);
    if !(1..=5).contains(&digits) || followed_by_word {
        return None;
    }
    Some((&text[digits_start..end], end, defanged))
}

/// The end of the path, query and fragment starting at `p`: up to a
/// character that cannot be in a URL or a closing bracket that closes
/// nothing, reading at most a little over [`MAX_URL_LEN`] bytes.
fn scan_path(text: &str, p: usize, json: bool) -> usize {
    let limit = p.saturating_add(MAX_URL_LEN + 1);
    let mut open = [0usize; 3];
    let mut q = p;
    while q < text.len() && q < limit {
        let rest = &text[q..];
        if json && rest.starts_with("\\/") {
            q += 2;
            continue;
        }
        let Some(c) = rest.chars().next() else {
            break;
        };
        if !is_path_char(c) {
            break;
        }
        let bracket = match c {
            '(' | ')' => Some(0),
            '[' | ']' => Some(1),
            '{' | '}' => Some(2),
            _ => None,
        };
        if let Some(b) = bracket {
            if matches!(c, '(' | '[' | '{') {
                open[b] += 1;
            } else if open[b] == 0 {
                break;
            } else {
                open[b] -= 1;
            }
        }
        q += c.len_utf8();
    }
    q
}

fn is_path_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '|')
    } else {
        c.is_alphanumeric()
    }
}

/// Moves `end` back over trailing sentence punctuation, not before `start`.
fn trim_trailing(text: &str, start: usize, mut end: usize) -> usize {
    while end > start && TRAILING_PUNCTUATION.contains(&text.as_bytes()[end - 1]) {
        end -= 1;
    }
    end
}

/// The path with defanged dots, JSON-escaped slashes and HTML-escaped
/// ampersands (`&amp;`, from text scraped out of HTML) undone, and whether
/// there were defanged dots.
fn clean_path(raw: &str, json: bool) -> (String, bool) {
    let mut out = String::with_capacity(raw.len());
    let mut defanged = false;
    let mut q = 0;
    while q < raw.len() {
        let rest = &raw[q..];
        if json && rest.starts_with("\\/") {
            out.push('/');
            q += 2;
        } else if starts_with_ignore_ascii_case(rest, "&amp;") {
            out.push('&');
            q += "&amp;".len();
        } else if let Some(marker) = PATH_DOT_MARKERS
            .iter()
            .find(|m| starts_with_ignore_ascii_case(rest, m))
        {
            out.push('.');
            defanged = true;
            q += marker.len();
        } else if let Some(c) = rest.chars().next() {
            out.push(c);
            q += c.len_utf8();
        } else {
            break;
        }
    }
    (out, defanged)
}

/// Skips `user:pass@` at `p`, if there is one.
fn skip_userinfo(text: &str, p: usize) -> usize {
    let bytes = text.as_bytes();
    let len = bytes[p..]
        .iter()
        .take(MAX_USERINFO)
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:%".contains(&b))
        .count();
    if len > 0 && bytes.get(p + len) == Some(&b'@') {
        p + len + 1
    } else {
        p
    }
}

/// Reads `[2001:db8::1]` at `p`; where it ends.
fn scan_ipv6(text: &str, p: usize) -> Option<usize> {
    let inner = text.as_bytes().get(p + 1..)?;
    let close = inner.iter().take(64).position(|&b| b == b']')?;
    let address = &inner[..close];
    let ok = address.contains(&b':')
        && address
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    ok.then_some(p + 1 + close + 1)
}

/// Spaces (not tabs or line breaks) at `p`, at most [`MAX_SPACES`].
fn count_spaces(text: &str, p: usize) -> usize {
    text.as_bytes()[p..]
        .iter()
        .take(MAX_SPACES)
        .take_while(|&&b| b == b' ')
        .count()
}

fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// The first whitespace at or after `p`, or the end of the text.
fn end_of_token(text: &str, p: usize) -> usize {
    text[p..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(k, _)| p + k)
}

fn char_len(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn prefix_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
