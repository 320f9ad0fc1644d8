//! PDQ hashing speed on decoded pixels, single thread, at the sizes the
//! reference timings were taken at (`cargo bench -p ronda-hash --bench pdq`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ronda_hash::pdq::Hasher;

/// A deterministic photo-like test card: gradients plus some texture, so
/// the median search does realistic work. Timing does not depend on content
/// otherwise.
fn pixels(width: usize, height: usize) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(width * height * 3);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 16) as usize;
            rgb.push(((x * 255 / width + noise) % 256) as u8);
            rgb.push(((y * 255 / height + noise) % 256) as u8);
            rgb.push((((x + y) * 3 + noise) % 256) as u8);
        }
    }
    rgb
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pdq");
    for (w, h) in [(512, 512), (1024, 768), (1600, 1004)] {
        let rgb = pixels(w, h);
        let mut hasher = Hasher::new();
        group.bench_function(format!("hash_rgb8/{w}x{h}"), |b| {
            b.iter(|| {
                hasher
                    .hash_rgb8(black_box(&rgb), w, h)
                    .expect("sized buffer")
            })
        });
        group.bench_function(format!("hash_rgb8_dihedral/{w}x{h}"), |b| {
            b.iter(|| {
                hasher
                    .hash_rgb8_dihedral(black_box(&rgb), w, h)
                    .expect("sized buffer")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
