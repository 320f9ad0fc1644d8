//! MinHash LSH: candidate near-duplicates of a text among many, from their
//! [`MinHashSignature`]s, in time independent of the number stored.
//!
//! A signature's first `bands * rows` slots are cut into `bands` bands of
//! `rows` slots. Two signatures become candidates when any band is equal in
//! full, which for Jaccard similarity `s` happens with probability
//! `P(s) = 1 - (1 - s^rows)^bands`, an S-curve. [`MinHashLsh::query`]
//! returns those candidates; [`MinHashLsh::query_verified`] keeps the ones
//! whose estimated similarity (share of equal slots over the whole
//! signature) reaches the threshold.
//!
//! # Choosing bands and rows
//!
//! datasketch minimises the sum of the false-positive area `∫₀ᵗ P(s) ds`
//! and the false-negative area `∫ₜ¹ 1 − P(s) ds`. That treats a pair just
//! above the threshold as almost free to miss: at `t = 0.8` with 128 slots it
//! picks 9 × 13, which finds a pair of similarity exactly 0.8 only 40 % of
//! the time. For matching known content a miss costs far more than a false
//! candidate, which [`MinHashLsh::query_verified`] removes for 128 integer
//! comparisons. So [`LshParams::for_threshold`] instead asks for a recall
//! of at least [`DEFAULT_RECALL_AT_THRESHOLD`] (95 %) at the threshold
//! itself, `P(t) >= 0.95`, and among the `(bands, rows)` with
//! `bands * rows <= num_perm` that meet it takes the one with the smallest
//! false-positive area (fewest candidates). At 128 slots: 13 × 7 at 0.8,
//! 23 × 3 at 0.5, 10 × 12 at 0.9. When no split meets the recall (very few
//! slots), the one with the highest `P(t)` is taken. [`LshParams::new`] and
//! [`LshParams::with_bands`] set the split by hand (rensa's 16 × 8).
//!
//! Ids are `u64`, as in the Hamming index. Band keys are 64-bit hashes of
//! the band's slots; a collision of two different bands can only add a
//! candidate, never lose one, and `query_verified` drops it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ronda_hash::text::MinHashSignature;

/// The recall at the threshold that [`LshParams::for_threshold`] aims for.
pub const DEFAULT_RECALL_AT_THRESHOLD: f64 = 0.95;

/// Why an LSH index or its parameters could not be made, or a signature
/// could not be used with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LshError {
    #[error("similarity threshold must be in (0, 1], got {0}")]
    Threshold(f64),
    #[error("recall at the threshold must be in (0, 1), got {0}")]
    Recall(f64),
    #[error("num_perm must be at least 1")]
    NumPerm,
    #[error("{bands} bands of {rows} rows do not fit a signature of {num_perm} slots")]
    Bands {
        bands: usize,
        rows: usize,
        num_perm: usize,
    },
    #[error("signature has {got} slots, the index expects {expected}")]
    SignatureLength { expected: usize, got: usize },
}

/// How signatures are cut into bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LshParams {
    bands: usize,
    rows: usize,
}

impl LshParams {
    /// `bands` bands of `rows` slots each; both at least 1.
    pub fn new(bands: usize, rows: usize) -> Result<Self, LshError> {
        if bands == 0 || rows == 0 {
            return Err(LshError::Bands {
                bands,
                rows,
                num_perm: bands.saturating_mul(rows),
            });
        }
        Ok(Self { bands, rows })
    }

    /// `bands` bands of `num_perm / bands` rows (rensa's rule).
    pub fn with_bands(num_perm: usize, bands: usize) -> Result<Self, LshError> {
        if bands == 0 || bands > num_perm {
            return Err(LshError::Bands {
                bands,
                rows: num_perm.checked_div(bands).unwrap_or(0),
                num_perm,
            });
        }
        Self::new(bands, num_perm / bands)
    }

    /// The split for a similarity threshold, with a recall of
    /// [`DEFAULT_RECALL_AT_THRESHOLD`] at the threshold (see the module
    /// documentation).
    pub fn for_threshold(num_perm: usize, threshold: f64) -> Result<Self, LshError> {
        Self::for_threshold_and_recall(num_perm, threshold, DEFAULT_RECALL_AT_THRESHOLD)
    }

