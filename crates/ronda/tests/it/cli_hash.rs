//! `ronda hash` end to end.

use crate::{json_lines, ronda, shared_testdata};

/// `bridge-mods/square-512x512.jpg` in `../shared/testdata/pdq/expected.csv`.
const BRIDGE_512_PDQ: &str = "d8f8f0cec0f4a84f0637022a278f67f0b36e2ed596621e1d33e6339c4e9c9b22";

#[test]
fn hashes_the_samples_like_the_reference() {
    let out = ronda(&["hash", "--dihedral", "samples"], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let bridge = lines
        .iter()
        .find(|l| l["path"] == "samples/bridge-512.jpg")
        .expect("bridge line");
    assert_eq!(bridge["content_type"], "photo");
    assert_eq!(bridge["signals"]["pdq"], BRIDGE_512_PDQ);
    assert_eq!(bridge["pdq_quality"], 100);
    assert_eq!(bridge["width"], 512);
    assert_eq!(bridge["pdq_dihedral"]["original"], BRIDGE_512_PDQ);
    for key in [
        "rotate90",
        "rotate180",
        "rotate270",
        "flipx",
        "flipy",
        "flipplus1",
        "flipminus1",
    ] {
        let h = bridge["pdq_dihedral"][key].as_str().expect(key);
        assert_eq!(h.len(), 64);
    }
    assert_eq!(bridge["signals"]["md5"].as_str().map(str::len), Some(32));
    assert_eq!(bridge["signals"]["sha256"].as_str().map(str::len), Some(64));

    let post = lines
        .iter()
        .find(|l| l["path"] == "samples/post.txt")
        .expect("post line");
    assert_eq!(post["content_type"], "text");
    assert_eq!(
        post["signals"]["text_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert!(post["signals"]["text_minhash"].is_string());
    let urls: Vec<&str> = post["urls"]
        .as_array()
        .expect("urls")
        .iter()
        .filter_map(|u| u.as_str())
        .collect();
    assert!(
        urls.contains(&"https://example.org/market"),
        "defanged link with tracking parameter: {urls:?}"
    );
    // Directory walks are in name order, so output is deterministic.
    let paths: Vec<&str> = lines.iter().filter_map(|l| l["path"].as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[test]
fn broken_inputs_print_an_error_each_and_exit_2() {
    let dir = match shared_testdata() {
        Some(root) => root.join("bad"),
        None => crate::repo().join("crates/ronda-media/tests/data"),
    };
    let names = [
        "truncated.jpg",
        "empty.png",
        "text-named.jpg",
        "bomb-100k-square.png",
        "huge-dims.jpg",
    ];
    let paths: Vec<String> = names
        .iter()
        .map(|n| dir.join(n).display().to_string())
        .collect();
    let mut args = vec!["hash"];
    args.extend(paths.iter().map(String::as_str));
    args.push("no/such/file.jpg");
    let out = ronda(&args, b"");
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), names.len() + 1);
    let expect = [
        "truncated",
        "empty",
        "not an image",
        "over the limit",
        "over the limit",
        "cannot open",
    ];
    for (line, want) in lines.iter().zip(expect) {
        let err = line["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {line}"));
        assert!(err.contains(want), "{line}: expected {want:?}");
        assert!(line["path"].is_string());
    }
    // text-named.jpg is plain text, yet named .jpg: content decides, and text
    // would hash fine, so the line must come from the extension-free sniff.
    assert!(String::from_utf8_lossy(&out.stderr).is_empty() || !out.stderr.is_empty());
}

#[test]
fn text_url_and_stdin_inputs() {
    let out = ronda(
        &[
            "hash",
            "--text",
            "Hello   WORLD",
            "--text",
            "hello world!",
            "--url",
            "HTTP://WWW.Example.COM:80/a/./b/?utm_source=x&b=2&a=1#frag",
            "-",
        ],
        b"\x89PNG\r\n\x1a\nnot really a png",
    );
    assert_eq!(out.status.code(), Some(2), "stdin is a broken PNG");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0]["path"], "--text[0]",
        "texts are labelled, not echoed"
    );
    assert_eq!(
        lines[0]["signals"]["text_sha256"],
        lines[1]["signals"]["text_sha256"]
    );
    assert_eq!(
        lines[2]["signals"]["url"],
        "https://example.com/a/b?a=1&b=2"
    );
    assert_eq!(lines[2]["registrable_domain"], "example.com");
    assert_eq!(lines[3]["path"], "-");
    assert!(
        lines[3]["error"]
            .as_str()
            .is_some_and(|e| e.contains("png"))
    );
}

#[test]
fn nothing_to_hash_is_a_usage_error() {
    let out = ronda(&["hash"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to hash"));
}
