//! Text signals: a matching key for posts, captions and document text, its
//! SHA-256 for exact matches, and a MinHash signature for near-duplicates.
//!
//! # Normalisation
//!
//! [`normalize()`] turns text into a *matching key*, not into text for people
//! to read. Two posts that a reader would call the same text should get the
//! same key; the key may fold distinctions a language cares about. The steps,
//! in order:
//!
//! 1. **Limit.** Only the first [`MAX_INPUT_BYTES`] (1 MiB) are read, cut at a
//!    character boundary, so time and memory are linear and bounded.
//! 2. **NFKC.** Compatibility forms become their plain letters: fullwidth
//!    Latin, ligatures (`ﬁ`), Arabic presentation forms (`ﻻ`), superscripts,
//!    non-breaking and other spaces.
//! 3. **Invisible characters are removed** without splitting a word: every
//!    default-ignorable code point (ZWSP, ZWNJ, ZWJ, WJ, BOM, soft hyphen,
//!    LRM/RLM/ALM, LRE…RLO, LRI…PDI, variation selectors, tags), Arabic
//!    tatweel, harakat and Quranic marks (step 6), combining accents (step
//!    8), emoji skin tones, and apostrophes, so `don't` = `dont` and
//!    `Jum'at` = `Jumat`. This happens before tokenising, so an invisible
//!    character can neither split a word nor hide a URL or a tag.
//! 4. **Tokens.** The text splits at whitespace. In each chunk a URL
//!    (`scheme://…`, `www.…`, or `host.tld[/…]` with a suffix on the Public
//!    Suffix List) or an e-mail address is one token, less wrapping
//!    punctuation such as a closing bracket or full stop; URLs keep their
//!    punctuation and only lose case. The rest splits into words: letters,
//!    digits and combining marks make words, all other punctuation and
//!    symbols separate them. `#hashtag` and `@handle` (with `_`) stay whole.
//!    Emoji and other pictographs are one token each.
//! 5. **Homoglyphs.** Cyrillic and Greek letters that look like Latin ones
//!    (`а е о р с у х і ј ѕ ԁ`, `ο α ν ρ τ ι κ`, and capitals such as `В Н
//!    К М Т Η Ν`) fold to Latin, but only where that undoes a spoof, because
//!    folding inside real Russian words would turn Russian text into a
//!    Latin–Cyrillic mix and make unrelated words collide. Each word is
//!    judged on its case-folded letters (so that a second pass sees what the
//!    first decided on):
//!    - a word that mixes Latin with Cyrillic or Greek letters is a spoof. If
//!      it has a Cyrillic letter with no Latin twin (`и`, `л`, `д`…) it is a
//!      Cyrillic word with Latin intruders, whose Latin look-alikes become
//!      Cyrillic (`пpивeт` → `привет`); otherwise it is a Latin word whose
//!      Cyrillic or Greek look-alikes become Latin (`Неllо` → `hello`);
//!    - a word made only of look-alikes (`сор`, `у`, `ее`) is folded to Latin
//!      only when, among the other words, Latin letters outnumber Cyrillic
//!      and Greek ones. A Russian sentence keeps every word; an English post
//!      with a few all-Cyrillic words is caught.
//! 6. **Arabic.** Tatweel, harakat (U+064B–U+065F), the superscript alef
//!    (U+0670) and Quranic marks are removed. Alef with hamza above or
//!    below, madda or wasla becomes bare alef; waw and yeh with hamza become
//!    waw and yeh; taa marbuta becomes haa; alef maqsura and the Persian and
//!    Urdu yeh become Arabic yeh; keheh and swash kaf become kaf; heh
//!    variants become heh. Arabic-Indic and Persian digits become ASCII.
//! 7. **Case.** Full Unicode case folding, done as `char::to_lowercase` plus a
//!    hand table of what full folding does beyond NFKC and lowercasing
//!    (`ß` → `ss`, final `ς` → `σ`, iota subscript → `ι`, and the historic
//!    Cyrillic letter variants). The table was found by comparing the two
//!    over every code point; a crate such as `caseless` would carry its own,
//!    older, Unicode tables for those few characters.
//! 8. **Accents.** Latin and Greek letters lose their diacritics (`é` → `e`,
//!    `ά` → `α`) and stray combining accents go. Cyrillic letters with a mark
//!    of their own (`й`, `ї`, `ў`) are separate letters and stay; `ё`
//!    becomes `е`, as Russian writes them interchangeably.
//! 9. **Join.** Tokens are joined with single spaces. If removing a
//!    character left a sequence that composes, the result is recomposed
//!    (NFC), so normalising twice changes nothing.
//!
//! # Signals
//!
//! - `text_sha256`: [`crate::digest::sha256`] of the normalised text's UTF-8.
//! - `text_minhash`: a [`MinHashSignature`] of the set of word shingles of the
//!   normalised text. A shingle is [`DEFAULT_SHINGLE_WORDS`] (5) consecutive
//!   tokens joined by one space, as `../shared/bench` does over lowercased
//!   whitespace-split text; text of fewer tokens is a single shingle. Each
//!   shingle is hashed once with XXH3-64 (seed 0), then the set is sketched
//!   into [`DEFAULT_NUM_PERM`] (128) slots with the fast similarity sketch
//!   of Dahlgaard, Knudsen and Thorup (see [`MinHasher::sketch`]): slot
//!   agreement has the same probability as with classic MinHash, the
//!   Jaccard similarity, at `O(n + k log k)` cost instead of the `O(n k)` of
//!   `k` permutations. The algorithm, its round keys (SplitMix64 from a
//!   fixed seed) and the wire form `mh1:<hex>` are fixed by
//!   [`MINHASH_VERSION`]; signatures are stored and exchanged, so any change
//!   needs a new version and wire prefix. A test pins one signature.
//! - The share of equal slots, [`MinHashSignature::similarity`], estimates
//!   the Jaccard similarity of two texts' shingle sets.
//!
//! Four code paths give the same key, which property tests check: one
//! pass over bytes for ASCII and basic Arabic letters, digits and
//! punctuation (most posts; it hands anything else, and possible URLs, to
//! the others), bytes for the rest of ASCII text, one pass over characters
//! for text with no Latin, Cyrillic or Greek letters beyond ASCII, and the
//! general path with the homoglyph rule.
//!
//! Text with no tokens has a `text_sha256` (of the empty string) but no
//! MinHash signature: empty posts must not all match each other.

