//! vPDQ, Meta's video hash: the PDQ hash of sampled frames, and the
//! video-level match of python-threatexchange.
//!
//! # Hashing
//!
//! The reference (PyPI `vpdq` 0.2.5, Meta's C++) decodes every frame,
//! numbers them from 0 in decoder output order, and hashes frame `n` when
//! `n % interval == 0`, where `interval = trunc(seconds_per_hash × fps)`
//! (at least 1; `seconds_per_hash = 0` hashes every frame) and `fps` is the
//! stream's average frame rate. A frame's timestamp is `n / fps` computed
//! in `f32`. The frame is converted to RGB by FFmpeg (decoding is
//! `ronda-media`'s job); its luma is `0.299 R + 0.587 G + 0.114 B` in
//! `f32` arithmetic (not `pdqhash`'s `f64`), which [`luma_from_rgb8`]
//! reproduces, and PDQ runs on that luma at the frame's full size.
//! [`FrameHasher`] does the per-frame part.
//!
//! # The text form
//!
//! python-threatexchange stores a vPDQ signal as a JSON list of
//! `"hex,quality,timestamp"` strings, the timestamp written with Python's
//! `{:.3}` (three significant digits, so `1.5e+02` for 150 s).
//! [`VpdqFeature`] and [`Vpdq`] parse and print exactly that form, so a
//! value read from a hash list is written back byte for byte.
//!
//! # Matching
//!
//! [`compare`] is the video-level match: frames with quality below 50 are
//! dropped, repeated hashes are kept once (in that order, as
//! python-threatexchange's `VPDQIndex` prepares both sides), and a frame
//! matches when some frame of the other video is within Hamming distance 31.
//! The result is the percentage of matching frames on each side; a match is
//! declared when the query side reaches 80% and the compared side 0% unless
//! the caller sets other thresholds. (python-threatexchange's brute-force
//! matcher removes repeats before dropping low quality frames; the two
//! orders differ only when a hash repeats with different qualities.)

use std::fmt;
use std::str::FromStr;

use crate::pdq::{self, Pdq, PdqError};
use crate::signal::PdqHash;

/// Frames below this quality are ignored when matching.
pub const QUALITY_THRESHOLD: u8 = 50;
/// Largest Hamming distance at which two frames match.
pub const DISTANCE_THRESHOLD: u32 = 31;
/// Default share of query frames that must match, in percent.
pub const QUERY_MATCH_THRESHOLD_PERCENT: f64 = 80.0;
/// Default share of the compared video's frames that must match, in percent.
pub const COMPARED_MATCH_THRESHOLD_PERCENT: f64 = 0.0;

/// One hashed frame, as the reference reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqFrame {
    /// Frame number, from 0, in decoder output order.
    pub frame: u64,
    pub hash: PdqHash,
    pub quality: u8,
    /// Seconds: `frame / fps` in `f32`, widened.
    pub timestamp: f64,
}

impl VpdqFrame {
    /// The compact form python-threatexchange keeps (no frame number).
    pub fn feature(&self) -> VpdqFeature {
        VpdqFeature {
            hash: self.hash,
            quality: self.quality,
            timestamp: self.timestamp,
        }
    }
}

/// How many frames apart the hashed frames are: the reference's
/// `static_cast<int>(seconds_per_hash * fps)`, at least 1.
pub fn frame_interval(seconds_per_hash: f64, fps: f64) -> u64 {
    let product = seconds_per_hash * fps;
    if product.is_finite() && product >= 1.0 {
        // Truncation toward zero, like the C++ cast; capped where the
        // C++ would overflow an int.
        (product as u64).min(i32::MAX as u64)
    } else {
        1
    }
}

/// The timestamp the reference gives frame `frame`: `f32` division by the
/// frame rate rounded to `f32`.
pub fn frame_timestamp(frame: u64, fps: f64) -> f64 {
    f64::from(frame as f32 / fps as f32)
}

/// `f32` luma of interleaved 8-bit RGB the way vPDQ's C++ computes it:
/// `0.299f * R + 0.587f * G + 0.114f * B`, each product and sum rounded to
/// `f32`, left to right. Appends to `out` after clearing it.
pub fn luma_from_rgb8(rgb: &[u8], out: &mut Vec<f32>) {
    let t = &*LUMA_TABLES;
    out.clear();
    out.extend(
        rgb.chunks_exact(3)
            .map(|p| (t[0][p[0] as usize] + t[1][p[1] as usize]) + t[2][p[2] as usize]),
    );
}

