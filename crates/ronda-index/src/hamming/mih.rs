//! Multi-index hashing (Norouzi, Punjani and Fleet, "Fast exact search in
//! Hamming space with multi-index hashing", 2014): the sub-linear candidate
//! filter in front of exact verification.
//!
//! The 256 bits are cut into `m` disjoint substrings ("parts") of `b_j` bits,
//! and table `j` lists every stored slot under its part-`j` key (a CSR array:
//! the bucket of `key` is a range of `postings`, see [`Offsets`]).
//! Pigeonhole, in the general form: if each table `j` is probed with every key within `t_j` of the
//! needle's key, and `sum(t_j + 1) >= r + 1`, then every stored hash within
//! `r` is found, because if it were missed then each part would differ in at
//! least `t_j + 1` bits, `r + 1` in all. A table may also be skipped
//! (`t_j = -1`), so any radius gets a plan; [`plan`] hands out the `t_j`
//! greedily by marginal cost and the caller compares the total with a flat
//! scan.
//!
//! A hit found through table `j` is reported only if no earlier probed table
//! `l < j` has its part within `t_l`: that table found (or will find) the same
//! hit, so results need no hash set to remove duplicates.
//!
//! Lookups run in stages (enumerate keys, read bucket bounds, read postings,
//! verify) over chunks of 1024 probes, each a loop of independent loads with
//! software prefetch ahead, so that many cache misses are in flight at once:
//! at 10M entries the tables and hashes are far larger than the cache and a
//! lookup is a few thousand random reads.

use super::kernel::prefetch;
use super::{Hit, Store, Words};

/// How far ahead (in loop iterations) the staged loops prefetch.
const PREFETCH_AHEAD: usize = 16;

/// Probes per pass through stages 2-4: their bucket lines (64 B each) fit
/// in L2 with room to spare.
const PROBE_CHUNK: usize = 1024;

/// A substring of the 256 bits: `bits` bits starting at bit `start`, where
/// bit 0 is the most significant bit of word 0 (the first hex digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Part {
    pub start: u16,
    pub bits: u8,
}

impl Part {
    #[inline(always)]
    pub fn key(self, w: &Words) -> u32 {
        let start = u32::from(self.start);
        let bits = u32::from(self.bits);
        let k = (start / 64) as usize;
        let off = start % 64;
        let hi = u128::from(w[k]);
        let lo = u128::from(if k + 1 < 4 { w[k + 1] } else { 0 });
        let x = (hi << 64) | lo;
        // off < 64 and bits <= 32, so the shift is in 64..=128 and the part
        // never runs past the second word.
        ((x >> (128 - off - bits)) as u64 & ((1u64 << bits) - 1)) as u32
    }
}

/// Cuts 256 bits into `m` parts as equal as possible (the longer ones
/// first); `m` is raised to keep parts within [`MAX_PART_BITS`].
pub(crate) fn split(m: usize) -> Vec<Part> {
    let m = m.clamp(256usize.div_ceil(usize::from(MAX_PART_BITS)), 256);
    let (q, rem) = (256 / m, 256 % m);
    let mut start = 0u16;
    (0..m)
        .map(|j| {
            let bits = (q + usize::from(j < rem)) as u8;
            let p = Part { start, bits };
            start += u16::from(bits);
            p
        })
        .collect()
}

/// The most bits one part may have: its table has `2^bits + 1` offsets.
pub(crate) const MAX_PART_BITS: u8 = 30;

/// One part's table.
#[derive(Clone)]
pub(crate) struct Table {
    pub part: Part,
    /// Where each key's bucket lies in `postings`.
    pub offsets: Offsets,
    /// Slots, grouped by key, ascending within a bucket.
    pub postings: Vec<u32>,
    /// Expected candidates from probing one key drawn like the stored keys:
    /// `sum(count^2) / n`. Equals `n / 2^bits` for uniform data and grows
    /// with skew, which the planner must see (clustered banks).
    pub density: f64,
}

