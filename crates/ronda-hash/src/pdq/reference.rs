//! A plain, slow PDQ that follows the reference C++ one step at a time.
//!
//! Nothing here is tuned: every buffer is full size, every pass touches every
//! pixel and every sum runs in the reference's order, so the code can be read
//! side by side with Meta's `pdqhashing.cpp` and `downscaling.cpp`. It exists
//! to check the fast path in [`super`] (they must agree bit for bit on every
//! input) and it shares none of the fast path's code, so a mistake in one is
//! not silently repeated in the other.

// Index loops, as in the C++, so that the two read side by side.
#![allow(clippy::needless_range_loop)]

use super::{Dihedral, MIN_HASHABLE_DIM};
use crate::signal::PdqHash;

/// A 16×16 block of DCT coefficients, row-major.
pub type Dct16 = [[f32; 16]; 16];

/// Luma of interleaved 8-bit RGB as `pdqhash` computes it: numpy evaluates
/// `R*0.299 + G*0.587 + B*0.114` in `f64`, left to right, and rounds the sum
/// to `f32`.
pub fn luma_from_rgb8(rgb: &[u8]) -> Vec<f32> {
    rgb.chunks_exact(3)
        .map(|p| {
            let sum = f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114;
            sum as f32
        })
        .collect()
}

/// The reference's running box filter over one line of `len` samples spaced
/// `stride` apart: a centred window of `window` samples that shrinks at both
/// ends, kept as one running `f32` sum (add the sample entering, subtract the
/// one leaving) and divided by the number of samples it covers.
fn box_line(
    input: &[f32],
    output: &mut [f32],
    start: usize,
    len: usize,
    stride: usize,
    window: usize,
) {
    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = len - window;
    let phase4 = half - 1;

    let mut sum = 0.0f32;
    let mut count = 0usize;
    let (mut left, mut right, mut out) = (start, start, start);
    for _ in 0..phase1 {
        sum += input[right];
        count += 1;
        right += stride;
    }
    for _ in 0..phase2 {
        sum += input[right];
        count += 1;
        output[out] = sum / count as f32;
        right += stride;
        out += stride;
    }
    for _ in 0..phase3 {
        sum += input[right];
        sum -= input[left];
        output[out] = sum / count as f32;
        left += stride;
        right += stride;
        out += stride;
    }
    for _ in 0..phase4 {
        sum -= input[left];
        count -= 1;
        output[out] = sum / count as f32;
        left += stride;
        out += stride;
    }
}

/// The window for one axis: `ceil(dim / 128)`, half of a 64th of the image,
/// because two passes of a box make a tent twice as wide.
fn window(dim: usize) -> usize {
    dim.div_ceil(128)
}

/// Two passes of rows-then-columns box filtering, in place in `a`, with `b` as
/// scratch, exactly as `jaroszFilterFloat` does it.
fn blur(a: &mut [f32], b: &mut [f32], width: usize, height: usize) {
    let along_rows = window(width);
    let along_cols = window(height);
    for _ in 0..2 {
        for row in 0..height {
            box_line(a, b, row * width, width, 1, along_rows);
        }
        for col in 0..width {
            box_line(b, a, col, height, width, along_cols);
        }
    }
}

/// Sample the blurred image at the centres of a 64×64 grid.
fn decimate(a: &[f32], width: usize, height: usize) -> [[f32; 64]; 64] {
    let mut out = [[0.0f32; 64]; 64];
    for (i, out_row) in out.iter_mut().enumerate() {
        let row = ((i as f64 + 0.5) * height as f64 / 64.0) as usize;
        for (j, v) in out_row.iter_mut().enumerate() {
            let col = ((j as f64 + 0.5) * width as f64 / 64.0) as usize;
            *v = a[row * width + col];
        }
    }
    out
}

/// The gradient-based quality in 0..=100, with the reference's `f32`
/// arithmetic and truncations.
fn quality(a: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i64 = 0;
    let step = |u: f32, v: f32| -> i64 {
        let d = ((u - v) * 100.0) / 255.0;
        i64::from((d as i32).unsigned_abs())
    };
    for i in 0..63 {
        for j in 0..64 {
            sum += step(a[i][j], a[i + 1][j]);
        }
    }
    for row in a {
        for j in 0..63 {
            sum += step(row[j], row[j + 1]);
        }
    }
    (sum / 90).min(100) as u8
}

/// Rows 1..=16 of the 64-point DCT-II matrix, rounded to `f32` as the
/// reference rounds them.
fn dct_matrix() -> Vec<[f32; 64]> {
    let scale = (2.0f64 / 64.0).sqrt() as f32;
    (0..16)
        .map(|i| {
            let mut row = [0.0f32; 64];
            for (j, v) in row.iter_mut().enumerate() {
                let angle =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (f64::from(scale) * angle.cos()) as f32;
            }
            row
        })
        .collect()
}