/// Per-channel products `coefficient × value`, each exactly the `f32`
/// product the C++ computes.
static LUMA_TABLES: std::sync::LazyLock<[[f32; 256]; 3]> = std::sync::LazyLock::new(|| {
    let coeff = [0.299f32, 0.587f32, 0.114f32];
    let mut t = [[0f32; 256]; 3];
    for (c, row) in t.iter_mut().enumerate() {
        for (v, x) in row.iter_mut().enumerate() {
            *x = coeff[c] * v as f32;
        }
    }
    t
});

/// Hashes frames one after another, keeping its buffers between them.
#[derive(Debug, Default)]
pub struct FrameHasher {
    pdq: pdq::Hasher,
    luma: Vec<f32>,
}

impl FrameHasher {
    pub fn new() -> FrameHasher {
        FrameHasher::default()
    }

    /// PDQ of one RGB frame, `width * height * 3` bytes, as vPDQ computes
    /// it. Frames with a side under 5 pixels hash to zero with quality 0
    /// (the reference refuses them).
    pub fn hash_rgb8(&mut self, rgb: &[u8], width: usize, height: usize) -> Result<Pdq, PdqError> {
        let expected = width.checked_mul(height).and_then(|n| n.checked_mul(3));
        if expected != Some(rgb.len()) {
            return Err(PdqError::BufferLength {
                width,
                height,
                channels: 3,
                len: rgb.len(),
                expected,
            });
        }
        luma_from_rgb8(rgb, &mut self.luma);
        self.pdq.hash_luma(&self.luma, width, height)
    }
}

/// Why a vPDQ value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseVpdqError {
    #[error("invalid vpdq frame {0:?}: expected \"hex,quality,timestamp\"")]
    Fields(String),
    #[error("invalid vpdq frame {0:?}: bad pdq hash")]
    Hash(String),
    #[error("invalid vpdq frame {0:?}: quality must be 0 to 100")]
    Quality(String),
    #[error("invalid vpdq frame {0:?}: timestamp must be a number of seconds, at least 0")]
    Timestamp(String),
    #[error("invalid vpdq value: expected a JSON list of \"hex,quality,timestamp\" strings")]
    List,
}

/// One frame in python-threatexchange's compact form: hash, quality,
/// timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqFeature {
    pub hash: PdqHash,
    pub quality: u8,
    /// Seconds; finite and not negative (checked when parsed).
    pub timestamp: f64,
}

// Timestamps are finite (parsing refuses NaN), so equality is total.
impl Eq for VpdqFeature {}

impl fmt::Display for VpdqFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{}",
            self.hash,
            self.quality,
            python_format_3(self.timestamp)
        )
    }
}

impl FromStr for VpdqFeature {
    type Err = ParseVpdqError;

    /// python-threatexchange's `VpdqCompactFeature.from_str`: exactly three
    /// comma-separated fields, a 64-digit hex hash, an integer quality from
    /// 0 to 100 and a timestamp of at least 0.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = s.split(',').collect();
        let [hex, quality, timestamp] = fields[..] else {
            return Err(ParseVpdqError::Fields(s.to_owned()));
        };
        let hash: PdqHash = hex
            .parse()
            .map_err(|_| ParseVpdqError::Hash(s.to_owned()))?;
        let quality: u8 = quality
            .trim()
            .parse()
            .ok()
            .filter(|q| *q <= 100)
            .ok_or_else(|| ParseVpdqError::Quality(s.to_owned()))?;
        let timestamp: f64 = timestamp
            .trim()
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| ParseVpdqError::Timestamp(s.to_owned()))?;
        Ok(VpdqFeature {
            hash,
            quality,
            timestamp,
        })
    }
}

/// A whole vPDQ signal: the frames of one video, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vpdq(pub Vec<VpdqFeature>);

impl Vpdq {
    /// From hashed frames.
    pub fn from_frames(frames: &[VpdqFrame]) -> Vpdq {
        Vpdq(frames.iter().map(VpdqFrame::feature).collect())
    }
}

impl fmt::Display for Vpdq {
    /// python-threatexchange's `vpdq_to_json`: `json.dumps` of the list of
    /// strings, with its default `", "` separator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, feature) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "\"{feature}\"")?;
        }
        f.write_str("]")
    }
}

impl FromStr for Vpdq {
    type Err = ParseVpdqError;

