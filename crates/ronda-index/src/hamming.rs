//! Exact Hamming-radius search over 256-bit hashes (PDQ, and vPDQ frames).
//!
//! [`HammingIndex`] returns every stored entry within distance `r` of a
//! needle (default [`DEFAULT_RADIUS`] = 31, any `r` allowed), with its
//! distance: 100% recall, no false positives, whatever the data. One call
//! answers an image's 8 dihedral hashes together ([`HammingIndex::query_dihedral`]),
//! batches spread over the rayon pool, `add` and `remove` take effect for the
//! next query, and the index snapshots to a checksummed file (module `snapshot`).
//!
//! # Structure, and the measurements behind it
//!
//! Two layers, chosen per lookup by a cost model ([`Structure::Auto`]):
//!
//! - **Flat scan** (module `kernel`): hashes stored as two arrays of 128-bit
//!   halves plus a `u64` id, 40 bytes a hash. The scan reads only the first
//!   half (16 bytes a hash, half the memory traffic of a plain scan): a
//!   stored hash within 31 of a needle has its prefix within 31, a random
//!   prefix is within 31 with probability ~3e-9, so the second half is read
//!   for real matches only. Up to 8 needles sit in registers and share one
//!   pass (AVX-512 VPOPCNTDQ, AVX2 nibble lookup, POPCNT, or portable; chosen
//!   at run time, all checked against the portable loop in tests).
//! - **Multi-index hashing** (module `mih`, Norouzi et al. 2014): `m` tables, one
//!   per disjoint substring of the 256 bits, each a CSR array of slots by
//!   substring key. With the general pigeonhole rule (`sum(t_j + 1) >= r + 1`)
//!   the probe radius `t_j` per table is handed out greedily by cost, so
//!   any radius gets an exact plan. Substring length is tuned to N (about
//!   log2 N bits: 13 tables of ~20 bits at 1M, 11 of ~23 bits at 10M), which
//!   is what FAISS's `IndexBinaryMultiHash(256, 16, 16)` (HMA) does not do:
//!   at 16 bits each needle yields ~N/241 candidates. Lookups run in stages
//!   (probe keys, bucket bounds, postings, verify) over chunks of probes with
//!   software prefetch, so thousands of independent cache misses overlap.
//!   Hits are deduplicated by rule (a hit counts only in the first table
//!   whose substring is within its probe radius), not by a hash set. Table
//!   density (`sum(count^2)/n`) is measured at build, so skewed (clustered)
//!   data raises the estimated cost instead of surprising it.
//!
//! Adds go to a flat-scanned tail and are merged into the tables once the
//! tail exceeds `clamp(n/32, 1024, 65536)` (a sequential merge); removes are
//! tombstones, compacted once a quarter of the slots are dead.
//!
//! Measured with `ronda bench match` against `../shared/bench/baseline_match.py`
//! (FAISS 1.15.1, AVX2 build), same datasets (`gen_hashes.py`, 1000 queries,
//! radius 31, seed 1), one thread, on the 2-vCPU Zen 3 VM (AVX2, no AVX-512)
//! while other sessions compiled (load average 5-8, so absolute times are
//! inflated and p99s are preemption; ratios come from runs minutes apart).
//! p50 in ms; "image" is one call with 8 needles for ronda, 8 calls for FAISS.
//!
//! | N | data | faiss-flat single / image | faiss-mih-hma single / image | ronda-flat single / image | ronda-mih single / image |
//! | --- | --- | --- | --- | --- | --- |
//! | 1M | uniform | 2.93 / 35.2 | 2.13 / 26.7 | 1.76 / 11.2 | 0.135 / 1.01 |
//! | 1M | clustered | 2.96 / 34.2 | 8.44 / 54.5 | 1.38 / 11.1 | 0.120 / 0.95 |
//! | 10M | uniform | 91.9 / 809 | 82.3 / 623 | 27.0 / 107 | 0.396 / 3.71 |
//! | 10M | clustered | 49.8 / 380 | 222 / 1836 | 23.7 / 103 | 0.541 / 5.98 |
//!
//! In QPS, ronda-mih is 20-23x faiss-flat and 16-43x faiss-mih-hma at 1M,
//! 53-172x and 101-415x at 10M; with 2 threads, batch QPS at 1M scales
//! 2.6x (uniform) and 1.8x (clustered) over 1 thread. On a quieter moment
//! (load 4) the same build gave 0.072 / 0.52 ms at 1M uniform.
//!
//! Recall 1.0 and 0 false positives on every line. Memory: flat 40 bytes a
//! hash (ids included); multi-index 116 bytes at 1M and 108 at 10M (tables
//! ~68-76: 4-byte postings per table plus offsets packed to ~2 bytes a key),
//! against FAISS MIH's ~300. Build at 10M: 0.8 s flat, 5.4 s multi-index on
//! one core (FAISS MIH: 194 s); loading a 10M snapshot (400 MB) takes the
//! same (the tables are rebuilt) plus ~0.5 s of reading and checking. The flat scan alone cannot meet 0.1 ms for one
//! hash at 1M (it streams 16 MB), so the tables are the default above
//! [`AUTO_MIN_ENTRIES`]; [`Structure::Flat`] is there for memory-bound
//! deployments (the 48 bytes-a-hash budget holds only for it).
//!
//! Levers not yet pulled: transparent huge pages for the tables (random
//! reads are TLB misses at 10M; needs `madvise`), storing the tables in the
//! snapshot, and an AVX-512 multi-needle prefix kernel measured on a CPU that
//! has it (the kernel exists and is tested where the CPU allows).

