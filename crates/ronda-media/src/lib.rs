//! Decoding media under hard limits, into the pixels that signals are
//! computed from.
//!
//! Every decoder that Ronda runs on untrusted bytes lives here, behind one
//! rule: a bad, hostile or huge input gets an error that says what was wrong,
//! never a panic, an unbounded allocation or an unbounded wait.
//!
//! - [`decode_image`]: JPEG, PNG, WebP, GIF (first frame), BMP and TIFF into
//!   8-bit RGB, under [`Limits`] on file bytes, pixel count (checked from the
//!   header, before the decoder allocates) and wall time.
//! - [`sniff`]: what kind of media a byte string is, from its magic bytes.
//! - [`signals::hash_bytes`]: every signal of a byte string (PDQ, digests,
//!   text signals and outlinks), the entry point for callers.
//! - [`video`]: video frames through `ffmpeg` child processes under limits
//!   (bytes, duration, frame size and count, wall time), hashed with vPDQ;
//!   [`signals::hash_video_file`] adds the digests.
//!
//! The key decision: JPEG goes through libjpeg-turbo's decoder (as vendored
//! by `mozjpeg-sys`, built from source with its SIMD kernels), with the
//! settings Pillow uses (accurate integer IDCT, fancy upsampling). PDQ hashes
//! from the reference stack are computed on Pillow's pixels, and only that
//! decoder reproduces them bit for bit; the pure-Rust JPEG decoders differ by
//! up to 5 levels on a third of the pixels. Everything else goes through the
//! `image` crate, whose lossless decoders agree with Pillow exactly.

mod jpeg;
mod other;
pub mod signals;
pub mod video;

use std::time::{Duration, Instant};

/// Hard limits for one decode. The defaults suit images posted online.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: u64,
    /// Largest image accepted, in pixels (width × height), checked from the
    /// header before any pixel buffer is allocated.
    pub max_pixels: u64,
    /// Longest a decode may take.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_duration: Duration::from_secs(10),
        }
    }
}

/// Options that change which pixels come out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Rotate and flip the pixels as the EXIF orientation tag says. Off by
    /// default: the reference hashes the stored pixels.
    pub apply_exif_orientation: bool,
}

/// The image formats [`decode_image`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Gif => "gif",
            ImageFormat::Webp => "webp",
            ImageFormat::Bmp => "bmp",
            ImageFormat::Tiff => "tiff",
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of media a byte string holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image(ImageFormat),
    /// A container that usually holds video (MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS).
    Video,
    /// Valid UTF-8 without NUL bytes.
    Text,
    Unknown,
}

/// Classifies `bytes` by magic numbers, without decoding.
pub fn sniff(bytes: &[u8]) -> MediaKind {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        MediaKind::Image(ImageFormat::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        MediaKind::Image(ImageFormat::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        MediaKind::Image(ImageFormat::Gif)
    } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        MediaKind::Image(ImageFormat::Webp)
    } else if is_video_container(bytes) {
        MediaKind::Video
    } else if starts(b"BM") && bytes.len() >= 26 {
        MediaKind::Image(ImageFormat::Bmp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        MediaKind::Image(ImageFormat::Tiff)
    } else if !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        MediaKind::Text
    } else {
        MediaKind::Unknown
    }
}

/// MP4/MOV (`ftyp` box), Matroska/WebM, AVI, FLV or MPEG-TS (sync bytes 188 apart).
fn is_video_container(bytes: &[u8]) -> bool {
    (bytes.len() >= 12 && &bytes[4..8] == b"ftyp")
        || (bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"AVI ")
        || bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
        || bytes.starts_with(b"FLV")
        || (bytes.len() >= 189 && bytes[0] == 0x47 && bytes[188] == 0x47)
}

/// An 8-bit RGB image, rows top to bottom, 3 bytes a pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print pixels: they are content.
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

/// A decoded image and what was learnt on the way.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    pub image: RgbImage,
    pub format: ImageFormat,
    /// The EXIF orientation tag (1–8) when the file has one.
    pub exif_orientation: Option<u8>,
}

/// Why an input could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("empty input")]
    Empty,
    #[error("input is {bytes} bytes, over the limit of {max}")]
    TooManyBytes { bytes: u64, max: u64 },
    #[error("not an image (unrecognised format)")]
    NotAnImage,
    #[error("content is not what its name says: named as {declared}, but the bytes are {found}")]
    Mismatch {
        declared: &'static str,
        found: &'static str,
    },
    #[error("{format} image is {width}x{height} pixels, over the limit of {max} pixels")]
    TooManyPixels {
        format: ImageFormat,
        width: u64,
        height: u64,
        max: u64,
    },
    #[error("{format} image has zero width or height")]
    ZeroSize { format: ImageFormat },
    #[error("{format} decoding took longer than {}ms", .limit.as_millis())]
    Timeout {
        format: ImageFormat,
        limit: Duration,
    },
    #[error("corrupt or unsupported {format} data: {reason}")]
    Corrupt { format: ImageFormat, reason: String },
    #[error("cannot run {program}: {reason} (video needs FFmpeg: install the ffmpeg package)")]
    FfmpegUnavailable {
        program: &'static str,
        reason: String,
    },
    #[error("no video stream in the input")]
    NoVideoStream,
    #[error("corrupt or unsupported video: {reason}")]
    CorruptVideo { reason: String },
    #[error("video {what} is {value}, over the limit of {max}")]
    VideoLimit {
        what: &'static str,
        value: String,
        max: String,
    },
    #[error("video decoding took longer than {}s", .limit.as_secs_f64())]
    VideoTimeout { limit: Duration },
    #[error("video hashing cancelled")]
    Cancelled,
    #[error("cannot read video file: {0}")]
    VideoIo(String),
    #[error("invalid video option: {0}")]
    InvalidVideoOption(&'static str),
}

