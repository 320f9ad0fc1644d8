//! Text normalisation: the matching key that `text_sha256` and MinHash
//! signatures are computed from. The steps are listed in the [`super`]
//! module documentation; the character tables are in [`super::tables`].
//!
//! The text is first cut into tokens (URLs and words), then every word is
//! classified from its case-folded letters for the homoglyph rule, then the
//! tokens are written out. Classifying folded letters, not the raw ones, is
//! what makes normalising twice a no-op: the second pass sees exactly the
//! letters the first one decided on.

mod fast;

use std::borrow::Cow;

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick, is_nfkc_quick};

use super::tables::{
    Script, capital_latin_to_cyrillic, capital_lookalike, cyrillic_or_greek, fold_arabic_block,
    fold_case_extra, is_latin_letter, is_pictograph, is_removed, latin_to_cyrillic, lookalike,
    strips_accents,
};

/// At most this many bytes of the input are normalised; the rest is ignored
/// (cut at a character boundary). This bounds time and memory: every step is
/// linear, and NFKC expands a character at most 18-fold.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// The normalised form of `text`: tokens separated by single spaces, no
/// leading or trailing space. Empty when `text` has no letters, digits,
/// pictographs, URLs or tags.
pub fn normalize(text: &str) -> String {
    let mut out = String::new();
    normalize_into(text, &mut out);
    out
}

/// [`normalize()`] into a reused buffer (cleared first).
pub fn normalize_into(text: &str, out: &mut String) {
    Scratch::default().normalize_into(text, out);
}

/// [`normalize()`] without the fast paths, to test them against.
#[cfg(test)]
pub(crate) fn normalize_general(text: &str) -> String {
    let mut out = String::new();
    Scratch::default().normalize_impl(text, &mut out, false);
    out
}

/// The one-pass path alone: `None` where it leaves the text to the others.
#[cfg(test)]
pub(crate) fn normalize_fast(text: &str) -> Option<String> {
    let mut out = Vec::new();
    fast::normalize(truncate(text, MAX_INPUT_BYTES), &mut out)
        .then(|| String::from_utf8(out).expect("the fast path writes UTF-8"))
}

/// Buffers reused across calls by [`super::MinHasher`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Scratch {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A URL or e-mail address, kept verbatim but for case.
    Url,
    /// A word, hashtag, handle or pictograph.
    Word(Class),
}

/// A word's scripts, from its case-folded letters; the counts are letters,
/// for the document-level vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Latin letters only (or no Cyrillic or Greek ones).
    Latin(usize),
    /// Cyrillic or Greek letters, at least one without a Latin twin.
    Foreign(usize),
    /// Latin letters with Cyrillic or Greek look-alikes: a spoofed Latin word.
    ToLatin(usize),
    /// Latin letters with a Cyrillic letter that has no Latin twin: a
    /// spoofed Cyrillic word.
    ToCyrillic(usize),
    /// Only Cyrillic or Greek look-alikes: Latin in a Latin text.
    Lookalike,
    /// Latin with distinct Greek letters, or no letters of these scripts.
    Neutral,
}

/// How the letters of one word are folded across scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    None,
    ToLatin,
    ToCyrillic,
}

impl Scratch {
    pub(crate) fn normalize_into(&mut self, text: &str, out: &mut String) {
        let mut bytes = std::mem::take(out).into_bytes();
        self.normalize_bytes(text, &mut bytes);
        *out = String::from_utf8(bytes).expect("every path writes UTF-8");
    }

    /// The normalised text's UTF-8 into `out` (cleared first), for MinHash,
    /// which reads bytes: the one-pass path for plain ASCII and Arabic
    /// text, the paths below for the rest.
    pub(crate) fn normalize_bytes(&mut self, text: &str, out: &mut Vec<u8>) {
        let text = truncate(text, MAX_INPUT_BYTES);
        if fast::normalize(text, out) {
            return;
        }
        out.clear();
        let mut key = String::from_utf8(std::mem::take(out)).expect("empty");
        self.normalize_impl(text, &mut key, true);
        *out = key.into_bytes();
    }

