//! The fast blur-and-decimate: the reference's two box-filter passes per axis
//! and the 64×64 sampling, streamed over blocks of rows.
//!
//! The reference keeps one running `f32` sum per line, so every output
//! depends on the exact sequence of additions and subtractions before it;
//! nothing may be reassociated. What may be changed is *which* lines run side
//! by side, in what order independent work is done, and what is never
//! needed:
//!
//! - Horizontal passes run [`LANES`] rows at once. A block of rows is
//!   transposed so that one SIMD lane carries one row's running sum; each lane
//!   performs exactly the reference's sequence for its row.
//! - Vertical passes run across a whole row at once, one lane per column.
//! - The pipeline streams: luma, first row pass, first column pass and second
//!   row pass run block by block, and within a block strip by strip, so the
//!   data stays in cache between steps and the full-size image is never
//!   stored.
//! - The second row pass divides only at the 64 sampled columns, and the
//!   second column pass runs over those 64 columns only and divides only at
//!   the 64 sampled rows. Skipping a division whose result nobody reads
//!   changes no other value.
//!
//! Everything here is safe, plain loops over fixed-size arrays that the
//! compiler vectorises, except two kinds of kernel that it does not
//! vectorise well, transposes and RGB deinterleaving: they go through the
//! [`Kernels`] trait so that [`super::simd`] can supply AVX2 versions. That
//! module also compiles this one a second time with AVX2 enabled.

/// Rows processed side by side in the horizontal passes: two AVX2 registers,
/// so that two independent chains of additions hide each other's latency.
pub(super) const LANES: usize = 16;

/// One column of a block of [`LANES`] rows.
pub(super) type Lane = [f32; LANES];

/// Columns per strip: a strip of a block (16 × 64 floats, 4 KiB) stays in
/// the L1 cache between being transposed and being summed.
const STRIP: usize = 64;

/// A source of luma rows, so the conversion from pixels fuses into the first
/// pass instead of filling a full-size buffer.
pub(super) trait Rows {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    /// Writes the luma of row `row`, columns `first..first + out.len()`,
    /// into `out`.
    fn luma<K: Kernels>(&self, kernels: K, row: usize, first: usize, out: &mut [f32]);
}

/// The kernels that the compiler does not vectorise well by itself. The
/// portable versions are [`Portable`]; `simd` has AVX2 ones. They must give
/// the same bits.
pub(super) trait Kernels: Copy {
    /// `out[i]` is the luma of the pixel at `rgb[3 i..3 i + 3]`:
    /// `(299 R + 587 G + 114 B) as f32 / 1000` (see the module docs of
    /// `pdq` for why that is the reference's value).
    fn luma_rgb8(self, rgb: &[u8], out: &mut [f32]);
    /// `tiles[c][k] = rows[k * stride + c]` for `c < tiles.len()`.
    fn rows_to_lanes(self, rows: &[f32], stride: usize, tiles: &mut [Lane]);
    /// `rows[k * stride + c] = tiles[c][k]` for `c < tiles.len()`.
    fn lanes_to_rows(self, tiles: &[Lane], stride: usize, rows: &mut [f32]);
}

/// Plain loops, for any CPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct Portable;

impl Kernels for Portable {
    #[inline(always)]
    fn luma_rgb8(self, rgb: &[u8], out: &mut [f32]) {
        for (o, p) in out.iter_mut().zip(rgb.chunks_exact(3)) {
            *o = luma_of(p[0], p[1], p[2]);
        }
    }

    #[inline(always)]
    fn rows_to_lanes(self, rows: &[f32], stride: usize, tiles: &mut [Lane]) {
        for (c, tile) in tiles.iter_mut().enumerate() {
            for (k, v) in tile.iter_mut().enumerate() {
                *v = rows[k * stride + c];
            }
        }
    }

    #[inline(always)]
    fn lanes_to_rows(self, tiles: &[Lane], stride: usize, rows: &mut [f32]) {
        for (k, row) in rows.chunks_mut(stride).take(LANES).enumerate() {
            for (v, tile) in row.iter_mut().zip(tiles) {
                *v = tile[k];
            }
        }
    }
}

/// The luma of one pixel; exact in `i32` (at most 255,000) and in `f32`.
#[inline(always)]
pub(super) fn luma_of(r: u8, g: u8, b: u8) -> f32 {
    let k = 299 * i32::from(r) + 587 * i32::from(g) + 114 * i32::from(b);
    k as f32 / 1000.0
}

/// The reference's window for one axis: `ceil(dim / 128)`.
pub(super) fn window(dim: usize) -> usize {
    dim.div_ceil(128)
}

/// Where the 64 samples fall along an axis of `n`: the reference computes
/// `(int)(((i + 0.5) * n) / 64)` in `f64`, which is exact, hence this integer
/// form.
pub(super) fn sample_points(n: usize) -> [usize; 64] {
    let mut out = [0usize; 64];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (2 * i + 1) * n / 128;
    }
    out
}

