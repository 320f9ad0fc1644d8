//! PDQ, Meta's perceptual image hash: 256 bits, a quality score and the 8
//! dihedral variants, bit-exact with the reference C++ on the same pixels.
//!
//! # The algorithm
//!
//! 1. **Luma.** `0.299 R + 0.587 G + 0.114 B` per pixel, as an `f32`.
//! 2. **Blur.** Two rounds of a box filter along the rows, then along the
//!    columns (Jarosz: two boxes make a tent). The window along an axis of
//!    `n` pixels is `ceil(n / 128)`, shrinking at the edges.
//! 3. **Decimate** to 64×64 by sampling at the centres of a 64×64 grid:
//!    index `floor((i + 0.5) n / 64)`.
//! 4. **Quality** from the gradients of the 64×64 image: the sum over
//!    neighbouring pairs of `trunc(|u − v| · 100 / 255)`, divided by 90,
//!    capped at 100.
//! 5. **DCT.** Coefficients 1 to 16 of a 64-point DCT-II along each axis,
//!    `D A Dᵀ` with a 16×64 matrix `D`.
//! 6. **Bits.** Coefficient `(i, j)` gives bit `16 i + j`, set when it exceeds
//!    the median of all 256 (Torben's median).
//! 7. **Dihedral variants** come from the 16×16 block, not from new pixels:
//!    a transpose and sign flips of odd frequencies turn the block of an image
//!    into the block of the image rotated or mirrored.
//!
//! Sides under 5 pixels give the all-zero hash with quality 0, as in the
//! reference, which checks the size only when hashing: [`PdqFloat`] is
//! computed for any size from 1×1. The reference's non-dihedral entry point
//! also takes a 64×64 image as already downsampled and skips the blur, while
//! its dihedral entry point blurs it; [`Hasher`] copies both, so for 64×64
//! images [`PdqDihedral::original`] can differ from [`Pdq::hash`] in rare
//! bits.
//!
//! # Why the result is bit-exact
//!
//! The target is PyPI `pdqhash` (Meta's C++ behind python-threatexchange and
//! HMA). Every step above is `f32` arithmetic whose order this module keeps:
//!
//! - Luma: `pdqhash` computes `R*0.299 + G*0.587 + B*0.114` in `f64` and
//!   rounds to `f32`. For 8-bit inputs that is always the `f32` nearest to
//!   `k / 1000` with `k = 299 R + 587 G + 114 B` (a test checks all 2²⁴
//!   colours), and `k as f32 / 1000.0` is exactly that value, because `k` is
//!   exact in `f32` and IEEE division rounds correctly. So one integer
//!   multiply-add and one `f32` division replace three `f64` products.
//! - Blur: each line keeps the reference's running sum, adding the entering
//!   sample before subtracting the leaving one, and divides by the count as
//!   an `f32`. Lines run side by side in SIMD lanes (see `blur`), never
//!   reassociated; divisions nobody samples are skipped.
//! - DCT: every output sums its 64 products from `k = 0` upwards in `f32`,
//!   as the reference does; the matrix is computed as the reference computes
//!   it (`f64` cosine, `f32` scale, product rounded to `f32`). A test pins
//!   its 1,024 values, in case some platform's `cos` rounds differently.
//! - Rust never contracts `a * b + c` into a fused multiply-add, and no
//!   kernel enables FMA, so every product and sum is rounded where the
//!   reference rounds it.
//!
//! [`reference`] is a plain transcription of the reference's steps, kept to
//! check the fast path against on random images of every shape.
//!
//! # Speed
//!
//! The blur is almost all of the work, and `blur` explains how it runs: row
//! blocks transposed so that SIMD lanes carry whole rows, everything
//! streamed through the cache once, and nothing computed that the 64×64
//! sampling does not read. On x86-64 with AVX2 (picked at run time, see
//! `simd`) a 1600×1004 image hashes in 1.7 to 2.5 ms (best and typical) on
//! one core of a shared 2.45 GHz EPYC, where `pdqhash` takes 32 to 58 ms
//! (`cargo bench -p ronda-hash --bench pdq`).
//!
//! # Use
//!
//! ```
//! let rgb = vec![128u8; 32 * 32 * 3];
//! let pdq = ronda_hash::pdq::hash_rgb8(&rgb, 32, 32).expect("buffer matches size");
//! assert_eq!(pdq.quality, 0); // a flat image has no gradients
//! ```

