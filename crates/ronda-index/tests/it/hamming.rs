//! The Hamming index against a brute-force model: random and clustered
//! data, random sequences of add / remove / query / compact on every
//! structure, the dihedral call, batches, and snapshots (round trip,
//! truncation, flipped bits, a checked-in version-1 file).

use std::collections::BTreeMap;

use proptest::prelude::*;
use ronda_hash::PdqHash;
use ronda_index::hamming::{Config, HammingIndex, Match, SnapshotError, Structure, VariantMatch};

/// splitmix64: deterministic test data from a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hash(&mut self) -> PdqHash {
        let mut b = [0u8; 32];
        for c in b.chunks_exact_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        PdqHash(b)
    }

    /// A hash whose bit `i` is 1 with probability `p[i]`: skewed like real
    /// PDQ banks, which makes multi-index buckets uneven.
    fn skewed(&mut self, p: &[f64; 256]) -> PdqHash {
        let mut b = [0u8; 32];
        for (i, &pi) in p.iter().enumerate() {
            if (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= pi {
                b[i / 8] |= 1 << (i % 8);
            }
        }
        PdqHash(b)
    }

    /// `h` with exactly `d` distinct bits flipped.
    fn flip(&mut self, h: &PdqHash, d: u32) -> PdqHash {
        let mut out = *h;
        let mut bits: Vec<usize> = (0..256).collect();
        for k in 0..d as usize {
            let j = k + self.below((256 - k) as u64) as usize;
            bits.swap(k, j);
            out.0[bits[k] / 8] ^= 1 << (bits[k] % 8);
        }
        out
    }
}

/// Hashes for one test: uniform, or families of near-duplicates around
/// skewed bases (a variant is 0..=45 bits from its base).
fn pool(seed: u64, clustered: bool, n: usize) -> Vec<PdqHash> {
    let mut r = Rng(seed);
    if !clustered {
        return (0..n).map(|_| r.hash()).collect();
    }
    let mut p = [0.5; 256];
    for x in &mut p {
        *x = 0.3 + 0.4 * (r.below(1000) as f64 / 1000.0);
    }
    let bases: Vec<PdqHash> = (0..(n / 6).max(2)).map(|_| r.skewed(&p)).collect();
    (0..n)
        .map(|_| {
            let b = bases[r.below(bases.len() as u64) as usize];
            let d = r.below(46) as u32;
            r.flip(&b, d)
        })
        .collect()
}

/// The model: a plain list of live entries, scanned in full.
#[derive(Default)]
struct Model {
    entries: Vec<(PdqHash, u64)>,
}

impl Model {
    fn query(&self, q: &PdqHash, r: u32) -> Vec<Match> {
        let mut out: Vec<Match> = self
            .entries
            .iter()
            .filter_map(|(h, id)| {
                let d = h.distance(q);
                (d <= r).then_some(Match {
                    id: *id,
                    distance: d,
                })
            })
            .collect();
        out.sort();
        out
    }

    fn query_variants(&self, needles: &[PdqHash], r: u32) -> Vec<VariantMatch> {
        let mut out: Vec<VariantMatch> = self
            .entries
            .iter()
            .filter_map(|(h, id)| {
                needles
                    .iter()
                    .enumerate()
                    .map(|(v, q)| (h.distance(q), v))
                    .min()
                    .filter(|&(d, _)| d <= r)
                    .map(|(d, v)| VariantMatch {
                        id: *id,
                        distance: d,
                        variant: v as u8,
                    })
            })
            .collect();
        out.sort();
        out
    }

    fn remove(&mut self, h: &PdqHash, id: u64) -> bool {
        match self.entries.iter().position(|e| e.0 == *h && e.1 == id) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }
}

const RADII: [u32; 10] = [0, 1, 7, 16, 31, 32, 45, 63, 64, 100];

