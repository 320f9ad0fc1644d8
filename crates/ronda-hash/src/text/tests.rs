//! Tests for text normalisation and MinHash: tables of input and expected
//! key, one per transformation, in Arabic, Indonesian, English and Russian,
//! then properties and the signature's wire form.

use proptest::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::*;

#[track_caller]
fn check(table: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for &(input, expected) in table {
        let got = normalize(input);
        if got != expected {
            failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn whitespace_punctuation_and_case() {
    check(&[
        ("Hello,   World!", "hello world"),
        ("\t Rain\n\ntomorrow  \r\n", "rain tomorrow"),
        (
            "The weather today: sunny & warm.",
            "the weather today sunny warm",
        ),
        ("Score 2-1 (final)...", "score 2 1 final"),
        ("well-known e-mail", "well known e mail"),
        ("snake_case", "snake case"),
        ("3.14 and e.g. this", "3 14 and e g this"),
        ("tea\u{0007}time", "tea time"),
        ("", ""),
        ("  ...!!!  ", ""),
    ]);
}

#[test]
fn apostrophes_are_removed_not_separators() {
    check(&[
        ("don't stop", "dont stop"),
        ("it’s raining", "its raining"),
        ("'quoted'", "quoted"),
        // Indonesian writes Arabic loanwords with an apostrophe.
        ("Jum'at ini ke pasar", "jumat ini ke pasar"),
    ]);
}

#[test]
fn nfkc_compatibility_forms() {
    check(&[
        ("Ｆｏｏｔｂａｌｌ ２０２４", "football 2024"),
        ("ﬁsh ﬂour", "fish flour"),
        ("H₂O x²", "h2o x2"),
        ("caf\u{0065}\u{0301}", "cafe"),
        ("non\u{00A0}breaking\u{2003}space", "non breaking space"),
        // Arabic presentation forms: lam-alef ligature, isolated forms.
        ("\u{FEFB}", "لا"),
        ("\u{FE8D}\u{FEDF}\u{FEB4}\u{FEEE}\u{FEB3}", "السوس"),
    ]);
}

#[test]
fn full_case_folding() {
    check(&[
        ("Straße STRASSE strasse", "strasse strasse strasse"),
        ("GROẞE", "grosse"),
        ("İstanbul ISTANBUL", "istanbul istanbul"),
        // Final sigma and sigma fold together.
        ("ΟΔΟΣ Οδός", "οδοσ οδοσ"),
        // Iota subscript folds to iota, as full case folding does.
        ("ᾳ ΑΙ", "αι αι"),
        ("\u{1C80}\u{1C81}\u{1C82}", "вдо"),
        ("KELVIN \u{212A}", "kelvin k"),
    ]);
}

#[test]
fn case_fold_table_matches_full_case_folding() {
    // Every entry of the hand table, against CaseFolding.txt's C+F mapping.
    let cases = [
        ('ß', "ss"),
        ('ẞ', "ss"),
        ('ς', "σ"),
        ('\u{1D6D3}', "σ"), // mathematical bold small final sigma, via NFKC
        ('\u{1C83}', "с"),
        ('\u{1C84}', "т"),
        ('\u{1C85}', "т"),
        ('\u{1C86}', "ъ"),
        ('\u{1C87}', "ѣ"),
        ('\u{1C88}', "ꙋ"),
    ];
    for (c, folded) in cases {
        assert_eq!(normalize(&c.to_string()), folded, "{c:?}");
    }
}

#[test]
fn latin_and_greek_accents() {
    check(&[
        ("Café crème brûlée", "cafe creme brulee"),
        ("São Paulo, Zürich, Łódź", "sao paulo zurich łodz"),
        ("Ἀθῆναι ἄστυ", "αθηναι αστυ"),
        ("naïve résumé", "naive resume"),
    ]);
}

#[test]
fn invisible_characters() {
    check(&[
        ("foot\u{200B}ball", "football"),         // ZWSP
        ("foot\u{200C}ball", "football"),         // ZWNJ
        ("foot\u{200D}ball", "football"),         // ZWJ
        ("foot\u{2060}ball", "football"),         // WJ
        ("\u{FEFF}match", "match"),               // BOM
        ("bas\u{00AD}ket", "basket"),             // soft hyphen
        ("\u{200E}rain\u{200F}", "rain"),         // LRM, RLM
        ("\u{061C}سوق", "سوق"),                   // ALM
        ("\u{202E}park\u{202C}", "park"),         // RLO .. PDF
        ("\u{202A}lake\u{202B}", "lake"),         // LRE, RLE
        ("\u{2066}river\u{2069}", "river"),       // LRI .. PDI
        ("\u{2067}sea\u{2068}", "sea"),           // RLI, FSI
        ("tea\u{FE0F}", "tea"),                   // variation selector
        ("tea\u{E0067}\u{E007F}", "tea"),         // tags
        ("rain\u{034F}coat", "raincoat"),         // combining grapheme joiner
        ("ZERO\u{200B} WIDTH", "zero width"),     // next to a real space
        ("\u{200B}\u{200C}\u{200D}\u{FEFF}", ""), // nothing visible
    ]);
}

#[test]
fn urls_and_addresses_stay_whole() {
    check(&[
        (
            "Read https://Example.com/News/Today.html, then rest.",
            "read https://example.com/news/today.html then rest",
        ),
        ("(see www.example.org/a_b)", "see www.example.org/a_b"),
        (
            "visit example.co.id/pasar-baru today",
            "visit example.co.id/pasar-baru today",
        ),
        (
            "Mail anna.smith@example.com.",
            "mail anna.smith@example.com",
        ),
        ("http://localhost:8080/x?y=1", "http://localhost:8080/x?y=1"),
        ("link:https://example.net/a", "link https://example.net/a"),
        ("«http://example.com/»", "http://example.com/"),
        ("news.example.com", "news.example.com"),
        // Not URLs: no known suffix, or a bare scheme.
        ("done.Thenext", "done thenext"),
        ("http://", "http"),
    ]);
}

#[test]
fn hashtags_and_handles_stay_whole() {
    check(&[
        (
            "Great match! #Football @city_club",
            "great match #football @city_club",
        ),
        ("#LiburPanjang, #hari_ini!", "#liburpanjang #hari_ini"),
        ("C# and # alone", "c and alone"),
        ("cake#recipe", "cake #recipe"),
        ("#Café", "#cafe"),
    ]);
}

#[test]
fn pictographs_are_tokens() {
    check(&[
        ("Sunny day☀️!", "sunny day ☀"),
        ("👍🏽nice", "👍 nice"),
        ("⚽⚽", "⚽ ⚽"),
        ("1️⃣ first", "1 first"),
    ]);
}

#[test]
fn english_posts() {
    check(&[
        (
            "Farmers market OPEN this Saturday!!  Fresh bread, apples & honey :)",
            "farmers market open this saturday fresh bread apples honey",
        ),
        (
            "City FC won 2–1 last night; next game is on Sunday.",
            "city fc won 2 1 last night next game is on sunday",
        ),
    ]);
}

#[test]
fn indonesian_posts() {
    check(&[
        (
            "Besok pagi HUJAN di Jakarta, jangan lupa bawa payung!",
            "besok pagi hujan di jakarta jangan lupa bawa payung",
        ),
        (
            "Resep nasi goreng:\n1) nasi\n2) telur\n3) kecap #masak",
            "resep nasi goreng 1 nasi 2 telur 3 kecap #masak",
        ),
    ]);
}

#[test]
fn arabic_diacritics_and_tatweel() {
    check(&[
        ("الطَّقْسُ جَمِيلٌ اليَوْمَ", "الطقس جميل اليوم"), // harakat
        ("جمـــيل جداً", "جميل جدا"),              // tatweel, tanween
        ("هٰذا", "هذا"),                           // superscript alef
        ("كتاب\u{06D6}", "كتاب"),                 // Quranic annotation
        ("سوق\u{0610}", "سوق"),                   // Quranic sign
    ]);
}

#[test]
fn arabic_letter_variants() {
    check(&[
        ("أحمد إلى آخر ٱلكتاب", "احمد الي اخر الكتاب"), // alef forms, alef maqsura
        ("مدرسة جميلة", "مدرسه جميله"),                 // taa marbuta
        ("مستشفى", "مستشفي"),                           // alef maqsura
        ("سؤال مسائل", "سوال مسايل"),                   // hamza on waw, yeh
        ("کتاب فارسی", "كتاب فارسي"),                   // Persian keheh, yeh
        ("می\u{200C}خواهم", "ميخواهم"),                 // Persian ZWNJ
        ("الساعة ١٠:٣٠ و ۲۵", "الساعه 10 30 و 25"),     // digits
        ("مرحبا، كيف الحال؟", "مرحبا كيف الحال"),       // Arabic punctuation
    ]);
}

#[test]
fn arabic_post() {
    check(&[(
        "الطقسُ اليومَ مشمسٌ في المدينةِ، والحديقةُ مزدحمةٌ بالأطفالِ!",
        "الطقس اليوم مشمس في المدينه والحديقه مزدحمه بالاطفال",
    )]);
}

#[test]
fn russian_text_is_left_russian() {
    check(&[
        (
            "Сегодня в Москве солнечно и тепло.",
            "сегодня в москве солнечно и тепло",
        ),
        // "у" and "ее" are made only of letters with Latin twins; in Russian
        // text they must stay Cyrillic.
        ("Я видела её вчера у реки", "я видела ее вчера у реки"),
        ("Ура, у нас снег!", "ура у нас снег"),
        ("Мой дом, молоко́", "мой дом молоко"), // й kept, stress mark removed
        ("Київ", "київ"),
    ]);
    let key = normalize("Я видела её вчера у реки");
    assert!(
        key.chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
    );
}

#[test]
fn spoofed_latin_words_fold_to_latin() {
    check(&[
        // Cyrillic Н, е, о inside Latin words.
        ("Неllо wоrld", "hello world"),
        // A word entirely of Cyrillic look-alikes in an English post.
        ("Fresh сосоа at the market", "fresh cocoa at the market"),
        // Greek Η and ο.
        ("Ηοtel bοοking", "hotel booking"),
        // Capitals with Latin twins.
        ("ВАNК НОLIDАY", "bank holiday"),
        // Hashtags too.
        ("#fооtball", "#football"),
    ]);
}

#[test]
fn spoofed_cyrillic_words_fold_to_cyrillic() {
    check(&[
        // Latin p and e inside a Russian word.
        ("Пpивeт", "привет"),
        ("Сегодня хорошая пoгода", "сегодня хорошая погода"),
    ]);
}

#[test]
fn greek_text_is_left_greek() {
    check(&[("Καλημέρα κόσμε", "καλημερα κοσμε")]);
}

#[test]
fn case_and_whitespace_variants_give_one_key() {
    let posts = [
        "Besok pagi hujan di Jakarta, jangan lupa bawa payung!",
        "Farmers market open this Saturday: fresh bread and honey.",
        "Сегодня в Москве солнечно и тепло.",
        "Ο καιρός σήμερα είναι ζεστός",
        "Straße und Fußball am Sonntag",
    ];
    for p in posts {
        let k = normalize(p);
        assert_eq!(normalize(&p.to_uppercase()), k, "{p}");
        assert_eq!(normalize(&p.to_lowercase()), k, "{p}");
        let spaced = p.replace(' ', " \u{200B}\t \n");
        assert_eq!(normalize(&spaced), k, "{p}");
        assert_eq!(text_sha256(&spaced), text_sha256(p));
    }
}

#[test]
fn input_is_cut_at_the_limit() {
    let unit = "weather news é ";
    let long = unit.repeat(2 * MAX_INPUT_BYTES / unit.len());
    let cut = normalize(&long);
    let mut end = MAX_INPUT_BYTES;
    while !long.is_char_boundary(end) {
        end -= 1;
    }
    assert_eq!(cut, normalize(&long[..end]));
    assert!(cut.len() <= MAX_INPUT_BYTES);
    // The limit falls inside a two-byte character: no panic, no half char.
    let odd = format!("a{}", "é".repeat(MAX_INPUT_BYTES));
    assert!(normalize(&odd).len() <= MAX_INPUT_BYTES);
}

#[test]
fn text_sha256_is_of_the_key() {
    assert_eq!(
        text_sha256("Hello,  WORLD!"),
        crate::digest::sha256(b"hello world")
    );
    assert_eq!(text_sha256(""), crate::digest::sha256(b""));
}

#[test]
fn shingles_are_word_runs_joined_by_one_space() {
    let mut out = Vec::new();
    shingle_hashes("a b c d e f", 5, &mut out);
    assert_eq!(out, vec![xxh3_64(b"a b c d e"), xxh3_64(b"b c d e f")]);
    shingle_hashes("rain today", 5, &mut out);
    assert_eq!(out, vec![xxh3_64(b"rain today")]);
    shingle_hashes("", 5, &mut out);
    assert!(out.is_empty());
    shingle_hashes("x y z", 1, &mut out);
    assert_eq!(out, vec![xxh3_64(b"x"), xxh3_64(b"y"), xxh3_64(b"z")]);
    // Stray spaces (not normalised input) are skipped, never a panic.
    shingle_hashes(" a  b ", 2, &mut out);
    assert_eq!(out, vec![xxh3_64(b"a  b")]);
}

#[test]
fn signature_is_pinned() {
    // The algorithm is a stored, exchanged format: this must never change
    // without a new MINHASH_VERSION.
    let sig = MinHasher::new()
        .signature("The quick brown fox jumps over the lazy dog near the river bank")
        .expect("non-empty");
    assert_eq!(sig.len(), 128);
    let wire = sig.to_string();
    assert_eq!(&wire[..4], "mh1:");
    assert_eq!(
        crate::digest::sha256(wire.as_bytes()).to_string(),
        PINNED_SIGNATURE_SHA256
    );
    assert_eq!(MINHASH_VERSION, 1);
    assert_eq!(NORMALIZATION_VERSION, 1);
}

const PINNED_SIGNATURE_SHA256: &str =
    "16f997586d2fd935dba830b951f1c03c0e6ca871e8c8af51e490e14db06de17f";

#[test]
fn signature_wire_round_trip_and_errors() {
    let sig = MinHasher::new()
        .signature("sunny day at the beach")
        .expect("non-empty");
    let wire = sig.to_string();
    assert_eq!(wire.len(), 4 + 8 * 128);
    assert_eq!(wire.parse::<MinHashSignature>(), Ok(sig.clone()));
    let json = serde_json::to_string(&sig).expect("serialise");
    assert_eq!(
        serde_json::from_str::<MinHashSignature>(&json).expect("parse"),
        sig
    );

    assert!(matches!(
        "deadbeef".parse::<MinHashSignature>(),
        Err(TextError::SignaturePrefix { .. })
    ));
    assert!(matches!(
        "mh1:".parse::<MinHashSignature>(),
        Err(TextError::SignatureLength { got: 0, .. })
    ));
    assert!(matches!(
        "mh1:abc".parse::<MinHashSignature>(),
        Err(TextError::SignatureLength { got: 3, .. })
    ));
    assert_eq!(
        "mh1:0000000g".parse::<MinHashSignature>(),
        Err(TextError::NotHex(11))
    );
    // A multi-byte character must not panic.
    assert!("mh1:0000000é".parse::<MinHashSignature>().is_err());
    let too_long = format!("mh1:{}", "0".repeat(8 * (MAX_NUM_PERM + 1)));
    assert!(too_long.parse::<MinHashSignature>().is_err());
    assert_eq!(
        "mh1:0000002a00000001"
            .parse::<MinHashSignature>()
            .map(|s| s.values().to_vec()),
        Ok(vec![42, 1])
    );
}

#[test]
fn parameters_are_checked() {
    assert!(MinHasher::with_params(0, 5).is_err());
    assert!(MinHasher::with_params(MAX_NUM_PERM + 1, 5).is_err());
    assert!(MinHasher::with_params(64, 0).is_err());
    assert!(MinHasher::with_params(64, MAX_SHINGLE_WORDS + 1).is_err());
    let mut h = MinHasher::with_params(64, 3).expect("valid");
    assert_eq!(h.signature("one two three four").map(|s| s.len()), Some(64));
    assert!(MinHashSignature::from_values(Vec::new()).is_err());
}

#[test]
fn empty_text_has_no_signature() {
    let mut h = MinHasher::new();
    assert_eq!(h.signature(""), None);
    assert_eq!(h.signature(" \u{200B} !!! "), None);
    let s = text_signals("...");
    assert_eq!(s.minhash, None);
    assert_eq!(s.normalized_sha256, crate::digest::sha256(b""));
}

#[test]
fn near_duplicates_score_high_and_unrelated_low() {
    let base = "The city library opens a new reading room on Monday morning. \
        Children can join the story hour at ten and parents can borrow books \
        about cooking, gardening and travel. Coffee and tea are free for \
        visitors all week, and the garden cafe will sell fresh bread.";
    let variant = base
        .replace("Monday", "Tuesday")
        .replace("Coffee", "COFFEE")
        .replace(". ", ".\n\n");
    let unrelated = "Besok pagi hujan di Jakarta, jangan lupa bawa payung dan \
        jaket karena angin kencang diperkirakan sampai sore hari di pantai.";
    let mut h = MinHasher::new();
    let a = h.signature(base).expect("non-empty");
    let b = h.signature(&variant).expect("non-empty");
    let c = h.signature(unrelated).expect("non-empty");
    assert!(a.similarity(&b) > 0.7, "{}", a.similarity(&b));
    assert!(a.similarity(&c) < 0.1, "{}", a.similarity(&c));
    assert_eq!(a.similarity(&a), 1.0);
    // Case, spacing and invisible characters do not change the signature.
    let spoofed = base.to_uppercase().replace(' ', "  \u{200D}");
    assert_eq!(h.signature(&spoofed), Some(a));
}

/// A deterministic stream of 64-bit values for the estimator tests.
fn stream(seed: u64) -> impl Iterator<Item = u64> {
    let mut s = seed;
    std::iter::repeat_with(move || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

#[test]
fn similarity_estimates_jaccard_without_bias() {
    // (shared, only in a, only in b): Jaccard = shared / total.
    let shapes = [
        (50, 25, 25),
        (160, 20, 20),
        (2, 1, 1),
        (1, 0, 1),
        (600, 200, 200),
    ];
    let mut h = MinHasher::new();
    for (trial_seed, &(shared, only_a, only_b)) in (1u64..).zip(&shapes) {
        let jaccard = shared as f64 / (shared + only_a + only_b) as f64;
        let trials = 200;
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        let mut values = stream(trial_seed * 1_000_003);
        for _ in 0..trials {
            let common: Vec<u64> = values.by_ref().take(shared).collect();
            let mut a = common.clone();
            a.extend(values.by_ref().take(only_a));
            let mut b = common;
            b.extend(values.by_ref().take(only_b));
            let sa = h.sketch(&a).expect("non-empty");
            let sb = h.sketch(&b).expect("non-empty");
            let s = sa.similarity(&sb);
            sum += s;
            sum_sq += s * s;
        }
        let mean = sum / trials as f64;
        let var = sum_sq / trials as f64 - mean * mean;
        let binomial = jaccard * (1.0 - jaccard) / 128.0;
        assert!(
            (mean - jaccard).abs() < 0.015,
            "J = {jaccard}: mean estimate {mean}"
        );
        // Slots behave like independent trials: the spread is near the
        // binomial one (it would be far larger if slots were correlated).
        assert!(
            var <= 2.0 * binomial + 1e-9,
            "J = {jaccard}: variance {var}, binomial {binomial}"
        );
    }
}

#[test]
fn sketch_ignores_order_and_duplicates() {
    let mut h = MinHasher::new();
    let xs: Vec<u64> = stream(7).take(40).collect();
    let mut ys = xs.clone();
    ys.reverse();
    ys.extend_from_slice(&xs[..10]);
    assert_eq!(h.sketch(&xs), h.sketch(&ys));
    assert_eq!(h.sketch(&[]), None);
}

#[test]
fn similarity_of_different_lengths_is_zero() {
    let a = MinHashSignature::from_values(vec![1, 2, 3]).expect("valid");
    let b = MinHashSignature::from_values(vec![1, 2]).expect("valid");
    assert_eq!(a.similarity(&b), 0.0);
    assert_eq!(similarity(&[], &[]), 0.0);
    assert_eq!(similarity(&[1, 2, 3, 4], &[1, 9, 3, 9]), 0.5);
}

#[test]
fn signals_serialise_as_strings() {
    let s = text_signals("Fresh bread at the bakery");
    let json = serde_json::to_value(&s).expect("serialise");
    assert_eq!(
        json["normalized_sha256"],
        crate::digest::sha256(b"fresh bread at the bakery").to_string()
    );
    assert!(
        json["minhash"]
            .as_str()
            .is_some_and(|m| m.starts_with("mh1:"))
    );
    let back: TextSignals = serde_json::from_value(json).expect("parse");
    assert_eq!(back, s);
}

fn interesting_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a", "A", "é", "e\u{301}", "ß", "ς", "Σ", "İ", "ı", " ", "  ", "\n", ".", ",", "'", "#",
        "@", "_", "-", "/", ":", "http://", "www.", ".com", "x@y.com", "\u{200B}", "\u{200D}",
        "\u{202E}", "\u{FEFF}", "\u{00AD}", "а", "е", "о", "р", "с", "Н", "и", "й", "ё", "\u{301}",
        "ο", "α", "λ", "ا", "أ", "ة", "ى", "ـ", "\u{64E}", "\u{670}", "١", "ﻻ", "ی", "ک", "ᄀ", "ᅡ",
        "가", "👍", "🏽", "☀", "\u{FE0F}", "ﬁ", "Ｆ", "²", "\u{345}", "ᾳ", "\u{0007}", "\u{1C80}",
        "ẞ",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn ascii_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "B",
        "z9",
        " ",
        "  ",
        "\t",
        "\n",
        "\u{b}",
        "\u{7}",
        ".",
        ",",
        "'",
        "`",
        "#",
        "@",
        "_",
        "-",
        "/",
        ":",
        "?",
        "(",
        ")",
        "http://",
        "https://x.",
        "www.",
        "www",
        ".com",
        ".co.id",
        "example",
        "x@y.com",
        "@a_b",
        "#c_d",
        "e.g.",
        "3.14",
        "done.Then",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

/// Text with no Latin, Cyrillic or Greek letters beyond ASCII: the one-pass
/// path that Arabic posts take.
fn arabic_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "ا",
        "أ",
        "ة",
        "ى",
        "ـ",
        "\u{64E}",
        "\u{651}",
        "\u{670}",
        "١",
        "۲",
        "ﻻ",
        "ی",
        "ک",
        "،",
        "؟",
        " ",
        "\n",
        ".",
        ":",
        "#",
        "@",
        "_",
        "👍",
        "🏽",
        "\u{200C}",
        "\u{FEFF}",
        "a",
        "Z",
        "http://x.com/",
        "www.",
        ".com",
        "مثال.com",
        "'",
        "ᄀ",
        "ᅡ",
        "\u{0301}",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn ascii_fast_path_agrees_with_the_general_path(s in ascii_text()) {
        prop_assert_eq!(normalize(&s), super::normalize::normalize_general(&s));
    }

    #[test]
    fn one_pass_path_agrees_with_the_general_path(s in arabic_text()) {
        prop_assert_eq!(normalize(&s), super::normalize::normalize_general(&s));
    }

    #[test]
    fn all_paths_agree(s in interesting_text()) {
        prop_assert_eq!(normalize(&s), super::normalize::normalize_general(&s));
    }

    #[test]
    fn normalising_twice_changes_nothing(s in interesting_text()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once.clone());
    }

    #[test]
    fn keys_are_single_spaced(s in interesting_text()) {
        let k = normalize(&s);
        prop_assert!(!k.starts_with(' ') && !k.ends_with(' ') && !k.contains("  "));
    }

    #[test]
    fn any_input_is_safe(s in any::<String>()) {
        let k = normalize(&s);
        prop_assert_eq!(normalize(&k), k.clone());
        let mut h = MinHasher::new();
        prop_assert_eq!(h.signature(&s).is_some(), !k.is_empty());
    }

    #[test]
    fn shingles_match_a_plain_reference(
        tokens in prop::collection::vec("[a-zé#0-9]{1,13}", 0..40),
        k in 1usize..9,
    ) {
        let text = tokens.join(" ");
        let mut got = Vec::new();
        shingle_hashes(&text, k, &mut got);
        let want: Vec<u64> = if tokens.is_empty() {
            Vec::new()
        } else if tokens.len() < k {
            vec![xxh3_64(text.as_bytes())]
        } else {
            tokens.windows(k).map(|w| xxh3_64(w.join(" ").as_bytes())).collect()
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn signature_wire_form_round_trips(values in prop::collection::vec(any::<u32>(), 1..300)) {
        let sig = MinHashSignature::from_values(values).expect("valid length");
        prop_assert_eq!(sig.to_string().parse::<MinHashSignature>(), Ok(sig));
    }

    #[test]
    fn hashing_is_deterministic(s in interesting_text()) {
        let a = MinHasher::new().signature(&s);
        let mut reused = MinHasher::new();
        reused.signature("warm up the buffers with another post");
        prop_assert_eq!(reused.signature(&s), a);
    }
}

/// Text made of what the one-pass byte path knows: ASCII, the Arabic
/// letters, digits and punctuation it folds, tatweel.
fn plain_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "B",
        "z9",
        "Zz",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\u{b}",
        "\u{c}",
        "\u{7}",
        "\0",
        "\u{7f}",
        ". ",
        ",",
        "'",
        "`",
        "#",
        "@",
        "_",
        "-",
        "/",
        "?",
        "(",
        ")",
        "x.y",
        "@a_b",
        "#c_d",
        "done.",
        "a: ",
        "ا",
        "أ",
        "إ",
        "آ",
        "ؤ",
        "ئ",
        "ة",
        "ى",
        "ي",
        "ء",
        "ـ",
        "،",
        "؛",
        "؟",
        "٠",
        "٩",
        "الكتاب",
        "#سوق_",
        "@عن",
    ]);
    let piece = prop_oneof![
        8 => pieces.prop_map(String::from),
        1 => prop::char::range('\u{0621}', '\u{064A}').prop_map(String::from),
        1 => prop::char::range('\0', '\u{7F}').prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Plain text with one character or piece the one-pass path must leave to
/// the other paths somewhere in it: URLs, harakat, hamza above, ALM, ZWNJ,
/// no-break spaces, emoji, accents, Persian letters and digits, the rest of
/// U+0600–U+067F.
fn nearly_plain_text() -> impl Strategy<Value = String> {
    let odd = prop_oneof![
        prop::sample::select(vec![
            "x.y",
            "http://",
            "www.",
            ".com",
            "example.co.id",
            "x@y.com",
            "3.14",
            "\u{64E}",
            "\u{651}",
            "\u{653}",
            "\u{654}",
            "\u{670}",
            "\u{61C}",
            "\u{200C}",
            "\u{A0}",
            "\u{85}",
            "👍",
            "é",
            "ی",
            "ک",
            "۲",
            "ﻻ",
            "\u{600}",
            "\u{63B}",
            "\u{65F}",
            "\u{67F}",
        ])
        .prop_map(String::from),
        prop::char::range('\u{0600}', '\u{067F}').prop_map(String::from),
        any::<char>().prop_map(String::from),
    ];
    (plain_text(), odd, plain_text()).prop_map(|(a, b, c)| a + &b + &c)
}

#[test]
fn fast_path_takes_plain_posts() {
    use super::normalize::normalize_fast;
    let taken = [
        (
            "Today happy group news, small watch trip!",
            "today happy group news small watch trip",
        ),
        (
            "Don't miss the #Market_Day @Budi_99 .",
            "dont miss the #market_day @budi_99",
        ),
        ("Pasar   pagi\tramai sekali.\n", "pasar pagi ramai sekali"),
        (
            "مغلق #كبير التفاح، اليوم ١٢ الغيوم؟",
            "مغلق #كبير التفاح اليوم 12 الغيوم",
        ),
        ("الـــسوق مكتبة", "السوق مكتبه"),
        ("", ""),
        ("#", ""),
    ];
    for (input, expected) in taken {
        let general = super::normalize::normalize_general(input);
        match normalize_fast(input) {
            Some(fast) => {
                assert_eq!(fast, expected, "{input:?}");
                assert_eq!(fast, general, "{input:?}");
            }
            None => panic!("{input:?} was not taken"),
        }
    }
    for refused in [
        "visit example.com",
        "café",
        "ی",
        "a\u{A0}b",
        "x👍",
        "#👍",
        "مدرسةٍ",
    ] {
        assert_eq!(normalize_fast(refused), None, "{refused:?}");
    }
}

#[test]
fn fast_path_edge_cases_agree_with_the_general_path() {
    // Cases that broke deliberately wrong versions of the one-pass path.
    for input in [
        "@a_b",
        "#سوق_ ",
        "example.co.id ",
        "http://\u{200b}#",
        "http://x.y",
        "aـa",
        "@a_bـdone.",
        "؛اـء",
        "\u{64b}",
        "اـ ؛a",
        "اـ#سوق_",
        "#'a",
        "a#b#c",
        "x.'y",
        "x.' y",
        "٣٤#٥",
    ] {
        let general = super::normalize::normalize_general(input);
        if let Some(fast) = super::normalize::normalize_fast(input) {
            assert_eq!(fast, general, "{input:?}");
        }
        assert_eq!(normalize(input), general, "{input:?}");
    }
}

#[test]
fn plain_text_mostly_takes_the_fast_path() {
    // Otherwise the property tests below would compare little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = plain_text();
    let taken = (0..1000)
        .filter(|_| {
            let s = strategy.new_tree(&mut runner).expect("a value").current();
            super::normalize::normalize_fast(&s).is_some()
        })
        .count();
    eprintln!("one-pass path took {taken} of 1000");
    assert!(taken >= 300, "one-pass path took only {taken} of 1000");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn fast_path_agrees_with_the_general_path(s in plain_text()) {
        let general = super::normalize::normalize_general(&s);
        if let Some(fast) = super::normalize::normalize_fast(&s) {
            prop_assert_eq!(fast, general.clone());
        }
        prop_assert_eq!(normalize(&s), general);
    }

    #[test]
    fn fast_path_agrees_next_to_what_it_refuses(s in nearly_plain_text()) {
        let general = super::normalize::normalize_general(&s);
        if let Some(fast) = super::normalize::normalize_fast(&s) {
            prop_assert_eq!(fast, general.clone());
        }
        prop_assert_eq!(normalize(&s), general);
    }

    #[test]
    fn fast_path_agrees_on_any_text(s in any::<String>()) {
        let general = super::normalize::normalize_general(&s);
        if let Some(fast) = super::normalize::normalize_fast(&s) {
            prop_assert_eq!(fast, general.clone());
        }
        prop_assert_eq!(normalize(&s), general);
    }

    #[test]
    fn signatures_of_raw_text_agree_with_the_general_path(
        s in prop_oneof![plain_text(), nearly_plain_text()],
    ) {
        let mut h = MinHasher::new();
        let want = h.signature_of_normalized(&super::normalize::normalize_general(&s));
        prop_assert_eq!(h.signature(&s), want.clone());
        let signals = h.signals(&s);
        prop_assert_eq!(signals.minhash, want);
        prop_assert_eq!(signals.normalized_sha256, text_sha256(&s));
    }

    #[test]
    fn sketch_agrees_with_the_reference(
        n in 1usize..300,
        num_perm in prop::sample::select(vec![1usize, 2, 3, 7, 64, 127, 128, 129, 256]),
        seed in any::<u64>(),
    ) {
        let mut h = MinHasher::with_params(num_perm, 5).expect("valid parameters");
        // Few distinct values, repeated, as well as many.
        let distinct = 1 + (seed % n as u64) as usize;
        let pool: Vec<u64> = stream(seed).take(distinct).collect();
        let hashes: Vec<u64> = stream(seed ^ 1).take(n).map(|v| pool[(v % distinct as u64) as usize]).collect();
        let want = super::minhash::sketch_reference(h.seeds(), &hashes);
        prop_assert_eq!(h.sketch(&hashes).map(|s| s.values().to_vec()), want);
    }
}
