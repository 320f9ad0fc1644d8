//! Picks, at run time, the best instruction set for the blur kernels, and
//! holds the two kernels written with intrinsics: the block transpose and
//! the RGB-to-luma conversion.
//!
//! The kernels in [`super::blur`] are plain safe Rust. The default x86-64
//! target only promises SSE2, so this module compiles the same code a second
//! time with AVX2 enabled and calls that copy when the CPU has AVX2. The
//! arithmetic is identical, lane for lane: only the vector width changes, and
//! no FMA is enabled (Rust never fuses a multiply and an add on its own
//! anyway), so both copies give the same bits.
//!
//! Transposes only move floats, so they cannot change a bit either; the
//! compiler turns the portable loops into one load and one store per float,
//! which made them most of the running time, hence the AVX shuffles here.
//! The luma kernel computes the same exact integer `299 R + 587 G + 114 B`
//! and the same correctly rounded `f32` division as the portable one, with
//! byte shuffles instead of the compiler's longer deinterleaving. The tests
//! here and in `pdq.rs` check each kernel, and both whole paths, against the
//! portable code on random input.
#![allow(unsafe_code)]

use super::blur::{self, Portable, Rows, Scratch};

/// The 64×64 blurred and decimated image, with the fastest kernels this CPU
/// runs.
pub(super) fn downsample<R: Rows>(src: &R, scratch: &mut Scratch) -> [[f32; 64]; 64] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            let token = x86::Avx2 { _detected: () };
            // SAFETY: `downsample_avx2` only requires AVX2, and the CPU was
            // just found to support it.
            return unsafe { x86::downsample_avx2(src, scratch, token) };
        }
    }
    blur::downsample(src, scratch, Portable)
}