/// The distance between rows in the row-major buffers: `width` rounded up
/// to whole cache lines, and to an odd number of them, so that the rows of a
/// block fall in different cache sets. With a power-of-two stride (1024
/// pixels wide, say) every row of a block maps to the same set and the
/// transposes thrash.
fn row_stride(width: usize) -> usize {
    let lines = width.div_ceil(16);
    (lines | 1) * 16
}

/// The reference's running box over a line of `len` samples, as a sequence
/// of steps. Step `t` adds sample `t` (while `t < len`), subtracts sample
/// `t - window` (once `t >= window`), and from step `grow` on writes output
/// `t - grow`, divided by the number of samples in the window. The window
/// is centred (to half a sample when its width is even), so it grows for the
/// first steps and shrinks for the last.
#[derive(Debug, Clone, Copy)]
struct Phases {
    len: usize,
    window: usize,
    grow: usize,
}

impl Phases {
    fn new(len: usize, window: usize) -> Phases {
        // The reference's `half_window_size - 1`.
        let grow = (window + 2) / 2 - 1;
        Phases { len, window, grow }
    }

    /// One step per sample, then `grow` more while the window shrinks (the
    /// reference's phases 1 to 3, then 4).
    fn steps(&self) -> usize {
        self.len + self.grow
    }

    /// What step `t` does: the sample it adds, the sample it subtracts, and
    /// the output it writes with the count it divides by.
    #[inline(always)]
    fn step(&self, t: usize) -> Step {
        Step {
            add: (t < self.len).then_some(t),
            sub: t.checked_sub(self.window),
            out: t.checked_sub(self.grow),
            count: self.count(t),
        }
    }

