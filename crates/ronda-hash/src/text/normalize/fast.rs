//! The whole normalisation in one pass over bytes, for the text most posts
//! are made of: ASCII, and Arabic with the common letters of U+0621–U+064A,
//! Arabic-Indic digits, the Arabic comma, semicolon and question mark, and
//! tatweel. For such text every step but folding is trivial (NFKC and NFC
//! change nothing, there are no homoglyph decisions), so the key is its word
//! characters folded, each run of other characters becoming one space. Text
//! with anything else, or with a chunk that may hold a URL, is left to the
//! paths of [`super`]; property tests check that both give the same key.
//!
//! The loop writes at an index rather than pushing, so that ASCII letters,
//! digits and separators take no branch of their own: a separator is written
//! as a space but kept only right after a word character, and the next word
//! overwrites it otherwise. Each byte moves the loop by one, so the next
//! read never waits on a table lookup. Arabic letters come in runs (words),
//! each run in a loop of its own, so that only its end is a branch to
//! predict.

use super::super::tables::fold_arabic;

/// Byte classes: a separator, an ASCII letter or digit, or anything the loop
/// looks at case by case (tag signs, URL marks, apostrophes, non-ASCII).
const SEP: u8 = 0;
const WORD: u8 = 1;
const OTHER: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 0x80 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric() {
            WORD
        } else if matches!(c, b'#' | b'@' | b'.' | b':' | b'\'' | b'`') {
            OTHER
        } else {
            SEP
        };
        b += 1;
    }
    t
};

/// What each byte writes in the loop: word bytes lowercased, separators as
/// a space.
static WRITE: [u8; 256] = {
    let mut t = [b' '; 256];
    let mut b = 0;
    while b < 0x80 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() {
            t[b] = c.to_ascii_lowercase();
        }
        b += 1;
    }
    t
};

/// A character of U+0600–U+067F (two UTF-8 bytes, led by 0xD8 or 0xD9) as
/// the fast path sees it, in a form the loop applies without branching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arabic {
    /// Whether the fast path handles it at all.
    known: bool,
    /// What is written at the output index: the folded UTF-8 of a word
    /// character (a digit becomes ASCII), or a space.
    write: [u8; 2],
    /// Bytes of `write` kept: 1 or 2 for a word character, else 0.
    len: u8,
    /// 1 for punctuation that separates words.
    sep: u8,
    /// 1 for a character removed before tokenising (tatweel), which leaves
    /// everything as it was.
    removed: u8,
}

const fn arabic_entry(cp: u32) -> Arabic {
    let plain = Arabic {
        known: true,
        write: [b' ', b' '],
        len: 0,
        sep: 0,
        removed: 0,
    };
    match cp {
        // Letters that NFKC and NFC leave alone and that fold to a letter
        // of the same range.
        0x0621..=0x063A | 0x0641..=0x064A => {
            let f = match char::from_u32(cp) {
                Some(c) => match fold_arabic(c) {
                    Some(f) => f as u32,
                    None => cp,
                },
                None => cp,
            };
            Arabic {
                write: [0xC0 | (f >> 6) as u8, 0x80 | (f & 0x3F) as u8],
                len: 2,
                ..plain
            }
        }
        0x0660..=0x0669 => Arabic {
            write: [b'0' + (cp - 0x0660) as u8, b' '],
            len: 1,
            ..plain
        },
        0x060C | 0x061B | 0x061F => Arabic { sep: 1, ..plain },
        0x0640 => Arabic {
            removed: 1,
            ..plain
        },
        _ => Arabic {
            known: false,
            ..plain
        },
    }
}

static ARABIC: [Arabic; 128] = {
    let mut t = [arabic_entry(0); 128];
    let mut i = 0;
    while i < 128 {
        t[i] = arabic_entry(0x0600 + i as u32);
        i += 1;
    }
    t
};

const UNKNOWN: Arabic = arabic_entry(0);

/// The folded UTF-8 of the letters in [`ARABIC`] (the common case, which
/// takes one lookup and no branch), `[0, 0]` for every other character.
static LETTERS: [[u8; 2]; 128] = {
    let mut t = [[0u8; 2]; 128];
    let mut i = 0;
    while i < 128 {
        if ARABIC[i].len == 2 {
            t[i] = ARABIC[i].write;
        }
        i += 1;
    }
    t
};

/// The index in [`ARABIC`] of the character with lead byte `lead` (0xD8 or
/// 0xD9) and continuation byte `cont`.
fn arabic_index(lead: u8, cont: u8) -> usize {
    usize::from(lead & 1) << 6 | usize::from(cont & 0x3F)
}

/// The character at `i` if it is one of U+0600–U+067F, else [`UNKNOWN`].
fn arabic(bytes: &[u8], i: usize) -> Arabic {
    match (bytes.get(i), bytes.get(i + 1)) {
        (Some(&lead @ (0xD8 | 0xD9)), Some(&cont)) => ARABIC[arabic_index(lead, cont)],
        _ => UNKNOWN,
    }
}

/// The next character that is not removed, from `i`, as the tokeniser sees
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    End,
    Space,
    Word,
    /// Punctuation or a symbol.
    Separator,
    /// A character the fast path does not know.
    Other,
}

