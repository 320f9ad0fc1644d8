//! The flat-scan kernel: Hamming distance of many stored 128-bit prefixes to
//! up to 8 needles at once, with the needles held in registers.
//!
//! This is the only module of the crate with `unsafe`: SIMD intrinsics that
//! need a CPU feature checked at run time, and raw-pointer loads. Every
//! implementation computes the same thing as [`scan_portable`], and the tests
//! at the bottom check each one the CPU supports against it on random input.
//!
//! Why prefixes: the index stores words 0–1 and words 2–3 of each hash in two
//! arrays, and the scan reads only the first. A stored hash within radius
//! `r <= 31` of a needle has its 128-bit prefix within `r` too, while a random
//! prefix is within 31 with probability about 3e-9, so the second half is
//! read only for real matches and the scan moves 16 bytes per hash, not 32.
#![allow(unsafe_code)]

use std::sync::OnceLock;

/// Words 0 and 1 (or 2 and 3) of a hash, as stored.
pub(crate) type Half = [u64; 2];

/// The most needles one kernel call tests; the dihedral call needs 8.
pub(crate) const MAX_NEEDLES: usize = 8;

/// Which implementation [`scan`] runs; chosen once per process from the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// No CPU feature assumed: `count_ones` compiles to bit tricks.
    Portable,
    /// The scalar loop compiled with the POPCNT instruction.
    Popcnt,
    /// 256-bit vectors, popcount by nibble table lookup (`vpshufb`).
    Avx2,
    /// 512-bit vectors with `vpopcntq` (AVX-512 VPOPCNTDQ: Ice Lake, Zen 4 and later).
    Avx512,
}

impl Level {
    /// The best level this CPU supports.
    pub fn detect() -> Level {
        static LEVEL: OnceLock<Level> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            Level::supported()
                .into_iter()
                .last()
                .unwrap_or(Level::Portable)
        })
    }

    /// Every level this CPU can run, slowest first; the tests compare them all.
    pub fn supported() -> Vec<Level> {
        #[allow(unused_mut)]
        let mut levels = vec![Level::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("popcnt") {
                levels.push(Level::Popcnt);
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(Level::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            {
                levels.push(Level::Avx512);
            }
        }
        levels
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Popcnt => "popcnt",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512-vpopcntdq",
        }
    }
}

/// Appends `(first + i, mask)` to `out` for each row `i` of `rows` whose
/// distance to some needle is at most `limit`; bit `k` of `mask` is set when
/// needle `k` is within `limit`. At most [`MAX_NEEDLES`] needles.
///
/// `level` must be one of [`Level::supported`]; an unsupported one falls back
/// to the portable loop rather than fault.
pub(crate) fn scan(
    level: Level,
    rows: &[Half],
    first: u32,
    needles: &[Half],
    limit: u32,
    out: &mut Vec<(u32, u8)>,
) {
    assert!(
        !needles.is_empty() && needles.len() <= MAX_NEEDLES,
        "1..=8 needles per scan"
    );
    // Pad the needles to a count we compile a kernel for, with copies of
    // needle 0, and clear the padding's bits again afterwards.
    let keep = if needles.len() == 8 {
        0xff
    } else {
        (1u8 << needles.len()) - 1
    };
    let start = out.len();
    match needles.len() {
        1 => scan_n::<1>(level, rows, first, &pad(needles), limit, out),
        2 => scan_n::<2>(level, rows, first, &pad(needles), limit, out),
        3 | 4 => scan_n::<4>(level, rows, first, &pad(needles), limit, out),
        _ => scan_n::<8>(level, rows, first, &pad(needles), limit, out),
    }
    if keep != 0xff && needles.len() > 2 {
        out[start..].iter_mut().for_each(|(_, m)| *m &= keep);
    }
}

fn pad<const N: usize>(needles: &[Half]) -> [Half; N] {
    std::array::from_fn(|k| needles.get(k).copied().unwrap_or(needles[0]))
}

