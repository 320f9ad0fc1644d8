//! The HMA-compatible routes, against `docs/hma-api.md`.

use axum::http::{Method, StatusCode};
use ronda_server::ServerConfig;
use ronda_store::Role;
use serde_json::{Value, json};

use crate::support::{BRIDGE, OTHER, SYNC_TIMEOUT, Server, assert_error, call, flip_bits};

/// Keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banks_contents_and_lookups() {
    let s = Server::start(ServerConfig::default()).await;
    let near = flip_bits(BRIDGE, 3);

    // Banks (§4).
    let r = s
        .post_json("/c/banks", Role::Analyst, &json!({ "name": "TEST_BANK" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({ "matching_enabled_ratio": 1.0, "name": "TEST_BANK" })
    );
    assert!(r.text.contains("1.0"), "the ratio is a float: {}", r.text);
    s.create_bank("OTHER_BANK").await;
    let r = s.get("/c/banks", Some(Role::Auditor)).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut banks = r.json().as_array().expect("an array").clone();
    banks.sort_by_key(|b| b["name"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        banks,
        vec![
            json!({ "matching_enabled_ratio": 1.0, "name": "OTHER_BANK" }),
            json!({ "matching_enabled_ratio": 1.0, "name": "TEST_BANK" }),
        ]
    );
    let r = s.get("/c/bank/TEST_BANK", Some(Role::Reviewer)).await;
    assert_eq!(
        r.json(),
        json!({ "matching_enabled_ratio": 1.0, "name": "TEST_BANK" })
    );
    assert_error(
        &s.get("/c/bank/NO_SUCH_BANK", Some(Role::Reviewer)).await,
        StatusCode::NOT_FOUND,
        "bank 'NO_SUCH_BANK' not found",
    );

    // Content from signals (§5.4).
    let r = s
        .post_json(
            "/c/bank/TEST_BANK/signal",
            Role::Analyst,
            &json!({ "pdq": BRIDGE, "note": "from the test" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(keys(&v), ["id", "signals"]);
    let id1 = v["id"].as_i64().expect("an integer id");
    assert_eq!(v["signals"], json!({ "pdq": BRIDGE }));
    let id2 = s.add_pdq("OTHER_BANK", &near).await;
    assert_ne!(id1, id2);

    // The index follows the store.
    let synced = eventually!(
        SYNC_TIMEOUT,
        s.raw_ids(BRIDGE).await.len() == 2
            && s.hma_lookup(BRIDGE, "").await.as_object().map(|m| m.len()) == Some(2)
    );
    assert!(synced.is_some(), "the index never saw the new content");

    // Raw lookup (§3.1).
    let mut expected = vec![id1, id2];
    expected.sort_unstable();
    assert_eq!(s.raw_ids(BRIDGE).await, expected);
    let r = s
        .get(
            &format!("/m/raw_lookup?signal_type=pdq&signal={BRIDGE}&include_distance=true"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut matches = r.json()["matches"].as_array().expect("an array").clone();
    matches.sort_by_key(|m| m["bank_content_id"].as_i64());
    let mut want = vec![
        json!({ "bank_content_id": id1, "distance": "0" }),
        json!({ "bank_content_id": id2, "distance": "3" }),
    ];
    want.sort_by_key(|m| m["bank_content_id"].as_i64());
    assert_eq!(matches, want, "distances are strings");
    let r = s
        .get(
            &format!("/m/raw_lookup?signal_type=pdq&signal={BRIDGE}&include_distance=false&banks=OTHER_BANK"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.json(), json!({ "matches": [id2] }));
    let r = s
        .get(
            &format!("/m/raw_lookup?signal_type=pdq&signal={OTHER}"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.json(), json!({ "matches": [] }));

    // Lookup grouped by bank (§3.2).
    assert_eq!(
        s.hma_lookup(BRIDGE, "").await,
        json!({
            "OTHER_BANK": [{ "bank_content_id": id2, "distance": "3" }],
            "TEST_BANK": [{ "bank_content_id": id1, "distance": "0" }],
        })
    );
    assert_eq!(
        s.hma_lookup(BRIDGE, "&banks=TEST_BANK").await,
        json!({ "TEST_BANK": [{ "bank_content_id": id1, "distance": "0" }] })
    );
    assert_eq!(s.hma_lookup(BRIDGE, "&banks=NO_SUCH_BANK").await, json!({}));
    assert_eq!(s.hma_lookup(OTHER, "").await, json!({}));

    // Content JSON (§5.1, §5.2).
    let path1 = format!("/c/bank/TEST_BANK/content/{id1}");
    let r = s
        .get(
            &format!("{path1}?include_signals=true"),
            Some(Role::Auditor),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({
            "bank": { "matching_enabled_ratio": 1.0, "name": "TEST_BANK" },
            "disable_until_ts": 1,
            "id": id1,
            "note": "from the test",
            "original_media_uri": null,
            "signals": { "pdq": BRIDGE },
        })
    );
    let r = s.get(&path1, Some(Role::Auditor)).await;
    assert!(
        r.json().get("signals").is_none(),
        "signals only on request: {}",
        r.text
    );
    let r = s
        .get(
            &format!("{path1}?include_signals=TRUE"),
            Some(Role::Auditor),
        )
        .await;
    assert!(
        r.json().get("signals").is_some(),
        "include_signals is case-insensitive"
    );

    // Content routes only see the bank named in the path (Ronda's rule).
    let foreign = format!("/c/bank/OTHER_BANK/content/{id1}");
    let missing = format!("content '{id1}' not found");
    assert_error(
        &s.get(&foreign, Some(Role::Auditor)).await,
        StatusCode::NOT_FOUND,
        &missing,
    );
    assert_error(
        &s.put_json(&foreign, Role::Analyst, &json!({ "disable_until_ts": 0 }))
            .await,
        StatusCode::NOT_FOUND,
        &missing,
    );
    let r = s.delete(&foreign, Some(Role::Analyst)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "deleted": 0 }));
    assert_eq!(
        s.get(&path1, Some(Role::Auditor)).await.status,
        StatusCode::OK
    );
    assert_error(
        &s.get("/c/bank/TEST_BANK/content/999999", Some(Role::Auditor))
            .await,
        StatusCode::NOT_FOUND,
        "content '999999' not found",
    );
    assert_error(
        &s.get(
            &format!("/c/bank/NO_SUCH_BANK/content/{id1}"),
            Some(Role::Auditor),
        )
        .await,
        StatusCode::NOT_FOUND,
        "bank 'NO_SUCH_BANK' not found",
    );

    // Disabling content (§5.5): gone from /m/lookup, still in raw_lookup.
    let r = s
        .put_json(&path1, Role::Analyst, &json!({ "disable_until_ts": 0 }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(
        keys(&v),
        [
            "bank",
            "collab_metadata",
            "disable_until_ts",
            "id",
            "note",
            "original_media_uri",
            "user_metadata"
        ]
    );
    assert_eq!(v["disable_until_ts"], 0);
    assert_eq!(v["id"], id1);
    let gone = eventually!(SYNC_TIMEOUT, {
        s.hma_lookup(BRIDGE, "").await.get("TEST_BANK").is_none()
    });
    assert!(gone.is_some(), "disabled content is still looked up");
    assert_eq!(
        s.hma_lookup(BRIDGE, "").await,
        json!({ "OTHER_BANK": [{ "bank_content_id": id2, "distance": "3" }] })
    );
    assert_eq!(
        s.raw_ids(BRIDGE).await,
        expected,
        "raw_lookup ignores content state"
    );
    let r = s.get(&path1, Some(Role::Auditor)).await;
    assert_eq!(r.json()["disable_until_ts"], 0);
    // Enabled again.
    let r = s
        .put_json(&path1, Role::Analyst, &json!({ "disable_until_ts": 1 }))
        .await;
    assert_eq!(r.json()["disable_until_ts"], 1);
    let back = eventually!(SYNC_TIMEOUT, {
        s.hma_lookup(BRIDGE, "").await.get("TEST_BANK").is_some()
    });
    assert!(back.is_some(), "re-enabled content is not looked up");
    // Disabled until a future time.
    let later = jiff::Timestamp::now().as_second() + 3600;
    let r = s
        .put_json(
            &path1,
            Role::Analyst,
            &json!({ "disable_until_ts": later.to_string() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["disable_until_ts"], later);
    let gone = eventually!(SYNC_TIMEOUT, {
        s.hma_lookup(BRIDGE, "").await.get("TEST_BANK").is_none()
    });
    assert!(
        gone.is_some(),
        "content disabled until later is still looked up"
    );
    // Bad values.
    for (body, message) in [
        (
            json!({ "disable_until_ts": -5 }),
            "disable_until_ts must be a non-negative integer",
        ),
        (
            json!({ "disable_until_ts": later + 6 * 365 * 86_400 }),
            "disable_until_ts must be less than 5 years in the future",
        ),
    ] {
        assert_error(
            &s.put_json(&path1, Role::Analyst, &body).await,
            StatusCode::BAD_REQUEST,
            message,
        );
    }
    let r = s
        .put_json(
            &path1,
            Role::Analyst,
            &json!({ "disable_until_ts": "soon" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.message();
    // The note: set, then cleared with "".
    let r = s
        .put_json(&path1, Role::Analyst, &json!({ "note": "second" }))
        .await;
    assert_eq!(r.json()["note"], "second");
    let r = s
        .put_json(&path1, Role::Analyst, &json!({ "note": "" }))
        .await;
    assert_eq!(r.json()["note"], Value::Null);
    let r = s.get(&path1, Some(Role::Auditor)).await;
    assert!(
        r.json().get("note").is_none(),
        "a cleared note is absent: {}",
        r.text
    );
    s.put_json(&path1, Role::Analyst, &json!({ "disable_until_ts": 1 }))
        .await;

    // Disabling a bank (§4.5): ratio 0, no lookups from it.
    let r = s
        .put_json(
            "/c/bank/OTHER_BANK",
            Role::Analyst,
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(keys(&v), ["matching_enabled_ratio", "name"]);
    assert_eq!(v["matching_enabled_ratio"].as_f64(), Some(0.0));
    assert_eq!(v["name"], "OTHER_BANK");
    let gone = eventually!(SYNC_TIMEOUT, {
        s.hma_lookup(BRIDGE, "").await.get("OTHER_BANK").is_none()
    });
    assert!(gone.is_some(), "a disabled bank still matches");
    for seed in 0..20 {
        let v = s.hma_lookup(BRIDGE, &format!("&seed={seed}")).await;
        assert!(v.get("OTHER_BANK").is_none(), "seed {seed}: {v}");
    }
    // GET ignores bypass_coinflip (only POST honours it).
    let v = s.hma_lookup(BRIDGE, "&bypass_coinflip=true").await;
    assert!(v.get("OTHER_BANK").is_none(), "{v}");
    assert_eq!(s.raw_ids(BRIDGE).await, expected);

    // Ratio 0.5: the seed decides, always the same way for one seed.
    let r = s
        .put_json(
            "/c/bank/OTHER_BANK",
            Role::Analyst,
            &json!({ "enabled_ratio": 0.5 }),
        )
        .await;
    assert_eq!(r.json()["matching_enabled_ratio"].as_f64(), Some(0.5));
    let seeds: Vec<String> = (0..40).map(|i| format!("seed-{i}")).collect();
    let picked = |v: &Value| v.get("OTHER_BANK").is_some();
    let some = eventually!(SYNC_TIMEOUT, {
        let mut any = false;
        for seed in &seeds {
            if picked(&s.hma_lookup(BRIDGE, &format!("&seed={seed}")).await) {
                any = true;
                break;
            }
        }
        any
    });
    assert!(some.is_some(), "no seed picks a bank of ratio 0.5");
    let mut outcomes = Vec::new();
    for seed in &seeds {
        let a = picked(&s.hma_lookup(BRIDGE, &format!("&seed={seed}")).await);
        let b = picked(&s.hma_lookup(BRIDGE, &format!("&seed={seed}")).await);
        assert_eq!(a, b, "seed {seed} decided two ways");
        outcomes.push(a);
    }
    assert!(
        outcomes.contains(&true) && outcomes.contains(&false),
        "{outcomes:?}"
    );

    // Deleting content (§5.6).
    let r = s.delete(&path1, Some(Role::Analyst)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "deleted": 1 }));
    let r = s.delete(&path1, Some(Role::Analyst)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "deleted": 0 }));
    assert_error(
        &s.get(&path1, Some(Role::Auditor)).await,
        StatusCode::NOT_FOUND,
        &missing,
    );
    assert_error(
        &s.delete(
            &format!("/c/bank/NO_SUCH_BANK/content/{id1}"),
            Some(Role::Analyst),
        )
        .await,
        StatusCode::NOT_FOUND,
        "bank 'NO_SUCH_BANK' not found",
    );
    let gone = eventually!(SYNC_TIMEOUT, s.raw_ids(BRIDGE).await == [id2]);
    assert!(gone.is_some(), "deleted content is still in the index");

    // Deleting banks (§4.6): always 200 Done.
    for _ in 0..2 {
        let r = s.delete("/c/bank/OTHER_BANK", Some(Role::Analyst)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json(), json!({ "message": "Done" }));
    }
    assert_eq!(
        s.get("/c/bank/OTHER_BANK", Some(Role::Auditor))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let gone = eventually!(SYNC_TIMEOUT, s.raw_ids(BRIDGE).await.is_empty());
    assert!(
        gone.is_some(),
        "a deleted bank's content is still in the index"
    );
    assert_error(
        &s.get(
            &format!("/c/bank/OTHER_BANK/content/{id2}"),
            Some(Role::Auditor),
        )
        .await,
        StatusCode::NOT_FOUND,
        "bank 'OTHER_BANK' not found",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_names_ratios_and_renames() {
    let s = Server::start(ServerConfig::default()).await;
    for bad in ["my_test_bank", "01_TEST_BANK", "TEST-BANK", "", "TEST BANK"] {
        assert_error(
            &s.post_json("/c/banks", Role::Analyst, &json!({ "name": bad }))
                .await,
            StatusCode::BAD_REQUEST,
            "Bank names must be UPPER_WITH_UNDERSCORE",
        );
    }
    s.create_bank("_UNDERSCORE_FIRST_1").await;
    s.create_bank("MY_TEST_BANK_01").await;
    assert_error(
        &s.post_json(
            "/c/banks",
            Role::Analyst,
            &json!({ "name": "MY_TEST_BANK_01" }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "Bank already exists",
    );
    // `name` missing: a validation error in the {"message"} shape.
    let r = s.post_json("/c/banks", Role::Analyst, &json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();

    // HMA's ratio rules (§4.3).
    let ratio = |v: Value| v["matching_enabled_ratio"].as_f64();
    let r = s
        .post_json(
            "/c/banks",
            Role::Analyst,
            &json!({ "name": "QUIRK", "enabled": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        ratio(r.json()),
        Some(1.0),
        "enabled_ratio defaults to 1.0 and wins"
    );
    let r = s
        .post_json(
            "/c/banks",
            Role::Analyst,
            &json!({ "name": "OFF", "enabled_ratio": null, "enabled": false }),
        )
        .await;
    assert_eq!(ratio(r.json()), Some(0.0));
    let r = s
        .post_json(
            "/c/banks",
            Role::Analyst,
            &json!({ "name": "QUARTER", "enabled_ratio": 0.25 }),
        )
        .await;
    assert_eq!(ratio(r.json()), Some(0.25));
    let r = s
        .post_json(
            "/c/banks",
            Role::Analyst,
            &json!({ "name": "TOO_MUCH", "enabled_ratio": 2.0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.message();

    // Updates (§4.5).
    let r = s
        .put_json(
            "/c/bank/QUARTER",
            Role::Analyst,
            &json!({ "enabled": true }),
        )
        .await;
    assert_eq!(ratio(r.json()), Some(1.0));
    let r = s
        .put_json(
            "/c/bank/QUARTER",
            Role::Analyst,
            &json!({ "enabled": false, "enabled_ratio": 0.5 }),
        )
        .await;
    assert_eq!(
        ratio(r.json()),
        Some(0.5),
        "enabled_ratio wins over enabled"
    );
    assert_error(
        &s.put_json(
            "/c/bank/NO_SUCH_BANK",
            Role::Analyst,
            &json!({ "enabled": true }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "Bank not found",
    );
    assert_error(
        &s.put_json(
            "/c/bank/QUARTER",
            Role::Analyst,
            &json!({ "name": "bad name" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Bank names must be UPPER_WITH_UNDERSCORE",
    );
    assert_error(
        &s.put_json(
            "/c/bank/QUARTER",
            Role::Analyst,
            &json!({ "name": "MY_TEST_BANK_01" }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "Bank name already exists",
    );
    let r = s
        .put_json(
            "/c/bank/QUARTER",
            Role::Analyst,
            &json!({ "name": "RENAMED" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({ "matching_enabled_ratio": 0.5, "name": "RENAMED" })
    );
    assert_eq!(
        s.get("/c/bank/QUARTER", Some(Role::Auditor)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/c/bank/RENAMED", Some(Role::Auditor)).await.status,
        StatusCode::OK
    );

    // Content added before a rename is grouped under the new name.
    let id = s.add_pdq("RENAMED", BRIDGE).await;
    s.put_json(
        "/c/bank/RENAMED",
        Role::Analyst,
        &json!({ "name": "RENAMED_AGAIN", "enabled_ratio": 1.0 }),
    )
    .await;
    let ok = eventually!(SYNC_TIMEOUT, {
        s.hma_lookup(BRIDGE, "").await
            == json!({ "RENAMED_AGAIN": [{ "bank_content_id": id, "distance": "0" }] })
    });
    assert!(ok.is_some(), "{}", s.hma_lookup(BRIDGE, "").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_signals_checks_its_input() {
    let s = Server::start(ServerConfig::default()).await;
    s.create_bank("SIGNALS").await;
    let path = "/c/bank/SIGNALS/signal";
    assert_error(
        &s.post_json(
            "/c/bank/NO_SUCH_BANK/signal",
            Role::Analyst,
            &json!({ "pdq": BRIDGE }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "bank 'NO_SUCH_BANK' not found",
    );
    assert_error(
        &s.post_json(path, Role::Analyst, &json!({})).await,
        StatusCode::BAD_REQUEST,
        "No signals given",
    );
    assert_error(
        &s.post_json(path, Role::Analyst, &json!({ "note": "only a note" }))
            .await,
        StatusCode::BAD_REQUEST,
        "No signals given",
    );
    assert_error(
        &s.post_json(path, Role::Analyst, &json!({ "banana": "x" }))
            .await,
        StatusCode::BAD_REQUEST,
        "No such signal type banana",
    );
    for bad in ["xyz", "", &BRIDGE.to_uppercase(), &format!(" {BRIDGE}")] {
        assert_error(
            &s.post_json(path, Role::Analyst, &json!({ "pdq": bad }))
                .await,
            StatusCode::BAD_REQUEST,
            "Invalid pdq signal: invalid PDQ hash",
        );
    }
    assert_error(
        &s.post_json(
            path,
            Role::Analyst,
            &json!({ "pdq": BRIDGE, "note": "n".repeat(256) }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "note must be at most 255 characters",
    );
    assert_error(
        &s.post_json(path, Role::Analyst, &json!({ "pdq": BRIDGE, "note": 7 }))
            .await,
        StatusCode::BAD_REQUEST,
        "note should be a string",
    );
    let r = call(
        s.req(Method::POST, path, Some(Role::Analyst))
            .header("content-type", "text/plain")
            .body("pdq please"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    r.message();

    // MD5s are trimmed and lower-cased; the answer holds the normal form.
    let md5 = "CAB08B36195EDB1A1231D2D09FA450E0";
    let r = s
        .post_json(
            path,
            Role::Analyst,
            &json!({ "video_md5": format!(" {md5} ") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["signals"],
        json!({ "video_md5": md5.to_lowercase() })
    );
    // Two signals, one content.
    let r = s
        .post_json(
            path,
            Role::Analyst,
            &json!({ "pdq": OTHER, "video_md5": "00000000000000000000000000000001" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["signals"],
        json!({ "pdq": OTHER, "video_md5": "00000000000000000000000000000001" })
    );
    // The same signal twice: two contents (HMA never deduplicates).
    let a = s.add_pdq("SIGNALS", BRIDGE).await;
    let b = s.add_pdq("SIGNALS", BRIDGE).await;
    assert_ne!(a, b);
    let both = eventually!(SYNC_TIMEOUT, s.raw_ids(BRIDGE).await.len() == 2);
    assert!(both.is_some());
    // video_md5 distances are "-".
    let r = s
        .get(
            &format!("/m/raw_lookup?signal_type=video_md5&signal={md5}&include_distance=true"),
            Some(Role::Platform),
        )
        .await;
    let m = r.json()["matches"].clone();
    assert_eq!(m.as_array().map(Vec::len), Some(1), "{m}");
    assert_eq!(m[0]["distance"], "-");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_check_their_input() {
    let s = Server::start(ServerConfig::default()).await;
    let sr = &s;
    let get = move |q: String| async move { sr.get(&q, Some(Role::Platform)).await };
    for route in ["/m/raw_lookup", "/m/lookup"] {
        assert_error(
            &get(format!("{route}?signal_type=pdq&signal=abc")).await,
            StatusCode::BAD_REQUEST,
            "invalid signal: invalid PDQ hash",
        );
        assert_error(
            &get(format!(
                "{route}?signal_type=pdq&signal={}",
                BRIDGE.to_uppercase()
            ))
            .await,
            StatusCode::BAD_REQUEST,
            "invalid signal: invalid PDQ hash",
        );
        assert_error(
            &get(format!("{route}?signal_type=banana&signal={BRIDGE}")).await,
            StatusCode::BAD_REQUEST,
            "No such SignalType 'banana'",
        );
        assert_error(
            &get(format!("{route}?signal_type=video_md5&signal=nope")).await,
            StatusCode::BAD_REQUEST,
            "invalid signal: 'nope' is not a valid MD5 hash",
        );
    }
    // raw_lookup: missing parameters and bad booleans are validation errors.
    let r = get("/m/raw_lookup".to_owned()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();
    let r = get(format!("/m/raw_lookup?signal={BRIDGE}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = get(format!(
        "/m/raw_lookup?signal_type=pdq&signal={BRIDGE}&include_distance=banana"
    ))
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();
    for yes in ["true", "1", "yes", "on", "t", "y", "True"] {
        let r = get(format!(
            "/m/raw_lookup?signal_type=pdq&signal={BRIDGE}&include_distance={yes}"
        ))
        .await;
        assert_eq!(r.status, StatusCode::OK, "{yes}: {}", r.text);
    }
    assert_error(
        &get("/m/lookup".to_owned()).await,
        StatusCode::BAD_REQUEST,
        "Either url or both signal and signal_type are required",
    );
    assert_error(
        &get(format!("/m/lookup?signal={BRIDGE}")).await,
        StatusCode::BAD_REQUEST,
        "Either url or both signal and signal_type are required",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_shapes_and_errors() {
    let s = Server::start(ServerConfig::default()).await;
    let a = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318";
    let b = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318";
    let sr = &s;
    let compare =
        move |body: Value| async move { sr.post_json("/m/compare", Role::Platform, &body).await };
    let r = compare(json!({ "pdq": [a, b] })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "pdq": [true, { "distance": 9 }] }));
    assert!(
        r.text.contains("\"distance\":9"),
        "a numeric distance: {}",
        r.text
    );
    let far = crate::support::distance(BRIDGE, OTHER);
    assert!(far > 31);
    let r = compare(json!({ "pdq": [BRIDGE, OTHER] })).await;
    assert_eq!(r.json(), json!({ "pdq": [false, { "distance": far }] }));
    let edge = flip_bits(BRIDGE, 31);
    assert_eq!(
        compare(json!({ "pdq": [BRIDGE, edge] })).await.json(),
        json!({ "pdq": [true, { "distance": 31 }] })
    );
    let over = flip_bits(BRIDGE, 32);
    assert_eq!(
        compare(json!({ "pdq": [BRIDGE, over] })).await.json(),
        json!({ "pdq": [false, { "distance": 32 }] })
    );
    assert_eq!(compare(json!({})).await.json(), json!({}));
    let md5 = "cab08b36195edb1a1231d2d09fa450e0";
    let r = compare(json!({ "video_md5": [md5, md5] })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({ "video_md5": [true, {}] }));

    for (body, message) in [
        (json!(["banana"]), "Request input was not a dict"),
        (
            json!({ "pdq": "x" }),
            "Comparison hashes for pdq was not a list",
        ),
        (
            json!({ "pdq": [a] }),
            "Comparison hash list length must be exactly 2",
        ),
        (
            json!({ "pdq": [a, b, a] }),
            "Comparison hash list length must be exactly 2",
        ),
        (json!({ "banana": [a, b] }), "No such SignalType 'banana'"),
        (
            json!({ "pdq": [a, "zz"] }),
            "Invalid pdq hash: invalid PDQ hash",
        ),
        (
            json!({ "pdq": [a, b], "banana": "x" }),
            "Comparison hashes for banana was not a list",
        ),
    ] {
        assert_error(
            &compare(body.clone()).await,
            StatusCode::BAD_REQUEST,
            message,
        );
    }
    let r = call(
        s.req(Method::POST, "/m/compare", Some(Role::Platform))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        r.message().starts_with("Failed to decode JSON object"),
        "{}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_status_shape() {
    let s = Server::start(ServerConfig::default()).await;
    let r = s.get("/m/index/status", Some(Role::Auditor)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    for t in ["pdq", "video_md5"] {
        assert_eq!(keys(&v[t]), ["built_to", "present", "size"], "{t}: {v}");
        assert_eq!(v[t]["present"], true);
        assert_eq!(v[t]["size"], 0);
        assert_eq!(v[t]["built_to"], -1);
    }
    s.create_bank("STATUS").await;
    s.add_pdq("STATUS", BRIDGE).await;
    s.add_pdq("STATUS", OTHER).await;
    let grown = eventually!(SYNC_TIMEOUT, {
        let r = s
            .get("/m/index/status?signal_type=pdq", Some(Role::Auditor))
            .await;
        r.json()["pdq"]["size"] == 2
    });
    assert!(grown.is_some());
    let v = s
        .get("/m/index/status?signal_type=pdq", Some(Role::Auditor))
        .await
        .json();
    assert_eq!(keys(&v), ["pdq"]);
    let built_to = v["pdq"]["built_to"].as_i64().expect("unix seconds");
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - 60..=now + 1).contains(&built_to),
        "built_to {built_to}, now {now}"
    );
    assert_error(
        &s.get("/m/index/status?signal_type=banana", Some(Role::Auditor))
            .await,
        StatusCode::BAD_REQUEST,
        "No such signal type 'banana'",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_routes_answer_plain_text() {
    let s = Server::start(ServerConfig::default()).await;
    for path in ["/status", "/status/live"] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text, "I-AM-ALIVE");
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/"))
        );
    }
}

/// Without `serve` nothing follows the store: the index is not loaded, so
/// readiness and lookups answer 503 until a sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_first_sync_the_index_is_not_ready() {
    use tower::ServiceExt;

    let dir = tempfile::tempdir().unwrap();
    let store = ronda_store::Store::open(None, dir.path()).await.unwrap();
    let tokens = crate::support::make_tokens(&store).await;
    let state = ronda_server::AppState::new(store.clone(), ServerConfig::default()).unwrap();
    let app = ronda_server::router(state.clone());
    let send = |path: String, role: Option<Role>| {
        let app = app.clone();
        let secret = role.map(|r| tokens[&r].1.clone());
        async move {
            let mut req = axum::http::Request::get(path);
            if let Some(s) = secret {
                req = req.header("authorization", format!("Bearer {s}"));
            }
            let resp = app
                .oneshot(req.body(axum::body::Body::empty()).unwrap())
                .await
                .unwrap();
            let status = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, String::from_utf8(bytes.to_vec()).unwrap())
        }
    };
    assert_eq!(
        send("/status".into(), None).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "INDEX-NOT-LOADED".to_owned()
        )
    );
    assert_eq!(
        send("/status/live".into(), None).await,
        (StatusCode::OK, "I-AM-ALIVE".to_owned())
    );
    let (status, body) = send(
        format!("/m/raw_lookup?signal_type=pdq&signal={BRIDGE}"),
        Some(Role::Platform),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "message": "index not yet ready" })
    );
    let (status, body) = send(
        format!("/m/lookup?signal_type=pdq&signal={BRIDGE}"),
        Some(Role::Platform),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, _) = send(
        format!("/api/v1/lookup?signal_type=pdq&signal={BRIDGE}"),
        Some(Role::Platform),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = send(
        "/m/index/status?signal_type=pdq".into(),
        Some(Role::Auditor),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "pdq": { "built_to": -1, "present": false, "size": 0 } })
    );

    state.matcher.sync(&store).await.unwrap();
    assert_eq!(
        send("/status".into(), None).await,
        (StatusCode::OK, "I-AM-ALIVE".to_owned())
    );
    let (status, body) = send(
        format!("/m/raw_lookup?signal_type=pdq&signal={BRIDGE}"),
        Some(Role::Platform),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"matches":[]}"#)
    );
}

/// Errors on the HMA routes are `{"message": ...}`, whatever failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hma_errors_are_json_messages() {
    let s = Server::start(ServerConfig::default()).await;
    s.create_bank("SHAPES").await;
    let checks: Vec<(Method, String, Option<&str>)> = vec![
        (Method::GET, "/c/bank/SHAPES/content/abc".into(), None),
        (Method::PUT, "/c/bank/SHAPES/content/abc".into(), Some("{}")),
        (
            Method::PUT,
            "/c/bank/SHAPES/content/1".into(),
            Some("not json"),
        ),
        (Method::POST, "/c/bank/SHAPES/content".into(), Some("{}")),
        (Method::POST, "/h/hash".into(), Some("{}")),
        (Method::POST, "/m/lookup".into(), Some("{}")),
        (Method::GET, "/h/hash".into(), None),
        (
            Method::GET,
            "/m/raw_lookup?include_distance=maybe".into(),
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in checks {
        let mut rb = s.req(method.clone(), &path, Some(Role::Admin));
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        let r = call(rb).await;
        if !r.status.is_client_error() || !r.is_message() {
            failures.push(format!("{method} {path}: {} {}", r.status, r.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// HMA answers `Invalid int: 'soon'` (Python's `repr`-free f-string of the
/// value as given).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_disable_until_ts_text_matches_hma() {
    let s = Server::start(ServerConfig::default()).await;
    s.create_bank("INTS").await;
    let id = s.add_pdq("INTS", BRIDGE).await;
    assert_error(
        &s.put_json(
            &format!("/c/bank/INTS/content/{id}"),
            Role::Analyst,
            &json!({ "disable_until_ts": "soon" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Invalid int: 'soon'",
    );
}
