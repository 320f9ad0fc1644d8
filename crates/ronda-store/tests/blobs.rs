use ronda_store::{BlobStore, StoreError};

const EXPECTED: &str = "36032695f65998377bc483ae97bf22062727cef3aedd1a4a52cbefaf77e08c3e";

#[test]
fn blobs_are_content_addressed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(dir.path()).unwrap();
    let digest = blobs.put(b"bland text").unwrap();
    // sha256("bland text"), from coreutils' sha256sum.
    assert_eq!(digest.to_string(), EXPECTED);
    assert_eq!(blobs.put(b"bland text").unwrap(), digest, "idempotent");
    assert_eq!(blobs.get(&digest).unwrap().unwrap(), b"bland text");
    assert!(blobs.contains(&digest));
    // No temporary files are left behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );

    // A damaged blob is an error, never silently wrong bytes.
    let hex = digest.to_string();
    let path = dir.path().join(&hex[0..2]).join(&hex[2..4]).join(&hex);
    std::fs::write(&path, b"tampered").unwrap();
    assert!(matches!(blobs.get(&digest), Err(StoreError::Corrupt(_))));

    let missing = blobs.put(b"other").unwrap();
    std::fs::remove_file(
        dir.path()
            .join(&missing.to_string()[0..2])
            .join(&missing.to_string()[2..4])
            .join(missing.to_string()),
    )
    .unwrap();
    assert!(blobs.get(&missing).unwrap().is_none());
}
