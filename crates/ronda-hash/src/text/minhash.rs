//! MinHash signatures of normalised text: word shingles, each hashed once,
//! sketched into `num_perm` slots with the fast similarity sketch. The
//! algorithm, its constants and the wire form are fixed by
//! [`MINHASH_VERSION`]; see the [`super`] module documentation.

use std::fmt;
use std::str::FromStr;

use xxhash_rust::xxh3::xxh3_64;

use super::normalize::Scratch;
use super::{TextError, TextSignals};
use crate::digest::sha256;

/// Version of the signature algorithm (shingling, shingle hash, sketch,
/// round seeds) and of the wire form `mh1:<hex>`. Signatures of different
/// versions are not comparable.
pub const MINHASH_VERSION: u32 = 1;
/// Slots per signature unless told otherwise.
pub const DEFAULT_NUM_PERM: usize = 128;
/// Words per shingle unless told otherwise.
pub const DEFAULT_SHINGLE_WORDS: usize = 5;
/// Upper bound on slots, so that a signature from the wire stays small.
pub const MAX_NUM_PERM: usize = 1024;
/// Upper bound on words per shingle.
pub const MAX_SHINGLE_WORDS: usize = 32;

const WIRE_PREFIX: &str = "mh1:";
/// Start of the SplitMix64 stream that gives the round seeds ("RONDA_v1").
const SEED: u64 = 0x524f_4e44_415f_7631;

/// A MinHash signature: `num_perm` 32-bit slots. Two signatures estimate the
/// Jaccard similarity of their shingle sets by the share of equal slots.
///
/// On the wire it is `mh1:` followed by 8 lowercase hex digits per slot
/// (big-endian), 1,028 characters at 128 slots.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MinHashSignature(Vec<u32>);

impl MinHashSignature {
    /// A signature from its slot values (1 to [`MAX_NUM_PERM`] of them).
    pub fn from_values(values: Vec<u32>) -> Result<Self, TextError> {
        if values.is_empty() || values.len() > MAX_NUM_PERM {
            return Err(TextError::NumPerm {
                got: values.len(),
                max: MAX_NUM_PERM,
            });
        }
        Ok(Self(values))
    }

    /// The slot values.
    pub fn values(&self) -> &[u32] {
        &self.0
    }

    /// Number of slots (`num_perm`).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a signature has at least one slot.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Estimated Jaccard similarity: the share of equal slots, in `[0, 1]`.
    /// Signatures of different lengths are not comparable and give 0.
    pub fn similarity(&self, other: &MinHashSignature) -> f64 {
        similarity(&self.0, &other.0)
    }
}

/// The share of equal slots of two signatures given as slices; 0 when their
/// lengths differ or they are empty.
pub fn similarity(a: &[u32], b: &[u32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / a.len() as f64
}

impl fmt::Display for MinHashSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(WIRE_PREFIX)?;
        for v in &self.0 {
            write!(f, "{v:08x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for MinHashSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The full form is 1 KiB; the head is enough to tell two apart.
        write!(f, "MinHashSignature({} slots, ", self.0.len())?;
        for v in self.0.iter().take(4) {
            write!(f, "{v:08x}")?;
        }
        f.write_str("...)")
    }
}

impl FromStr for MinHashSignature {
    type Err = TextError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s
            .trim()
            .strip_prefix(WIRE_PREFIX)
            .ok_or(TextError::SignaturePrefix {
                expected: WIRE_PREFIX,
            })?;
        let n = digits.len();
        if n == 0 || n % 8 != 0 || n > 8 * MAX_NUM_PERM {
            return Err(TextError::SignatureLength {
                got: n,
                max: 8 * MAX_NUM_PERM,
            });
        }
        let mut values = Vec::with_capacity(n / 8);
        for (i, chunk) in digits.as_bytes().chunks_exact(8).enumerate() {
            let mut v = 0u32;
            for (j, &b) in chunk.iter().enumerate() {
                let d = (b as char)
                    .to_digit(16)
                    .ok_or(TextError::NotHex(WIRE_PREFIX.len() + 8 * i + j))?;
                v = v << 4 | d;
            }
            values.push(v);
        }
        Ok(Self(values))
    }
}

impl serde::Serialize for MinHashSignature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for MinHashSignature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The 64-bit hashes of the word shingles of `normalized` (the output of
/// [`normalize`](super::normalize())): XXH3-64 (seed 0) of the UTF-8 bytes
/// of each run of `shingle_words` consecutive tokens joined by one space. Text with fewer
/// tokens is one shingle; empty text has none. Repeated shingles repeat.
pub fn shingle_hashes(normalized: &str, shingle_words: usize, out: &mut Vec<u64>) {
    shingle_hashes_of_bytes(normalized.as_bytes(), shingle_words, out);
}

/// [`shingle_hashes`] of the normalised text's UTF-8.
fn shingle_hashes_of_bytes(bytes: &[u8], shingle_words: usize, out: &mut Vec<u64>) {
    out.clear();
    let k = shingle_words.clamp(1, MAX_SHINGLE_WORDS);
    // Start offsets of the last k tokens, as a ring.
    let mut starts = [0usize; MAX_SHINGLE_WORDS];
    let mut ring = 0;
    let (mut n, mut i) = (0usize, 0usize);
    let (mut first, mut last) = (0usize, 0usize);
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        i = next_space(bytes, i);
        if n == 0 {
            first = start;
        }
        last = i;
        starts[ring] = start;
        ring = if ring + 1 == k { 0 } else { ring + 1 };
        n += 1;
        if n >= k {
            // The ring's next slot holds the start of the token k back.
            out.push(xxh3_64(&bytes[starts[ring]..i]));
        }
    }
    if n > 0 && n < k {
        out.push(xxh3_64(&bytes[first..last]));
    }
}