/// Decodes an image to 8-bit RGB under `limits`.
///
/// Greyscale, palette, 16-bit, alpha and CMYK images come out as their RGB
/// rendering, the way Pillow's `convert("RGB")` makes it: alpha is dropped
/// (not composited), 16-bit samples are scaled to 8 bits, CMYK uses Pillow's
/// formula. Animated GIF and WebP give their first frame.
pub fn decode_image(
    bytes: &[u8],
    limits: &Limits,
    options: &DecodeOptions,
) -> Result<DecodedImage, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            bytes: len,
            max: limits.max_bytes,
        });
    }
    let format = match sniff(bytes) {
        MediaKind::Image(format) => format,
        _ => return Err(MediaError::NotAnImage),
    };
    let deadline = Deadline::new(limits.max_duration);
    let mut decoded = match format {
        ImageFormat::Jpeg => jpeg::decode(bytes, limits, &deadline)?,
        _ => other::decode(bytes, format, limits, &deadline)?,
    };
    if let (true, Some(o)) = (options.apply_exif_orientation, decoded.exif_orientation) {
        decoded.image = orient(decoded.image, o);
    }
    Ok(decoded)
}

/// Checks the pixel limit from header dimensions, before allocation.
fn check_pixels(
    format: ImageFormat,
    width: u64,
    height: u64,
    limits: &Limits,
) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::ZeroSize { format });
    }
    if width.saturating_mul(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            format,
            width,
            height,
            max: limits.max_pixels,
        });
    }
    Ok(())
}

/// A wall-clock budget for one decode.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    start: Instant,
    limit: Duration,
}

impl Deadline {
    fn new(limit: Duration) -> Self {
        Deadline {
            start: Instant::now(),
            limit,
        }
    }

    fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.start.elapsed())
    }

    fn check(&self, format: ImageFormat) -> Result<(), MediaError> {
        if self.start.elapsed() > self.limit {
            Err(MediaError::Timeout {
                format,
                limit: self.limit,
            })
        } else {
            Ok(())
        }
    }
}

/// Applies EXIF orientation `o` (1–8) to `img`.
pub fn orient(img: RgbImage, o: u8) -> RgbImage {
    let (w, h) = (img.width, img.height);
    // Each orientation maps output (x, y) to a source pixel.
    let transpose = matches!(o, 5..=8);
    let (ow, oh) = if transpose { (h, w) } else { (w, h) };
    if !(2..=8).contains(&o) {
        return img;
    }
    let mut out = vec![0u8; img.pixels.len()];
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let s = 3 * (sy * w + sx);
            let d = 3 * (y * ow + x);
            out[d..d + 3].copy_from_slice(&img.pixels[s..s + 3]);
        }
    }
    RgbImage {
        width: ow,
        height: oh,
        pixels: out,
    }
}

/// The orientation value (1–8) from a TIFF-structured EXIF block.
fn exif_orientation(exif: &[u8]) -> Option<u8> {
    let o = image::metadata::Orientation::from_exif_chunk(exif)?;
    Some(o.to_exif())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize) -> RgbImage {
        let pixels = (0..w * h)
            .flat_map(|i| [(i % 251) as u8, (i / 251) as u8, 7])
            .collect();
        RgbImage {
            width: w,
            height: h,
            pixels,
        }
    }

    #[test]
    fn orientations_compose_like_the_spec() {
        let a = img(3, 2);
        assert_eq!(orient(a.clone(), 1), a);
        // Two half-turns, two mirror flips, and 6 then 8 are identities.
        assert_eq!(orient(orient(a.clone(), 3), 3), a);
        assert_eq!(orient(orient(a.clone(), 2), 2), a);
        assert_eq!(orient(orient(a.clone(), 4), 4), a);
        assert_eq!(orient(orient(a.clone(), 6), 8), a);
        assert_eq!(orient(orient(a.clone(), 5), 5), a);
        let r = orient(a.clone(), 6);
        assert_eq!((r.width, r.height), (2, 3));
        // Orientation 6: rotate 90° clockwise; the top-left output pixel is
        // the bottom-left source pixel.
        assert_eq!(r.pixels[..3], a.pixels[3 * 3..3 * 3 + 3]);
    }

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0rest"),
            MediaKind::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\nrest"),
            MediaKind::Image(ImageFormat::Png)
        );
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            MediaKind::Image(ImageFormat::Webp)
        );
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42rest"), MediaKind::Video);
        assert_eq!(sniff("plain words, ünïcode".as_bytes()), MediaKind::Text);
        assert_eq!(sniff(b"\0\x01\x02"), MediaKind::Unknown);
        assert_eq!(sniff(b""), MediaKind::Unknown);
    }

    #[test]
    fn limits_are_checked_before_decoding() {
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        let e = decode_image(b"\x89PNG\r\n\x1a\n", &limits, &DecodeOptions::default());
        assert!(matches!(
            e,
            Err(MediaError::TooManyBytes { bytes: 8, max: 4 })
        ));
        let e = decode_image(b"", &Limits::default(), &DecodeOptions::default());
        assert!(matches!(e, Err(MediaError::Empty)));
        let e = decode_image(b"hello", &Limits::default(), &DecodeOptions::default());
        assert!(matches!(e, Err(MediaError::NotAnImage)));
    }
}