/// The portable copy, whatever the CPU, for tests that compare the two.
#[cfg(test)]
pub(super) fn downsample_portable<R: Rows>(src: &R, scratch: &mut Scratch) -> [[f32; 64]; 64] {
    blur::downsample(src, scratch, Portable)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256, _mm_loadu_si128, _mm256_add_epi32, _mm256_cvtepi32_ps, _mm256_div_ps,
        _mm256_loadu_ps, _mm256_madd_epi16, _mm256_permute2f128_ps, _mm256_set_m128i,
        _mm256_set1_epi32, _mm256_set1_ps, _mm256_setr_epi8, _mm256_setzero_ps,
        _mm256_shuffle_epi8, _mm256_shuffle_ps, _mm256_storeu_ps, _mm256_unpackhi_ps,
        _mm256_unpacklo_ps,
    };

    use super::super::blur::{self, Kernels, LANES, Lane, Rows, Scratch, luma_of};

    /// Proof that the CPU has AVX2: only [`super::downsample`] makes one,
    /// after checking.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx2 {
        pub(super) _detected: (),
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn downsample_avx2<R: Rows>(
        src: &R,
        scratch: &mut Scratch,
        token: Avx2,
    ) -> [[f32; 64]; 64] {
        blur::downsample(src, scratch, token)
    }

    impl Kernels for Avx2 {
        #[inline(always)]
        fn luma_rgb8(self, rgb: &[u8], out: &mut [f32]) {
            // SAFETY: an `Avx2` exists only where AVX2 was detected.
            unsafe { luma_rgb8(rgb, out) }
        }

        #[inline(always)]
        fn rows_to_lanes(self, rows: &[f32], stride: usize, tiles: &mut [Lane]) {
            // SAFETY: an `Avx2` exists only where AVX2 was detected.
            unsafe { rows_to_lanes(rows, stride, tiles) }
        }

        #[inline(always)]
        fn lanes_to_rows(self, tiles: &[Lane], stride: usize, rows: &mut [f32]) {
            // SAFETY: an `Avx2` exists only where AVX2 was detected.
            unsafe { lanes_to_rows(tiles, stride, rows) }
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn store(dst: &mut [f32], v: __m256) {
        let dst: &mut [f32; 8] = dst.try_into().expect("a slice of 8 floats");
        // SAFETY: `dst` is 8 writable floats, and unaligned stores are allowed.
        unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), v) }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load16(src: &[u8]) -> __m128i {
        let src: &[u8; 16] = src.try_into().expect("a slice of 16 bytes");
        // SAFETY: `src` is 16 readable bytes, and unaligned loads are allowed.
        unsafe { _mm_loadu_si128(src.as_ptr().cast()) }
    }

    /// Luma of interleaved RGB, 8 pixels at a time: each 128-bit half of a
    /// register takes 4 pixels (12 bytes), a byte shuffle spreads them into
    /// 16-bit `(R, G)` and `(B, 0)` pairs, and `madd` multiplies and adds the
    /// pairs exactly in 32 bits.
    #[target_feature(enable = "avx2")]
    fn luma_rgb8(rgb: &[u8], out: &mut [f32]) {
        let n = out.len().min(rgb.len() / 3);
        // -1 clears the byte: the high halves of the 16-bit values.
        let rg = _mm256_setr_epi8(
            0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1, //
            0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1,
        );
        let b = _mm256_setr_epi8(
            2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1, //
            2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1,
        );
        // 16-bit pairs (299, 587) and (114, 0), low half first.
        let rg_coef = _mm256_set1_epi32(299 | (587 << 16));
        let b_coef = _mm256_set1_epi32(114);
        let thousand = _mm256_set1_ps(1000.0);
        let mut i = 0;
        // The second load reads 4 bytes past the 8 pixels, hence the margin.
        while i + 8 <= n && 3 * i + 28 <= rgb.len() {
            let lo = load16(&rgb[3 * i..3 * i + 16]);
            let hi = load16(&rgb[3 * i + 12..3 * i + 28]);
            let v = _mm256_set_m128i(hi, lo);
            let k = _mm256_add_epi32(
                _mm256_madd_epi16(_mm256_shuffle_epi8(v, rg), rg_coef),
                _mm256_madd_epi16(_mm256_shuffle_epi8(v, b), b_coef),
            );
            store(
                &mut out[i..i + 8],
                _mm256_div_ps(_mm256_cvtepi32_ps(k), thousand),
            );
            i += 8;
        }
        for (o, p) in out[i..n].iter_mut().zip(rgb[3 * i..].chunks_exact(3)) {
            *o = luma_of(p[0], p[1], p[2]);
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn load(src: &[f32]) -> __m256 {
        let src: &[f32; 8] = src.try_into().expect("a slice of 8 floats");
        // SAFETY: `src` is 8 readable floats, and unaligned loads are allowed.
        unsafe { _mm256_loadu_ps(src.as_ptr()) }
    }

    /// Rows `r[0..8]` of an 8×8 block in, its columns out.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose8(r: &[__m256; 8]) -> [__m256; 8] {
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit
        // halves exchanged.
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xee>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xee>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xee>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xee>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }

    #[target_feature(enable = "avx2")]
    fn rows_to_lanes(rows: &[f32], stride: usize, tiles: &mut [Lane]) {
        let width = tiles.len();
        let full = width / 8 * 8;
        for c0 in (0..full).step_by(8) {
            for k0 in (0..LANES).step_by(8) {
                let mut r = [_mm256_setzero_ps(); 8];
                for (k, v) in r.iter_mut().enumerate() {
                    let start = (k0 + k) * stride + c0;
                    *v = load(&rows[start..start + 8]);
                }
                for (j, v) in transpose8(&r).into_iter().enumerate() {
                    store(&mut tiles[c0 + j][k0..k0 + 8], v);
                }
            }
        }
        for (c, tile) in tiles[full..width].iter_mut().enumerate() {
            for (k, v) in tile.iter_mut().enumerate() {
                *v = rows[k * stride + full + c];
            }
        }
    }

    #[target_feature(enable = "avx2")]
    fn lanes_to_rows(tiles: &[Lane], stride: usize, rows: &mut [f32]) {
        let width = tiles.len();
        let full = width / 8 * 8;
        for c0 in (0..full).step_by(8) {
            for k0 in (0..LANES).step_by(8) {
                let mut r = [_mm256_setzero_ps(); 8];
                for (j, v) in r.iter_mut().enumerate() {
                    *v = load(&tiles[c0 + j][k0..k0 + 8]);
                }
                for (k, v) in transpose8(&r).into_iter().enumerate() {
                    let start = (k0 + k) * stride + c0;
                    store(&mut rows[start..start + 8], v);
                }
            }
        }
        for (c, tile) in tiles[full..width].iter().enumerate() {
            for (k, v) in tile.iter().enumerate() {
                rows[k * stride + full + c] = *v;
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::blur::{Kernels, LANES, Lane, Portable};

    /// Each AVX2 kernel against the portable loops: the transposes at widths
    /// with and without a remainder past the 8-column tiles, the luma at
    /// lengths around the 8-pixel steps and the 4-byte read-ahead.
    #[test]
    fn avx2_kernels_equal_portable() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("skipped: this CPU has no AVX2");
            return;
        }
        let avx2 = super::x86::Avx2 { _detected: () };
        for width in [1usize, 7, 8, 9, 16, 31, 64, 100] {
            let stride = width + 5;
            let rows: Vec<f32> = (0..LANES * stride).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut a = vec![[0.0f32; LANES]; width];
            let mut b = vec![[0.0f32; LANES]; width];
            Portable.rows_to_lanes(&rows, stride, &mut a);
            avx2.rows_to_lanes(&rows, stride, &mut b);
            assert_eq!(a, b, "rows_to_lanes, width {width}");

            let tiles: Vec<Lane> = (0..width)
                .map(|c| std::array::from_fn(|k| (c * LANES + k) as f32 + 0.25))
                .collect();
            let mut x = vec![-1.0f32; LANES * stride];
            let mut y = vec![-1.0f32; LANES * stride];
            Portable.lanes_to_rows(&tiles, stride, &mut x);
            avx2.lanes_to_rows(&tiles, stride, &mut y);
            assert_eq!(x, y, "lanes_to_rows, width {width}");
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let rgb: Vec<u8> = (0..3 * 200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for pixels in [0usize, 1, 7, 8, 9, 10, 17, 63, 200] {
            for skip in [0usize, 1] {
                let src = &rgb[3 * skip..3 * (skip + pixels).min(200)];
                let n = src.len() / 3;
                let mut a = vec![0.0f32; n];
                let mut b = vec![0.0f32; n];
                Portable.luma_rgb8(src, &mut a);
                avx2.luma_rgb8(src, &mut b);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "luma, {pixels} pixels from {skip}");
            }
        }
    }
}