/// The index of the first space at or after `i`, or the length: eight bytes
/// at a time (the lowest zero byte of `w ^ 0x20…` is found exactly).
fn next_space(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let t = u64::from_le_bytes(word) ^ (ONES * u64::from(b' '));
        let zeros = t.wrapping_sub(ONES) & !t & HIGHS;
        if zeros != 0 {
            return i + (zeros.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] != b' ' {
        i += 1;
    }
    i
}

/// Builds signatures, reusing its buffers; one per thread.
#[derive(Debug, Clone)]
pub struct MinHasher {
    num_perm: usize,
    shingle_words: usize,
    /// Round keys: `2 * num_perm` pairs of SplitMix64 outputs from
    /// [`SEED`], the second made odd.
    seeds: Vec<(u64, u64)>,
    scratch: Scratch,
    /// The normalised text's UTF-8.
    normalized: Vec<u8>,
    hashes: Vec<u64>,
    keys: Vec<u64>,
}

impl Default for MinHasher {
    fn default() -> Self {
        Self::build(DEFAULT_NUM_PERM, DEFAULT_SHINGLE_WORDS)
    }
}

impl MinHasher {
    /// 128 slots, word 5-shingles.
    pub fn new() -> Self {
        Self::default()
    }

    /// `num_perm` slots (1 to [`MAX_NUM_PERM`]) over shingles of
    /// `shingle_words` words (1 to [`MAX_SHINGLE_WORDS`]).
    pub fn with_params(num_perm: usize, shingle_words: usize) -> Result<Self, TextError> {
        if num_perm == 0 || num_perm > MAX_NUM_PERM {
            return Err(TextError::NumPerm {
                got: num_perm,
                max: MAX_NUM_PERM,
            });
        }
        if shingle_words == 0 || shingle_words > MAX_SHINGLE_WORDS {
            return Err(TextError::ShingleWords {
                got: shingle_words,
                max: MAX_SHINGLE_WORDS,
            });
        }
        Ok(Self::build(num_perm, shingle_words))
    }

    fn build(num_perm: usize, shingle_words: usize) -> Self {
        let mut state = SEED;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            splitmix64(state)
        };
        let seeds = (0..2 * num_perm).map(|_| (next(), next() | 1)).collect();
        Self {
            num_perm,
            shingle_words,
            seeds,
            scratch: Scratch::default(),
            normalized: Vec::new(),
            hashes: Vec::new(),
            keys: Vec::new(),
        }
    }

    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    pub fn shingle_words(&self) -> usize {
        self.shingle_words
    }

    #[cfg(test)]
    pub(crate) fn seeds(&self) -> &[(u64, u64)] {
        &self.seeds
    }

    /// The signature of raw `text` (normalised here); `None` when the
    /// normalised text is empty.
    pub fn signature(&mut self, text: &str) -> Option<MinHashSignature> {
        let mut normalized = std::mem::take(&mut self.normalized);
        self.scratch.normalize_bytes(text, &mut normalized);
        let sig = self.signature_of_bytes(&normalized);
        self.normalized = normalized;
        sig
    }

    /// The signature of text that is already the output of
    /// [`normalize`](super::normalize()); `None` when it is empty.
    pub fn signature_of_normalized(&mut self, normalized: &str) -> Option<MinHashSignature> {
        self.signature_of_bytes(normalized.as_bytes())
    }

    fn signature_of_bytes(&mut self, normalized: &[u8]) -> Option<MinHashSignature> {
        let mut hashes = std::mem::take(&mut self.hashes);
        shingle_hashes_of_bytes(normalized, self.shingle_words, &mut hashes);
        let sig = self.sketch(&hashes);
        self.hashes = hashes;
        sig
    }

    /// Both text signals of raw `text`.
    pub fn signals(&mut self, text: &str) -> TextSignals {
        let mut normalized = std::mem::take(&mut self.normalized);
        self.scratch.normalize_bytes(text, &mut normalized);
        let signals = TextSignals {
            normalized_sha256: sha256(&normalized),
            minhash: self.signature_of_bytes(&normalized),
        };
        self.normalized = normalized;
        signals
    }

    /// The signature of a set of shingle hashes (duplicates allowed); `None`
    /// for the empty set.
    ///
    /// Fast similarity sketching (Dahlgaard, Knudsen and Thorup, FOCS 2017):
    /// in round `i` every element `x` gets `z = fold_mul(x, key[i])`, the
    /// 128-bit product of `x ^ a` and an odd `b` with its halves XORed. In
    /// rounds `i < t` it lands in slot `((z >> 32) * t) >> 32`; in round
    /// `t + j` in slot `j`. A slot keeps the lowest `z as u32` of the first
    /// round that reaches it, and later rounds cannot change it, so the loop
    /// stops once every slot is set: about `n + t ln t` hashes instead of the
    /// `n * t` of one hash function per slot. The round keys `(a, b)` are
    /// consecutive SplitMix64 outputs from a fixed seed, `b` made odd. For
    /// each slot, the element that sets it in the union of two sets is
    /// uniform over the union, so slots agree with probability equal to the
    /// Jaccard similarity, as with classic MinHash; for small sets the spread
    /// is below the binomial one (the test measures both).
    pub fn sketch(&mut self, hashes: &[u64]) -> Option<MinHashSignature> {
        if hashes.is_empty() {
            return None;
        }
        let t = self.num_perm;
        // Each slot holds `round << 32 | value`: the minimum keeps the first
        // round that reached the slot and, within it, the lowest value.
        let keys = &mut self.keys;
        keys.clear();
        keys.resize(t, u64::MAX);
        let seeds = &self.seeds[..t];
        // The default size gets its own copy of the loop, where the slot
        // index needs no multiply and no bounds check.
        match <&mut [u64; DEFAULT_NUM_PERM]>::try_from(keys.as_mut_slice()) {
            Ok(fixed) => sketch_rounds(fixed, hashes, seeds),
            Err(_) => sketch_rounds(keys, hashes, seeds),
        }
        for (k, &key) in keys.iter_mut().zip(&self.seeds[t..]) {
            if *k == u64::MAX {
                *k = hashes
                    .iter()
                    .map(|&x| fold_mul(x, key) & 0xffff_ffff)
                    .min()
                    .unwrap_or(0);
            }
        }
        Some(MinHashSignature(keys.iter().map(|&k| k as u32).collect()))
    }
}