    fn normalize_impl(&mut self, text: &str, out: &mut String, fast_paths: bool) {
        out.clear();
        let text = truncate(text, MAX_INPUT_BYTES);
        let mut scan = Scan::of(text);
        let nfkc: Cow<'_, str> = if scan.stable || is_nfkc_quick(text.chars()) == IsNormalized::Yes
        {
            Cow::Borrowed(text)
        } else {
            let nfkc: String = text.nfkc().collect();
            scan = Scan::of(&nfkc);
            Cow::Owned(nfkc)
        };
        // Invisible characters go before tokenising, so that they can neither
        // split a word nor hide a URL, a tag or a label's emptiness.
        let visible = if scan.removed {
            Cow::Owned(nfkc.chars().filter(|&c| !is_removed(c)).collect())
        } else {
            nfkc
        };
        let text: &str = &visible;
        if fast_paths && scan.ascii {
            normalize_ascii(text, out);
            return;
        }
        if fast_paths && !scan.lcg {
            normalize_simple(text, out);
        } else {
            self.normalize_tokens(text, scan.lcg, out);
        }
        // Removing a character (say a ZWSP between two Hangul jamo) can leave
        // a sequence that composes; recompose so that normalising twice
        // changes nothing. Nothing written is a compatibility character, so
        // NFC here equals NFKC. Stable letters fold to stable letters, so
        // text made of them needs no check.
        if !scan.stable && is_nfc_quick(out.chars()) != IsNormalized::Yes {
            *out = out.nfc().collect();
        }
    }

    /// The general path: tokens first, then the homoglyph classes, then the
    /// output.
    fn normalize_tokens(&mut self, text: &str, lcg: bool, out: &mut String) {
        self.tokens.clear();
        tokenize(text, &mut self.tokens);
        if lcg {
            for t in &mut self.tokens {
                if let Kind::Word(class) = &mut t.kind {
                    *class = classify(&text[t.start..t.end]);
                }
            }
        }
        let mut latin_text = None;
        for t in &self.tokens {
            let s = &text[t.start..t.end];
            let fold = match t.kind {
                Kind::Url => {
                    push_url(s, out);
                    continue;
                }
                Kind::Word(Class::ToLatin(_)) => Fold::ToLatin,
                Kind::Word(Class::ToCyrillic(_)) => Fold::ToCyrillic,
                Kind::Word(Class::Lookalike) => {
                    if *latin_text.get_or_insert_with(|| is_latin_text(&self.tokens)) {
                        Fold::ToLatin
                    } else {
                        Fold::None
                    }
                }
                Kind::Word(_) => Fold::None,
            };
            push_word(s, fold, out);
        }
    }
}

/// What one pass over the text tells about it.
#[derive(Debug, Clone, Copy)]
struct Scan {
    ascii: bool,
    /// Only [`is_stable_letter`]s: NFKC and NFC are no-ops on the text and
    /// on its folded form.
    stable: bool,
    /// Some character is [`is_removed`].
    removed: bool,
    /// Some character may fold to a Latin, Cyrillic or Greek letter other
    /// than ASCII: the homoglyph rule has work to do.
    lcg: bool,
}

impl Scan {
    fn of(text: &str) -> Scan {
        if text.is_ascii() {
            // Branch-free over blocks so that it vectorises.
            let removed = text.as_bytes().contains(&b'\'') || text.as_bytes().contains(&b'`');
            return Scan {
                ascii: true,
                stable: true,
                removed,
                lcg: false,
            };
        }
        let mut scan = Scan {
            ascii: false,
            stable: true,
            removed: false,
            lcg: false,
        };
        for c in text.chars() {
            if c.is_ascii() {
                scan.removed |= matches!(c, '\'' | '`');
                continue;
            }
            if matches!(c, '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}') {
                continue; // Arabic letters: stable, kept, no homoglyphs
            }
            scan.stable &= is_stable_letter(c);
            scan.removed |= is_removed(c);
            scan.lcg |= may_fold_to_lcg(c);
        }
        scan
    }
}