    /// Among splits with `bands * rows <= num_perm` and
    /// `P(threshold) >= recall`, the one with the least false-positive area
    /// `∫₀ᵗ P(s) ds`; if none reaches the recall, the one with the highest
    /// `P(threshold)`.
    pub fn for_threshold_and_recall(
        num_perm: usize,
        threshold: f64,
        recall: f64,
    ) -> Result<Self, LshError> {
        check_threshold(threshold)?;
        if !(recall > 0.0 && recall < 1.0) {
            return Err(LshError::Recall(recall));
        }
        if num_perm == 0 {
            return Err(LshError::NumPerm);
        }
        let mut best: Option<(f64, LshParams)> = None;
        let mut fallback = (f64::NEG_INFINITY, LshParams { bands: 1, rows: 1 });
        for bands in 1..=num_perm {
            for rows in 1..=num_perm / bands {
                let p = LshParams { bands, rows };
                let at_t = p.candidate_probability(threshold);
                if at_t < recall {
                    if at_t > fallback.0 {
                        fallback = (at_t, p);
                    }
                    continue;
                }
                let area = p.false_positive_area(threshold);
                if best.is_none_or(|(a, _)| area < a) {
                    best = Some((area, p));
                }
            }
        }
        Ok(best.map_or(fallback.1, |(_, p)| p))
    }

    pub fn bands(&self) -> usize {
        self.bands
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The probability that two signatures of Jaccard similarity `s` share
    /// at least one band: `1 - (1 - s^rows)^bands`.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        let s = s.clamp(0.0, 1.0);
        let rows = i32::try_from(self.rows).unwrap_or(i32::MAX);
        let bands = i32::try_from(self.bands).unwrap_or(i32::MAX);
        1.0 - (1.0 - s.powi(rows)).powi(bands)
    }

    /// `∫₀ᵗ P(s) ds` by the midpoint rule.
    fn false_positive_area(&self, t: f64) -> f64 {
        const STEPS: u32 = 128;
        let h = t / f64::from(STEPS);
        (0..STEPS)
            .map(|i| self.candidate_probability((f64::from(i) + 0.5) * h))
            .sum::<f64>()
            * h
    }
}

fn check_threshold(threshold: f64) -> Result<(), LshError> {
    if threshold > 0.0 && threshold <= 1.0 {
        Ok(())
    } else {
        Err(LshError::Threshold(threshold))
    }
}

/// A candidate that passed verification.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LshMatch {
    /// The id the signature was inserted with.
    pub id: u64,
    /// Estimated Jaccard similarity: the share of equal slots.
    pub similarity: f64,
}

/// The signatures in one band bucket: almost always one, so no allocation
/// for that case. The `Box` keeps a bucket at 16 bytes instead of 24.
#[derive(Debug, Clone)]
#[allow(clippy::box_collection)]
enum Bucket {
    One(u32),
    Many(Box<Vec<u32>>),
}

/// Band keys are already well-mixed 64-bit hashes: hash them as themselves.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Table = HashMap<u64, Bucket, BuildHasherDefault<KeyHasher>>;

/// A MinHash LSH index with incremental insert and remove.
#[derive(Debug, Clone)]
pub struct MinHashLsh {
    num_perm: usize,
    threshold: f64,
    params: LshParams,
    /// One table per band: band key -> slots.
    tables: Vec<Table>,
    /// id -> slot.
    slot_of: HashMap<u64, u32>,
    /// slot -> id; `None` for a free slot.
    ids: Vec<Option<u64>>,
    /// Signatures by slot, `num_perm` values each.
    signatures: Vec<u32>,
    free: Vec<u32>,
}

impl MinHashLsh {
    /// An index for signatures of `num_perm` slots and a similarity
    /// threshold, with [`LshParams::for_threshold`].
    pub fn new(num_perm: usize, threshold: f64) -> Result<Self, LshError> {
        let params = LshParams::for_threshold(num_perm, threshold)?;
        Self::with_params(num_perm, threshold, params)
    }

    /// An index with an explicit split; `bands * rows` must fit `num_perm`.
    pub fn with_params(
        num_perm: usize,
        threshold: f64,
        params: LshParams,
    ) -> Result<Self, LshError> {
        check_threshold(threshold)?;
        if num_perm == 0 {
            return Err(LshError::NumPerm);
        }
        if params.bands.saturating_mul(params.rows) > num_perm {
            return Err(LshError::Bands {
                bands: params.bands,
                rows: params.rows,
                num_perm,
            });
        }
        Ok(Self {
            num_perm,
            threshold,
            params,
            tables: vec![Table::default(); params.bands],
            slot_of: HashMap::new(),
            ids: Vec::new(),
            signatures: Vec::new(),
            free: Vec::new(),
        })
    }

