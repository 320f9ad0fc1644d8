//! Text signal speed per post, single thread, on posts shaped like those of
//! `../shared/bench/gen_text.py` (`cargo bench -p ronda-hash --bench text`):
//! normalisation, shingle hashing and the sketch apart, then whole
//! signatures from raw text. `ronda bench text` gives the end-to-end figure
//! against the reference tools.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ronda_hash::text::{MinHasher, normalize_into, shingle_hashes};

const ENGLISH: &str = "the a and of to in on for with at from by about after before today \
    tomorrow morning evening weekend week day year city town village street road market shop \
    school library park garden river lake beach mountain weather rain sun wind cloud coffee tea \
    bread rice soup fruit apple orange banana dinner lunch breakfast family friend neighbour";
const INDONESIAN: &str = "dan yang di ke dari untuk dengan ini itu pada akan sudah belum juga \
    tidak ada bisa hari pagi siang sore malam besok kemarin minggu bulan tahun kota desa jalan \
    pasar toko sekolah rumah kantor taman sungai danau pantai gunung cuaca hujan panas angin";
const ARABIC: &str = "اليوم غدا صباح مساء الأسبوع الشهر السنة المدينة القرية الشارع السوق \
    المتجر المدرسة المكتبة الحديقة النهر البحر الجبل الطقس المطر الشمس الرياح الغيوم القهوة \
    الشاي الخبز الأرز الحساء الفاكهة التفاح البرتقال العشاء الغداء الفطور العائلة الأصدقاء \
    صديق الجيران المعلم الطالب الأطفال الناس إلى هذه جدا";

/// Deterministic posts of about 70 words in sentences, with numbers,
/// hashtags and capitals, as the generator writes them.
fn posts(words: &str, n: usize, seed: u64) -> Vec<String> {
    let words: Vec<&str> = words.split_whitespace().collect();
    let mut state = seed;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    (0..n)
        .map(|_| {
            let mut post = String::new();
            for _ in 0..5 + next(4) {
                for w in 0..6 + next(9) {
                    if !post.is_empty() {
                        post.push(' ');
                    }
                    let r = next(100);
                    let word = words[next(words.len())];
                    if r < 4 {
                        post.push_str(&next(999).to_string());
                    } else if r < 6 {
                        post.push('#');
                        post.push_str(word);
                    } else if w == 0 && word.is_ascii() {
                        post.push_str(&word[..1].to_uppercase());
                        post.push_str(&word[1..]);
                    } else {
                        post.push_str(word);
                    }
                }
                post.push('.');
            }
            post
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let corpora = [
        ("english", posts(ENGLISH, 256, 1)),
        ("indonesian", posts(INDONESIAN, 256, 2)),
        ("arabic", posts(ARABIC, 256, 3)),
    ];
    let mut group = c.benchmark_group("text");
    for (name, texts) in &corpora {
        let (mut normalized, mut hashes) = (String::new(), Vec::new());
        group.bench_function(format!("normalize/{name}"), |b| {
            b.iter(|| {
                for t in texts {
                    normalize_into(black_box(t), &mut normalized);
                }
                normalized.len()
            })
        });
        let keys: Vec<String> = texts
            .iter()
            .map(|t| ronda_hash::text::normalize(t))
            .collect();
        group.bench_function(format!("shingle_hashes/{name}"), |b| {
            b.iter(|| {
                for k in &keys {
                    shingle_hashes(black_box(k), 5, &mut hashes);
                }
                hashes.len()
            })
        });
        let sets: Vec<Vec<u64>> = keys
            .iter()
            .map(|k| {
                let mut h = Vec::new();
                shingle_hashes(k, 5, &mut h);
                h
            })
            .collect();
        let mut hasher = MinHasher::new();
        group.bench_function(format!("sketch/{name}"), |b| {
            b.iter(|| {
                sets.iter()
                    .filter_map(|s| hasher.sketch(black_box(s)))
                    .count()
            })
        });
        group.bench_function(format!("signature/{name}"), |b| {
            b.iter(|| {
                texts
                    .iter()
                    .filter_map(|t| hasher.signature(black_box(t)))
                    .count()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