fn scan_n<const N: usize>(
    level: Level,
    rows: &[Half],
    first: u32,
    needles: &[Half; N],
    limit: u32,
    out: &mut Vec<(u32, u8)>,
) {
    let supported = || Level::supported().contains(&level);
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 if supported() => {
            // SAFETY: the CPU has AVX-512F and VPOPCNTDQ (checked just above).
            unsafe { x86::scan_avx512(rows, first, needles, limit, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 if supported() => {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { x86::scan_avx2(rows, first, needles, limit, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Popcnt if supported() => {
            // SAFETY: the CPU has POPCNT (checked just above).
            unsafe { x86::scan_popcnt(rows, first, needles, limit, out) }
        }
        _ => scan_portable(rows, first, needles, limit, out),
    }
}

/// The reference: one row, one needle at a time.
#[inline(always)]
fn scan_portable<const N: usize>(
    rows: &[Half],
    first: u32,
    needles: &[Half; N],
    limit: u32,
    out: &mut Vec<(u32, u8)>,
) {
    for (i, row) in rows.iter().enumerate() {
        let mut mask = 0u8;
        for (k, q) in needles.iter().enumerate() {
            let d = (row[0] ^ q[0]).count_ones() + (row[1] ^ q[1]).count_ones();
            mask |= u8::from(d <= limit) << k;
        }
        if mask != 0 {
            out.push((first + i as u32, mask));
        }
    }
}

/// Issues a prefetch of the cache line holding `*p` and does nothing else:
/// the staged multi-index lookups use it to keep many misses in flight.
#[inline(always)]
pub(crate) fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: prefetching never faults or reads memory architecturally;
        // the pointer comes from a live reference anyway. SSE is part of the
        // x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(p).cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Half, scan_portable};
    use std::arch::x86_64::*;

    /// The portable loop, compiled so that `count_ones` is one instruction.
    #[target_feature(enable = "popcnt")]
    pub(super) fn scan_popcnt<const N: usize>(
        rows: &[Half],
        first: u32,
        needles: &[Half; N],
        limit: u32,
        out: &mut Vec<(u32, u8)>,
    ) {
        scan_portable(rows, first, needles, limit, out)
    }

    /// Two rows per 256-bit vector. Per needle: XOR, popcount of every byte
    /// by two nibble lookups, add the two words' byte counts, then `vpsadbw`
    /// sums each row's bytes into one lane.
    #[target_feature(enable = "avx2,popcnt")]
    pub(super) fn scan_avx2<const N: usize>(
        rows: &[Half],
        first: u32,
        needles: &[Half; N],
        limit: u32,
        out: &mut Vec<(u32, u8)>,
    ) {
        let nibble_pop = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
            3, 3, 4,
        );
        let low = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        let lim = _mm256_set1_epi64x(i64::from(limit));
        let q: [__m256i; N] = std::array::from_fn(|k| {
            let [a, b] = needles[k];
            _mm256_setr_epi64x(a as i64, b as i64, a as i64, b as i64)
        });
        let pairs = rows.len() / 2;
        let base = rows.as_ptr();
        for p in 0..pairs {
            // SAFETY: rows 2p and 2p+1 exist (p < rows.len() / 2) and are
            // contiguous 16-byte arrays; the load is unaligned.
            let x = unsafe { _mm256_loadu_si256(base.add(2 * p).cast::<__m256i>()) };
            // Bit 2k of `fail` (row 0) and 2k+1 (row 1): needle k is too far.
            let mut fail = 0u32;
            for (k, qk) in q.iter().enumerate() {
                let v = _mm256_xor_si256(x, *qk);
                let lo = _mm256_and_si256(v, low);
                let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low);
                let c = _mm256_add_epi8(
                    _mm256_shuffle_epi8(nibble_pop, lo),
                    _mm256_shuffle_epi8(nibble_pop, hi),
                );
                // Add word 1's byte counts onto word 0's (each <= 16).
                let c = _mm256_add_epi8(c, _mm256_shuffle_epi32::<0x4e>(c));
                let s = _mm256_sad_epu8(c, zero);
                let gt = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(s, lim)));
                fail |= ((gt as u32 & 1) | ((gt as u32 >> 1) & 2)) << (2 * k);
            }
            let all = (1u32 << (2 * N)) - 1;
            if fail != all {
                let pass = !fail & all;
                for r in 0..2 {
                    let mut mask = 0u8;
                    for k in 0..N {
                        mask |= (((pass >> (2 * k + r)) & 1) as u8) << k;
                    }
                    if mask != 0 {
                        out.push((first + (2 * p + r) as u32, mask));
                    }
                }
            }
        }
        let done = 2 * pairs;
        scan_portable(&rows[done..], first + done as u32, needles, limit, out);
    }

    /// Four rows per 512-bit vector, two vectors per step. Per needle: XOR,
    /// `vpopcntq`, add each row's two word counts, compare.
    #[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
    pub(super) fn scan_avx512<const N: usize>(
        rows: &[Half],
        first: u32,
        needles: &[Half; N],
        limit: u32,
        out: &mut Vec<(u32, u8)>,
    ) {
        let lim = _mm512_set1_epi64(i64::from(limit));
        let q: [__m512i; N] = std::array::from_fn(|k| {
            let [a, b] = needles[k];
            let (a, b) = (a as i64, b as i64);
            _mm512_setr_epi64(a, b, a, b, a, b, a, b)
        });
        let steps = rows.len() / 8;
        let base = rows.as_ptr();
        for s in 0..steps {
            // SAFETY: rows 8s..8s+8 exist (s < rows.len() / 8); unaligned loads.
            let (x0, x1) = unsafe {
                (
                    _mm512_loadu_si512(base.add(8 * s).cast::<__m512i>()),
                    _mm512_loadu_si512(base.add(8 * s + 4).cast::<__m512i>()),
                )
            };
            // Per needle, bit 2i of the 16-bit mask: row i of the 8 passes.
            let mut pass = [0u16; N];
            let mut any = 0u16;
            for (k, qk) in q.iter().enumerate() {
                let c0 = _mm512_popcnt_epi64(_mm512_xor_si512(x0, *qk));
                let c1 = _mm512_popcnt_epi64(_mm512_xor_si512(x1, *qk));
                let s0 = _mm512_add_epi64(c0, _mm512_shuffle_epi32::<0x4e>(c0));
                let s1 = _mm512_add_epi64(c1, _mm512_shuffle_epi32::<0x4e>(c1));
                let m = u16::from(_mm512_cmple_epu64_mask(s0, lim))
                    | (u16::from(_mm512_cmple_epu64_mask(s1, lim)) << 8);
                pass[k] = m;
                any |= m;
            }
            if any & 0x5555 != 0 {
                for r in 0..8 {
                    let mut mask = 0u8;
                    for (k, pk) in pass.iter().enumerate() {
                        mask |= (((pk >> (2 * r)) & 1) as u8) << k;
                    }
                    if mask != 0 {
                        out.push((first + (8 * s + r) as u32, mask));
                    }
                }
            }
        }
        let done = 8 * steps;
        scan_portable(&rows[done..], first + done as u32, needles, limit, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: &mut u64) -> u64 {
        // splitmix64: a few lines, no dependency, good enough for test data.
        *seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Every supported level gives exactly the portable result, for every
    /// needle count and for limits around the interesting range, with rows
    /// planted near the needles so that both outcomes occur.
    #[test]
    fn every_level_agrees_with_portable() {
        let mut seed = 7;
        let needles: Vec<Half> = (0..8).map(|_| [rng(&mut seed), rng(&mut seed)]).collect();
        let mut rows: Vec<Half> = Vec::new();
        for i in 0..1003 {
            let mut r = [rng(&mut seed), rng(&mut seed)];
            if i % 3 == 0 {
                // Near needle i % 8: flip a random number of bits (0..64).
                let q = needles[i % 8];
                let flips = rng(&mut seed) % 64;
                r = q;
                for _ in 0..flips {
                    let b = rng(&mut seed) % 128;
                    r[(b / 64) as usize] ^= 1 << (b % 64);
                }
            }
            rows.push(r);
        }
        let levels = Level::supported();
        eprintln!("kernel levels on this CPU: {levels:?}");
        for n in 1..=8 {
            for limit in [0, 5, 17, 31, 40, 63, 64, 127, 128, 200] {
                for len in [0, 1, 7, 8, 9, 1003] {
                    let mut want = Vec::new();
                    let padded: [Half; 8] = pad(&needles[..n]);
                    scan_portable(&rows[..len], 10, &padded, limit, &mut want);
                    let keep = if n == 8 { 0xff } else { (1u8 << n) - 1 };
                    want.iter_mut().for_each(|(_, m)| *m &= keep);
                    want.retain(|(_, m)| *m != 0);
                    for &level in &levels {
                        let mut got = Vec::new();
                        scan(level, &rows[..len], 10, &needles[..n], limit, &mut got);
                        assert_eq!(got, want, "{level:?} n={n} limit={limit} len={len}");
                    }
                }
            }
        }
    }
}
