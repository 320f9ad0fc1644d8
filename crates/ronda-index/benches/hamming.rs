//! Criterion benchmarks of the Hamming index's kernels: the flat scan at
//! every SIMD level this CPU has (1 and 8 needles), the multi-index lookup,
//! and the table build. Whole-system figures against FAISS come from
//! `ronda bench match`; these are for comparing kernels with each other.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ronda_hash::PdqHash;
use ronda_index::hamming::{Config, HammingIndex, KernelLevel, Structure};

const N: usize = 200_000;

fn hashes(seed: u64, n: usize) -> Vec<PdqHash> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            for c in b.chunks_exact_mut(8) {
                s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                c.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
            }
            PdqHash(b)
        })
        .collect()
}

fn config(structure: Structure) -> Config {
    Config {
        structure,
        tables: None,
    }
}

fn flat_scan(c: &mut Criterion) {
    let db = hashes(1, N);
    let needles: [PdqHash; 8] = hashes(2, 8).try_into().expect("8 hashes");
    let mut index = HammingIndex::from_entries(config(Structure::Flat), db.into_iter().zip(0..));
    let mut g = c.benchmark_group("flat_scan");
    g.throughput(Throughput::Elements(N as u64));
    for level in KernelLevel::supported() {
        index.set_kernel_level(level);
        g.bench_function(BenchmarkId::new("1_needle", level.name()), |b| {
            b.iter(|| index.query(&needles[0], 31))
        });
        g.bench_function(BenchmarkId::new("8_needles", level.name()), |b| {
            b.iter(|| index.query_dihedral(&needles, 31))
        });
    }
    g.finish();
}

fn multi_index(c: &mut Criterion) {
    let db = hashes(1, N);
    let needles: [PdqHash; 8] = hashes(2, 8).try_into().expect("8 hashes");
    let mut g = c.benchmark_group("multi_index");
    g.bench_function("build_200k", |b| {
        b.iter(|| {
            HammingIndex::from_entries(config(Structure::MultiIndex), db.iter().copied().zip(0..))
        })
    });
    let index =
        HammingIndex::from_entries(config(Structure::MultiIndex), db.iter().copied().zip(0..));
    g.bench_function("1_needle_200k", |b| b.iter(|| index.query(&needles[0], 31)));
    g.bench_function("8_needles_200k", |b| {
        b.iter(|| index.query_dihedral(&needles, 31))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = flat_scan, multi_index
}
criterion_main!(benches);