mod blur;
pub mod reference;
mod simd;

use std::sync::LazyLock;

use crate::signal::PdqHash;
use blur::{Kernels, Rows};

/// The reference's smallest hashable side; smaller images hash to zero.
const MIN_HASHABLE_DIM: usize = 5;

/// Why an image could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdqError {
    #[error("image has no pixels ({width}x{height})")]
    Empty { width: usize, height: usize },
    #[error("pixel buffer holds {len} values, but {width}x{height} with {channels} channel(s) needs {}", expected.map_or_else(|| "more than fit in memory".to_owned(), |e| e.to_string()))]
    BufferLength {
        width: usize,
        height: usize,
        channels: usize,
        len: usize,
        /// `None` when `width * height * channels` overflows.
        expected: Option<usize>,
    },
}

/// A PDQ hash and its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pdq {
    pub hash: PdqHash,
    /// 0 to 100; below 50 the hash is not to be trusted for matching.
    pub quality: u8,
}

/// The 8 dihedral variants of a PDQ hash: what the hash of the image would
/// be after each rotation or mirroring, computed without new pixels. Names
/// and meanings follow the reference (and python-threatexchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PdqDihedral {
    /// The image as given.
    pub original: PdqHash,
    /// Rotated 90° counter-clockwise.
    pub rotate90: PdqHash,
    /// Rotated 180°.
    pub rotate180: PdqHash,
    /// Rotated 270° counter-clockwise (90° clockwise).
    pub rotate270: PdqHash,
    /// Top and bottom exchanged.
    pub flipx: PdqHash,
    /// Left and right exchanged (the mirror image).
    pub flipy: PdqHash,
    /// Transposed about the main diagonal: top-left and bottom-right stay.
    pub flipplus1: PdqHash,
    /// Transposed about the other diagonal: top-right and bottom-left stay.
    pub flipminus1: PdqHash,
    /// Shared by all 8, since it comes from the untransformed image.
    pub quality: u8,
}

/// The 256 DCT coefficients behind a PDQ hash, before they are compared
/// with their median: the reference's `pdqFloat256FromFloatLuma` output,
/// the per-frame feature that TMK+PDQF averages. Coefficient `(i, j)` is
/// frequency `i + 1` down the image and `j + 1` across it.
///
/// Unlike the hash, it is computed for images of any size, since the
/// reference applies its minimum size only when hashing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdqFloat {
    pub coefficients: [[f32; 16]; 16],
    pub quality: u8,
}

/// One of the 8 symmetries of the square, in the reference's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dihedral {
    Original,
    Rotate90,
    Rotate180,
    Rotate270,
    FlipX,
    FlipY,
    FlipPlus1,
    FlipMinus1,
}

impl Dihedral {
    /// All 8, in the reference's order.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// python-threatexchange's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Dihedral::Original => "original",
            Dihedral::Rotate90 => "rotate90",
            Dihedral::Rotate180 => "rotate180",
            Dihedral::Rotate270 => "rotate270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus1 => "flipplus1",
            Dihedral::FlipMinus1 => "flipminus1",
        }
    }
}

impl PdqDihedral {
    /// The hash of one variant.
    pub fn get(&self, which: Dihedral) -> PdqHash {
        match which {
            Dihedral::Original => self.original,
            Dihedral::Rotate90 => self.rotate90,
            Dihedral::Rotate180 => self.rotate180,
            Dihedral::Rotate270 => self.rotate270,
            Dihedral::FlipX => self.flipx,
            Dihedral::FlipY => self.flipy,
            Dihedral::FlipPlus1 => self.flipplus1,
            Dihedral::FlipMinus1 => self.flipminus1,
        }
    }

    /// All 8 hashes in [`Dihedral::ALL`] order.
    pub fn hashes(&self) -> [PdqHash; 8] {
        Dihedral::ALL.map(|d| self.get(d))
    }
}

/// PDQ of interleaved 8-bit RGB, `width * height * 3` bytes, row-major.
pub fn hash_rgb8(rgb: &[u8], width: usize, height: usize) -> Result<Pdq, PdqError> {
    Hasher::new().hash_rgb8(rgb, width, height)
}

