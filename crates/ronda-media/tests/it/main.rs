//! Integration tests of ronda-media: decoded pixels against the reference
//! stack's, and every broken input against its expected error.

mod video;

use std::path::{Path, PathBuf};

use ronda_media::{DecodeOptions, Limits, MediaError, RgbImage, decode_image};

fn local(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `../shared/testdata` beside the checkout, when present (CI has it).
fn shared_testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    p.is_dir().then_some(p)
}

fn decode(path: &Path) -> Result<RgbImage, MediaError> {
    let bytes = std::fs::read(path).expect("test file readable");
    decode_image(&bytes, &Limits::default(), &DecodeOptions::default()).map(|d| d.image)
}

/// Asserts the pixels of `image` are exactly those of the lossless `decoded`.
fn assert_same_pixels(image: &Path, decoded: &Path) {
    let got = decode(image).unwrap_or_else(|e| panic!("{}: {e}", image.display()));
    let want = decode(decoded).unwrap_or_else(|e| panic!("{}: {e}", decoded.display()));
    assert_eq!(
        (got.width, got.height),
        (want.width, want.height),
        "{}",
        image.display()
    );
    let differing = got
        .pixels
        .iter()
        .zip(&want.pixels)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing,
        0,
        "{}: {differing} samples differ from Pillow's",
        image.display()
    );
}

#[test]
fn jpeg_pixels_match_pillow_libjpeg_turbo() {
    assert_same_pixels(&local("q0122.jpg"), &local("q0122.decoded.png"));
    assert_same_pixels(&local("wee.jpg"), &local("wee.decoded.png"));
}

#[test]
fn all_reference_decodes_match_when_shared_testdata_present() {
    let Some(root) = shared_testdata() else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let csv = std::fs::read_to_string(root.join("pdq/expected.csv")).expect("expected.csv");
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[1].is_empty() {
            continue;
        }
        let image = root.join("pdq").join(cols[0]);
        assert_same_pixels(&image, &root.join("pdq").join(cols[1]));
        checked += 1;
    }
    eprintln!("{checked} images decoded identically to Pillow");
    assert!(checked >= 25, "only {checked} reference decodes found");
}