fn configs() -> Vec<Config> {
    let c = |structure, tables| Config { structure, tables };
    vec![
        c(Structure::Flat, None),
        c(Structure::MultiIndex, None),
        // Forced few tables: raised to the minimum for the size.
        c(Structure::MultiIndex, Some(4)),
        c(Structure::MultiIndex, Some(24)),
        c(Structure::Auto, None),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Add { hash: usize, id: u8 },
    RemoveLive { pick: usize },
    RemoveMissing { hash: usize, id: u8 },
    Query { hash: usize, radius: usize },
    Dihedral { first: usize, radius: usize },
    Batch { first: usize, radius: usize },
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<usize>(), any::<u8>()).prop_map(|(hash, id)| Op::Add { hash, id }),
        2 => any::<usize>().prop_map(|pick| Op::RemoveLive { pick }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(hash, id)| Op::RemoveMissing { hash, id }),
        4 => (any::<usize>(), 0..RADII.len()).prop_map(|(hash, radius)| Op::Query { hash, radius }),
        2 => (any::<usize>(), 0..RADII.len()).prop_map(|(first, radius)| Op::Dihedral { first, radius }),
        1 => (any::<usize>(), 0..RADII.len()).prop_map(|(first, radius)| Op::Batch { first, radius }),
        1 => Just(Op::Compact),
    ]
}