mod kernel;
mod mih;
mod snapshot;

use std::ops::Range;

use ronda_hash::PdqHash;

pub use kernel::Level as KernelLevel;
pub use snapshot::SnapshotError;

/// The radius PDQ matching uses unless told otherwise (HMA's default).
pub const DEFAULT_RADIUS: u32 = 31;

/// A hash as four 64-bit words, word 0 = hex digits 1–16, big-endian, so
/// bit order follows the hex form (as [`PdqHash::words`]).
pub(crate) type Words = [u64; 4];

/// A stored entry within the radius of the needle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    /// The id the entry was added with.
    pub id: u64,
    /// Hamming distance to the needle, `<= radius`.
    pub distance: u32,
}

/// A stored entry within the radius of at least one of several needles
/// (an image's 8 dihedral hashes): the closest needle wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VariantMatch {
    /// The id the entry was added with.
    pub id: u64,
    /// The smallest distance over the needles, `<= radius`.
    pub distance: u32,
    /// Index of the needle at that distance (the lowest on a tie); for
    /// [`HammingIndex::query_dihedral`], the dihedral variant.
    pub variant: u8,
}

/// Which structure answers queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Structure {
    /// Multi-index tables once the index holds [`AUTO_MIN_ENTRIES`] hashes;
    /// each lookup then takes the tables or the flat scan, whichever the
    /// cost model says is cheaper for its radius and needle count.
    #[default]
    Auto,
    /// Flat scan only: 40 bytes a hash, nothing to rebuild.
    Flat,
    /// Multi-index tables always (tests, and measuring them); lookups fall
    /// back to the flat scan only when the radius is beyond the tables.
    MultiIndex,
}

/// Below this many hashes, [`Structure::Auto`] keeps no tables: a flat
/// scan of 16k prefixes costs about as much as one table lookup.
pub const AUTO_MIN_ENTRIES: usize = 1 << 14;

/// How the index is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    pub structure: Structure,
    /// Number of multi-index tables; `None` chooses from the entry count at
    /// each (re)build. Clamped to 4..=64, and raised where the parts would
    /// be so long that their offsets arrays dwarf the index (`2^bits` above
    /// `max(4n, 2^16)`).
    pub tables: Option<u8>,
}

/// One verified hit inside the index: slot, needle, distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Hit {
    pub slot: u32,
    pub needle: u8,
    pub distance: u16,
}