    pub fn params(&self) -> LshParams {
        self.params
    }

    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn num_perm(&self) -> usize {
        self.num_perm
    }

    /// Number of signatures stored.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.slot_of.contains_key(&id)
    }

    /// The stored signature values of `id`.
    pub fn signature(&self, id: u64) -> Option<&[u32]> {
        let slot = *self.slot_of.get(&id)? as usize;
        self.signatures
            .get(slot * self.num_perm..(slot + 1) * self.num_perm)
    }

    /// Stores `signature` under `id`, replacing what `id` had.
    pub fn insert(&mut self, id: u64, signature: &MinHashSignature) -> Result<(), LshError> {
        let values = self.check(signature)?;
        self.remove(id);
        let slot = match self.free.pop() {
            Some(slot) => {
                let at = slot as usize * self.num_perm;
                self.signatures[at..at + self.num_perm].copy_from_slice(values);
                self.ids[slot as usize] = Some(id);
                slot
            }
            None => {
                let slot = u32::try_from(self.ids.len()).map_err(|_| LshError::NumPerm)?;
                self.signatures.extend_from_slice(values);
                self.ids.push(Some(id));
                slot
            }
        };
        self.slot_of.insert(id, slot);
        for (band, table) in self.tables.iter_mut().enumerate() {
            let key = band_key(values, band, self.params.rows);
            table
                .entry(key)
                .and_modify(|b| match b {
                    Bucket::One(other) => *b = Bucket::Many(Box::new(vec![*other, slot])),
                    Bucket::Many(v) => v.push(slot),
                })
                .or_insert(Bucket::One(slot));
        }
        Ok(())
    }

    /// Removes `id`; false when it was not stored.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = self.slot_of.remove(&id) else {
            return false;
        };
        let at = slot as usize * self.num_perm;
        let values = &self.signatures[at..at + self.num_perm];
        for (band, table) in self.tables.iter_mut().enumerate() {
            let key = band_key(values, band, self.params.rows);
            let emptied = match table.get_mut(&key) {
                Some(Bucket::One(s)) => *s == slot,
                Some(Bucket::Many(v)) => {
                    if let Some(i) = v.iter().position(|&s| s == slot) {
                        v.swap_remove(i);
                    }
                    if let [only] = v.as_slice() {
                        let only = *only;
                        table.insert(key, Bucket::One(only));
                    }
                    false
                }
                None => false,
            };
            if emptied {
                table.remove(&key);
            }
        }
        self.ids[slot as usize] = None;
        self.free.push(slot);
        true
    }

    /// Ids sharing at least one band with `signature`, ascending.
    pub fn query(&self, signature: &MinHashSignature) -> Result<Vec<u64>, LshError> {
        let values = self.check(signature)?;
        let mut ids: Vec<u64> = self
            .candidate_slots(values)
            .into_iter()
            .filter_map(|slot| self.ids.get(slot as usize).copied().flatten())
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Candidates whose estimated similarity to `signature` is at least the
    /// index's threshold, most similar first (ties by id).
    pub fn query_verified(&self, signature: &MinHashSignature) -> Result<Vec<LshMatch>, LshError> {
        let values = self.check(signature)?;
        let mut matches: Vec<LshMatch> = self
            .candidate_slots(values)
            .into_iter()
            .filter_map(|slot| {
                let id = self.ids.get(slot as usize).copied().flatten()?;
                let at = slot as usize * self.num_perm;
                let stored = self.signatures.get(at..at + self.num_perm)?;
                let similarity = ronda_hash::text::similarity(values, stored);
                (similarity >= self.threshold).then_some(LshMatch { id, similarity })
            })
            .collect();
        matches.sort_by(|a, b| {
            b.similarity
                .total_cmp(&a.similarity)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(matches)
    }

    fn check<'s>(&self, signature: &'s MinHashSignature) -> Result<&'s [u32], LshError> {
        let values = signature.values();
        if values.len() != self.num_perm {
            return Err(LshError::SignatureLength {
                expected: self.num_perm,
                got: values.len(),
            });
        }
        Ok(values)
    }

    fn candidate_slots(&self, values: &[u32]) -> Vec<u32> {
        let mut slots = Vec::new();
        for (band, table) in self.tables.iter().enumerate() {
            match table.get(&band_key(values, band, self.params.rows)) {
                Some(Bucket::One(s)) => slots.push(*s),
                Some(Bucket::Many(v)) => slots.extend_from_slice(v),
                None => {}
            }
        }
        slots.sort_unstable();
        slots.dedup();
        slots
    }
}