fn run_ops(config: Config, seed: u64, clustered: bool, initial: usize, ops: &[Op]) {
    let hashes = pool(seed, clustered, 400);
    let h = |i: usize| hashes[i % hashes.len()];
    let mut model = Model::default();
    let start: Vec<(PdqHash, u64)> = (0..initial).map(|i| (h(i), (i % 7) as u64)).collect();
    model.entries.extend(start.iter().copied());
    let mut index = HammingIndex::from_entries(config, start);
    for (step, op) in ops.iter().enumerate() {
        let ctx = || format!("{config:?} seed={seed} clustered={clustered} step={step} {op:?}");
        match *op {
            Op::Add { hash, id } => {
                index.add(h(hash), u64::from(id));
                model.entries.push((h(hash), u64::from(id)));
            }
            Op::RemoveLive { pick } => {
                if !model.entries.is_empty() {
                    let (hh, id) = model.entries[pick % model.entries.len()];
                    assert!(model.remove(&hh, id));
                    assert!(index.remove(&hh, id), "{}", ctx());
                }
            }
            Op::RemoveMissing { hash, id } => {
                let id = 1000 + u64::from(id);
                assert_eq!(
                    index.remove(&h(hash), id),
                    model.remove(&h(hash), id),
                    "{}",
                    ctx()
                );
            }
            Op::Query { hash, radius } => {
                let (q, r) = (h(hash), RADII[radius]);
                assert_eq!(index.query(&q, r), model.query(&q, r), "{}", ctx());
            }
            Op::Dihedral { first, radius } => {
                let needles: [PdqHash; 8] = std::array::from_fn(|k| h(first + 37 * k));
                let r = RADII[radius];
                assert_eq!(
                    index.query_dihedral(&needles, r),
                    model.query_variants(&needles, r),
                    "{}",
                    ctx()
                );
            }
            Op::Batch { first, radius } => {
                let needles: Vec<PdqHash> = (0..11).map(|k| h(first + 13 * k)).collect();
                let r = RADII[radius];
                let got = index.query_batch(&needles, r);
                let want: Vec<Vec<Match>> = needles.iter().map(|q| model.query(q, r)).collect();
                assert_eq!(got, want, "{}", ctx());
            }
            Op::Compact => index.compact(),
        }
        assert_eq!(index.len(), model.entries.len(), "{}", ctx());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any sequence of operations answers exactly as a brute-force scan,
    /// on every structure, on uniform and on clustered data.
    #[test]
    fn ops_match_brute_force(
        seed in any::<u64>(),
        clustered in any::<bool>(),
        initial in 0usize..300,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        for config in configs() {
            run_ops(config, seed, clustered, initial, &ops);
        }
    }

    /// Query results never depend on the structure, for any radius.
    #[test]
    fn structures_agree_for_any_radius(seed in any::<u64>(), clustered in any::<bool>(), r in 0u32..=256) {
        let hashes = pool(seed, clustered, 300);
        let entries: Vec<(PdqHash, u64)> = hashes.iter().copied().zip(0..).collect();
        let want = {
            let model = Model { entries: entries.clone() };
            (model.query(&hashes[0], r), model.query_variants(&hashes[..8], r))
        };
        for config in configs() {
            let index = HammingIndex::from_entries(config, entries.clone());
            prop_assert_eq!(&index.query(&hashes[0], r), &want.0, "{:?}", config);
            prop_assert_eq!(&index.query_variants(&hashes[..8], r), &want.1, "{:?}", config);
        }
    }
}

/// Realistic sizes for the tables: 30k entries (enough for `Auto` to build
/// tables), planted neighbours at every distance up to 31 and a decoy at 32,
/// the default radius, single, dihedral and batch calls.
#[test]
fn planted_neighbours_at_30k() {
    for clustered in [false, true] {
        let mut r = Rng(99);
        let mut entries: Vec<(PdqHash, u64)> =
            pool(5, clustered, 30_000).into_iter().zip(0..).collect();
        let queries: Vec<PdqHash> = (0..40).map(|_| r.hash()).collect();
        for (i, q) in queries.iter().enumerate() {
            for d in [1, 2, 15, 16, 30, 31, 32] {
                let at = r.below(entries.len() as u64) as usize;
                entries[at].0 = r.flip(q, d + (i as u32 % 2));
            }
        }
        let model = Model {
            entries: entries.clone(),
        };
        for config in configs() {
            let index = HammingIndex::from_entries(config, entries.clone());
            if config.structure != Structure::Flat {
                assert!(index.tables() > 0, "{config:?} built no tables");
            }
            for q in &queries {
                assert_eq!(index.query(q, 31), model.query(q, 31), "{config:?}");
            }
            for img in queries.chunks_exact(8) {
                let img: &[PdqHash; 8] = img.try_into().expect("chunks of 8");
                assert_eq!(index.query_dihedral(img, 31), model.query_variants(img, 31));
            }
            let want: Vec<Vec<Match>> = queries.iter().map(|q| model.query(q, 31)).collect();
            assert_eq!(index.query_batch(&queries, 31), want);
        }
    }
}

/// Adds beyond the tables land in the flat tail and trigger rebuilds;
/// removes inside the tables are tombstones until compaction.
#[test]
fn incremental_changes_on_a_tabled_index() {
    let hashes = pool(11, true, 24_000);
    let config = Config {
        structure: Structure::Auto,
        tables: None,
    };
    let mut index = HammingIndex::from_entries(config, hashes[..20_000].iter().copied().zip(0..));
    let mut model = Model {
        entries: hashes[..20_000].iter().copied().zip(0..).collect(),
    };
    assert!(index.tables() > 0);
    for (i, h) in hashes[20_000..].iter().enumerate() {
        index.add(*h, 20_000 + i as u64);
        model.entries.push((*h, 20_000 + i as u64));
    }
    for i in (0..20_000).step_by(7) {
        assert!(index.remove(&hashes[i], i as u64));
        assert!(model.remove(&hashes[i], i as u64));
    }
    assert_eq!(index.len(), model.entries.len());
    for q in hashes.iter().step_by(997) {
        assert_eq!(index.query(q, 31), model.query(q, 31));
    }
    index.compact();
    assert_eq!(index.unindexed(), 0);
    for q in hashes.iter().step_by(997) {
        assert_eq!(index.query(q, 31), model.query(q, 31));
    }
}

fn small_index() -> HammingIndex {
    let hashes = pool(3, true, 40);
    let mut index = HammingIndex::from_entries(
        Config {
            structure: Structure::MultiIndex,
            tables: Some(16),
        },
        hashes.iter().copied().zip(100..),
    );
    assert!(index.remove(&hashes[5], 105));
    index.add(hashes[5], 7);
    index
}

fn snapshot_bytes(index: &HammingIndex) -> Vec<u8> {
    let mut buf = Vec::new();
    index.write_snapshot(&mut buf).expect("write to a Vec");
    buf
}

fn sorted_entries(index: &HammingIndex) -> Vec<(PdqHash, u64)> {
    let mut e: Vec<_> = index.entries().collect();
    e.sort();
    e
}

#[test]
fn snapshot_round_trip_through_a_file() {
    let index = small_index();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pdq.snap");
    index.save(&path).expect("save");
    let back = HammingIndex::load(&path).expect("load");
    assert_eq!(back.config(), index.config());
    assert_eq!(sorted_entries(&back), sorted_entries(&index));
    let probe = pool(3, true, 40);
    for q in &probe {
        assert_eq!(back.query(q, 31), index.query(q, 31));
    }
    // From a plain reader too.
    let back = HammingIndex::read_snapshot(&snapshot_bytes(&index)[..]).expect("read");
    assert_eq!(sorted_entries(&back), sorted_entries(&index));
    // Empty index.
    let empty = HammingIndex::new();
    let back = HammingIndex::read_snapshot(&snapshot_bytes(&empty)[..]).expect("empty");
    assert!(back.is_empty());
}

/// Every truncation, from a file and from a stream, is an error.
#[test]
fn truncated_snapshot_is_an_error() {
    let bytes = snapshot_bytes(&small_index());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cut.snap");
    for cut in 0..bytes.len() {
        let err = HammingIndex::read_snapshot(&bytes[..cut]).expect_err("truncated stream");
        assert!(
            matches!(
                err,
                SnapshotError::Truncated { .. } | SnapshotError::BadMagic
            ),
            "cut at {cut}: {err}"
        );
        if cut % 97 == 0 || cut + 8 >= bytes.len() {
            std::fs::write(&path, &bytes[..cut]).expect("write");
            let err = HammingIndex::load(&path).expect_err("truncated file");
            assert!(err.to_string().contains("cut.snap"), "{err}");
        }
    }
}

/// Flipping any single bit anywhere is an error, never a different index.
#[test]
fn flipped_bit_anywhere_is_an_error() {
    let bytes = snapshot_bytes(&small_index());
    for i in 0..bytes.len() {
        for bit in [0, 3, 7] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(
                HammingIndex::read_snapshot(&b[..]).is_err(),
                "flip of bit {bit} in byte {i} was accepted"
            );
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        HammingIndex::read_snapshot(&longer[..]),
        Err(SnapshotError::TrailingBytes { .. })
    ));
    let mut v2 = bytes.clone();
    v2[8] = 2;
    assert!(matches!(
        HammingIndex::read_snapshot(&v2[..]),
        Err(SnapshotError::UnsupportedVersion { found: 2 })
    ));
    // A huge count in the header must fail on the size, not try to allocate.
    let mut huge = bytes;
    huge[16..24].copy_from_slice(&(u64::from(u32::MAX) - 1).to_le_bytes());
    assert!(HammingIndex::read_snapshot(&huge[..]).is_err());
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/fixtures/hamming-v1.snap"
);

