//! Multipart uploads: `/h/hash`, `/m/lookup`, `/c/bank/<name>/content`.

use axum::http::StatusCode;
use ronda_server::ServerConfig;
use ronda_store::Role;
use serde_json::json;

use crate::support::{
    SYNC_TIMEOUT, Server, assert_error, call, low_quality_png, sha256_hex, wee_expected, wee_png,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashing_an_upload() {
    let s = Server::start(ServerConfig::default()).await;
    let png = wee_png();
    let want = wee_expected();
    assert_eq!(want.quality, 100);

    let r = s
        .post_multipart(
            "/h/hash",
            Role::Platform,
            &[("photo", Some("wee.png"), &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "pdq": want.pdq }));

    // The file name and its type are ignored; only the field name counts.
    let r = s
        .post_multipart("/h/hash", Role::Platform, &[("photo", Some("x.mp4"), &png)])
        .await;
    assert_eq!(r.json(), json!({ "pdq": want.pdq }));

    // `types` selects the signal types.
    let r = s
        .post_multipart(
            "/h/hash?types=sha256,pdq",
            Role::Platform,
            &[("photo", Some("a"), &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({ "sha256": sha256_hex(&png), "pdq": want.pdq })
    );
    assert_error(
        &s.post_multipart(
            "/h/hash?types=banana",
            Role::Platform,
            &[("photo", Some("a"), &png)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "signal type 'banana' doesn't exist or is disabled",
    );
    assert_error(
        &s.post_multipart(
            "/h/hash?types=video_md5",
            Role::Platform,
            &[("photo", Some("a"), &png)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "signal type 'video_md5' doesn't exist or is disabled",
    );
    assert_error(
        &s.post_multipart(
            "/h/hash?types=,",
            Role::Platform,
            &[("photo", Some("a"), &png)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "empty signal type selection",
    );

    // A low-quality image: an empty PDQ, as HMA answers.
    let r = s
        .post_multipart(
            "/h/hash",
            Role::Platform,
            &[("photo", Some("small.png"), &low_quality_png())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "pdq": "" }));

    // The part errors of §2.2.
    assert_error(
        &s.post_multipart(
            "/h/hash",
            Role::Platform,
            &[("file", Some("wee.png"), &png)],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no such content_type: 'file'",
    );
    assert_error(
        &s.post_multipart(
            "/h/hash",
            Role::Platform,
            &[
                ("photo", Some("a.png"), &png),
                ("photo", Some("b.png"), &png),
            ],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Only one file allowed per request",
    );
    assert_error(
        &s.post_multipart(
            "/h/hash",
            Role::Platform,
            &[
                ("photo", Some("a.png"), &png),
                ("video", Some("b.mp4"), &png),
            ],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Only one file allowed per request",
    );
    assert_error(
        &s.post_multipart("/h/hash", Role::Platform, &[("note", None, b"just text")])
            .await,
        StatusCode::BAD_REQUEST,
        "Missing multipart/form-data file upload",
    );
    assert_error(
        &s.post_multipart("/h/hash", Role::Platform, &[]).await,
        StatusCode::BAD_REQUEST,
        "Missing multipart/form-data file upload",
    );
    // Not an image at all.
    let r = s
        .post_multipart(
            "/h/hash",
            Role::Platform,
            &[("photo", Some("a.png"), b"not an image")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.message();
    // Not multipart.
    let r = call(
        s.req(axum::http::Method::POST, "/h/hash", Some(Role::Platform))
            .header("content-type", "image/png")
            .body(png.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.message();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_and_looking_up_an_upload() {
    let s = Server::start(ServerConfig::default()).await;
    let png = wee_png();
    let want = wee_expected();
    s.create_bank("UPLOADS").await;

    // Before anything is banked: each signal type present, with no match.
    let r = s
        .post_multipart(
            "/m/lookup",
            Role::Platform,
            &[("photo", Some("wee.png"), &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "pdq": {} }));

    // Add content from an upload, with a note and metadata form fields.
    let metadata = json!({
        "content_id": "ext-1",
        "content_uri": "https://example.com/item/1",
        "json": { "source": "test" },
        "collab": "dropped",
    });
    let r = s
        .post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[
                ("photo", Some("wee.png"), &png),
                ("note", None, b"uploaded by the test"),
                ("metadata", None, metadata.to_string().as_bytes()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let id = v["id"].as_i64().expect("an id");
    assert_eq!(v["signals"], json!({ "pdq": want.pdq }));
    let r = s
        .get(
            &format!("/c/bank/UPLOADS/content/{id}?include_signals=true"),
            Some(Role::Auditor),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({
            "bank": { "matching_enabled_ratio": 1.0, "name": "UPLOADS" },
            "disable_until_ts": 1,
            "id": id,
            "metadata": {
                "collab": null,
                "content_id": "ext-1",
                "content_uri": "https://example.com/item/1",
                "json": { "source": "test" },
            },
            "note": "uploaded by the test",
            "original_media_uri": null,
            "signals": { "pdq": want.pdq },
        })
    );
    let r = s
        .get(
            &format!("/c/bank/UPLOADS/content/{id}?include_metadata=false"),
            Some(Role::Auditor),
        )
        .await;
    assert!(r.json().get("metadata").is_none(), "{}", r.text);

    // The same image uploaded to /m/lookup finds it.
    let want_lookup = json!({ "pdq": { "UPLOADS": [{ "bank_content_id": id, "distance": "0" }] } });
    let found = eventually!(SYNC_TIMEOUT, {
        let r = s
            .post_multipart(
                "/m/lookup",
                Role::Platform,
                &[("photo", Some("q.png"), &png)],
            )
            .await;
        r.json() == want_lookup
    });
    assert!(found.is_some(), "the upload was never found");
    let r = s
        .post_multipart(
            "/m/lookup?banks=ELSEWHERE",
            Role::Platform,
            &[("photo", Some("q.png"), &png)],
        )
        .await;
    assert_eq!(r.json(), json!({ "pdq": {} }));

    // bypass_coinflip: only the exact string `true` lets a ratio-0 bank match.
    s.put_json(
        "/c/bank/UPLOADS",
        Role::Analyst,
        &json!({ "enabled": false }),
    )
    .await;
    let off = eventually!(SYNC_TIMEOUT, {
        let r = s
            .post_multipart(
                "/m/lookup",
                Role::Platform,
                &[("photo", Some("q.png"), &png)],
            )
            .await;
        r.json() == json!({ "pdq": {} })
    });
    assert!(off.is_some());
    let r = s
        .post_multipart(
            "/m/lookup?bypass_coinflip=true",
            Role::Platform,
            &[("photo", Some("q.png"), &png)],
        )
        .await;
    assert_eq!(r.json(), want_lookup);
    let r = s
        .post_multipart(
            "/m/lookup?bypass_coinflip=1",
            Role::Platform,
            &[("photo", Some("q.png"), &png)],
        )
        .await;
    assert_eq!(r.json(), json!({ "pdq": {} }));

    // Errors of §5.3.
    assert_error(
        &s.post_multipart(
            "/c/bank/NO_SUCH_BANK/content",
            Role::Analyst,
            &[("photo", Some("a"), &png)],
        )
        .await,
        StatusCode::NOT_FOUND,
        "bank 'NO_SUCH_BANK' not found",
    );
    assert_error(
        &s.post_json(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &json!({ "note": "no media" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Neither `url` nor multipart file upload was received",
    );
    assert_error(
        &s.post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[("photo", Some("small.png"), &low_quality_png())],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Invalid pdq signal: invalid PDQ hash",
    );
    assert_error(
        &s.post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[("photo", Some("a"), &png), ("metadata", None, b"{not json")],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "metadata form field must be valid JSON",
    );
    assert_error(
        &s.post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[("photo", Some("a"), &png), ("metadata", None, b"[1, 2]")],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "metadata should be a json object",
    );
    let r = s
        .post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[
                ("photo", Some("a"), &png),
                ("metadata", None, br#"{"colour": "red"}"#),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.message().starts_with("Invalid metadata: "), "{}", r.text);
    let long = "n".repeat(256);
    assert_error(
        &s.post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[("photo", Some("a"), &png), ("note", None, long.as_bytes())],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "note must be at most 255 characters",
    );
    // The same media again: a second content.
    let r = s
        .post_multipart(
            "/c/bank/UPLOADS/content",
            Role::Analyst,
            &[("photo", Some("a"), &png)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_ne!(r.json()["id"].as_i64(), Some(id));
}

/// The native hashing route: the body is the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_hash_gives_dihedral_hashes() {
    let s = Server::start(ServerConfig::default()).await;
    let png = wee_png();
    let want = wee_expected();
    let r = call(
        s.req(
            axum::http::Method::POST,
            "/api/v1/hash",
            Some(Role::Platform),
        )
        .header("content-type", "application/octet-stream")
        .body(png.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["pdq_quality"], 100);
    assert_eq!(v["pdq_dihedral"], json!(want.dihedral));
    let signals = v["signals"].as_array().expect("signals");
    assert!(
        signals.contains(&json!({ "type": "pdq", "value": want.pdq })),
        "{v}"
    );
    assert!(
        signals.contains(&json!({ "type": "sha256", "value": sha256_hex(&png) })),
        "{v}"
    );
    let r = call(
        s.req(
            axum::http::Method::POST,
            "/api/v1/hash?content_type=banana",
            Some(Role::Platform),
        )
        .body(png),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "no such content_type: 'banana'",
    );
}