/// The 64-bit key of band `band`: its `rows` slot values, multiply-mixed
/// and finalised (SplitMix64) so that every bit of the key is usable.
fn band_key(values: &[u32], band: usize, rows: usize) -> u64 {
    let start = band * rows;
    let mut h = 0x243f_6a88_85a3_08d3_u64;
    for &v in values.get(start..start + rows).unwrap_or(&[]) {
        h = (h.rotate_left(23) ^ u64::from(v)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;
    use ronda_hash::text::{MinHashSignature, MinHasher};

    use super::*;

    fn sig(values: Vec<u32>) -> MinHashSignature {
        MinHashSignature::from_values(values).expect("non-empty")
    }

    #[test]
    fn derived_params() {
        let p = |n, t| {
            let p = LshParams::for_threshold(n, t).expect("valid");
            (p.bands(), p.rows())
        };
        assert_eq!(p(128, 0.8), (13, 7));
        assert_eq!(p(128, 0.5), (23, 3));
        assert_eq!(p(128, 0.9), (10, 12));
        assert_eq!(p(256, 0.8), (21, 9));
        for (n, t) in [(128, 0.8), (64, 0.7), (256, 0.95), (16, 0.6)] {
            let params = LshParams::for_threshold(n, t).expect("valid");
            assert!(params.bands() * params.rows() <= n);
            assert!(params.candidate_probability(t) >= DEFAULT_RECALL_AT_THRESHOLD);
        }
        // Too few slots to reach the recall: the highest P(t) wins.
        let tiny = LshParams::for_threshold(2, 0.5).expect("valid");
        assert_eq!((tiny.bands(), tiny.rows()), (2, 1));
    }

    #[test]
    fn explicit_params() {
        let p = LshParams::with_bands(128, 16).expect("valid");
        assert_eq!((p.bands(), p.rows()), (16, 8));
        let p = LshParams::with_bands(128, 9).expect("valid");
        assert_eq!((p.bands(), p.rows()), (9, 14));
        assert!(LshParams::with_bands(128, 0).is_err());
        assert!(LshParams::with_bands(8, 9).is_err());
        assert!(LshParams::new(0, 3).is_err());
        let too_big = LshParams::new(20, 10).expect("valid");
        assert!(MinHashLsh::with_params(128, 0.8, too_big).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        for t in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(
                matches!(MinHashLsh::new(128, t), Err(LshError::Threshold(_))),
                "{t}"
            );
        }
        assert!(LshParams::for_threshold_and_recall(128, 0.8, 1.0).is_err());
        assert!(MinHashLsh::new(0, 0.8).is_err());
        let lsh = MinHashLsh::new(128, 0.8).expect("valid");
        let short = sig(vec![1; 64]);
        assert_eq!(
            lsh.query(&short),
            Err(LshError::SignatureLength {
                expected: 128,
                got: 64
            })
        );
    }

    #[test]
    fn s_curve() {
        let p = LshParams::new(16, 8).expect("valid");
        assert_eq!(p.candidate_probability(0.0), 0.0);
        assert_eq!(p.candidate_probability(1.0), 1.0);
        let mut last = 0.0;
        for i in 1..=100 {
            let v = p.candidate_probability(f64::from(i) / 100.0);
            assert!(v >= last);
            last = v;
        }
        assert!((p.candidate_probability(0.8) - 0.947).abs() < 0.001);
    }

    #[test]
    fn finds_near_duplicate_posts() {
        let mut h = MinHasher::new();
        let posts = [
            "The city library opens a new reading room on Monday morning, with \
             free coffee and tea for visitors and a story hour for children.",
            "Besok pagi hujan di Jakarta, jangan lupa bawa payung dan jaket \
             karena angin kencang diperkirakan sampai sore hari.",
            "الطقس اليوم مشمس في المدينة والحديقة مزدحمة بالأطفال والعائلات \
             الذين يشربون الشاي ويأكلون الكعك",
        ];
        let mut lsh = MinHashLsh::new(128, 0.5).expect("valid");
        for (id, p) in (0u64..).zip(posts) {
            lsh.insert(id, &h.signature(p).expect("non-empty"))
                .expect("insert");
        }
        let q = posts[0].replace("Monday", "Tuesday").to_uppercase();
        let found = lsh
            .query_verified(&h.signature(&q).expect("non-empty"))
            .expect("query");
        assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), vec![0]);
        assert!(found[0].similarity >= 0.5);
        let q = posts[2].replace("الشاي", "القهوة");
        let found = lsh
            .query(&h.signature(&q).expect("non-empty"))
            .expect("query");
        assert_eq!(found, vec![2]);
        let unrelated = h
            .signature("A quiet evening walk by the river")
            .expect("non-empty");
        assert!(lsh.query_verified(&unrelated).expect("query").is_empty());
    }

    #[test]
    fn insert_replaces_and_remove_removes() {
        let mut lsh =
            MinHashLsh::with_params(8, 0.5, LshParams::new(4, 2).expect("valid")).expect("valid");
        let a = sig(vec![1, 2, 3, 4, 5, 6, 7, 8]);
        let b = sig(vec![9, 9, 9, 9, 9, 9, 9, 9]);
        lsh.insert(7, &a).expect("insert");
        lsh.insert(8, &a).expect("insert");
        assert_eq!(lsh.query(&a), Ok(vec![7, 8]));
        lsh.insert(7, &b).expect("replace");
        assert_eq!(lsh.len(), 2);
        assert_eq!(lsh.query(&a), Ok(vec![8]));
        assert_eq!(lsh.query(&b), Ok(vec![7]));
        assert_eq!(lsh.signature(7), Some(b.values()));
        assert!(lsh.remove(8));
        assert!(!lsh.remove(8));
        assert_eq!(lsh.query(&a), Ok(vec![]));
        assert!(lsh.contains(7) && !lsh.contains(8));
        // The freed slot is reused.
        lsh.insert(9, &a).expect("insert");
        assert_eq!(lsh.query(&a), Ok(vec![9]));
        let m = lsh.query_verified(&a).expect("query");
        assert_eq!(
            m,
            vec![LshMatch {
                id: 9,
                similarity: 1.0
            }]
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64, Vec<u32>),
        Remove(u64),
    }

    const N: usize = 8;

    fn small_sig() -> impl Strategy<Value = Vec<u32>> {
        // A tiny alphabet, so that bands collide often.
        prop::collection::vec(0u32..3, N)
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..12, small_sig()).prop_map(|(id, s)| Op::Insert(id, s)),
            1 => (0u64..12).prop_map(Op::Remove),
        ]
    }

    fn shares_band(a: &[u32], b: &[u32], rows: usize) -> bool {
        a.chunks(rows).zip(b.chunks(rows)).any(|(x, y)| x == y)
    }

    proptest! {
        #[test]
        fn index_agrees_with_brute_force(
            ops in prop::collection::vec(op(), 0..60),
            probes in prop::collection::vec(small_sig(), 1..8),
        ) {
            let params = LshParams::new(4, 2).expect("valid");
            let mut lsh = MinHashLsh::with_params(N, 0.5, params).expect("valid");
            let mut model: HashMap<u64, Vec<u32>> = HashMap::new();
            for op in &ops {
                match op {
                    Op::Insert(id, s) => {
                        lsh.insert(*id, &sig(s.clone())).expect("insert");
                        model.insert(*id, s.clone());
                    }
                    Op::Remove(id) => {
                        prop_assert_eq!(lsh.remove(*id), model.remove(id).is_some());
                        prop_assert!(!lsh.contains(*id));
                    }
                }
            }
            prop_assert_eq!(lsh.len(), model.len());
            let stored: Vec<Vec<u32>> = model.values().cloned().collect();
            for probe in probes.iter().chain(&stored) {
                let want: BTreeSet<u64> = model
                    .iter()
                    .filter(|(_, s)| shares_band(s, probe, 2))
                    .map(|(id, _)| *id)
                    .collect();
                let got = lsh.query(&sig(probe.clone())).expect("query");
                prop_assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), want.clone());
                prop_assert_eq!(got.len(), want.len());
                let verified: BTreeSet<u64> = lsh
                    .query_verified(&sig(probe.clone()))
                    .expect("query")
                    .iter()
                    .map(|m| m.id)
                    .collect();
                let want_verified: BTreeSet<u64> = want
                    .iter()
                    .copied()
                    .filter(|id| {
                        ronda_hash::text::similarity(&model[id], probe) >= 0.5
                    })
                    .collect();
                prop_assert_eq!(verified, want_verified);
            }
            // Every stored signature finds its own id, verified at 1.0.
            for (id, s) in &model {
                let m = lsh.query_verified(&sig(s.clone())).expect("query");
                prop_assert!(m.iter().any(|m| m.id == *id && m.similarity == 1.0));
            }
        }
    }
}