    #[inline(always)]
    fn count(&self, t: usize) -> usize {
        if t < self.window {
            t + 1
        } else if t < self.len {
            self.window
        } else {
            self.window - (t - self.len + 1)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Step {
    add: Option<usize>,
    sub: Option<usize>,
    out: Option<usize>,
    count: usize,
}

#[inline(always)]
fn add_lanes(s: &mut Lane, a: &Lane) {
    for (x, y) in s.iter_mut().zip(a) {
        *x += *y;
    }
}

#[inline(always)]
fn sub_lanes(s: &mut Lane, a: &Lane) {
    for (x, y) in s.iter_mut().zip(a) {
        *x -= *y;
    }
}

#[inline(always)]
fn div_lanes(s: &Lane, d: f32) -> Lane {
    let mut out = [0.0f32; LANES];
    for (o, x) in out.iter_mut().zip(s) {
        *o = *x / d;
    }
    out
}

/// A running box along the rows of a transposed block that can stop and
/// resume, so that it follows its input strip by strip.
#[derive(Debug, Clone, Copy)]
struct RowBox {
    p: Phases,
    sum: Lane,
    t: usize,
}

impl RowBox {
    fn new(p: Phases) -> RowBox {
        RowBox {
            p,
            sum: [0.0; LANES],
            t: 0,
        }
    }

    /// Runs every step that reads only columns below `ready` (all remaining
    /// steps once `ready` is the full width), handing each output's index,
    /// running sums and count to `emit`.
    #[inline(always)]
    fn run(&mut self, input: &[Lane], ready: usize, mut emit: impl FnMut(usize, &Lane, usize)) {
        let p = self.p;
        let mut t = self.t;
        let mut sum = self.sum;
        let grow_end = p.window.min(ready);
        while t < grow_end {
            add_lanes(&mut sum, &input[t]);
            if t >= p.grow {
                emit(t - p.grow, &sum, t + 1);
            }
            t += 1;
        }
        if t >= p.window {
            let end = p.len.min(ready).max(t);
            for (a, b) in input[t..end]
                .iter()
                .zip(&input[t - p.window..end - p.window])
            {
                add_lanes(&mut sum, a);
                sub_lanes(&mut sum, b);
                emit(t - p.grow, &sum, p.window);
                t += 1;
            }
        }
        if ready >= p.len {
            while t < p.steps() {
                sub_lanes(&mut sum, &input[t - p.window]);
                emit(t - p.grow, &sum, p.count(t));
                t += 1;
            }
        }
        self.t = t;
        self.sum = sum;
    }
}

/// Reusable buffers, so that a batch of images allocates once.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// `LANES` luma rows, row-major.
    luma: Vec<f32>,
    /// The current block, one [`Lane`] per column.
    tiles: Vec<Lane>,
    /// One strip of first-row-pass output, still one lane per column.
    boxed: Vec<Lane>,
    /// Recent blocks of first-row-pass output, row-major, as many as the
    /// first column pass can still need.
    ring: Vec<f32>,
    /// Running sums of the first column pass, one per column.
    col_sums: Vec<f32>,
    /// First-column-pass output rows waiting to fill a block.
    staged: Vec<f32>,
    /// Second-row-pass outputs at the 64 sampled columns, by row, for as
    /// many rows as the second column pass can still need.
    ring64: Vec<[f32; 64]>,
}

/// One step of a column pass across a whole row.
#[inline(always)]
fn col_step(
    sums: &mut [f32],
    add: Option<&[f32]>,
    sub: Option<&[f32]>,
    out: Option<(&mut [f32], f32)>,
) {
    let out = match (add, sub, out) {
        // The common case in one sweep, so the sums are loaded once.
        (Some(a), Some(b), Some((o, d))) => {
            for (((s, x), y), o) in sums.iter_mut().zip(a).zip(b).zip(o) {
                *s = (*s + *x) - *y;
                *o = *s / d;
            }
            return;
        }
        (_, _, out) => out,
    };
    match (add, sub) {
        (Some(a), Some(b)) => {
            for ((s, x), y) in sums.iter_mut().zip(a).zip(b) {
                *s = (*s + *x) - *y;
            }
        }
        (Some(a), None) => {
            for (s, x) in sums.iter_mut().zip(a) {
                *s += *x;
            }
        }
        (None, Some(b)) => {
            for (s, y) in sums.iter_mut().zip(b) {
                *s -= *y;
            }
        }
        (None, None) => {}
    }
    if let Some((o, d)) = out {
        for (o, s) in o.iter_mut().zip(sums.iter()) {
            *o = *s / d;
        }
    }
}

/// The pipeline's state for one image.
struct Pipeline<'a, K: Kernels> {
    kernels: K,
    width: usize,
    stride: usize,
    rows_pass: Phases,
    cols_pass: Phases,
    cols: &'a [usize; 64],
    rows: &'a [usize; 64],
    /// Blocks the ring holds.
    ring_blocks: usize,
    /// Next step of the first column pass.
    t1: usize,
    /// First-column-pass output rows staged so far.
    staged_rows: usize,
    /// Rows of second-row-pass output so far.
    rows_done: usize,
    /// The second column pass over the 64 sampled columns.
    sums64: [f32; 64],
    next_row: usize,
    result: [[f32; 64]; 64],
}

impl<K: Kernels> Pipeline<'_, K> {
    /// Luma and the first row pass for the block of `n` rows from `start`,
    /// into the ring.
    #[inline(always)]
    fn first_row_pass<R: Rows>(&mut self, src: &R, s: &mut Scratch, start: usize, n: usize) {
        let width = self.width;
        let stride = self.stride;
        let kernels = self.kernels;
        let slot = (start / LANES) % self.ring_blocks;
        let ring = &mut s.ring[slot * LANES * stride..(slot + 1) * LANES * stride];
        let boxed: &mut [Lane; STRIP] = (&mut s.boxed[..]).try_into().expect("STRIP lanes");
        let mut pass = RowBox::new(self.rows_pass);
        // Whole rows, in order, since reading the pixels is what the
        // hardware prefetcher handles best.
        for k in 0..n {
            src.luma(
                kernels,
                start + k,
                0,
                &mut s.luma[k * stride..k * stride + width],
            );
        }
        // Rows past the image's end are carried as zeros and never read.
        s.luma[n * stride..].fill(0.0);
        for first in (0..width).step_by(STRIP) {
            let ready = STRIP.min(width - first) + first;
            kernels.rows_to_lanes(&s.luma[first..], stride, &mut s.tiles[first..ready]);
            pass.run(&s.tiles, ready, |out, sum, count| {
                let i = out % STRIP;
                boxed[i] = div_lanes(sum, count as f32);
                if i == STRIP - 1 || out == width - 1 {
                    let chunk = out - i;
                    kernels.lanes_to_rows(&boxed[..=i], stride, &mut ring[chunk..]);
                }
            });
        }
    }