impl Table {
    fn absorb(&mut self, store: &Store, from: u32, to: u32) {
        let part = self.part;
        let mut add: Vec<(u32, u32)> = (from..to)
            .map(|s| (part.key(&store.words(s as usize)), s))
            .collect();
        add.sort_unstable();
        let nk = 1usize << part.bits;
        let mut postings = Vec::with_capacity(self.postings.len() + add.len());
        let mut plain = Vec::with_capacity(nk + 1);
        let mut sum_sq = 0f64;
        let mut next = add.iter().peekable();
        for k in 0..nk {
            plain.push(postings.len() as u32);
            let (a, b) = self.offsets.bounds(k as u32);
            postings.extend_from_slice(&self.postings[a as usize..b as usize]);
            while let Some(&&(_, slot)) = next.peek().filter(|(key, _)| *key as usize == k) {
                postings.push(slot);
                next.next();
            }
            let c = (postings.len() - plain[k] as usize) as f64;
            sum_sq += c * c;
        }
        plain.push(postings.len() as u32);
        self.density = sum_sq / postings.len().max(1) as f64;
        self.postings = postings;
        self.offsets = Offsets::pack(&plain);
    }
}

/// Keys per block of the packed offsets.
const BLOCK_SHIFT: u32 = 6;

/// The CSR bucket bounds of one table: `bounds(key)` is the range of
/// `key`'s bucket in the postings. With about one stored hash per key (the
/// tuned part length), plain `u32` offsets would cost as much memory as the
/// postings, so they are packed: a `u32` base per block of 64 keys and a
/// `u16` offset within the block, 2.06 bytes a key. A table where some 64
/// consecutive keys hold 65,536 hashes or more (a bank full of one image)
/// keeps plain offsets.
#[derive(Clone)]
pub(crate) enum Offsets {
    Plain(Vec<u32>),
    Packed { base: Vec<u32>, rel: Vec<u16> },
}

impl Offsets {
    fn pack(plain: &[u32]) -> Offsets {
        let base: Vec<u32> = plain.iter().step_by(1 << BLOCK_SHIFT).copied().collect();
        // Not `collect::<Option<Vec<_>>>()`: that cannot presize the vector
        // and would leave up to twice the capacity.
        let mut rel = Vec::with_capacity(plain.len());
        for (k, &o) in plain.iter().enumerate() {
            match u16::try_from(o - base[k >> BLOCK_SHIFT]) {
                Ok(r) => rel.push(r),
                Err(_) => return Offsets::Plain(plain.to_vec()),
            }
        }
        Offsets::Packed { base, rel }
    }

    #[inline(always)]
    fn at(&self, k: usize) -> u32 {
        match self {
            Offsets::Plain(o) => o[k],
            Offsets::Packed { base, rel } => base[k >> BLOCK_SHIFT] + u32::from(rel[k]),
        }
    }

    /// The bucket of `key`: `postings[start..end]`.
    #[inline(always)]
    pub fn bounds(&self, key: u32) -> (u32, u32) {
        let k = key as usize;
        (self.at(k), self.at(k + 1))
    }

    /// Starts loading the cache line that [`bounds`](Self::bounds) reads.
    #[inline(always)]
    pub fn prefetch(&self, key: u32) {
        match self {
            Offsets::Plain(o) => prefetch(&o[key as usize]),
            Offsets::Packed { rel, .. } => prefetch(&rel[key as usize]),
        }
    }

    fn memory_bytes(&self) -> usize {
        match self {
            Offsets::Plain(o) => 4 * o.capacity(),
            Offsets::Packed { base, rel } => 4 * base.capacity() + 2 * rel.capacity(),
        }
    }
}

/// All tables, covering slots `0..covered`; later slots are the flat tail.
#[derive(Clone)]
pub(crate) struct Tables {
    pub tables: Vec<Table>,
    pub covered: u32,
}

impl Tables {
    /// Builds one table per part over slots `0..store.len()`, in parallel.
    pub fn build(store: &Store, parts: &[Part]) -> Tables {
        use rayon::prelude::*;
        let tables = parts
            .par_iter()
            .map_init(Scratch::default, |scratch, &part| {
                build_table(store, part, scratch)
            })
            .collect();
        Tables {
            tables,
            covered: store.len() as u32,
        }
    }