/// Letters that are unchanged by NFKC and NFC and never reorder (combining
/// class 0): a fast path for the library's quick checks, which look every
/// character up in a hash table.
fn is_stable_letter(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{7F}'
            | '\u{00C0}'..='\u{00FF}'
            | '\u{0400}'..='\u{045F}'
            | '\u{0621}'..='\u{063A}'
            | '\u{0641}'..='\u{064A}'
    )
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether the words of the text, spoofs undone, have more Latin letters
/// than Cyrillic and Greek ones. Look-alike-only words do not vote.
fn is_latin_text(tokens: &[Token]) -> bool {
    let (mut latin, mut other) = (0usize, 0usize);
    for t in tokens {
        match t.kind {
            Kind::Word(Class::Latin(n) | Class::ToLatin(n)) => latin += n,
            Kind::Word(Class::Foreign(n) | Class::ToCyrillic(n)) => other += n,
            _ => {}
        }
    }
    latin > other
}

/// Byte classes for the ASCII path.
const ALNUM: u8 = 1;
const SPACE: u8 = 2;
const URL_MARK: u8 = 4;
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() {
            ALNUM
        } else if matches!(c, b' ' | b'\t'..=b'\r') {
            SPACE
        } else if matches!(c, b'.' | b':') {
            URL_MARK
        } else {
            0
        };
        b += 1;
    }
    t
};

fn class(b: u8) -> u8 {
    BYTE_CLASS[usize::from(b)]
}

/// The whole pipeline for ASCII text (most English and Indonesian posts),
/// on bytes: the same result as the general path, which a test checks.
fn normalize_ascii(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if class(bytes[i]) == SPACE {
            i += 1;
            continue;
        }
        // Words are written optimistically; a chunk with a dot or a colon
        // inside it is redone if it holds a URL.
        let (start, mark) = (i, out.len());
        let mut url_like = false;
        while i < bytes.len() && class(bytes[i]) != SPACE {
            let b = bytes[i];
            let next = bytes.get(i + 1).map_or(SPACE, |&n| class(n));
            let tag = matches!(b, b'#' | b'@') && next == ALNUM;
            if class(b) == ALNUM || tag {
                let word = i;
                i = ascii_word_end(bytes, i + 1, tag);
                push_token(&text[word..i], out);
            } else {
                url_like |= class(b) == URL_MARK && next != SPACE;
                i += 1;
            }
        }
        if url_like && let Some((a, b)) = find_url(&text[start..i]) {
            out.truncate(mark);
            ascii_words(&text[start..start + a], out);
            push_token(&text[start + a..start + b], out);
            ascii_words(&text[start + b..i], out);
        }
    }
    out.make_ascii_lowercase();
}

/// Appends a token after a space unless it is the first.
fn push_token(token: &str, out: &mut String) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(token);
}

fn ascii_words(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let tag = matches!(b, b'#' | b'@') && bytes.get(i + 1).is_some_and(|&n| class(n) == ALNUM);
        if !(class(b) == ALNUM || tag) {
            i += 1;
            continue;
        }
        let start = i;
        i = ascii_word_end(bytes, i + 1, tag);
        push_token(&s[start..i], out);
    }
}

/// The end of the word (or tag, which may hold `_`) going on at `i`.
fn ascii_word_end(bytes: &[u8], mut i: usize, tag: bool) -> usize {
    if tag {
        while i < bytes.len() && (class(bytes[i]) == ALNUM || bytes[i] == b'_') {
            i += 1;
        }
    } else {
        while i < bytes.len() && class(bytes[i]) == ALNUM {
            i += 1;
        }
    }
    i
}

/// The pipeline for text without Latin, Cyrillic or Greek letters beyond
/// ASCII (so no homoglyph decisions), such as Arabic posts: one pass that
/// writes words as it finds them, with the same result as the general path.
fn normalize_simple(text: &str, out: &mut String) {
    let mut chunk: Option<(usize, usize)> = None; // (start in text, mark in out)
    let mut word: Option<usize> = None; // start of the word's body in out
    let (mut tag, mut url_like) = (false, false);
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_space(c) {
            end_word(&mut word, out);
            tag = false;
            if let Some((start, mark)) = chunk.take() {
                redo_url_chunk(&text[start..i], mark, url_like, out);
            }
            continue;
        }
        if chunk.is_none() {
            chunk = Some((i, out.len()));
            url_like = false;
        }
        if is_word_char(c) || (tag && c == '_') {
            if word.is_none() {
                word = Some(start_word(out));
            }
            fold_char(c, &mut |d| out.push(d));
            continue;
        }
        end_word(&mut word, out);
        tag = false;
        let next = iter.peek().map(|&(_, n)| n);
        if is_pictograph(c) {
            start_word(out);
            out.push(c);
        } else if (c == '#' || c == '@') && next.is_some_and(is_word_char) {
            word = Some(start_word(out));
            out.push(c);
            tag = true;
        } else if matches!(c, '.' | ':') && next.is_some_and(|n| !is_space(n)) {
            url_like = true;
        }
    }
    end_word(&mut word, out);
    if let Some((start, mark)) = chunk {
        redo_url_chunk(&text[start..], mark, url_like, out);
    }
}