/// The stored hashes, split into two arrays of 128-bit halves so the flat
/// scan reads only the first (see `kernel`), the ids, and tombstones.
#[derive(Clone, Default)]
pub(crate) struct Store {
    pub pre: Vec<kernel::Half>,
    pub suf: Vec<kernel::Half>,
    pub ids: Vec<u64>,
    /// Bit `s` set: slot `s` was removed.
    dead: Vec<u64>,
    n_dead: usize,
}

impl Store {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    #[inline(always)]
    pub fn words(&self, s: usize) -> Words {
        let (p, q) = (self.pre[s], self.suf[s]);
        [p[0], p[1], q[0], q[1]]
    }

    #[inline(always)]
    pub fn is_dead(&self, s: usize) -> bool {
        self.dead[s / 64] >> (s % 64) & 1 == 1
    }

    fn push(&mut self, w: Words, id: u64) {
        let s = self.len();
        assert!(s < u32::MAX as usize, "a hamming index holds < 2^32 slots");
        self.pre.push([w[0], w[1]]);
        self.suf.push([w[2], w[3]]);
        self.ids.push(id);
        if s.is_multiple_of(64) {
            self.dead.push(0);
        }
    }

    fn kill(&mut self, s: usize) {
        self.dead[s / 64] |= 1 << (s % 64);
        self.n_dead += 1;
    }

    fn reserve(&mut self, n: usize) {
        self.pre.reserve(n);
        self.suf.reserve(n);
        self.ids.reserve(n);
        self.dead.reserve(n.div_ceil(64));
    }

    fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(|&s| !self.is_dead(s))
    }

    fn memory_bytes(&self) -> usize {
        16 * (self.pre.capacity() + self.suf.capacity())
            + 8 * (self.ids.capacity() + self.dead.capacity())
    }
}

fn to_words(h: &PdqHash) -> Words {
    h.words()
}

fn to_hash(w: &Words) -> PdqHash {
    let mut b = [0u8; 32];
    for (chunk, word) in b.chunks_exact_mut(8).zip(w) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    PdqHash(b)
}

/// Exact radius search over 256-bit hashes with caller ids.
///
/// Queries take `&self` and may run from many threads; `add`, `remove` and
/// `compact` take `&mut self`. Results are per stored entry: an id added
/// twice (two frames of one video, say) can match twice.
#[derive(Clone)]
pub struct HammingIndex {
    config: Config,
    store: Store,
    tables: Option<mih::Tables>,
    level: kernel::Level,
}

impl std::fmt::Debug for HammingIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HammingIndex")
            .field("config", &self.config)
            .field("len", &self.len())
            .field("removed", &self.store.n_dead)
            .field("tables", &self.tables())
            .field("unindexed", &self.unindexed())
            .field("kernel", &self.level)
            .finish()
    }
}

impl Default for HammingIndex {
    fn default() -> Self {
        HammingIndex::new()
    }
}