/// The 8 dihedral PDQ hashes of interleaved 8-bit RGB.
pub fn hash_rgb8_dihedral(
    rgb: &[u8],
    width: usize,
    height: usize,
) -> Result<PdqDihedral, PdqError> {
    Hasher::new().hash_rgb8_dihedral(rgb, width, height)
}

/// PDQ of 8-bit greyscale, `width * height` bytes. The same as the RGB hash
/// of the image with `R = G = B`.
pub fn hash_gray8(gray: &[u8], width: usize, height: usize) -> Result<Pdq, PdqError> {
    Hasher::new().hash_gray8(gray, width, height)
}

/// PDQ of a row-major `f32` luma image, for callers that compute luma
/// themselves (the reference's `pdqHash256FromFloatLuma`).
pub fn hash_luma(luma: &[f32], width: usize, height: usize) -> Result<Pdq, PdqError> {
    Hasher::new().hash_luma(luma, width, height)
}

/// The 8 dihedral PDQ hashes of a row-major `f32` luma image.
pub fn hash_luma_dihedral(
    luma: &[f32],
    width: usize,
    height: usize,
) -> Result<PdqDihedral, PdqError> {
    Hasher::new().hash_luma_dihedral(luma, width, height)
}

/// The DCT coefficients behind the hash of interleaved 8-bit RGB.
pub fn float_rgb8(rgb: &[u8], width: usize, height: usize) -> Result<PdqFloat, PdqError> {
    Hasher::new().float_rgb8(rgb, width, height)
}

/// The DCT coefficients behind the hash of a row-major `f32` luma image.
pub fn float_luma(luma: &[f32], width: usize, height: usize) -> Result<PdqFloat, PdqError> {
    Hasher::new().float_luma(luma, width, height)
}