/// `char::is_whitespace`, quick for the letters below U+1680, where the only
/// non-ASCII white space is U+0085 and U+00A0.
fn is_space(c: char) -> bool {
    match c {
        '\0'..='\u{7F}' => matches!(c, ' ' | '\t'..='\r'),
        '\u{0085}' | '\u{00A0}' => true,
        '\u{0080}'..='\u{167F}' => false,
        _ => c.is_whitespace(),
    }
}

/// Writes the separator before a word; returns where its body starts.
fn start_word(out: &mut String) -> usize {
    if !out.is_empty() {
        out.push(' ');
    }
    out.len()
}

/// Ends the word being written, dropping it if nothing of it was kept. A
/// word's first character folds to a word character first, so looking at
/// the first one past a tag sign is enough.
fn end_word(word: &mut Option<usize>, out: &mut String) {
    if let Some(body) = word.take() {
        let first = match out.as_bytes().get(body) {
            Some(b'#' | b'@') => body + 1,
            _ => body,
        };
        let kept = out
            .get(first..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| is_word_char(c) || is_pictograph(c));
        if !kept {
            out.truncate(body.saturating_sub(1));
        }
    }
}

/// If a chunk written word by word holds a URL, writes it again with the URL
/// whole.
fn redo_url_chunk(chunk: &str, mark: usize, url_like: bool, out: &mut String) {
    if url_like && let Some((a, b)) = find_url(chunk) {
        out.truncate(mark);
        let mut tokens = Vec::new();
        words(chunk, 0, a, &mut tokens);
        for t in tokens.drain(..) {
            push_word(&chunk[t.start..t.end], Fold::None, out);
        }
        push_url(&chunk[a..b], out);
        words(chunk, b, chunk.len(), &mut tokens);
        for t in tokens {
            push_word(&chunk[t.start..t.end], Fold::None, out);
        }
    }
}

/// Splits at whitespace; in each chunk a URL or e-mail address is one token
/// and the rest splits into words.
fn tokenize(text: &str, tokens: &mut Vec<Token>) {
    let mut chunk_start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = chunk_start.take() {
                chunk(text, s, i, tokens);
            }
        } else if chunk_start.is_none() {
            chunk_start = Some(i);
        }
    }
    if let Some(s) = chunk_start {
        chunk(text, s, text.len(), tokens);
    }
}

fn chunk(text: &str, start: usize, end: usize, tokens: &mut Vec<Token>) {
    match find_url(&text[start..end]) {
        Some((a, b)) => {
            words(text, start, start + a, tokens);
            tokens.push(Token {
                start: start + a,
                end: start + b,
                kind: Kind::Url,
            });
            words(text, start + b, end, tokens);
        }
        None => words(text, start, end, tokens),
    }
}

/// Words: runs of letters, digits and combining marks; `#tag` and `@handle`
/// with `_`; each pictograph alone. Everything else separates.
fn words(text: &str, from: usize, to: usize, tokens: &mut Vec<Token>) {
    let word = |start, end| Token {
        start,
        end,
        kind: Kind::Word(Class::Latin(0)),
    };
    let s = &text[from..to];
    let mut start: Option<usize> = None;
    let mut tag = false;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if is_word_char(c) || (tag && c == '_') {
            start.get_or_insert(i);
            continue;
        }
        if let Some(st) = start.take() {
            tokens.push(word(from + st, from + i));
        }
        tag = false;
        if is_pictograph(c) {
            tokens.push(word(from + i, from + i + c.len_utf8()));
        } else if (c == '#' || c == '@') && iter.peek().is_some_and(|&(_, n)| is_word_char(n)) {
            start = Some(i);
            tag = true;
        }
    }
    if let Some(st) = start {
        tokens.push(word(from + st, to));
    }
}