impl HammingIndex {
    /// An empty index with the default [`Config`].
    pub fn new() -> HammingIndex {
        HammingIndex::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> HammingIndex {
        HammingIndex {
            config,
            store: Store::default(),
            tables: None,
            level: kernel::Level::detect(),
        }
    }

    /// Bulk build: appends every entry, then builds the tables once.
    pub fn from_entries(
        config: Config,
        entries: impl IntoIterator<Item = (PdqHash, u64)>,
    ) -> HammingIndex {
        let mut index = HammingIndex::with_config(config);
        index.extend(entries);
        index
    }

    pub fn config(&self) -> Config {
        self.config
    }

    /// Live entries (added and not removed).
    pub fn len(&self) -> usize {
        self.store.len() - self.store.n_dead
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of multi-index tables in use (0: flat scan only).
    pub fn tables(&self) -> usize {
        self.tables.as_ref().map_or(0, |t| t.tables.len())
    }

    /// Entries added since the tables were last built; lookups scan them flat.
    pub fn unindexed(&self) -> usize {
        self.store.len() - self.tables.as_ref().map_or(0, |t| t.covered as usize)
    }

    /// The SIMD kernel the flat scan uses on this CPU.
    pub fn kernel_level(&self) -> KernelLevel {
        self.level
    }

    /// Forces a kernel level (benchmarks and tests). A level the CPU lacks
    /// runs the portable loop instead.
    pub fn set_kernel_level(&mut self, level: KernelLevel) {
        self.level = level;
    }

    /// Heap bytes held: hashes, ids, tombstones and tables.
    pub fn memory_bytes(&self) -> usize {
        self.store.memory_bytes() + self.tables.as_ref().map_or(0, mih::Tables::memory_bytes)
    }

    /// Every live entry, in insertion order (after compaction: oldest first).
    pub fn entries(&self) -> impl Iterator<Item = (PdqHash, u64)> + '_ {
        self.store
            .live()
            .map(|s| (to_hash(&self.store.words(s)), self.store.ids[s]))
    }

    /// Adds one entry; the next query sees it. The tables are not touched:
    /// the entry joins the flat-scanned tail, and once the tail outgrows
    /// `max_tail` it is merged into the tables (a sequential pass over
    /// each, about a second at 10M entries on two cores, so amortised a few
    /// microseconds per add), or the tables are rebuilt when the index has
    /// grown enough to want a different table count.
    pub fn add(&mut self, hash: PdqHash, id: u64) {
        self.store.push(to_words(&hash), id);
        if !self.wants_tables() {
            return;
        }
        let covered = self.tables.as_ref().map(|t| t.covered as usize);
        if covered.is_some_and(|c| self.store.len() - c <= max_tail(c)) {
            return;
        }
        let want = self.table_count();
        match &mut self.tables {
            Some(t) if t.tables.len() == want => t.absorb_tail(&self.store),
            _ => self.rebuild_tables(),
        }
    }

    /// Appends many entries, then rebuilds the tables once.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = (PdqHash, u64)>) {
        let entries = entries.into_iter();
        self.store.reserve(entries.size_hint().0);
        for (h, id) in entries {
            self.store.push(to_words(&h), id);
        }
        self.rebuild_tables();
    }

    /// Removes one entry with this hash and id; `false` when there is none.
    /// The next query no longer sees it. Slots are reclaimed by
    /// [`compact`](Self::compact), which runs by itself once a quarter of the
    /// slots are dead.
    pub fn remove(&mut self, hash: &PdqHash, id: u64) -> bool {
        let mut hits = Vec::new();
        self.search(&[to_words(hash)], 0, &mut hits);
        let Some(slot) = hits
            .iter()
            .map(|h| h.slot as usize)
            .find(|&s| self.store.ids[s] == id)
        else {
            return false;
        };
        self.store.kill(slot);
        if self.store.n_dead > 1024 && self.store.n_dead > self.store.len() / 4 {
            self.compact();
        }
        true
    }

    /// Drops removed entries and rebuilds the tables over everything.
    pub fn compact(&mut self) {
        if self.store.n_dead > 0 {
            let mut store = Store::default();
            store.reserve(self.len());
            for s in self.store.live() {
                store.push(self.store.words(s), self.store.ids[s]);
            }
            self.store = store;
        }
        self.rebuild_tables();
    }

    fn wants_tables(&self) -> bool {
        match self.config.structure {
            Structure::Flat => false,
            Structure::MultiIndex => self.store.len() > 0,
            Structure::Auto => self.len() >= AUTO_MIN_ENTRIES,
        }
    }

    /// The table count for the current size.
    fn table_count(&self) -> usize {
        let n = self.store.len();
        match self.config.tables {
            Some(m) => usize::from(m).clamp(4, 64),
            None => mih::choose_tables(n, DEFAULT_RADIUS),
        }
        .max(mih::min_tables(n))
    }

    fn rebuild_tables(&mut self) {
        self.tables = None;
        if self.wants_tables() {
            let parts = mih::split(self.table_count());
            self.tables = Some(mih::Tables::build(&self.store, &parts));
        }
    }