    #[inline(always)]
    fn ring_row<'r>(&self, ring: &'r [f32], row: usize) -> &'r [f32] {
        let slot = (row / LANES) % self.ring_blocks;
        let start = (slot * LANES + row % LANES) * self.stride;
        &ring[start..start + self.width]
    }

    /// Runs first-column-pass steps up to (not including) `until`.
    #[inline(always)]
    fn column_pass(&mut self, s: &mut Scratch, until: usize) {
        while self.t1 < until {
            let st = self.cols_pass.step(self.t1);
            let (w, stride) = (self.width, self.stride);
            let add = st.add.map(|r| self.ring_row(&s.ring, r));
            let sub = st.sub.map(|r| self.ring_row(&s.ring, r));
            let k = self.staged_rows;
            let out = st
                .out
                .map(|_| (&mut s.staged[k * stride..k * stride + w], st.count as f32));
            let emitted = out.is_some();
            col_step(&mut s.col_sums, add, sub, out);
            if emitted {
                self.staged_rows += 1;
                if self.staged_rows == LANES {
                    self.second_row_pass(s);
                }
            }
            self.t1 += 1;
        }
    }

    /// Second row pass over the staged block, then the second column pass
    /// over its 64 sampled columns.
    #[inline(always)]
    fn second_row_pass(&mut self, s: &mut Scratch) {
        let n = self.staged_rows;
        if n == 0 {
            return;
        }
        let (width, stride) = (self.width, self.stride);
        s.staged[n * stride..].fill(0.0);
        let mut pass = RowBox::new(self.rows_pass);
        let mut sampled = [[0.0f32; LANES]; 64];
        let mut next = 0;
        let cols = self.cols;
        for first in (0..width).step_by(STRIP) {
            let end = STRIP.min(width - first) + first;
            self.kernels
                .rows_to_lanes(&s.staged[first..], stride, &mut s.tiles[first..end]);
            pass.run(&s.tiles, end, |out, sum, count| {
                // `cols` is sorted, with repeats when the image is narrower
                // than 64.
                while next < 64 && cols[next] == out {
                    sampled[next] = div_lanes(sum, count as f32);
                    next += 1;
                }
            });
        }
        let slots = s.ring64.len();
        for k in 0..n {
            let mut line = [0.0f32; 64];
            for (v, lane) in line.iter_mut().zip(&sampled) {
                *v = lane[k];
            }
            s.ring64[self.rows_done % slots] = line;
            self.column_pass_64(&s.ring64, self.rows_done);
            self.rows_done += 1;
        }
        self.staged_rows = 0;
    }

    /// Step `t` of the second column pass.
    #[inline(always)]
    fn column_pass_64(&mut self, ring64: &[[f32; 64]], t: usize) {
        let st = self.cols_pass.step(t);
        let slots = ring64.len();
        if let Some(r) = st.add {
            for (s, x) in self.sums64.iter_mut().zip(&ring64[r % slots]) {
                *s += *x;
            }
        }
        if let Some(r) = st.sub {
            for (s, x) in self.sums64.iter_mut().zip(&ring64[r % slots]) {
                *s -= *x;
            }
        }
        if let Some(out) = st.out {
            while self.next_row < 64 && self.rows[self.next_row] == out {
                let d = st.count as f32;
                for (o, s) in self.result[self.next_row].iter_mut().zip(&self.sums64) {
                    *o = *s / d;
                }
                self.next_row += 1;
            }
        }
    }
}

/// Blurs and decimates the image `src` to 64×64, bit for bit as the
/// reference's `jaroszFilterFloat` followed by `decimateFloat`. Both sides
/// must be at least 1.
#[inline(always)]
pub(super) fn downsample<R: Rows, K: Kernels>(
    src: &R,
    s: &mut Scratch,
    kernels: K,
) -> [[f32; 64]; 64] {
    let width = src.width();
    let height = src.height();
    let rows_pass = Phases::new(width, window(width));
    let cols_pass = Phases::new(height, window(height));
    let cols = sample_points(width);
    let rows = sample_points(height);
    // The first column pass reads rows back to `window` before the newest.
    let ring_blocks = cols_pass.window / LANES + 2;
    let stride = row_stride(width);

    s.luma.clear();
    s.luma.resize(LANES * stride, 0.0);
    s.tiles.clear();
    s.tiles.resize(width, [0.0; LANES]);
    s.boxed.clear();
    s.boxed.resize(STRIP, [0.0; LANES]);
    s.ring.clear();
    s.ring.resize(ring_blocks * LANES * stride, 0.0);
    s.col_sums.clear();
    s.col_sums.resize(width, 0.0);
    s.staged.clear();
    s.staged.resize(LANES * stride, 0.0);
    s.ring64.clear();
    s.ring64.resize(cols_pass.window + 1, [0.0; 64]);

    let mut pipe = Pipeline {
        kernels,
        width,
        stride,
        rows_pass,
        cols_pass,
        cols: &cols,
        rows: &rows,
        ring_blocks,
        t1: 0,
        staged_rows: 0,
        rows_done: 0,
        sums64: [0.0; 64],
        next_row: 0,
        result: [[0.0; 64]; 64],
    };

    for start in (0..height).step_by(LANES) {
        let n = LANES.min(height - start);
        pipe.first_row_pass(src, s, start, n);
        pipe.column_pass(s, start + n);
    }
    pipe.column_pass(s, cols_pass.steps());
    pipe.second_row_pass(s);
    for t in height..cols_pass.steps() {
        pipe.column_pass_64(&s.ring64, t);
    }
    debug_assert_eq!(pipe.rows_done, height);
    debug_assert_eq!(pipe.next_row, 64);
    pipe.result
}