    /// Brings slots `covered..store.len()` (the tail) into every table: one
    /// sequential merge per table, O(n + 2^bits), instead of the random
    /// writes of a fresh build. The new slots are larger than every old one,
    /// so each bucket stays in ascending slot order.
    pub fn absorb_tail(&mut self, store: &Store) {
        use rayon::prelude::*;
        let (from, to) = (self.covered, store.len() as u32);
        if from < to {
            self.tables
                .par_iter_mut()
                .for_each(|t| t.absorb(store, from, to));
            self.covered = to;
        }
    }

    pub fn memory_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.offsets.memory_bytes() + 4 * t.postings.capacity())
            .sum()
    }
}

/// Reusable buffers of one table build: a 10M-entry build needs 240 MB of
/// them, and fresh pages for each of 11 tables cost more than the sort.
#[derive(Default)]
struct Scratch {
    pairs: Vec<u64>,
    tmp: Vec<u64>,
    plain: Vec<u32>,
}

/// Builds one table: (key, slot) pairs sorted by key with an LSD radix sort
/// (stable, so slots stay ascending within a bucket), then the offsets from
/// the sorted keys. Every pass is sequential or writes to at most 256
/// streams, which stay in L1 and the TLB; a counting sort straight into
/// 2^23-entry arrays, or radix digits of 12 bits, thrash both.
fn build_table(store: &Store, part: Part, scratch: &mut Scratch) -> Table {
    let n = store.len();
    let pairs = &mut scratch.pairs;
    pairs.clear();
    pairs.extend((0..n).map(|s| u64::from(part.key(&store.words(s))) << 32 | s as u64));
    radix_sort_by_key(pairs, &mut scratch.tmp, u32::from(part.bits));
    let nk = 1usize << part.bits;
    let offsets = &mut scratch.plain;
    offsets.clear();
    offsets.resize(nk + 1, 0);
    for &p in pairs.iter() {
        offsets[(p >> 32) as usize + 1] += 1;
    }
    let mut sum_sq = 0f64;
    for i in 0..nk {
        let c = offsets[i + 1];
        sum_sq += f64::from(c) * f64::from(c);
        offsets[i + 1] += offsets[i];
    }
    let postings: Vec<u32> = pairs.iter().map(|&p| p as u32).collect();
    Table {
        part,
        offsets: Offsets::pack(offsets),
        postings,
        density: if n == 0 { 0.0 } else { sum_sq / n as f64 },
    }
}

/// Sorts `(key << 32 | slot)` values by their `bits`-bit key, stably, in
/// passes of at most 8 bits.
fn radix_sort_by_key(v: &mut Vec<u64>, tmp: &mut Vec<u64>, bits: u32) {
    let passes = bits.div_ceil(8).max(1);
    let digit = bits.div_ceil(passes);
    let mask = (1u64 << digit) - 1;
    tmp.clear();
    tmp.resize(v.len(), 0);
    for pass in 0..passes {
        let shift = 32 + pass * digit;
        let mut start = [0usize; 256];
        for &x in v.iter() {
            start[((x >> shift) & mask) as usize] += 1;
        }
        let mut sum = 0;
        for c in &mut start {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in v.iter() {
            let d = ((x >> shift) & mask) as usize;
            tmp[start[d]] = x;
            start[d] += 1;
        }
        std::mem::swap(v, tmp);
    }
}

/// Cost model constants, in nanoseconds on the reference machine; only
/// their ratios matter. Measured with `ronda bench match` (see hamming.rs).
pub(crate) mod cost {
    /// One probed key: bucket bounds (usually a cache miss) and loop work.
    pub const PROBE_NS: f64 = 6.0;
    /// One candidate: its 16-byte prefix (a cache miss) and the distance.
    pub const CAND_NS: f64 = 5.0;
    /// Fixed cost of a lookup (staging buffers, needle keys).
    pub const FIXED_NS: f64 = 2000.0;
}

/// Probe radii per table for one lookup; `radius[j] < 0` skips table `j`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub radius: Vec<i32>,
    /// Estimated nanoseconds per needle, by [`cost`].
    pub cost_ns: f64,
}