/// A PDQ hasher that keeps its buffers between images, so that batch callers
/// allocate once. The free functions of this module each make a new one.
#[derive(Debug, Default)]
pub struct Hasher {
    scratch: blur::Scratch,
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }

    /// See [`hash_rgb8`].
    pub fn hash_rgb8(&mut self, rgb: &[u8], width: usize, height: usize) -> Result<Pdq, PdqError> {
        let src = Rgb8::new(rgb, width, height)?;
        Ok(self.hash(&src))
    }

    /// See [`hash_rgb8_dihedral`].
    pub fn hash_rgb8_dihedral(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqDihedral, PdqError> {
        let src = Rgb8::new(rgb, width, height)?;
        Ok(self.hash_dihedral(&src))
    }

    /// See [`hash_gray8`].
    pub fn hash_gray8(
        &mut self,
        gray: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Pdq, PdqError> {
        let src = Gray8::new(gray, width, height)?;
        Ok(self.hash(&src))
    }

    /// The 8 dihedral PDQ hashes of 8-bit greyscale.
    pub fn hash_gray8_dihedral(
        &mut self,
        gray: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqDihedral, PdqError> {
        let src = Gray8::new(gray, width, height)?;
        Ok(self.hash_dihedral(&src))
    }

    /// See [`hash_luma`].
    pub fn hash_luma(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<Pdq, PdqError> {
        let src = Luma::new(luma, width, height)?;
        Ok(self.hash(&src))
    }

    /// See [`hash_luma_dihedral`].
    pub fn hash_luma_dihedral(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<PdqDihedral, PdqError> {
        let src = Luma::new(luma, width, height)?;
        Ok(self.hash_dihedral(&src))
    }

    /// The DCT coefficients behind the hash of interleaved 8-bit RGB.
    pub fn float_rgb8(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqFloat, PdqError> {
        let src = Rgb8::new(rgb, width, height)?;
        Ok(self.float(&src, true))
    }

    /// The DCT coefficients behind the hash of a row-major `f32` luma image.
    pub fn float_luma(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<PdqFloat, PdqError> {
        let src = Luma::new(luma, width, height)?;
        Ok(self.float(&src, true))
    }

    fn hash<R: Rows>(&mut self, src: &R) -> Pdq {
        if too_small(src) {
            return Pdq {
                hash: PdqHash([0; 32]),
                quality: 0,
            };
        }
        let f = self.float(src, true);
        Pdq {
            hash: to_hash(&f.coefficients),
            quality: f.quality,
        }
    }

    fn hash_dihedral<R: Rows>(&mut self, src: &R) -> PdqDihedral {
        if too_small(src) {
            let zero = PdqHash([0; 32]);
            return PdqDihedral {
                original: zero,
                rotate90: zero,
                rotate180: zero,
                rotate270: zero,
                flipx: zero,
                flipy: zero,
                flipplus1: zero,
                flipminus1: zero,
                quality: 0,
            };
        }
        let f = self.float(src, false);
        let h = |d| to_hash(&transform(&f.coefficients, d));
        PdqDihedral {
            original: h(Dihedral::Original),
            rotate90: h(Dihedral::Rotate90),
            rotate180: h(Dihedral::Rotate180),
            rotate270: h(Dihedral::Rotate270),
            flipx: h(Dihedral::FlipX),
            flipy: h(Dihedral::FlipY),
            flipplus1: h(Dihedral::FlipPlus1),
            flipminus1: h(Dihedral::FlipMinus1),
            quality: f.quality,
        }
    }

    /// The DCT block and the quality; see [`reference::pdq_float`] for
    /// `skip_blur_at_64`.
    fn float<R: Rows>(&mut self, src: &R, skip_blur_at_64: bool) -> PdqFloat {
        let small = if src.width() == 64 && src.height() == 64 && skip_blur_at_64 {
            let mut out = [[0.0f32; 64]; 64];
            for (row, line) in out.iter_mut().enumerate() {
                src.luma(blur::Portable, row, 0, line);
            }
            out
        } else {
            simd::downsample(src, &mut self.scratch)
        };
        PdqFloat {
            coefficients: dct(&small),
            quality: quality(&small),
        }
    }
}

/// Whether a side is under the reference's minimum, which hashes to zero.
fn too_small<R: Rows>(src: &R) -> bool {
    src.width() < MIN_HASHABLE_DIM || src.height() < MIN_HASHABLE_DIM
}

/// Checks that `len` values are `width * height * channels`.
fn check_len(len: usize, width: usize, height: usize, channels: usize) -> Result<(), PdqError> {
    if width == 0 || height == 0 {
        return Err(PdqError::Empty { width, height });
    }
    let expected = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels));
    if expected != Some(len) {
        return Err(PdqError::BufferLength {
            width,
            height,
            channels,
            len,
            expected,
        });
    }
    Ok(())
}

struct Rgb8<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
}

impl<'a> Rgb8<'a> {
    fn new(data: &'a [u8], width: usize, height: usize) -> Result<Self, PdqError> {
        check_len(data.len(), width, height, 3)?;
        Ok(Rgb8 {
            data,
            width,
            height,
        })
    }
}

impl Rows for Rgb8<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    #[inline(always)]
    fn luma<K: Kernels>(&self, kernels: K, row: usize, first: usize, out: &mut [f32]) {
        let start = (row * self.width + first) * 3;
        kernels.luma_rgb8(&self.data[start..start + out.len() * 3], out);
    }
}

struct Gray8<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
}

impl<'a> Gray8<'a> {
    fn new(data: &'a [u8], width: usize, height: usize) -> Result<Self, PdqError> {
        check_len(data.len(), width, height, 1)?;
        Ok(Gray8 {
            data,
            width,
            height,
        })
    }
}

impl Rows for Gray8<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    #[inline(always)]
    fn luma<K: Kernels>(&self, _: K, row: usize, first: usize, out: &mut [f32]) {
        // 299 g + 587 g + 114 g = 1000 g, so the RGB luma of grey is g.
        let start = row * self.width + first;
        let grey = &self.data[start..start + out.len()];
        for (o, &g) in out.iter_mut().zip(grey) {
            *o = f32::from(g);
        }
    }
}

struct Luma<'a> {
    data: &'a [f32],
    width: usize,
    height: usize,
}

impl<'a> Luma<'a> {
    fn new(data: &'a [f32], width: usize, height: usize) -> Result<Self, PdqError> {
        check_len(data.len(), width, height, 1)?;
        Ok(Luma {
            data,
            width,
            height,
        })
    }
}

impl Rows for Luma<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    #[inline(always)]
    fn luma<K: Kernels>(&self, _: K, row: usize, first: usize, out: &mut [f32]) {
        let start = row * self.width + first;
        out.copy_from_slice(&self.data[start..start + out.len()]);
    }
}