    /// A JSON list of `"hex,quality,timestamp"` strings (any JSON
    /// whitespace between the items). The strings of a valid value hold no
    /// quotes or escapes, so none are accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let inner = s
            .trim()
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .ok_or(ParseVpdqError::List)?;
        let mut features = Vec::new();
        let mut rest = inner.trim_start();
        while !rest.is_empty() {
            let body = rest.strip_prefix('"').ok_or(ParseVpdqError::List)?;
            let end = body.find('"').ok_or(ParseVpdqError::List)?;
            let item = &body[..end];
            if item.contains('\\') {
                return Err(ParseVpdqError::List);
            }
            features.push(item.parse()?);
            rest = body[end + 1..].trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start();
                if rest.is_empty() {
                    return Err(ParseVpdqError::List);
                }
            } else if !rest.is_empty() {
                return Err(ParseVpdqError::List);
            }
        }
        Ok(Vpdq(features))
    }
}

/// Python's `format(x, ".3")` for a finite float: three significant
/// digits, fixed notation (with at least one decimal) when the exponent is
/// from -4 to 1, scientific (`1.5e+02`) otherwise, trailing zeros dropped.
pub fn python_format_3(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".to_owned()
        } else if x > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    // Rust's `{:e}` rounds correctly (half to even on the exact value), as
    // Python does.
    let sci = format!("{:.2e}", x);
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..2).contains(&exp) {
        // Fixed: place the point after `exp + 1` digits.
        let mut s = String::new();
        if exp < 0 {
            s.push_str("0.");
            for _ in 0..(-exp - 1) {
                s.push('0');
            }
            s.push_str(&digits);
        } else {
            let int_len = (exp + 1) as usize;
            s.push_str(&digits[..int_len]);
            s.push('.');
            s.push_str(&digits[int_len..]);
        }
        let trimmed = s.trim_end_matches('0');
        let out = if trimmed.ends_with('.') {
            format!("{trimmed}0")
        } else {
            trimmed.to_owned()
        };
        format!("{sign}{out}")
    } else {
        let digits = digits.trim_end_matches('0');
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.to_owned()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// The frames of one side prepared for matching: quality at least
/// `quality_threshold`, then each hash once, first occurrence first.
pub fn prepare(features: &[VpdqFeature], quality_threshold: u8) -> Vec<PdqHash> {
    let mut seen = std::collections::HashSet::new();
    features
        .iter()
        .filter(|f| f.quality >= quality_threshold)
        .filter(|f| seen.insert(f.hash))
        .map(|f| f.hash)
        .collect()
}

/// How much of two videos matches, in percent of each side's prepared
/// frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VpdqMatch {
    /// Share of the query's frames with a match in the other video.
    pub query_percent: f64,
    /// Share of the other video's frames with a match in the query.
    pub compared_percent: f64,
}

impl VpdqMatch {
    /// Whether both shares reach their thresholds (inclusive, like the
    /// reference's `>=`).
    pub fn is_match(&self, query_threshold: f64, compared_threshold: f64) -> bool {
        self.query_percent >= query_threshold && self.compared_percent >= compared_threshold
    }
}

/// The video-level match of `query` against `compared` with the reference's
/// quality and distance thresholds. `None` when either side has no frame
/// left after preparation (the reference refuses to index such a video).
pub fn compare(query: &[VpdqFeature], compared: &[VpdqFeature]) -> Option<VpdqMatch> {
    let q = prepare(query, QUALITY_THRESHOLD);
    let c = prepare(compared, QUALITY_THRESHOLD);
    if q.is_empty() || c.is_empty() {
        return None;
    }
    let near = |h: &PdqHash, others: &[PdqHash]| {
        others.iter().any(|o| h.distance(o) <= DISTANCE_THRESHOLD)
    };
    let q_hits = q.iter().filter(|h| near(h, &c)).count();
    let c_hits = c.iter().filter(|h| near(h, &q)).count();
    Some(VpdqMatch {
        query_percent: percent(q_hits, q.len()),
        compared_percent: percent(c_hits, c.len()),
    })
}