/// `D A Dᵀ`, each sum accumulated in `f32` from k = 0 upwards.
fn dct(a: &[[f32; 64]; 64]) -> Dct16 {
    let d = dct_matrix();
    let mut t = [[0.0f32; 64]; 16];
    for i in 0..16 {
        for j in 0..64 {
            let mut sum = 0.0f32;
            for k in 0..64 {
                sum += d[i][k] * a[k][j];
            }
            t[i][j] = sum;
        }
    }
    let mut b = [[0.0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let mut sum = 0.0f32;
            for k in 0..64 {
                sum += t[i][k] * d[j][k];
            }
            b[i][j] = sum;
        }
    }
    b
}

/// Torben Mogensen's median, as the reference implements it.
///
/// Where `(min + max) / 2` overflows to infinity the reference loops forever
/// (possible only for absurd float-luma input); this version halves first in
/// that case so that it always ends.
pub fn torben(m: &[f32]) -> f32 {
    let n = m.len();
    let half = n.div_ceil(2);
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
        } else if less > greater {
            max = max_lt;
        } else {
            min = min_gt;
        }
    }
}

/// The 256 hash bits: coefficient `(i, j)` is bit `16 i + j`, set when it
/// exceeds the median.
pub fn bits(b: &Dct16) -> [bool; 256] {
    let flat: Vec<f32> = b.iter().flatten().copied().collect();
    let median = torben(&flat);
    let mut out = [false; 256];
    for (o, &v) in out.iter_mut().zip(&flat) {
        *o = v > median;
    }
    out
}

/// The DCT block of a transformed image, from the block of the original, as
/// each of the reference's `dct16OriginalTo*` functions builds it.
pub fn dihedral(a: &Dct16, which: Dihedral) -> Dct16 {
    let mut b = [[0.0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let v = a[i][j];
            let neg = -v;
            match which {
                Dihedral::Original => b[i][j] = v,
                Dihedral::Rotate90 => b[j][i] = if j % 2 == 1 { v } else { neg },
                Dihedral::Rotate180 => b[i][j] = if (i + j) % 2 == 1 { neg } else { v },
                Dihedral::Rotate270 => b[j][i] = if i % 2 == 1 { v } else { neg },
                Dihedral::FlipX => b[i][j] = if i % 2 == 1 { v } else { neg },
                Dihedral::FlipY => b[i][j] = if j % 2 == 1 { v } else { neg },
                Dihedral::FlipPlus1 => b[j][i] = v,
                Dihedral::FlipMinus1 => b[j][i] = if (i + j) % 2 == 1 { neg } else { v },
            }
        }
    }
    b
}

/// The DCT block and quality of a `width`×`height` row-major luma image, as
/// the reference's `pdqFloat256FromFloatLuma` computes them (no minimum
/// size: that check sits in the hashing entry points).
///
/// `skip_blur_at_64` picks between the reference's two paths, which differ
/// in one corner: `pdqFloat256FromFloatLuma` (behind
/// `pdqHash256FromFloatLuma`) takes a 64×64 image as already downsampled and
/// skips the blur, while `pdqDihedralHash256esFromFloatLuma` always blurs.
///
/// # Panics
///
/// When `luma.len() != width * height` or a side is 0; this module is for
/// tests.
pub fn pdq_float(luma: &[f32], width: usize, height: usize, skip_blur_at_64: bool) -> (Dct16, u8) {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    assert!(width > 0 && height > 0, "empty image");
    let mut a = luma.to_vec();
    let small = if width == 64 && height == 64 && skip_blur_at_64 {
        let mut out = [[0.0f32; 64]; 64];
        for (row, chunk) in out.iter_mut().zip(a.chunks_exact(64)) {
            row.copy_from_slice(chunk);
        }
        out
    } else {
        let mut b = vec![0.0f32; a.len()];
        blur(&mut a, &mut b, width, height);
        decimate(&a, width, height)
    };
    (dct(&small), quality(&small))
}

/// The hash and quality as `pdqHash256FromFloatLuma` gives them: all zero
/// when a side is under 5.
pub fn hash(luma: &[f32], width: usize, height: usize) -> (PdqHash, u8) {
    if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
        return (PdqHash([0; 32]), 0);
    }
    let (block, quality) = pdq_float(luma, width, height, true);
    (PdqHash::from_bits(&bits(&block)), quality)
}

/// The 8 hashes in [`Dihedral::ALL`] order and the quality, as
/// `pdqDihedralHash256esFromFloatLuma` gives them.
pub fn hash_dihedral(luma: &[f32], width: usize, height: usize) -> ([PdqHash; 8], u8) {
    if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
        return ([PdqHash([0; 32]); 8], 0);
    }
    let (block, quality) = pdq_float(luma, width, height, false);
    let hashes = Dihedral::ALL.map(|d| PdqHash::from_bits(&bits(&dihedral(&block, d))));
    (hashes, quality)
}
