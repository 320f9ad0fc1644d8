//! The demo's content: pictures and pages generated from a seed. Bland by
//! construction (coloured shapes, sentences about gardens and timetables);
//! never real material.

use image::{ImageBuffer, Rgb};

use crate::rng::Rng;

const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;

/// A PNG of shapes on a gradient, the same bytes for the same seed.
pub fn picture(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let base = [
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.below(256) as u8,
    ];
    let mut img = ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        let t = (x + y) as f32 / (WIDTH + HEIGHT) as f32;
        Rgb([
            (base[0] as f32 * (1.0 - t) + 255.0 * t * 0.3) as u8,
            (base[1] as f32 * t + 40.0) as u8,
            base[2].wrapping_add((y / 8) as u8),
        ])
    });
    for _ in 0..(3 + rng.below(5)) {
        let colour = Rgb([
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ]);
        let cx = rng.below(WIDTH as usize) as i64;
        let cy = rng.below(HEIGHT as usize) as i64;
        let r = 10 + rng.below(60) as i64;
        let square = rng.chance(0.5);
        for y in (cy - r).max(0)..(cy + r).min(HEIGHT as i64) {
            for x in (cx - r).max(0)..(cx + r).min(WIDTH as i64) {
                let inside = square || (x - cx).pow(2) + (y - cy).pow(2) <= r * r;
                if inside {
                    img.put_pixel(x as u32, y as u32, colour);
                }
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding an in-memory RGB buffer as PNG cannot fail.
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

const SUBJECTS: [&str; 8] = [
    "The community garden",
    "The library reading group",
    "The Tuesday market",
    "The cycling club",
    "The choir",
    "The chess evening",
    "The repair café",
    "The bird-watching walk",
];
const VERBS: [&str; 6] = [
    "moves to",
    "meets again at",
    "is planned for",
    "returns to",
    "will gather at",
    "starts from",
];
const PLACES: [&str; 8] = [
    "the old station",
    "the town hall",
    "the east park",
    "the school gym",
    "the riverside",
    "the north square",
    "the museum café",
    "the harbour",
];

/// A short HTML page of bland sentences, the same for the same seed.
pub fn page(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut text = String::new();
    for _ in 0..(3 + rng.below(4)) {
        text.push_str(&format!(
            "{} {} {} at {}:{:02}. ",
            SUBJECTS[rng.below(SUBJECTS.len())],
            VERBS[rng.below(VERBS.len())],
            PLACES[rng.below(PLACES.len())],
            8 + rng.below(12),
            rng.below(4) * 15
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Notice {}</title></head>\
         <body><p>{}</p><p>Ref {:016x}</p></body></html>",
        seed % 10_000,
        text.trim_end(),
        seed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_deterministic_and_differs_by_seed() {
        assert_eq!(picture(5), picture(5));
        assert_ne!(picture(5), picture(6));
        assert_eq!(page(5), page(5));
        assert_ne!(page(5), page(6));
        assert!(picture(5).starts_with(b"\x89PNG"));
    }
}
