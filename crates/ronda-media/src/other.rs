//! Every format but JPEG, through the `image` crate.
//!
//! The `image` decoders cannot be interrupted, so the decode runs on a
//! worker thread and the caller waits at most until the deadline. A decode
//! that overruns is abandoned: it still finishes in the background, but the
//! pixel limit (checked from the header before it starts) bounds its work.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::mpsc;

use image::{ImageDecoder, ImageReader};

use crate::{Deadline, DecodedImage, ImageFormat, Limits, MediaError, RgbImage, check_pixels};

fn image_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
    }
}

pub(crate) fn decode(
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
    deadline: &Deadline,
) -> Result<DecodedImage, MediaError> {
    let corrupt = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => MediaError::TooManyPixels {
            format,
            width: 0,
            height: 0,
            max: limits.max_pixels,
        },
        e => MediaError::Corrupt {
            format,
            reason: e.to_string(),
        },
    };
    // Header first: dimensions are checked before any pixel buffer exists.
    let reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    let (width, height) = reader.into_dimensions().map_err(corrupt)?;
    check_pixels(format, width.into(), height.into(), limits)?;

    let data: Arc<[u8]> = Arc::from(bytes);
    let max_alloc = limits.max_pixels.saturating_mul(8);
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("ronda-image-decode".into())
        .spawn(move || {
            let result = decode_blocking(&data, format, max_alloc);
            // The receiver is gone when the deadline passed; nothing to do.
            let _ = tx.send(result);
        })
        .map_err(|e| MediaError::Corrupt {
            format,
            reason: format!("cannot start decoder thread: {e}"),
        })?;
    let (image, exif_orientation) = match rx.recv_timeout(deadline.remaining()) {
        Ok(result) => result.map_err(corrupt)?,
        Err(_) => {
            return Err(MediaError::Timeout {
                format,
                limit: deadline.limit,
            });
        }
    };
    Ok(DecodedImage {
        image,
        format,
        exif_orientation,
    })
}

fn decode_blocking(
    bytes: &[u8],
    format: ImageFormat,
    max_alloc: u64,
) -> Result<(RgbImage, Option<u8>), image::ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder
        .orientation()
        .ok()
        .map(|o| o.to_exif())
        .filter(|&o| o != 1);
    let img = image::DynamicImage::from_decoder(decoder)?;
    let rgb = img.into_rgb8();
    let (w, h) = rgb.dimensions();
    Ok((
        RgbImage {
            width: w as usize,
            height: h as usize,
            pixels: rgb.into_raw(),
        },
        orientation,
    ))
}