    /// All live entries within `radius` of `needle`, sorted by id, then
    /// distance.
    pub fn query(&self, needle: &PdqHash, radius: u32) -> Vec<Match> {
        let mut hits = Vec::new();
        self.search(&[to_words(needle)], radius, &mut hits);
        self.matches(hits)
    }

    /// One image: all live entries within `radius` of any of its 8 dihedral
    /// hashes, each once with its closest variant. One pass over the data
    /// (or one staged table lookup) serves all 8 needles.
    pub fn query_dihedral(&self, needles: &[PdqHash; 8], radius: u32) -> Vec<VariantMatch> {
        self.query_variants(needles, radius)
    }

    /// Like [`query_dihedral`](Self::query_dihedral) for any number of
    /// needles (at most 256); `variant` is the needle's index.
    pub fn query_variants(&self, needles: &[PdqHash], radius: u32) -> Vec<VariantMatch> {
        assert!(needles.len() <= 256, "at most 256 needles per call");
        let words: Vec<Words> = needles.iter().map(to_words).collect();
        let mut hits = Vec::new();
        self.search(&words, radius, &mut hits);
        self.best_per_entry(hits)
    }

    /// Many single-hash queries, spread over the rayon pool's threads;
    /// `out[i]` answers `needles[i]`.
    pub fn query_batch(&self, needles: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        use rayon::prelude::*;
        // Groups of 8 share one pass of the flat scan (and one staged lookup).
        needles
            .par_chunks(kernel::MAX_NEEDLES)
            .flat_map_iter(|group| {
                let words: Vec<Words> = group.iter().map(to_words).collect();
                let mut hits = Vec::new();
                self.search(&words, radius, &mut hits);
                let mut per: Vec<Vec<Hit>> = vec![Vec::new(); group.len()];
                for h in hits {
                    per[h.needle as usize].push(h);
                }
                per.into_iter().map(|h| self.matches(h))
            })
            .collect()
    }

    /// Many images, spread over the rayon pool's threads.
    pub fn query_dihedral_batch(
        &self,
        images: &[[PdqHash; 8]],
        radius: u32,
    ) -> Vec<Vec<VariantMatch>> {
        use rayon::prelude::*;
        images
            .par_iter()
            .map(|needles| self.query_dihedral(needles, radius))
            .collect()
    }

