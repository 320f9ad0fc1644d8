//! ARCHITECTURE.md's invariants, checked by machine: the pure crates stay
//! pure.

use std::path::Path;

use crate::repo;

/// Paths whose appearance in a crate's source means it does I/O.
const IO_PATHS: &[&str] = &[
    "std::fs",
    "std::io::stdin",
    "std::io::stdout",
    "TcpStream",
    "TcpListener",
    "UdpSocket",
    "ToSocketAddrs",
    "std::env",
    "std::process",
    "Instant",
    "SystemTime",
    "std::thread",
    "tokio",
    "async fn",
    "sqlx",
    "axum",
    "reqwest",
];

fn rust_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names in a manifest's `[dependencies]` table.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("manifest");
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            deps.push(name.to_owned());
        }
    }
    deps
}

fn check_crate(name: &str, forbidden: &[&str], allowed_deps: &[&str], exempt_files: &[&str]) {
    let root = repo().join("crates").join(name);
    let mut files = Vec::new();
    rust_sources(&root.join("src"), &mut files);
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .expect("under crate")
            .display()
            .to_string();
        if exempt_files.iter().any(|e| rel.starts_with(e)) || file.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source");
        // Unit tests may time themselves or read fixtures; the library may not.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for word in forbidden {
            assert!(
                !text.contains(word),
                "{name}/{rel} mentions {word}, but {name} must do no I/O (ARCHITECTURE.md)"
            );
        }
    }
    for dep in dependencies(&root.join("Cargo.toml")) {
        assert!(
            allowed_deps.contains(&dep.as_str()),
            "{name} depends on {dep}, outside its allow-list; update this test and ARCHITECTURE.md if it is truly pure"
        );
    }
}

#[test]
fn pure_crates_do_no_io() {
    check_crate(
        "ronda-hash",
        IO_PATHS,
        &[
            "hex",
            "idna",
            "md-5",
            "psl",
            "serde",
            "sha2",
            "thiserror",
            "unicode-normalization",
            "url",
            "xxhash-rust",
        ],
        &[],
    );
    check_crate(
        "ronda-report",
        IO_PATHS,
        &["csv", "serde", "serde_json"],
        &[],
    );
    check_crate("ronda-compliance", IO_PATHS, &["serde", "serde_json"], &[]);
}

#[test]
fn index_crate_knows_no_sql_http_or_async() {
    // Snapshots are the index's one piece of file I/O and live in their own module.
    check_crate(
        "ronda-index",
        &[
            "tokio",
            "async fn",
            "sqlx",
            "axum",
            "reqwest",
            "TcpStream",
            "TcpListener",
            "UdpSocket",
        ],
        &[
            "ronda-hash",
            "thiserror",
            "rayon",
            "memmap2",
            "crc32fast",
            "xxhash-rust",
        ],
        &[],
    );
}
