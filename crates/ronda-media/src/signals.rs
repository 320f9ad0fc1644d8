//! All the signals of one byte string: the one place that turns captured
//! bytes into what Ronda matches on, for the CLI, the API and the workers.

use ronda_hash::pdq::{self, Pdq, PdqDihedral};
use ronda_hash::text::{self, TextSignals};
use ronda_hash::url::{CanonicalUrl, extract_urls};
use ronda_hash::{Md5Digest, Sha256Digest, digest};

use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::Path;

use crate::video::{self, VideoHash, VideoOptions};
use crate::{DecodeOptions, ImageFormat, Limits, MediaError, MediaKind, decode_image, sniff};

/// What to compute and under which limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashOptions {
    pub limits: Limits,
    pub decode: DecodeOptions,
    /// Also compute the 8 dihedral PDQ hashes of images.
    pub dihedral: bool,
}

/// What kind of content the bytes were judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    Photo,
    Video,
    Text,
    /// Anything else: only the byte digests apply.
    File,
}

impl ContentType {
    /// The name python-threatexchange gives the content type.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Photo => "photo",
            ContentType::Video => "video",
            ContentType::Text => "text",
            ContentType::File => "file",
        }
    }
}

impl ContentType {
    /// The content type of a sniffed kind.
    pub fn of(kind: MediaKind) -> ContentType {
        match kind {
            MediaKind::Image(_) => ContentType::Photo,
            MediaKind::Video => ContentType::Video,
            MediaKind::Text => ContentType::Text,
            MediaKind::Unknown => ContentType::File,
        }
    }

    /// What a file name's extension claims, if it claims anything.
    pub fn from_extension(ext: &str) -> Option<ContentType> {
        let ext = ext.to_ascii_lowercase();
        match ext.as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" | "png" | "gif" | "webp" | "bmp" | "tif" | "tiff" => {
                Some(ContentType::Photo)
            }
            "mp4" | "m4v" | "mov" | "mkv" | "webm" | "avi" | "flv" | "ts" => {
                Some(ContentType::Video)
            }
            "txt" => Some(ContentType::Text),
            _ => None,
        }
    }
}

/// The signals of an image.
#[derive(Debug, Clone)]
pub struct ImageSignals {
    pub format: ImageFormat,
    /// Dimensions of the pixels hashed (after EXIF orientation, if applied).
    pub width: usize,
    pub height: usize,
    pub pdq: Pdq,
    pub dihedral: Option<PdqDihedral>,
    pub exif_orientation: Option<u8>,
}

/// The signals of a text.
#[derive(Debug, Clone)]
pub struct TextContentSignals {
    pub signals: TextSignals,
    /// Canonical outlinks found in the text, in order, without repeats.
    pub urls: Vec<CanonicalUrl>,
}

/// Every signal of one byte string.
#[derive(Debug, Clone)]
pub struct ContentSignals {
    pub content_type: ContentType,
    pub md5: Md5Digest,
    pub sha256: Sha256Digest,
    pub image: Option<ImageSignals>,
    pub text: Option<TextContentSignals>,
    /// vPDQ of a video, from [`hash_video_file`] ([`hash_bytes`] leaves it
    /// out: decoding a video is a separate, longer step).
    pub video: Option<VideoHash>,
}