mod minhash;
mod normalize;
mod tables;

#[cfg(test)]
mod tests;

pub use minhash::{
    DEFAULT_NUM_PERM, DEFAULT_SHINGLE_WORDS, MAX_NUM_PERM, MAX_SHINGLE_WORDS, MINHASH_VERSION,
    MinHashSignature, MinHasher, shingle_hashes, similarity,
};
pub use normalize::{MAX_INPUT_BYTES, normalize, normalize_into};

use crate::digest::sha256;
use crate::signal::Sha256Digest;

/// Version of the normalisation: steps and tables. `text_sha256` values and
/// MinHash signatures made under different versions do not match.
pub const NORMALIZATION_VERSION: u32 = 1;

/// Why a text parameter or a signature from the wire was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("num_perm must be between 1 and {max}, got {got}")]
    NumPerm { got: usize, max: usize },
    #[error("shingle size must be between 1 and {max} words, got {got}")]
    ShingleWords { got: usize, max: usize },
    #[error("minhash signature must start with {expected:?}")]
    SignaturePrefix { expected: &'static str },
    #[error(
        "minhash signature has {got} hex digits, expected a positive multiple of 8 up to {max}"
    )]
    SignatureLength { got: usize, max: usize },
    #[error("not a hex digit in minhash signature at position {0}")]
    NotHex(usize),
}

/// The text signals of one piece of text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextSignals {
    /// SHA-256 of the normalised text (`text_sha256`).
    pub normalized_sha256: Sha256Digest,
    /// MinHash of the normalised text's shingles (`text_minhash`); `None`
    /// when the normalised text is empty.
    pub minhash: Option<MinHashSignature>,
}

/// SHA-256 of the normalised text.
pub fn text_sha256(text: &str) -> Sha256Digest {
    sha256(normalize(text).as_bytes())
}

/// Both signals with the default parameters. For many texts, keep one
/// [`MinHasher`] per thread and call [`MinHasher::signals`].
pub fn text_signals(text: &str) -> TextSignals {
    MinHasher::new().signals(text)
}