/// The index in `fixtures/hamming-v1.snap`: 40 clustered hashes, one removed
/// and re-added under another id.
fn fixture_index() -> HammingIndex {
    small_index()
}

/// A file written by format version 1 still opens, with the same entries,
/// and today's writer produces the same bytes (regenerate the file only for
/// a deliberate format change: `RONDA_BLESS=1 cargo test -p ronda-index`).
#[test]
fn version_1_fixture_still_opens() {
    let want = snapshot_bytes(&fixture_index());
    if std::env::var_os("RONDA_BLESS").is_some() {
        std::fs::write(FIXTURE, &want).expect("write fixture");
    }
    let index = HammingIndex::load(FIXTURE).expect("fixture loads");
    assert_eq!(sorted_entries(&index), sorted_entries(&fixture_index()));
    assert_eq!(
        index.config(),
        Config {
            structure: Structure::MultiIndex,
            tables: Some(16)
        }
    );
    let got = std::fs::read(FIXTURE).expect("read fixture");
    assert_eq!(
        got, want,
        "the writer's output changed: bump the format version"
    );
    let ids: BTreeMap<u64, usize> = index.entries().fold(BTreeMap::new(), |mut m, (_, id)| {
        *m.entry(id).or_default() += 1;
        m
    });
    assert_eq!(ids.get(&7), Some(&1));
    assert_eq!(ids.get(&105), None);
}