    fn matches(&self, mut hits: Vec<Hit>) -> Vec<Match> {
        let mut out: Vec<Match> = hits
            .drain(..)
            .map(|h| Match {
                id: self.store.ids[h.slot as usize],
                distance: u32::from(h.distance),
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn best_per_entry(&self, mut hits: Vec<Hit>) -> Vec<VariantMatch> {
        hits.sort_unstable_by_key(|h| (h.slot, h.distance, h.needle));
        hits.dedup_by_key(|h| h.slot);
        let mut out: Vec<VariantMatch> = hits
            .iter()
            .map(|h| VariantMatch {
                id: self.store.ids[h.slot as usize],
                distance: u32::from(h.distance),
                variant: h.needle,
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Every (live slot, needle) pair within `r`, each once, in no order.
    fn search(&self, needles: &[Words], r: u32, out: &mut Vec<Hit>) {
        let len = self.store.len();
        if needles.is_empty() || len == 0 {
            return;
        }
        let mut flat_from = 0;
        if let Some(tables) = &self.tables {
            let bits: Vec<u8> = tables.tables.iter().map(|t| t.part.bits).collect();
            let density: Vec<f64> = tables.tables.iter().map(|t| t.density).collect();
            if let Some(plan) = mih::plan(&bits, &density, r)
                && self.prefer_tables(&plan, tables.covered as usize, needles.len())
            {
                mih::search(tables, &self.store, needles, r, &plan, out);
                flat_from = tables.covered as usize;
            }
        }
        self.flat(flat_from..len, needles, r, out);
    }

    fn prefer_tables(&self, plan: &mih::Plan, covered: usize, needles: usize) -> bool {
        match self.config.structure {
            Structure::Flat => false,
            // A cap keeps a huge radius from enumerating billions of keys.
            Structure::MultiIndex => plan.cost_ns < 1e9,
            Structure::Auto => {
                let groups = needles.div_ceil(kernel::MAX_NEEDLES) as f64;
                let per_row = flat_row_ns(self.level, needles.min(kernel::MAX_NEEDLES));
                plan.cost_ns * (needles as f64) < groups * per_row * (covered as f64)
            }
        }
    }

    fn flat(&self, rows: Range<usize>, needles: &[Words], r: u32, out: &mut Vec<Hit>) {
        if rows.is_empty() {
            return;
        }
        let mut cand = Vec::new();
        for (g, group) in needles.chunks(kernel::MAX_NEEDLES).enumerate() {
            let halves: Vec<kernel::Half> = group.iter().map(|w| [w[0], w[1]]).collect();
            cand.clear();
            kernel::scan(
                self.level,
                &self.store.pre[rows.clone()],
                rows.start as u32,
                &halves,
                r,
                &mut cand,
            );
            for &(slot, mask) in &cand {
                let s = slot as usize;
                if self.store.is_dead(s) {
                    continue;
                }
                let w = self.store.words(s);
                for (k, q) in group.iter().enumerate() {
                    if mask >> k & 1 == 1 {
                        let d = distance(&w, q);
                        if d <= r {
                            out.push(Hit {
                                slot,
                                needle: (g * kernel::MAX_NEEDLES + k) as u8,
                                distance: d as u16,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Entries added beyond the tables before they are rebuilt: small enough
/// that scanning them stays cheaper than a table lookup at that size.
fn max_tail(covered: usize) -> usize {
    (covered / 32).clamp(1024, 1 << 16)
}

/// Estimated flat-scan nanoseconds per stored row, for `needles` (1..=8)
/// needles in registers. Measured (see the module docs).
fn flat_row_ns(level: kernel::Level, needles: usize) -> f64 {
    let padded = match needles {
        0..=2 => needles.max(1),
        3 | 4 => 4,
        _ => 8,
    } as f64;
    match level {
        kernel::Level::Avx512 => 0.1 + 0.05 * padded,
        kernel::Level::Avx2 => 0.2 + 0.45 * padded,
        kernel::Level::Popcnt => 0.2 + 0.5 * padded,
        kernel::Level::Portable => 0.2 + 2.0 * padded,
    }
}

#[inline(always)]
fn distance(a: &Words, b: &Words) -> u32 {
    (0..4).map(|i| (a[i] ^ b[i]).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(seed: u64) -> PdqHash {
        let mut s = seed;
        let mut w = [0u64; 4];
        for x in &mut w {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            *x = z ^ (z >> 31);
        }
        to_hash(&w)
    }

    #[test]
    fn words_round_trip_through_hash_bytes() {
        let h = hash(3);
        assert_eq!(to_hash(&to_words(&h)), h);
        assert_eq!(
            distance(&to_words(&h), &to_words(&hash(4))),
            h.distance(&hash(4))
        );
    }

    #[test]
    fn add_query_remove_on_each_structure() {
        for structure in [Structure::Flat, Structure::MultiIndex, Structure::Auto] {
            let config = Config {
                structure,
                tables: None,
            };
            let mut index = HammingIndex::with_config(config);
            let base = hash(1);
            let mut near = base;
            near.0[0] ^= 0b111; // distance 3
            index.add(base, 10);
            index.add(near, 11);
            index.add(hash(2), 12);
            let got = index.query(&base, 5);
            assert_eq!(
                got,
                vec![
                    Match {
                        id: 10,
                        distance: 0
                    },
                    Match {
                        id: 11,
                        distance: 3
                    }
                ]
            );
            assert!(index.remove(&near, 11));
            assert!(!index.remove(&near, 11), "removed twice");
            assert!(!index.remove(&base, 99), "wrong id");
            assert_eq!(index.query(&base, 5).len(), 1);
            assert_eq!(index.len(), 2);
        }
    }
}