fn next_kept(bytes: &[u8], mut i: usize) -> Next {
    loop {
        let Some(&b) = bytes.get(i) else {
            return Next::End;
        };
        if b.is_ascii() {
            return match (CLASS[usize::from(b)], b) {
                (WORD, _) => Next::Word,
                (_, b' ' | b'\t'..=b'\r') => Next::Space,
                (_, b'\'' | b'`') => {
                    i += 1;
                    continue;
                }
                _ => Next::Separator,
            };
        }
        let a = arabic(bytes, i);
        return match a {
            _ if !a.known => Next::Other,
            _ if a.len > 0 => Next::Word,
            _ if a.sep == 1 => Next::Separator,
            _ => {
                i += 2;
                continue;
            }
        };
    }
}

/// Writes the key of `text` (already cut at the input limit) into `out`,
/// or returns false, with `out` in any state, if the text needs the general
/// paths.
pub(super) fn normalize(text: &str, out: &mut Vec<u8>) -> bool {
    let n = text.len();
    out.clear();
    // Each byte read writes at most one byte, but for the space before a
    // tag sign that follows a word; that takes two more bytes to read (the
    // sign and a word character), so the key is at most 1.5 times as long.
    out.resize(n + n / 2 + 2, 0);
    match write(text.as_bytes(), out) {
        Some(len) => {
            out.truncate(len);
            true
        }
        None => false,
    }
}

/// The loop of [`normalize`]: the key's length, or `None` to leave the text
/// to the general paths.
///
/// Every write lands below `out.len()`: there is room for one byte per byte
/// left to read, plus one, from the write index `j`, as no character writes
/// more bytes than it has, but for a tag sign, which checks.
fn write(bytes: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = bytes.len();
    let (mut i, mut j) = (0usize, 0usize);
    // 1 right after a word character: the next separator is kept.
    let mut after_word = 0usize;
    while let Some(&(mut b)) = bytes.get(i) {
        let class = CLASS[usize::from(b)];
        if class != OTHER {
            out[j] = WRITE[usize::from(b)];
            let word = usize::from(class);
            j += word | after_word;
            after_word = word;
            i += 1;
            continue;
        }
        if b & 0xFE == 0xD8 {
            // A run of Arabic characters: a word, mostly.
            loop {
                let index = arabic_index(b, *bytes.get(i + 1)?);
                match LETTERS[index] {
                    [0, _] => {
                        let a = ARABIC[index];
                        if !a.known {
                            return None;
                        }
                        out[j] = a.write[0];
                        out[j + 1] = a.write[1];
                        j += usize::from(a.len) + (after_word & usize::from(a.sep));
                        after_word = usize::from(a.len > 0) | (after_word & usize::from(a.removed));
                    }
                    letter => {
                        out[j..j + 2].copy_from_slice(&letter);
                        j += 2;
                        after_word = 1;
                    }
                }
                i += 2;
                match bytes.get(i) {
                    Some(&c) if c & 0xFE == 0xD8 => b = c,
                    _ => break,
                }
            }
            continue;
        }
        match b {
            b'\'' | b'`' => i += 1,
            b'.' | b':' => {
                // `x.y` or `http:/` may be a URL: the general paths decide.
                if !matches!(next_kept(bytes, i + 1), Next::End | Next::Space) {
                    return None;
                }
                out[j] = b' ';
                j += after_word;
                after_word = 0;
                i += 1;
            }
            b'#' | b'@' => match next_kept(bytes, i + 1) {
                Next::Word => {
                    // Never short (see `normalize`), but a wrong bound must
                    // not panic.
                    if j + (n - i) + 2 > out.len() {
                        return None;
                    }
                    if after_word == 1 {
                        out[j] = b' ';
                        j += 1;
                    }
                    out[j] = b;
                    (i, j) = tag_body(bytes, i + 1, out, j + 1)?;
                    after_word = 1;
                }
                Next::Other => return None,
                Next::End | Next::Space | Next::Separator => {
                    out[j] = b' ';
                    j += after_word;
                    after_word = 0;
                    i += 1;
                }
            },
            _ => return None,
        }
    }
    if j > 0 && out[j - 1] == b' ' {
        j -= 1;
    }
    Some(j)
}

/// Writes the rest of a tag (word characters and `_`) from byte `i` at
/// `j`; returns where both end, or `None` for a character the fast path
/// does not know.
fn tag_body(bytes: &[u8], mut i: usize, out: &mut [u8], mut j: usize) -> Option<(usize, usize)> {
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            match (CLASS[usize::from(b)], b) {
                (WORD, _) => {
                    out[j] = WRITE[usize::from(b)];
                    j += 1;
                }
                (_, b'_') => {
                    out[j] = b'_';
                    j += 1;
                }
                (_, b'\'' | b'`') => {}
                _ => break,
            }
            i += 1;
            continue;
        }
        let a = arabic(bytes, i);
        if !a.known {
            return None;
        }
        if a.sep == 1 {
            break;
        }
        out[j] = a.write[0];
        out[j + 1] = a.write[1];
        j += usize::from(a.len);
        i += 2;
    }
    Some((i, j))
}