/// `C(n, k)` as a float (exact for the sizes used here).
fn choose(n: u32, k: u32) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// Hands out `r + 1` units of `t_j + 1` over the tables, each time to the
/// table where one more unit costs least. `density[j]` is the expected bucket
/// size of table `j`. `None` when the tables cannot cover radius `r` at all.
pub(crate) fn plan(bits: &[u8], density: &[f64], r: u32) -> Option<Plan> {
    let mut s = vec![0u32; bits.len()];
    let mut cost = cost::FIXED_NS;
    let marginal = |j: usize, s: u32| {
        // Going from radius s - 1 to s adds the C(b, s) keys at distance s.
        let b = u32::from(bits[j]);
        if s > b {
            f64::INFINITY
        } else {
            choose(b, s) * (cost::PROBE_NS + cost::CAND_NS * density[j])
        }
    };
    for _ in 0..=r {
        let (j, c) = (0..bits.len())
            .map(|j| (j, marginal(j, s[j])))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if !c.is_finite() {
            return None;
        }
        s[j] += 1;
        cost += c;
    }
    Some(Plan {
        radius: s.iter().map(|&s| s as i32 - 1).collect(),
        cost_ns: cost,
    })
}

/// Expected bucket size of a `bits`-bit key over `n` uniform hashes.
pub(crate) fn uniform_density(n: usize, bits: u8) -> f64 {
    n as f64 / (1u64 << bits) as f64
}

/// The fewest tables allowed for `n` hashes: parts short enough that each
/// offsets array has at most `max(4n, 2^16)` entries (and at most
/// [`MAX_PART_BITS`] bits), so a forced small table count cannot allocate
/// gigabytes for a small index.
pub(crate) fn min_tables(n: usize) -> usize {
    let cap = (4 * n).max(1 << 16);
    let bits = (usize::BITS - 1 - cap.leading_zeros()).min(u32::from(MAX_PART_BITS));
    256usize.div_ceil(bits as usize)
}

/// Chooses the number of tables for `n` hashes: the split whose plan at
/// `radius` is cheapest, among those whose offsets arrays stay within the
/// postings' size (`2^b <= 2n`), so the tables cost about `8m` bytes a hash.
pub(crate) fn choose_tables(n: usize, radius: u32) -> usize {
    let mut best = (f64::INFINITY, 16);
    for m in 8..=32 {
        let parts = split(m);
        let max_bits = parts.iter().map(|p| p.bits).max().unwrap_or(0);
        if max_bits > MAX_PART_BITS || (1usize << max_bits) > 2 * n.max(1 << 12) {
            continue;
        }
        let bits: Vec<u8> = parts.iter().map(|p| p.bits).collect();
        let density: Vec<f64> = bits.iter().map(|&b| uniform_density(n, b)).collect();
        if let Some(p) = plan(&bits, &density, radius)
            && p.cost_ns < best.0
        {
            best = (p.cost_ns, m);
        }
    }
    best.1
}

/// One needle's probe: table, key, needle index.
#[derive(Clone, Copy)]
struct Probe {
    key: u32,
    table: u8,
    needle: u8,
}

/// A non-empty bucket to read: `postings[start..end]` of `table`.
#[derive(Clone, Copy)]
struct Bucket {
    start: u32,
    end: u32,
    table: u8,
    needle: u8,
}

/// One candidate: slot, and how it was found.
#[derive(Clone, Copy)]
struct Cand {
    slot: u32,
    table: u8,
    needle: u8,
}