fn bad_file(name: &str) -> PathBuf {
    match shared_testdata() {
        Some(root) => root.join("bad").join(name),
        None => local(name),
    }
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[test]
fn broken_files_fail_cleanly() {
    type Check = fn(&MediaError) -> bool;
    let cases: &[(&str, Check)] = &[
        (
            "truncated.jpg",
            |e| matches!(e, MediaError::Corrupt { reason, .. } if reason.contains("truncated")),
        ),
        ("empty.png", |e| matches!(e, MediaError::Empty)),
        ("text-named.jpg", |e| matches!(e, MediaError::NotAnImage)),
        ("bomb-100k-square.png", |e| {
            matches!(
                e,
                MediaError::TooManyPixels {
                    width: 100_000,
                    height: 100_000,
                    ..
                }
            )
        }),
        ("huge-dims.jpg", |e| {
            matches!(
                e,
                MediaError::TooManyPixels {
                    width: 65_500,
                    height: 65_500,
                    ..
                }
            )
        }),
    ];
    for (name, expected) in cases {
        let err = decode(&bad_file(name)).expect_err(name);
        assert!(expected(&err), "{name}: unexpected error {err:?}");
        // Messages are for people: lowercase, no trailing period.
        let msg = err.to_string();
        assert!(!msg.ends_with('.'), "{name}: {msg}");
    }
    if let Some(root) = shared_testdata() {
        let err = decode(&root.join("bad/bomb-20k-valid.png")).expect_err("bomb");
        assert!(
            matches!(
                err,
                MediaError::TooManyPixels {
                    width: 20_000,
                    height: 20_000,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let peak = peak_rss_mb().unwrap_or(0);
    assert!(peak < 300, "peak memory {peak} MB while refusing bombs");
}

#[test]
fn zero_time_budget_times_out() {
    let bytes = std::fs::read(local("q0122.jpg")).expect("jpeg");
    let limits = Limits {
        max_duration: std::time::Duration::ZERO,
        ..Limits::default()
    };
    let err = decode_image(&bytes, &limits, &DecodeOptions::default()).expect_err("timeout");
    assert!(matches!(err, MediaError::Timeout { .. }), "{err:?}");
}

#[test]
fn every_prefix_of_a_jpeg_fails_or_decodes_without_panicking() {
    let bytes = std::fs::read(local("wee.jpg")).expect("jpeg");
    for len in (0..bytes.len()).step_by(97) {
        let _ = decode_image(&bytes[..len], &Limits::default(), &DecodeOptions::default());
    }
}

#[test]
fn exif_orientation_is_applied_only_when_asked() {
    let Some(root) = shared_testdata() else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let dir = root.join("pdq/images/reg-test-input/exif-rotn");
    let hash = |n: u8, apply: bool| {
        let bytes = std::fs::read(dir.join(format!("exif-rotn-{n}.jpg"))).expect("photo");
        let options = DecodeOptions {
            apply_exif_orientation: apply,
        };
        let d = decode_image(&bytes, &Limits::default(), &options).expect("decodes");
        assert_eq!(
            d.exif_orientation,
            (n != 1).then_some(n),
            "tag of exif-rotn-{n}"
        );
        let img = d.image;
        let pdq = ronda_hash::pdq::hash_rgb8(&img.pixels, img.width, img.height).expect("pdq");
        (pdq.hash, (img.width, img.height))
    };
    // The four photos are different scenes; what must hold is that
    // orienting the pixels moves the hash to the matching dihedral variant of
    // the stored pixels' hash (orientation 3 turns 180°, 6 turns 90°
    // clockwise, 8 turns 90° counter-clockwise).
    use ronda_hash::pdq::Dihedral;
    let (_, dims) = hash(1, true);
    for (n, variant) in [
        (3, Dihedral::Rotate180),
        (6, Dihedral::Rotate270),
        (8, Dihedral::Rotate90),
    ] {
        let (oriented, oriented_dims) = hash(n, true);
        let bytes = std::fs::read(dir.join(format!("exif-rotn-{n}.jpg"))).expect("photo");
        let stored = decode_image(&bytes, &Limits::default(), &DecodeOptions::default())
            .expect("decodes")
            .image;
        let expected_dims = if n == 3 { dims } else { (dims.1, dims.0) };
        assert_eq!(oriented_dims, expected_dims, "exif-rotn-{n} oriented");
        let dihedral =
            ronda_hash::pdq::hash_rgb8_dihedral(&stored.pixels, stored.width, stored.height)
                .expect("pdq");
        let d = oriented.distance(&dihedral.get(variant));
        eprintln!("exif-rotn-{n}: oriented vs {variant:?} of stored: {d} bits");
        assert!(
            d <= 8,
            "exif-rotn-{n}: oriented is {d} bits from the {variant:?} variant"
        );
        assert!(
            oriented.distance(&dihedral.original) > 31,
            "exif-rotn-{n}: not oriented"
        );
    }
}

/// Every original image of the PDQ vectors, decoded by our own decoders and
/// hashed: the distance to the reference hash (computed on Pillow's pixels)
/// is reported for each, and must be within the PDQ authors' tolerance for
/// implementations that decode themselves (10 bits at quality >= 80).
#[test]
fn own_decoders_stay_within_tolerance_of_reference_hashes() {
    let Some(root) = shared_testdata() else {
        eprintln!("skipped: ../shared/testdata not found");
        return;
    };
    let csv = std::fs::read_to_string(root.join("pdq/expected.csv")).expect("expected.csv");
    let (mut exact, mut total) = (0, 0);
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (name, quality, want) = (cols[0], cols[4], cols[5]);
        let quality: u8 = quality.parse().expect("quality column");
        let img = decode(&root.join("pdq").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let pdq = ronda_hash::pdq::hash_rgb8(&img.pixels, img.width, img.height).expect("pdq");
        let want: ronda_hash::PdqHash = want.parse().expect("hex");
        let d = pdq.hash.distance(&want);
        eprintln!(
            "{name}: distance {d}, quality {} (reference {quality})",
            pdq.quality
        );
        if quality >= 80 {
            assert!(d <= 10, "{name}: {d} bits from the reference hash");
        }
        total += 1;
        exact += usize::from(d == 0);
    }
    eprintln!("{exact} of {total} originals hash exactly as the reference");
    assert!(total >= 49);
}

/// BMP and TIFF are lossless: re-encoding a reference image in them must give
/// back the same pixels, hence the same hash. GIF goes through a palette, so
/// only its decoding is checked.
#[test]
fn bmp_tiff_and_gif_decode() {
    let rgb = decode(&local("q0122.decoded.png")).expect("png");
    let buf = image::RgbImage::from_raw(rgb.width as u32, rgb.height as u32, rgb.pixels.clone())
        .expect("buffer");
    for format in [
        image::ImageFormat::Bmp,
        image::ImageFormat::Tiff,
        image::ImageFormat::Gif,
    ] {
        let mut bytes = std::io::Cursor::new(Vec::new());
        buf.write_to(&mut bytes, format).expect("encode");
        let got = decode_image(
            bytes.get_ref(),
            &Limits::default(),
            &DecodeOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!((got.image.width, got.image.height), (rgb.width, rgb.height));
        if format != image::ImageFormat::Gif {
            assert_eq!(got.image.pixels, rgb.pixels, "{format:?} is lossless");
        }
        // Truncated files of every format fail cleanly.
        let cut = &bytes.get_ref()[..bytes.get_ref().len() / 2];
        assert!(
            decode_image(cut, &Limits::default(), &DecodeOptions::default()).is_err(),
            "{format:?} truncated"
        );
    }
}