/// Rows 1 to 16 of the 64-point DCT-II matrix, rounded as the reference
/// rounds them: an `f32` scale times an `f64` cosine, rounded to `f32`.
static DCT_MATRIX: LazyLock<[[f32; 64]; 16]> = LazyLock::new(|| {
    let scale = f64::from((2.0f64 / 64.0).sqrt() as f32);
    let mut d = [[0.0f32; 64]; 16];
    for (i, row) in d.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let angle = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
            *v = (scale * angle.cos()) as f32;
        }
    }
    d
});

/// `D A Dᵀ`. Each output still sums its 64 products from `k = 0` upwards,
/// as the reference does; only the loops are reordered so that the inner one
/// runs across independent outputs and vectorises.
fn dct(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = &*DCT_MATRIX;
    let mut t = [[0.0f32; 64]; 16];
    for (t_row, d_row) in t.iter_mut().zip(d) {
        for (a_row, &dik) in a.iter().zip(d_row) {
            for (x, &y) in t_row.iter_mut().zip(a_row) {
                *x += dik * y;
            }
        }
    }
    let mut dt = [[0.0f32; 16]; 64];
    for (j, d_row) in d.iter().enumerate() {
        for (k, &v) in d_row.iter().enumerate() {
            dt[k][j] = v;
        }
    }
    let mut b = [[0.0f32; 16]; 16];
    for (b_row, t_row) in b.iter_mut().zip(&t) {
        for (dt_row, &tik) in dt.iter().zip(t_row) {
            for (x, &y) in b_row.iter_mut().zip(dt_row) {
                *x += tik * y;
            }
        }
    }
    b
}

/// The reference's gradient quality, 0 to 100.
fn quality(a: &[[f32; 64]; 64]) -> u8 {
    // `as i32` saturates where the C++ conversion would be undefined, and the
    // sum is wide enough for any float input.
    let grad =
        |u: f32, v: f32| -> u64 { u64::from(((((u - v) * 100.0) / 255.0) as i32).unsigned_abs()) };
    let mut sum: u64 = 0;
    for (upper, lower) in a.iter().zip(&a[1..]) {
        for (&u, &v) in upper.iter().zip(lower) {
            sum += grad(u, v);
        }
    }
    for row in a {
        for (&u, &v) in row.iter().zip(&row[1..]) {
            sum += grad(u, v);
        }
    }
    (sum / 90).min(100) as u8
}

