//! `ronda platform` and `ronda item`, as a user runs them: seeding the
//! starter directory twice, submitting a file, the same URL from another
//! organisation, and a CSV import with bad lines.

use std::process::Output;

use crate::{json_lines, ronda};

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn seed_add_deconflict_import_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let d = ["--data-dir", data.as_str()];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(d.iter())
            .map(|s| (*s).to_owned())
            .collect()
    };
    let run = |args: &[&str]| {
        let args = with(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ronda(&refs, b"")
    };

    // The starter directory, twice: the second run adds nothing.
    let out = run(&["platform", "seed"]);
    ok(&out);
    let first = json_lines(&out);
    let seeded = first[0]["added"].as_u64().unwrap();
    assert!(seeded >= 11, "{first:?}");
    let out = run(&["platform", "seed"]);
    ok(&out);
    assert_eq!(json_lines(&out)[0]["added"], 0);
    assert_eq!(json_lines(&out)[0]["existing"], seeded);
    let out = run(&["platform", "list"]);
    ok(&out);
    assert_eq!(json_lines(&out).len() as u64, seeded);
    let out = run(&[
        "platform",
        "add",
        "Board",
        "--kind",
        "forum",
        "--domain",
        "board.example.net",
        "--channel",
        "email",
        "--target",
        "abuse@board.example.net",
        "--removed-status",
        "404",
    ]);
    ok(&out);
    assert_eq!(json_lines(&out)[0]["kind"], "forum");
    let out = run(&["platform", "add", "Bad", "--kind", "newspaper"]);
    assert_eq!(out.status.code(), Some(2));

    ok(&run(&["admin", "org", "create", "Org A"]));
    ok(&run(&["admin", "org", "create", "Org B"]));
    ok(&run(&["item", "campaign", "create", "Day 1"]));

    // Org A submits a captured file.
    let url = "https://social.example/post/1";
    let out = run(&[
        "item",
        "add",
        url,
        "--file",
        "samples/bridge-512.jpg",
        "--note",
        "from the CLI",
        "--campaign",
        "Day 1",
        "--org",
        "Org A",
    ]);
    ok(&out);
    let a = &json_lines(&out)[0];
    assert_eq!(a["duplicate"], false);
    assert_eq!(a["platform"], "Example Social");
    assert_eq!(a["content_type"], "photo");
    assert_eq!(a["org"], "Org A");
    let sha = a["blob_sha256"].as_str().unwrap();
    assert!(
        dir.path()
            .join("data/blobs")
            .join(&sha[0..2])
            .join(&sha[2..4])
            .join(sha)
            .is_file()
    );

    // Org B reports the same URL: a duplicate, told who came first.
    let out = run(&[
        "item",
        "add",
        "https://SOCIAL.example/post/1",
        "--file",
        "samples/bridge-512.jpg",
        "--campaign",
        "Day 1",
        "--org",
        "Org B",
    ]);
    ok(&out);
    let b = &json_lines(&out)[0];
    assert_eq!(b["duplicate"], true);
    assert_eq!(b["duplicate_of"], a["id"]);
    assert_eq!(b["already_reported_by"][0]["org"], "Org A");

    // An unknown campaign is an error, not a silent new one.
    let out = run(&["item", "add", url, "--campaign", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nope"));

    // An import: bad lines are reported as FILE:LINE and the good kept.
    let text_file = dir.path().join("leaflet.txt");
    std::fs::write(&text_file, "A bland generated leaflet about nothing.\n").unwrap();
    let csv = dir.path().join("items.csv");
    std::fs::write(
        &csv,
        "url,file,note,campaign\n\
         https://paste.example.com/p/1,leaflet.txt,\"a note, quoted\",Day 1\n\
         ,leaflet.txt,no url,\n\
         https://paste.example.com/p/2,missing.txt,,\n\
         https://paste.example.com/p/3,,,No such day\n\
         https://files.example.org/f/9,leaflet.txt,,\n",
    )
    .unwrap();
    let csv = csv.display().to_string();
    let out = run(&["item", "import", &csv, "--org", "Org B"]);
    assert_eq!(out.status.code(), Some(2), "a bad line makes exit code 2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for n in [3, 4, 5] {
        assert!(
            stderr.contains(&format!("{csv}:{n}: ")),
            "line {n}: {stderr}"
        );
    }
    assert!(!stderr.contains(&format!("{csv}:2:")), "{stderr}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["content_type"], "text");
    assert_eq!(lines[0]["note"], "a note, quoted");
    assert_eq!(lines[0]["platform"], "Example Paste");
    // The same leaflet elsewhere: a new item with a content hint.
    assert_eq!(lines[1]["duplicate"], false);
    assert_eq!(lines[1]["platform"], "Example Files");
    assert_eq!(lines[1]["already_reported_by"][0]["reason"], "content");

    // Everything is listed; first reports only leave the duplicate out.
    let out = run(&["item", "list"]);
    ok(&out);
    assert_eq!(json_lines(&out).len(), 4);
    let out = run(&["item", "list", "--first-only", "--campaign", "Day 1"]);
    ok(&out);
    assert_eq!(json_lines(&out).len(), 2);
    let out = run(&["admin", "audit", "verify"]);
    ok(&out);
}