/// [`MinHasher::sketch`] as first written, one loop for every size and a
/// scan for unset slots after each round: the fast loop is tested against it.
#[cfg(test)]
pub(crate) fn sketch_reference(seeds: &[(u64, u64)], hashes: &[u64]) -> Option<Vec<u32>> {
    if hashes.is_empty() {
        return None;
    }
    let t = seeds.len() / 2;
    let mut keys = vec![u64::MAX; t];
    for (round, &key) in (0u64..).zip(&seeds[..t]) {
        for &x in hashes {
            let z = fold_mul(x, key);
            let slot = (((z >> 32) * t as u64) >> 32) as usize;
            let entry = round << 32 | (z & 0xffff_ffff);
            if let Some(k) = keys.get_mut(slot) {
                *k = (*k).min(entry);
            }
        }
        if !keys.contains(&u64::MAX) {
            break;
        }
    }
    for (k, &key) in keys.iter_mut().zip(&seeds[t..]) {
        if *k == u64::MAX {
            *k = hashes
                .iter()
                .map(|&x| fold_mul(x, key) & 0xffff_ffff)
                .min()
                .unwrap_or(0);
        }
    }
    Some(keys.iter().map(|&k| k as u32).collect())
}

/// The rounds `i < t` of [`MinHasher::sketch`], `t` being the number of
/// slots, until every slot is set.
#[inline(always)]
fn sketch_rounds(keys: &mut [u64], hashes: &[u64], seeds: &[(u64, u64)]) {
    let t = keys.len() as u64;
    // Whether a slot is still unset is checked only from the round where
    // `t ln t` hashes (about the coupon collector's expectation) have been
    // dealt. Reading back every slot just written is slow (a check after
    // every round took a fifth of the sketch's time at 128 slots), and
    // checking late changes nothing but time: a round after the last needed
    // one reaches only slots that are already set.
    let first_check = (t as f64 * (t as f64).ln() / hashes.len() as f64) as u64;
    for (round, &key) in (0u64..).zip(seeds) {
        for &x in hashes {
            let z = fold_mul(x, key);
            let slot = (((z >> 32) * t) >> 32) as usize;
            let entry = round << 32 | (z & 0xffff_ffff);
            if let Some(k) = keys.get_mut(slot) {
                *k = (*k).min(entry);
            }
        }
        // A set slot holds `round << 32 | value`, far below 2^63, and an
        // unset one u64::MAX: one OR over all slots (which vectorises, unlike
        // a search that stops early) tells whether any is unset.
        if round + 1 >= first_check && keys.iter().fold(0, |acc, &k| acc | k) >> 63 == 0 {
            break;
        }
    }
}

/// The round hash: the 128-bit product of `x ^ a` and the odd `b`, its two
/// halves XORed (the folded multiply of wyhash and foldhash). `x` is already
/// a uniform 64-bit shingle hash, so one multiply suffices to give each
/// round an independent-looking slot and value.
fn fold_mul(x: u64, (a, b): (u64, u64)) -> u64 {
    let p = u128::from(x ^ a) * u128::from(b);
    (p >> 64) as u64 ^ p as u64
}

/// The SplitMix64 output function (Stafford's mix 13), for the round keys.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