/// Appends every live slot `< tables.covered` within `r` of some needle to
/// `out`, once per (slot, needle), following `plan`.
pub(crate) fn search(
    tables: &Tables,
    store: &Store,
    needles: &[Words],
    r: u32,
    plan: &Plan,
    out: &mut Vec<Hit>,
) {
    let used: Vec<usize> = (0..tables.tables.len())
        .filter(|&j| plan.radius[j] >= 0)
        .collect();
    // Needle keys per table, for the probes and for the duplicate rule.
    let qkeys: Vec<Vec<u32>> = needles
        .iter()
        .map(|w| tables.tables.iter().map(|t| t.part.key(w)).collect())
        .collect();

    // Stage 1: every key to probe, all needles. Stages 2-4 then run on
    // chunks of it so that what one stage prefetched is still in L2 when
    // the next reads it (one image at 10M has ~20k probes).
    let mut probes = Vec::new();
    for (n, keys) in qkeys.iter().enumerate() {
        for &j in &used {
            let bits = u32::from(tables.tables[j].part.bits);
            for_each_within(keys[j], bits, plan.radius[j] as u32, |key| {
                probes.push(Probe {
                    key,
                    table: j as u8,
                    needle: n as u8,
                })
            });
        }
    }
    let mut buckets = Vec::new();
    let mut cands = Vec::new();
    for chunk in probes.chunks(PROBE_CHUNK) {
        // Stage 2: bucket bounds, prefetched a few probes ahead; each
        // bucket's postings are prefetched for stage 3.
        buckets.clear();
        for (i, p) in chunk.iter().enumerate() {
            if let Some(ahead) = chunk.get(i + PREFETCH_AHEAD) {
                tables.tables[ahead.table as usize]
                    .offsets
                    .prefetch(ahead.key);
            }
            let t = &tables.tables[p.table as usize];
            let (a, b) = t.offsets.bounds(p.key);
            if a < b {
                prefetch(&t.postings[a as usize]);
                buckets.push(Bucket {
                    start: a,
                    end: b,
                    table: p.table,
                    needle: p.needle,
                });
            }
        }

        // Stage 3: postings -> candidate slots.
        cands.clear();
        for bk in &buckets {
            let t = &tables.tables[bk.table as usize];
            for &slot in &t.postings[bk.start as usize..bk.end as usize] {
                cands.push(Cand {
                    slot,
                    table: bk.table,
                    needle: bk.needle,
                });
            }
        }

        // Stage 4: verify. Most candidates fail on the prefix alone, so the
        // second half is read only for the few that pass.
        for (i, c) in cands.iter().enumerate() {
            if let Some(ahead) = cands.get(i + PREFETCH_AHEAD) {
                prefetch(&store.pre[ahead.slot as usize]);
            }
            let q = &needles[c.needle as usize];
            let s = c.slot as usize;
            let pre = store.pre[s];
            let d0 = (pre[0] ^ q[0]).count_ones() + (pre[1] ^ q[1]).count_ones();
            if d0 > r {
                continue;
            }
            let suf = store.suf[s];
            let d = d0 + (suf[0] ^ q[2]).count_ones() + (suf[1] ^ q[3]).count_ones();
            if d > r || store.is_dead(s) {
                continue;
            }
            let w = [pre[0], pre[1], suf[0], suf[1]];
            let keys = &qkeys[c.needle as usize];
            let found_earlier = used
                .iter()
                .take_while(|&&l| l < c.table as usize)
                .any(|&l| {
                    (tables.tables[l].part.key(&w) ^ keys[l]).count_ones() as i32 <= plan.radius[l]
                });
            if !found_earlier {
                out.push(Hit {
                    slot: c.slot,
                    needle: c.needle,
                    distance: d as u16,
                });
            }
        }
    }
}