/// Computes every signal that applies to `bytes`, judged by their content:
/// images are decoded and PDQ-hashed, UTF-8 text gets the text signals and
/// its outlinks, everything gets MD5 and SHA-256.
///
/// `declared` is what the bytes claim to be (from a file name or a MIME
/// type): content that contradicts it is an error, not silently hashed as
/// something else, since a `.jpg` holding text is broken or disguised.
///
/// Video gets its byte digests only here; frame hashing (vPDQ) is
/// [`hash_video_file`], a separate, longer step with its own limits.
pub fn hash_bytes(
    bytes: &[u8],
    declared: Option<ContentType>,
    options: &HashOptions,
) -> Result<ContentSignals, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    let kind = sniff(bytes);
    match (declared, kind) {
        (Some(ContentType::Photo), MediaKind::Image(_))
        | (Some(ContentType::Video), MediaKind::Video)
        | (Some(ContentType::Text), MediaKind::Text)
        | (Some(ContentType::File) | None, _) => {}
        (Some(ContentType::Photo), _) => return Err(MediaError::NotAnImage),
        (Some(declared), found) => {
            return Err(MediaError::Mismatch {
                declared: declared.as_str(),
                found: ContentType::of(found).as_str(),
            });
        }
    }
    let len = bytes.len() as u64;
    if len > options.limits.max_bytes {
        return Err(MediaError::TooManyBytes {
            bytes: len,
            max: options.limits.max_bytes,
        });
    }
    let (content_type, image, text) = match kind {
        MediaKind::Image(_) => {
            let decoded = decode_image(bytes, &options.limits, &options.decode)?;
            let img = &decoded.image;
            let (pdq, dihedral) = if options.dihedral {
                let d = pdq::hash_rgb8_dihedral(&img.pixels, img.width, img.height)
                    .map_err(|e| pdq_error(decoded.format, e))?;
                let p = Pdq {
                    hash: d.original,
                    quality: d.quality,
                };
                (p, Some(d))
            } else {
                let p = pdq::hash_rgb8(&img.pixels, img.width, img.height)
                    .map_err(|e| pdq_error(decoded.format, e))?;
                (p, None)
            };
            let signals = ImageSignals {
                format: decoded.format,
                width: img.width,
                height: img.height,
                pdq,
                dihedral,
                exif_orientation: decoded.exif_orientation,
            };
            (ContentType::Photo, Some(signals), None)
        }
        MediaKind::Text => {
            // `sniff` only says Text for valid UTF-8.
            let s = std::str::from_utf8(bytes).map_err(|_| MediaError::NotAnImage)?;
            (ContentType::Text, None, Some(text_signals(s)))
        }
        MediaKind::Video => (ContentType::Video, None, None),
        MediaKind::Unknown => (ContentType::File, None, None),
    };
    let mut digester = digest::Digester::new();
    digester.update(bytes);
    let (md5, sha256) = digester.finish();
    Ok(ContentSignals {
        content_type,
        md5,
        sha256,
        image,
        text,
        video: None,
    })
}

/// Every signal of the video file at `path`: MD5 and SHA-256 of its bytes
/// (python-threatexchange's `video_md5` is the MD5) and vPDQ, under
/// `options.limits`. The bytes must look like a video container (MP4/MOV,
/// Matroska/WebM, AVI, FLV, MPEG-TS) before FFmpeg sees them.
///
/// Blocks for as long as decoding takes; async callers run it with
/// `tokio::task::spawn_blocking`, or call
/// [`crate::video::hash_video_file_with_progress`] there for progress.
pub fn hash_video_file(path: &Path, options: &VideoOptions) -> Result<ContentSignals, MediaError> {
    hash_video_file_with_progress(path, options, &mut |_| ControlFlow::Continue(()))
}

/// [`hash_video_file`] with progress reports (see
/// [`crate::video::hash_video_file_with_progress`]).
pub fn hash_video_file_with_progress(
    path: &Path,
    options: &VideoOptions,
    progress: &mut dyn FnMut(&video::Progress) -> ControlFlow<()>,
) -> Result<ContentSignals, MediaError> {
    let io = |e: std::io::Error| MediaError::VideoIo(e.to_string());
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(MediaError::Empty);
    }
    if len > options.limits.max_bytes {
        return Err(MediaError::VideoLimit {
            what: "file size (bytes)",
            value: len.to_string(),
            max: options.limits.max_bytes.to_string(),
        });
    }
    let mut digester = digest::Digester::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        if head.len() < 512 {
            let take = n.min(512 - head.len());
            head.extend_from_slice(&buf[..take]);
        }
        digester.update(&buf[..n]);
        read += n as u64;
        if read > options.limits.max_bytes {
            return Err(MediaError::VideoLimit {
                what: "file size (bytes)",
                value: read.to_string(),
                max: options.limits.max_bytes.to_string(),
            });
        }
    }
    if sniff(&head) != MediaKind::Video {
        return Err(MediaError::Mismatch {
            declared: ContentType::Video.as_str(),
            found: ContentType::of(sniff(&head)).as_str(),
        });
    }
    let (md5, sha256) = digester.finish();
    let hash = video::hash_video_file_with_progress(path, options, progress)?;
    Ok(ContentSignals {
        content_type: ContentType::Video,
        md5,
        sha256,
        image: None,
        text: None,
        video: Some(hash),
    })
}

/// The text signals of `s` and its outlinks.
pub fn text_signals(s: &str) -> TextContentSignals {
    let mut urls: Vec<CanonicalUrl> = Vec::new();
    for found in extract_urls(s) {
        if !urls.contains(&found.url) {
            urls.push(found.url);
        }
    }
    TextContentSignals {
        signals: text::text_signals(s),
        urls,
    }
}

fn pdq_error(format: ImageFormat, e: pdq::PdqError) -> MediaError {
    MediaError::Corrupt {
        format,
        reason: e.to_string(),
    }
}
