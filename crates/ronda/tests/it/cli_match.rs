//! `ronda match` end to end: a bank file in ThreatExchange `local_file`
//! format, queries as files and as inline signals, and the exit codes.

use crate::{json_lines, ronda};

const BRIDGE_512_PDQ: &str = "d8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22";
/// `reg-test-input/dih/bridge-2-rotate-90.jpg`'s hash: the bridge turned.
const BRIDGE_ROTATED_PDQ: &str = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

/// A bland post long enough that changing its last word keeps the word
/// 5-shingle Jaccard similarity far above 0.8 (36 of 38 shingles shared).
const POST: &str = "Weekend market reopens on Saturday with fresh bread, local cheese and live music \
    for families in the old town square, where the bakers and farmers from the valley sell their \
    produce every week from spring to autumn and the band plays from";

fn bank() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    let text = format!(
        "# comment\n\
         pdq {BRIDGE_ROTATED_PDQ}\n\
         md5 0123456789abcdef0123456789abcdef\n\
         url https://example.org/market\n\
         raw_text {POST} nine\n\
         not_a_type value\n\
         pdq 1234\n"
    );
    std::io::Write::write_all(&mut f, text.as_bytes()).expect("write bank");
    f
}

#[test]
fn files_and_inline_signals_match_with_line_numbers() {
    let bank = bank();
    let bank_path = bank.path().display().to_string();
    // The last digit f -> e: one bit away.
    let near = format!("pdq:{}e", &BRIDGE_ROTATED_PDQ[..63]);
    let out = ronda(
        &[
            "match",
            "--bank",
            &bank_path,
            "--dihedral",
            "samples/bridge-512.jpg",
            &near,
            "url:http://www.example.org/market/?utm_source=flyer",
            &format!("text:{POST} ten"),
            "md5:0123456789ABCDEF0123456789ABCDEF",
        ],
        b"",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5);

    // The upright bridge matches the rotated one through a dihedral variant.
    let m = &lines[0]["matches"][0];
    assert_eq!(m["line"], 2);
    assert_eq!(m["signal_type"], "pdq");
    assert_ne!(m["variant"], "original");
    assert!(m["distance"].as_u64().is_some_and(|d| d <= 31), "{m}");
    assert_ne!(lines[0]["matches"][0]["value"], BRIDGE_512_PDQ);

    assert_eq!(lines[1]["matches"][0]["distance"], 1);
    assert_eq!(lines[2]["matches"][0]["line"], 4);
    assert_eq!(lines[3]["query"], "text:…", "text queries are not echoed");
    let t = &lines[3]["matches"][0];
    assert_eq!(t["line"], 5);
    assert!(
        t["similarity"]
            .as_f64()
            .is_some_and(|s| (0.8..1.0).contains(&s)),
        "{t}"
    );
    assert!(t.get("value").is_none(), "bank text is not echoed");
    assert_eq!(lines[4]["matches"][0]["line"], 3);

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":6: unknown signal type"), "{stderr}");
    assert!(stderr.contains(":7: expected 64 hex digits"), "{stderr}");
}

#[test]
fn exit_codes_say_matched_nothing_or_error() {
    let bank = bank();
    let bank_path = bank.path().display().to_string();
    let none = ronda(
        &[
            "match",
            "--bank",
            &bank_path,
            "md5:00000000000000000000000000000000",
        ],
        b"",
    );
    assert_eq!(none.status.code(), Some(1));
    assert_eq!(json_lines(&none)[0]["matches"], serde_json::json!([]));

    let bad = ronda(&["match", "--bank", &bank_path, "pdq:xyz"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(json_lines(&bad)[0]["error"].is_string());

    let no_bank = ronda(&["match", "--bank", "no/such/bank.txt", "md5:00"], b"");
    assert_eq!(no_bank.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_bank.stderr).contains("cannot read bank"));
}

#[test]
fn radius_is_inclusive() {
    let bank = bank();
    let bank_path = bank.path().display().to_string();
    // Flip exactly 3 bits of the banked hash.
    let mut h: Vec<char> = BRIDGE_ROTATED_PDQ.chars().collect();
    h[63] = 'e'; // f -> e: 1 bit
    h[62] = 'b'; // a -> b: 1 bit
    h[61] = '4'; // 5 -> 4: 1 bit
    let q = format!("pdq:{}", h.into_iter().collect::<String>());
    let at = ronda(&["match", "--bank", &bank_path, "--radius", "3", &q], b"");
    assert_eq!(at.status.code(), Some(0));
    let below = ronda(&["match", "--bank", &bank_path, "--radius", "2", &q], b"");
    assert_eq!(below.status.code(), Some(1));
}