/// Letters, digits and combining marks make up words; punctuation, symbols
/// and controls separate them.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return class(c as u8) == ALNUM;
    }
    // Fast answers for common letters; the general test is slow.
    if matches!(c, '\u{0621}'..='\u{064A}') {
        return true;
    }
    match c {
        '\u{00C0}'..='\u{024F}' => !matches!(c, '\u{00D7}' | '\u{00F7}'),
        '\u{0400}'..='\u{0481}' | '\u{048A}'..='\u{052F}' | '\u{0660}'..='\u{0669}' => true,
        _ => c.is_alphanumeric() || is_combining_mark(c),
    }
}

/// Whether case folding `c` can give a Latin, Cyrillic or Greek letter
/// (after NFKC, which has already mapped compatibility forms): only these
/// characters take part in the homoglyph rule.
fn may_fold_to_lcg(c: char) -> bool {
    matches!(
        c,
        '\u{00C0}'..='\u{052F}'
            | '\u{1C80}'..='\u{1C8F}'
            | '\u{1D00}'..='\u{1FFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{A640}'..='\u{A69F}'
            | '\u{A720}'..='\u{A7FF}'
            | '\u{AB30}'..='\u{AB6F}'
    )
}

/// The homoglyph rule, on the word's case-folded letters. A word mixing
/// Latin with Cyrillic or Greek letters is a spoof: if it also has a
/// Cyrillic letter with no Latin twin it is a Cyrillic word with Latin
/// intruders, otherwise a Latin word with Cyrillic or Greek intruders. A
/// word made only of look-alikes (`сор`, `у`) is decided by the whole text.
fn classify(word: &str) -> Class {
    if word.is_ascii() {
        return Class::Latin(word.bytes().filter(u8::is_ascii_alphabetic).count());
    }
    // `letters` counts Latin, Cyrillic and Greek letters only: the vote is
    // between those scripts.
    let (mut letters, mut latin, mut alike, mut cyrillic, mut greek) =
        (0usize, false, false, false, false);
    for c in word.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphabetic() {
                letters += 1;
                latin = true;
            }
            continue;
        }
        if !may_fold_to_lcg(c) {
            continue;
        }
        fold_char(c, &mut |d| {
            if is_latin_letter(d) {
                letters += 1;
                latin = true;
            } else if let Some(script) = cyrillic_or_greek(d) {
                letters += 1;
                match (lookalike(d), script) {
                    (Some(_), _) => alike = true,
                    (None, Script::Cyrillic) => cyrillic = true,
                    (None, Script::Greek) => greek = true,
                }
            }
        });
    }
    match (latin, alike, cyrillic, greek) {
        (true, _, true, _) => Class::ToCyrillic(letters),
        (true, true, false, false) => Class::ToLatin(letters),
        (true, _, false, true) => Class::Neutral,
        (true, false, false, false) => Class::Latin(letters),
        (false, true, false, false) => Class::Lookalike,
        (false, _, true, _) | (false, _, _, true) => Class::Foreign(letters),
        (false, false, false, false) => Class::Neutral,
    }
}

/// Writes one word, space-separated from what is before it.
fn push_word(word: &str, fold: Fold, out: &mut String) {
    let mark = out.len();
    if !out.is_empty() {
        out.push(' ');
    }
    let body = out.len();
    for c in word.chars() {
        match fold {
            Fold::None => fold_char(c, &mut |d| out.push(d)),
            Fold::ToLatin => match capital_lookalike(c) {
                Some(l) => out.push(l),
                None => fold_char(c, &mut |d| out.push(lookalike(d).unwrap_or(d))),
            },
            Fold::ToCyrillic => match capital_latin_to_cyrillic(c) {
                Some(cy) => out.push(cy),
                None => fold_char(c, &mut |d| out.push(latin_to_cyrillic(d).unwrap_or(d))),
            },
        }
    }
    // A word of only removed characters, or a tag sign left alone.
    if !out[body..]
        .chars()
        .any(|c| is_word_char(c) || is_pictograph(c))
    {
        out.truncate(mark);
    }
}

