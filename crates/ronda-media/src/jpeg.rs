//! JPEG through libjpeg-turbo (vendored by `mozjpeg-sys`), with Pillow's
//! settings so the pixels match the reference stack's bit for bit.
//!
//! libjpeg reports fatal errors through a callback that must not return. The
//! callback here unwinds with [`std::panic::resume_unwind`] (which skips the
//! panic hook, so nothing is printed) and [`decode`] catches it with
//! [`std::panic::catch_unwind`], turning it into [`MediaError::Corrupt`].
//! The C code is built with unwind tables (`mozjpeg-sys`'s `unwinding`
//! feature), which makes unwinding through its frames sound.
//!
//! A truncated file is an error, as in Pillow: libjpeg would pad it with grey
//! and only warn, so the "premature end of data" warning is made fatal.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use mozjpeg::{ColorSpace, DctMethod, Decompress, Marker};
use mozjpeg_sys::{J_COLOR_SPACE, JWRN_JPEG_EOF, jpeg_common_struct, jpeg_error_mgr};

use crate::{
    Deadline, DecodedImage, ImageFormat, Limits, MediaError, RgbImage, check_pixels,
    exif_orientation,
};

const FORMAT: ImageFormat = ImageFormat::Jpeg;

/// The payload of an unwind started by libjpeg's error callbacks.
struct LibjpegFailure(String);

fn message(cinfo: &mut jpeg_common_struct) -> String {
    let mut buffer = [0u8; 80];
    // SAFETY: `cinfo.err` points at the error manager installed by
    // `error_manager`, whose `format_message` is libjpeg's own: it writes a
    // NUL-terminated string of at most JMSG_LENGTH_MAX (80) bytes into the
    // buffer. The binding declares the buffer `&[u8; 80]`, but C writes to
    // it, so the function is called through a pointer type that says so.
    unsafe {
        if let Some(format) = cinfo.err.as_ref().and_then(|e| e.format_message) {
            type Writer = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
            let format: Writer = std::mem::transmute(format);
            format(cinfo, buffer.as_mut_ptr());
        }
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).to_lowercase()
}

extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    let msg = message(cinfo);
    resume_unwind(Box::new(LibjpegFailure(msg)));
}

extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    // SAFETY: as in `message`, `cinfo.err` is our live error manager.
    let code = unsafe { cinfo.err.as_ref().map(|e| e.msg_code) };
    if level < 0 && code == Some(JWRN_JPEG_EOF as c_int) {
        resume_unwind(Box::new(LibjpegFailure(
            "premature end of data (truncated file)".to_owned(),
        )));
    }
    // Other warnings (stray bytes between markers and the like) are ignored,
    // as Pillow ignores them.
}

fn error_manager() -> jpeg_error_mgr {
    // SAFETY: `jpeg_error_mgr` is a plain C struct for which all-zeroes is a
    // valid value (null pointers and `None` callbacks), and `jpeg_std_error`
    // fills in every field before we override two callbacks.
    let mut err: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { mozjpeg_sys::jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(emit_message);
    err
}

/// Decodes a JPEG to RGB under `limits`.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<DecodedImage, MediaError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, limits, deadline))) {
        Ok(result) => result,
        Err(payload) => {
            let reason = match payload.downcast::<LibjpegFailure>() {
                Ok(failure) => failure.0,
                Err(_) => "decoder failed".to_owned(),
            };
            Err(MediaError::Corrupt {
                format: FORMAT,
                reason,
            })
        }
    }
}

fn corrupt(e: std::io::Error) -> MediaError {
    MediaError::Corrupt {
        format: FORMAT,
        reason: e.to_string(),
    }
}

fn decode_inner(
    bytes: &[u8],
    limits: &Limits,
    deadline: &Deadline,
) -> Result<DecodedImage, MediaError> {
    let mut dec = Decompress::builder()
        .with_err(error_manager())
        .with_markers(&[Marker::APP(1), Marker::APP(14)])
        .from_mem(bytes)
        .map_err(corrupt)?;
    let (width, height) = dec.size();
    check_pixels(FORMAT, width as u64, height as u64, limits)?;

    let mut exif = None;
    let mut adobe = false;
    for marker in dec.markers() {
        match marker.marker {
            Marker::APP(1) => {
                if let Some(tiff) = marker.data.strip_prefix(b"Exif\0\0") {
                    exif = exif.or_else(|| exif_orientation(tiff).filter(|&o| o != 1));
                }
            }
            Marker::APP(14) => adobe |= marker.data.starts_with(b"Adobe"),
            _ => {}
        }
    }

    // Pillow's settings, which are also libjpeg's defaults; set explicitly
    // because the pixels depend on them.
    dec.dct_method(DctMethod::IntegerSlow);
    dec.do_fancy_upsampling(true);
    let cmyk = matches!(
        dec.color_space(),
        J_COLOR_SPACE::JCS_CMYK | J_COLOR_SPACE::JCS_YCCK
    );
    let out_space: ColorSpace = if cmyk {
        J_COLOR_SPACE::JCS_CMYK
    } else {
        J_COLOR_SPACE::JCS_RGB
    };
    let mut started = dec.to_colorspace(out_space).map_err(corrupt)?;
    let channels = if cmyk { 4 } else { 3 };
    let row_bytes = width * channels;
    let mut buf = vec![0u8; row_bytes * height];
    // Read a band of rows at a time so that a slow decode notices its deadline.
    for band in buf.chunks_mut(row_bytes * 64) {
        deadline.check(FORMAT)?;
        started.read_scanlines_into(band).map_err(corrupt)?;
    }
    // Every row is in; what follows the last scan (trailing bytes, a missing
    // EOI) cannot change the pixels, and Pillow ignores it too.
    let _ = started.finish();

    let pixels = if cmyk { cmyk_to_rgb(&buf, adobe) } else { buf };
    Ok(DecodedImage {
        image: RgbImage {
            width,
            height,
            pixels,
        },
        format: FORMAT,
        exif_orientation: exif,
    })
}

/// Pillow's CMYK to RGB: `255 - k` scaled down by each ink. Adobe's
/// (Photoshop's) CMYK JPEGs store inverted samples, which Pillow undoes first.
fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let v = |i: usize| -> u32 {
            if inverted {
                255 - u32::from(px[i])
            } else {
                u32::from(px[i])
            }
        };
        let nk = 255 - v(3);
        for c in 0..3 {
            let t = v(c) * nk + 128;
            let muldiv255 = ((t >> 8) + t) >> 8;
            out.push(nk.saturating_sub(muldiv255) as u8);
        }
    }
    out
}