/// Torben Mogensen's median as the reference computes it. The one change:
/// where `(min + max) / 2` overflows to infinity the reference never ends
/// (only absurd float-luma input gets there), so this halves first.
fn torben(m: &[f32; 256]) -> f32 {
    let half = m.len().div_ceil(2);
    let mut min = m[0];
    let mut max = m[0];
    for &v in &m[1..] {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    loop {
        let mut guess = (min + max) / 2.0;
        if guess.is_infinite() && min.is_finite() && max.is_finite() {
            guess = min / 2.0 + max / 2.0;
        }
        let (mut less, mut greater, mut equal) = (0usize, 0usize, 0usize);
        let mut max_lt = min;
        let mut min_gt = max;
        for &v in m {
            if v < guess {
                less += 1;
                if v > max_lt {
                    max_lt = v;
                }
            } else if v > guess {
                greater += 1;
                if v < min_gt {
                    min_gt = v;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt
            } else if less + equal >= half {
                guess
            } else {
                min_gt
            };
        }
        if less > greater {
            max = max_lt;
        } else {
            min = min_gt;
        }
    }
}

/// Bit `16 i + j` is set when coefficient `(i, j)` exceeds the median.
fn to_hash(block: &[[f32; 16]; 16]) -> PdqHash {
    let mut flat = [0.0f32; 256];
    for (chunk, row) in flat.chunks_exact_mut(16).zip(block) {
        chunk.copy_from_slice(row);
    }
    let median = torben(&flat);
    let mut bytes = [0u8; 32];
    for (i, &v) in flat.iter().enumerate() {
        if v > median {
            // Word i / 16 holds bit i % 16, and the words are stored last
            // first, big-endian (see `PdqHash::bit`).
            bytes[31 - i / 8] |= 1 << (i % 8);
        }
    }
    PdqHash(bytes)
}

/// The block of the transformed image. Mirroring an axis negates that axis's
/// odd DCT frequencies (the block starts at frequency 1, so even indices);
/// swapping the axes transposes the block.
fn transform(a: &[[f32; 16]; 16], which: Dihedral) -> [[f32; 16]; 16] {
    // (negate where the row index is even, where the column index is even,
    // transpose): the reference's table of sign patterns.
    let (neg_i, neg_j, transpose) = match which {
        Dihedral::Original => (false, false, false),
        Dihedral::Rotate90 => (false, true, true),
        Dihedral::Rotate180 => (true, true, false),
        Dihedral::Rotate270 => (true, false, true),
        Dihedral::FlipX => (true, false, false),
        Dihedral::FlipY => (false, true, false),
        Dihedral::FlipPlus1 => (false, false, true),
        Dihedral::FlipMinus1 => (true, true, true),
    };
    let mut b = [[0.0f32; 16]; 16];
    for (i, row) in a.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let flips = usize::from(neg_i && i % 2 == 0) + usize::from(neg_j && j % 2 == 0);
            let v = if flips % 2 == 1 { -v } else { v };
            if transpose {
                b[j][i] = v;
            } else {
                b[i][j] = v;
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_luma_equals_numpy_luma_for_every_colour() {
        for r in 0..=255u8 {
            for g in 0..=255u8 {
                for b in 0..=255u8 {
                    let numpy =
                        (f64::from(r) * 0.299 + f64::from(g) * 0.587 + f64::from(b) * 0.114) as f32;
                    let k = 299 * i32::from(r) + 587 * i32::from(g) + 114 * i32::from(b);
                    let fast = k as f32 / 1000.0;
                    assert_eq!(numpy.to_bits(), fast.to_bits(), "rgb {r} {g} {b}");
                }
            }
        }
    }

    /// The matrix depends on the platform's `f64` cosine; these are the
    /// values the reference gets on Linux (glibc). Should another platform
    /// differ, embed the table instead of computing it.
    #[test]
    fn dct_matrix_is_pinned() {
        let mut fnv = 0xcbf2_9ce4_8422_2325u64;
        for v in DCT_MATRIX.iter().flatten() {
            for byte in v.to_bits().to_le_bytes() {
                fnv = (fnv ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        assert_eq!(fnv, 0x4d9a_13ea_83b0_b0c5, "{fnv:#018x}");
        assert_eq!(DCT_MATRIX[0][0].to_bits(), 0x3e34_f6fe);
    }

    #[test]
    fn transform_matches_reference_sign_tables() {
        let mut a = [[0.0f32; 16]; 16];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (i * 16 + j) as f32 + 1.0;
            }
        }
        for d in Dihedral::ALL {
            assert_eq!(transform(&a, d), reference::dihedral(&a, d), "{d:?}");
        }
    }

    #[test]
    fn torben_is_the_upper_median_on_distinct_values() {
        let mut m = [0.0f32; 256];
        for (i, v) in m.iter_mut().enumerate() {
            *v = ((i * 37) % 256) as f32;
        }
        assert_eq!(torben(&m), 127.0);
    }

    #[test]
    fn torben_ends_where_the_reference_would_not() {
        let mut m = [f32::MAX; 256];
        m[0] = f32::MAX / 2.0;
        let median = torben(&m);
        assert_eq!(median, f32::MAX);
        assert_eq!(reference::torben(&m), median);
    }

    #[test]
    fn avx2_and_portable_kernels_agree() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for &(w, h) in &[(5, 5), (7, 300), (300, 7), (63, 65), (129, 257), (640, 480)] {
            let rgb: Vec<u8> = (0..w * h * 3).map(|_| next() as u8).collect();
            let src = Rgb8::new(&rgb, w, h).expect("sized buffer");
            let mut s1 = blur::Scratch::default();
            let mut s2 = blur::Scratch::default();
            let fast = simd::downsample(&src, &mut s1);
            let portable = simd::downsample_portable(&src, &mut s2);
            let bits =
                |a: &[[f32; 64]; 64]| a.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&portable), "{w}x{h}");
        }
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            hash_rgb8(&[], 0, 10),
            Err(PdqError::Empty {
                width: 0,
                height: 10
            })
        );
        let err = hash_rgb8(&[0; 11], 2, 2).expect_err("short buffer");
        assert_eq!(
            err.to_string(),
            "pixel buffer holds 11 values, but 2x2 with 3 channel(s) needs 12"
        );
        let err = hash_luma(&[0.0; 4], usize::MAX, 2).expect_err("overflow");
        assert!(err.to_string().contains("more than fit"), "{err}");
    }
}