/// One character of a word (never a removed one: those are gone before
/// tokenising) without any homoglyph fold: Arabic folded, or lowercased with
/// the case-folding extras and Latin and Greek accents dropped.
fn fold_char(c: char, emit: &mut impl FnMut(char)) {
    if c.is_ascii() {
        emit(c.to_ascii_lowercase());
        return;
    }
    if ('\u{0600}'..='\u{08FF}').contains(&c) {
        // Arabic has no case.
        emit(fold_arabic_block(c));
        return;
    }
    for lc in c.to_lowercase() {
        if let Some(s) = fold_case_extra(lc) {
            s.chars().for_each(&mut *emit);
        } else if strips_accents(lc) {
            decompose_canonical(lc, |d| {
                if let Some(s) = fold_case_extra(d) {
                    s.chars().for_each(&mut *emit);
                } else if !is_removed(d) {
                    emit(d);
                }
            });
        } else if !is_removed(lc) {
            emit(lc);
        }
    }
}

/// URLs and e-mail addresses keep their dots, slashes and other punctuation;
/// only case is folded and invisible characters removed.
fn push_url(s: &str, out: &mut String) {
    if !out.is_empty() {
        out.push(' ');
    }
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if !is_removed(c) {
            for lc in c.to_lowercase() {
                match fold_case_extra(lc) {
                    Some(s) => out.push_str(s),
                    None if is_removed(lc) => {}
                    None => out.push(lc),
                }
            }
        }
    }
}

/// Punctuation that may wrap a URL in running text but is not part of it.
fn is_wrapping(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '<'
            | '>'
            | '"'
            | '«'
            | '»'
            | '“'
            | '”'
            | '…'
            | '،'
            | '؛'
            | '؟'
            | '۔'
    )
}

/// The byte range of a URL or e-mail address in a whitespace-free chunk:
/// `scheme://...` anywhere in the chunk, `www.` at a word start, or the whole
/// chunk (less wrapping punctuation) when it is `host.tld[/path]` or
/// `name@host.tld` with a known public suffix.
fn find_url(chunk: &str) -> Option<(usize, usize)> {
    let bytes = chunk.as_bytes();
    if !bytes.iter().any(|&b| b == b'.' || b == b':') {
        return None;
    }
    let scheme = bytes.windows(3).position(|w| w == b"://");
    if scheme.is_none() && !bytes.contains(&b'.') {
        return None;
    }
    let end = chunk.trim_end_matches(is_wrapping).len();
    if let Some(p) = scheme {
        let start = bytes[..p]
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .map_or(0, |i| i + 1);
        return (start < p && bytes[start].is_ascii_alphabetic() && end > p + 3)
            .then_some((start, end));
    }
    let start = chunk.len() - chunk.trim_start_matches(is_wrapping).len();
    if start >= end {
        return None;
    }
    let core = &chunk[start..end];
    if !core.as_bytes().contains(&b'.') {
        return None;
    }
    let host = match core.split_once('@') {
        Some((local, host)) if is_email_local(local) => Some(host),
        Some(_) => None,
        None => core.split('/').next(),
    };
    if host.is_some_and(is_known_host) {
        return Some((start, end));
    }
    match find_ascii_ci(core, "www.") {
        Some(i) if !core[..i].ends_with(|c: char| c.is_alphanumeric()) && core.len() > i + 4 => {
            Some((start + i, end))
        }
        _ => None,
    }
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn is_email_local(local: &str) -> bool {
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-'))
}

/// `label(.label)+` whose last labels are a public suffix on the PSL.
fn is_known_host(host: &str) -> bool {
    if host.len() > 253 || !host.contains('.') {
        return false;
    }
    let labels_ok = host
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if !labels_ok {
        return false;
    }
    let tld = host.rsplit('.').next().unwrap_or("");
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let lower = host.to_lowercase();
    psl::suffix(lower.as_bytes()).is_some_and(|s| s.is_known())
}