/// Calls `f` with every `bits`-bit key within distance `t` of `key`.
fn for_each_within(key: u32, bits: u32, t: u32, mut f: impl FnMut(u32)) {
    f(key);
    for d in 1..=t.min(bits) {
        // Gosper's hack: every `bits`-bit mask with `d` ones, in order.
        let mut mask: u64 = (1u64 << d) - 1;
        let end = 1u64 << bits;
        while mask < end {
            f(key ^ mask as u32);
            let c = mask & mask.wrapping_neg();
            let r = mask + c;
            mask = (((r ^ mask) >> 2) / c) | r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_256_bits_without_overlap() {
        for m in 9..=64 {
            let parts = split(m);
            assert_eq!(parts.len(), m);
            assert!(parts.iter().all(|p| p.bits <= MAX_PART_BITS));
            let mut next = 0u16;
            for p in &parts {
                assert_eq!(p.start, next);
                next += u16::from(p.bits);
            }
            assert_eq!(next, 256);
        }
    }

    #[test]
    fn part_key_reads_the_right_bits() {
        // All ones in bits 60..68 (straddling words 0 and 1) and 250..256.
        let w: Words = [0xf, 0xf000_0000_0000_0000, 0, 0x3f];
        assert_eq!(Part { start: 60, bits: 8 }.key(&w), 0xff);
        assert_eq!(
            Part {
                start: 56,
                bits: 16
            }
            .key(&w),
            0x0ff0
        );
        assert_eq!(
            Part {
                start: 250,
                bits: 6
            }
            .key(&w),
            0x3f
        );
        assert_eq!(
            Part {
                start: 240,
                bits: 16
            }
            .key(&w),
            0x3f
        );
        assert_eq!(Part { start: 0, bits: 32 }.key(&w), 0);
    }

    #[test]
    fn ball_enumeration_counts_and_distances() {
        for (bits, t) in [(8, 0), (8, 2), (16, 1), (21, 2), (5, 9)] {
            let mut seen = std::collections::HashSet::new();
            for_each_within(0b1011, bits, t, |k| {
                assert!((k ^ 0b1011).count_ones() <= t);
                assert!(k < 1 << bits);
                assert!(seen.insert(k), "key {k} twice");
            });
            let want: f64 = (0..=t).map(|d| choose(bits, d)).sum();
            assert_eq!(seen.len() as f64, want, "bits={bits} t={t}");
        }
    }

    #[test]
    fn plan_satisfies_the_pigeonhole_bound() {
        let bits: Vec<u8> = split(12).iter().map(|p| p.bits).collect();
        let density = vec![1.0; 12];
        for r in [0, 1, 11, 12, 31, 63, 100] {
            let p = plan(&bits, &density, r).expect("plan");
            let units: i32 = p.radius.iter().map(|t| t + 1).sum();
            assert_eq!(units, r as i32 + 1, "r={r}");
        }
        // 4 parts of 1 bit cannot cover radius 8: 4 * 2 units at most.
        assert_eq!(plan(&[1, 1, 1, 1], &[1.0; 4], 8), None);
    }

    #[test]
    fn packed_offsets_agree_with_plain() {
        let plain: Vec<u32> = (0..=1000u32).map(|k| k * 3 + k / 7).collect();
        let packed = Offsets::pack(&plain);
        assert!(matches!(packed, Offsets::Packed { .. }));
        for k in 0..1000 {
            assert_eq!(packed.bounds(k), (plain[k as usize], plain[k as usize + 1]));
        }
        // 70,000 hashes under one key: too many for a u16 within the block.
        let hot: Vec<u32> = (0..=200u32)
            .map(|k| if k > 10 { 70_000 + k } else { k })
            .collect();
        let kept = Offsets::pack(&hot);
        assert!(matches!(kept, Offsets::Plain(_)));
        assert_eq!(kept.bounds(10), (10, 70_011));
    }

    #[test]
    fn absorbing_the_tail_equals_a_fresh_build() {
        let mut seed = 5u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed
        };
        let mut store = Store::default();
        for i in 0..3000u64 {
            // Few distinct keys in part 0 so that buckets hold many slots.
            let w0 = if i % 3 == 0 { 0x1234 << 48 } else { next() };
            store.push([w0, next(), next(), next()], i);
        }
        let parts = split(20);
        let mut grown = Tables::build(&store, &parts);
        for i in 3000..4500u64 {
            store.push([next(), next(), 0x5555 << 32, next()], i);
        }
        grown.absorb_tail(&store);
        let fresh = Tables::build(&store, &parts);
        assert_eq!(grown.covered, fresh.covered);
        for (g, f) in grown.tables.iter().zip(&fresh.tables) {
            assert_eq!(g.postings, f.postings);
            assert_eq!(g.density, f.density);
            for key in 0..1u32 << g.part.bits {
                assert_eq!(g.offsets.bounds(key), f.offsets.bounds(key));
            }
        }
    }

    #[test]
    fn radix_sort_is_a_stable_sort_by_key() {
        for bits in [1, 5, 12, 13, 23, 30] {
            let mut x = 12345u64;
            let mut v: Vec<u64> = (0..5000u64)
                .map(|slot| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((x >> 20) & ((1 << bits) - 1)) << 32 | slot
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|p| p >> 32);
            radix_sort_by_key(&mut v, &mut Vec::new(), bits);
            assert_eq!(v, want, "bits={bits}");
        }
    }

    #[test]
    fn table_count_grows_with_n() {
        let small = choose_tables(10_000, 31);
        let big = choose_tables(10_000_000, 31);
        assert!(small >= big, "{small} tables at 10k, {big} at 10M");
    }
}