/// `hits * 100 / total` in `f64`, as Python computes it.
pub fn percent(hits: usize, total: usize) -> f64 {
    hits as f64 * 100.0 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "d3d8981ba52c59e79fb49295bed80905036b1dbe57b292c8ea0fb525fd2c420e";

    #[test]
    fn python_float_format() {
        let cases = [
            (0.0, "0.0"),
            (1.0, "1.0"),
            (0.0333333350718021, "0.0333"),
            (12.345, "12.3"),
            (99.95, "1e+02"),
            (100.0, "1e+02"),
            (150.0, "1.5e+02"),
            (1234.5, "1.23e+03"),
            (1e-5, "1e-05"),
            (1.125, "1.12"),
            (2.675, "2.67"),
            (0.5, "0.5"),
            (18.766666412353516, "18.8"),
            (1e-4, "0.0001"),
            (9.995, "9.99"),
        ];
        for (x, want) in cases {
            assert_eq!(python_format_3(x), want, "{x}");
        }
    }

    #[test]
    fn interval_and_timestamps_follow_the_reference() {
        assert_eq!(frame_interval(1.0, 30.0), 30);
        assert_eq!(frame_interval(0.0, 30.0), 1);
        assert_eq!(frame_interval(1.0, 0.5), 1);
        assert_eq!(frame_interval(1.0, 29.97), 29);
        assert_eq!(frame_interval(2.5, 24.0), 60);
        assert_eq!(format!("{:.3}", frame_timestamp(1, 30.0)), "0.033");
        assert_eq!(frame_timestamp(30, 30.0), 1.0);
    }

    #[test]
    fn luma_is_f32_arithmetic() {
        let mut out = Vec::new();
        luma_from_rgb8(&[255, 255, 255, 1, 2, 3, 0, 0, 0], &mut out);
        let want = |r: u8, g: u8, b: u8| {
            0.299f32 * f32::from(r) + 0.587f32 * f32::from(g) + 0.114f32 * f32::from(b)
        };
        assert_eq!(out, vec![want(255, 255, 255), want(1, 2, 3), 0.0]);
    }

    #[test]
    fn feature_text_round_trip() {
        let s = format!("{H},100,1.5e+02");
        let f: VpdqFeature = s.parse().unwrap();
        assert_eq!(f.timestamp, 150.0);
        assert_eq!(f.to_string(), s);
        for bad in [
            format!("{H},100"),
            format!("{H},101,0.0"),
            format!("{H},100,-1"),
            format!("{H},100,nan"),
            format!("{},100,0.0", &H[1..]),
            format!("{H},100,0.0,1"),
        ] {
            assert!(bad.parse::<VpdqFeature>().is_err(), "{bad}");
        }
    }

    #[test]
    fn list_round_trip_matches_json_dumps() {
        let text = format!("[\"{H},100,0.0\", \"{H},49,0.0333\"]");
        let v: Vpdq = text.parse().unwrap();
        assert_eq!(v.0.len(), 2);
        assert_eq!(v.0[1].quality, 49);
        assert_eq!(v.to_string(), text);
        assert_eq!("[]".parse::<Vpdq>().unwrap(), Vpdq::default());
        let compact: Vpdq = format!("[\"{H},100,0.0\",\"{H},100,1.0\"]")
            .parse()
            .unwrap();
        assert_eq!(compact.0.len(), 2);
        for bad in [
            "".to_owned(),
            "[".to_owned(),
            format!("[\"{H},100,0.0\",]"),
            format!("[\"{H},100,0.0\" \"{H},100,0.0\"]"),
            format!("[{H},100,0.0]"),
            "[\"a\\\"b\"]".to_owned(),
        ] {
            assert!(bad.parse::<Vpdq>().is_err(), "{bad}");
        }
    }

    #[test]
    fn compare_filters_dedupes_and_counts_both_sides() {
        let h: PdqHash = H.parse().unwrap();
        let mut far = h;
        for b in far.0.iter_mut() {
            *b = !*b;
        }
        let mut near = h;
        near.0[0] ^= 0x0f; // 4 bits away
        let f = |hash, quality| VpdqFeature {
            hash,
            quality,
            timestamp: 0.0,
        };
        // Query: h twice (counted once), far, and a low-quality near frame.
        let query = [f(h, 100), f(h, 100), f(far, 100), f(near, 10)];
        let compared = [f(near, 100)];
        let m = compare(&query, &compared).unwrap();
        assert_eq!(m.query_percent, 50.0);
        assert_eq!(m.compared_percent, 100.0);
        assert!(!m.is_match(QUERY_MATCH_THRESHOLD_PERCENT, 0.0));
        assert!(m.is_match(50.0, 100.0));
        assert_eq!(compare(&[f(h, 49)], &compared), None);
    }
}
