//! The native API under `/api/v1`, the OpenAPI document and `/metrics`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use ronda_server::{ServerConfig, route_specs};
use ronda_store::Role;
use serde_json::{Value, json};

use crate::support::{
    BRIDGE, OTHER, SYNC_TIMEOUT, Server, assert_error, call, flip_bits, wee_expected,
};

async fn lookup(s: &Server, pdq: &str) -> Vec<Value> {
    let r = s
        .get(
            &format!("/api/v1/lookup?signal_type=pdq&signal={pdq}"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["matches"].as_array().expect("matches").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banks_entries_and_lookups() {
    let s = Server::start(ServerConfig::default()).await;
    let labels = json!({ "group": "example-group", "severity": 3, "tags": ["a", "b"] });
    let r = s
        .post_json(
            "/api/v1/banks",
            Role::Analyst,
            &json!({ "name": "native-bank", "labels": labels }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let bank = r.json();
    assert_eq!(bank["name"], "native-bank");
    assert_eq!(bank["labels"], labels);
    assert_eq!(bank["enabled"], true);
    assert_eq!(bank["entries"], 0);
    let r = s
        .post_json(
            "/api/v1/banks",
            Role::Analyst,
            &json!({ "name": "native-bank" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    r.message();
    let r = s
        .post_json(
            "/api/v1/banks",
            Role::Analyst,
            &json!({ "name": "bad", "labels": { "severity": 9 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    r.message();
    let r = s
        .post_json(
            "/api/v1/banks",
            Role::Analyst,
            &json!({ "name": "x", "colour": "red" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();

    // An entry, idempotent on external_id.
    let entry = json!({
        "external_id": "item-1",
        "signals": [{ "type": "pdq", "value": BRIDGE }],
        "labels": { "category": "test" },
        "note": "first",
    });
    let r = s
        .post_json("/api/v1/banks/native-bank/entries", Role::Analyst, &entry)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let e = r.json();
    let id = e["id"].as_i64().expect("an id");
    assert_eq!(e["bank"], "native-bank");
    assert_eq!(e["external_id"], "item-1");
    assert_eq!(e["signals"], json!([{ "type": "pdq", "value": BRIDGE }]));
    assert_eq!(e["active"], true);
    let r = s
        .post_json("/api/v1/banks/native-bank/entries", Role::Analyst, &entry)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["id"], id);
    let r = s
        .get("/api/v1/banks/native-bank", Some(Role::Auditor))
        .await;
    assert_eq!(r.json()["entries"], 1);
    let r = s
        .get("/api/v1/banks/native-bank/entries", Some(Role::Auditor))
        .await;
    let page = r.json();
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["entries"][0]["id"], id);
    let r = s
        .get(&format!("/api/v1/entries/{id}"), Some(Role::Reviewer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["note"], "first");
    assert_eq!(
        s.get("/api/v1/entries/999999", Some(Role::Reviewer))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Bad entries.
    for (body, status) in [
        (
            json!({ "signals": [{ "type": "pdq", "value": "xyz" }] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "signals": [{ "type": "banana", "value": "x" }] }),
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "signals": [] }), StatusCode::BAD_REQUEST),
        (
            json!({ "external_id": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = s
            .post_json("/api/v1/banks/native-bank/entries", Role::Analyst, &body)
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        r.message();
    }
    let r = s
        .post_json("/api/v1/banks/no-such-bank/entries", Role::Analyst, &entry)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    r.message();

    // Lookup with a numeric distance and the bank's labels.
    let synced = eventually!(SYNC_TIMEOUT, !lookup(&s, BRIDGE).await.is_empty());
    assert!(synced.is_some(), "the entry never reached the index");
    let near = flip_bits(BRIDGE, 5);
    let m = lookup(&s, &near).await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["entry_id"], id);
    assert_eq!(m[0]["distance"], 5);
    assert!(m[0]["distance"].is_u64(), "a number, not a string");
    assert_eq!(m[0]["bank"], "native-bank");
    assert_eq!(m[0]["signal_type"], "pdq");
    assert_eq!(m[0]["labels"], labels);
    assert!(lookup(&s, OTHER).await.is_empty());
    let r = s
        .get(
            &format!("/api/v1/lookup?signal_type=pdq&signal={near}&radius=4"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.json()["matches"], json!([]));
    let r = s
        .get(
            &format!("/api/v1/lookup?signal_type=pdq&signal={near}&radius=500"),
            Some(Role::Platform),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = s
        .get("/api/v1/lookup?signal_type=pdq", Some(Role::Platform))
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    r.message();

    // POST lookup with signals.
    let r = s
        .post_json(
            "/api/v1/lookup",
            Role::Platform,
            &json!({ "signals": [{ "type": "pdq", "value": near }, { "type": "pdq", "value": OTHER }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let m = r.json()["matches"].clone();
    assert_eq!(m.as_array().map(Vec::len), Some(1), "{m}");
    assert_eq!(m[0]["entry_id"], id);

    // Disabling the entry hides it.
    let r = s
        .patch_json(
            &format!("/api/v1/entries/{id}"),
            Role::Analyst,
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["enabled"], false);
    assert_eq!(r.json()["active"], false);
    let hidden = eventually!(SYNC_TIMEOUT, lookup(&s, BRIDGE).await.is_empty());
    assert!(hidden.is_some(), "a disabled entry is still looked up");
    // Enabled, but disabled until an hour from now: still hidden.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let r = s
        .patch_json(
            &format!("/api/v1/entries/{id}"),
            Role::Analyst,
            &json!({ "enabled": true, "disable_until": later.to_string() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(lookup(&s, BRIDGE).await.is_empty());
    // Cleared: back.
    let r = s
        .patch_json(
            &format!("/api/v1/entries/{id}"),
            Role::Analyst,
            &json!({ "disable_until": null }),
        )
        .await;
    assert_eq!(r.json()["active"], true);
    let back = eventually!(SYNC_TIMEOUT, lookup(&s, BRIDGE).await.len() == 1);
    assert!(back.is_some(), "a re-enabled entry is not looked up");
    let r = s
        .patch_json(
            &format!("/api/v1/entries/{id}"),
            Role::Analyst,
            &json!({ "colour": "red" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // Disabling the bank hides its entries.
    let r = s
        .patch_json(
            "/api/v1/banks/native-bank",
            Role::Analyst,
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["enabled"], false);
    let hidden = eventually!(SYNC_TIMEOUT, lookup(&s, BRIDGE).await.is_empty());
    assert!(
        hidden.is_some(),
        "a disabled bank's entries are still looked up"
    );
    s.patch_json(
        "/api/v1/banks/native-bank",
        Role::Analyst,
        &json!({ "enabled": true }),
    )
    .await;

    // Deleting: the entry, then the bank (administrators only).
    let r = s
        .delete(&format!("/api/v1/entries/{id}"), Some(Role::Analyst))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s
        .delete(&format!("/api/v1/entries/{id}"), Some(Role::Analyst))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    r.message();
    let gone = eventually!(SYNC_TIMEOUT, lookup(&s, BRIDGE).await.is_empty());
    assert!(gone.is_some());
    assert_eq!(
        s.delete("/api/v1/banks/native-bank", Some(Role::Analyst))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = s
        .delete("/api/v1/banks/native-bank", Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s
        .delete("/api/v1/banks/native-bank", Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = s.get("/api/v1/banks", Some(Role::Auditor)).await;
    assert_eq!(r.json(), json!({ "banks": [] }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dihedral_lookup_finds_a_rotated_copy() {
    let s = Server::start(ServerConfig::default()).await;
    let wee = wee_expected();
    s.post_json(
        "/api/v1/banks",
        Role::Analyst,
        &json!({ "name": "rotations" }),
    )
    .await;
    // The bank holds the image rotated by 90°: its hash is the original's
    // rotate90 variant.
    let r = s
        .post_json(
            "/api/v1/banks/rotations/entries",
            Role::Analyst,
            &json!({ "external_id": "rot", "signals": [{ "type": "pdq", "value": wee.dihedral[1] }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_i64().expect("an id");
    let body = json!({ "pdq_dihedral": wee.dihedral });
    let found = eventually!(SYNC_TIMEOUT, {
        let r = s.post_json("/api/v1/lookup", Role::Platform, &body).await;
        r.json()["matches"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    });
    assert!(found.is_some(), "the rotated copy was never found");
    let r = s.post_json("/api/v1/lookup", Role::Platform, &body).await;
    let m = r.json()["matches"].clone();
    assert_eq!(m.as_array().map(Vec::len), Some(1), "{m}");
    assert_eq!(m[0]["entry_id"], id);
    assert_eq!(m[0]["distance"], 0);
    assert_eq!(m[0]["variant"], "rotate90");
    assert_eq!(m[0]["bank"], "rotations");
    // The plain hash alone does not find it.
    assert!(lookup(&s, &wee.pdq).await.is_empty());
    // The same hash 8 times is a valid (if pointless) dihedral set.
    let r = s
        .post_json(
            "/api/v1/lookup",
            Role::Platform,
            &json!({ "pdq_dihedral": vec![wee.dihedral[1].clone(); 8] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["matches"][0]["entry_id"], id);
    // Exactly 8 valid hashes.
    assert_error(
        &s.post_json(
            "/api/v1/lookup",
            Role::Platform,
            &json!({ "pdq_dihedral": &wee.dihedral[..7] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "pdq_dihedral needs exactly 8 hashes",
    );
    let mut bad = wee.dihedral.clone();
    bad[3] = "xyz".to_owned();
    let r = s
        .post_json(
            "/api/v1/lookup",
            Role::Platform,
            &json!({ "pdq_dihedral": bad }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.message().starts_with("pdq_dihedral: "), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route() {
    let s = Server::start(ServerConfig::default()).await;
    let r = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for spec in route_specs() {
        let method = spec.method.as_str().to_lowercase();
        let op = &paths
            .get(spec.path)
            .unwrap_or_else(|| panic!("{} is not in the document", spec.path))[&method];
        assert!(
            op.is_object(),
            "{} {} is not in the document",
            spec.method,
            spec.path
        );
        operations += 1;
        let roles: Vec<&str> = spec.roles.iter().map(|r| r.as_str()).collect();
        if spec.roles.is_empty() {
            assert_eq!(op["security"], json!([]), "{} {}", spec.method, spec.path);
            assert!(op.get("x-roles").is_none());
        } else {
            assert_eq!(op["x-roles"], json!(roles), "{} {}", spec.method, spec.path);
            assert_eq!(op["security"], json!([{ "bearer": [] }]));
            assert!(op["responses"].get("401").is_some() && op["responses"].get("403").is_some());
        }
        // Path parameters are declared.
        for seg in spec.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let params = op["parameters"].as_array().expect("parameters");
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{} {}: {name} is not declared",
                    spec.method,
                    spec.path
                );
            }
        }
    }
    let in_doc: usize = paths
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        in_doc, operations,
        "the document has operations that are not routes"
    );
    // operationIds are unique.
    let mut ids = std::collections::HashSet::new();
    for item in paths.values() {
        for op in item.as_object().expect("a path item").values() {
            let id = op["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{id} twice");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_the_index() {
    let s = Server::start(ServerConfig::default()).await;
    s.create_bank("METRICS").await;
    s.add_pdq("METRICS", BRIDGE).await;
    let synced = eventually!(SYNC_TIMEOUT, s.raw_ids(BRIDGE).await.len() == 1);
    assert!(synced.is_some());
    s.get("/c/banks", None).await; // a 401
    let r = s.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let text = r.text;
    for needle in [
        "# TYPE ronda_http_requests_total counter",
        "ronda_http_requests_total{route=\"/c/banks\",method=\"POST\",status=\"201\"} 1",
        "ronda_http_requests_total{route=\"/c/banks\",method=\"GET\",status=\"401\"} 1",
        "ronda_http_requests_total{route=\"/c/bank/{name}/signal\",method=\"POST\",status=\"200\"} 1",
        "# TYPE ronda_http_request_duration_seconds histogram",
        "ronda_index_entries 1",
        "ronda_index_signals{signal_type=\"pdq\"} 1",
        "ronda_index_ready 1",
    ] {
        assert!(text.contains(needle), "{needle} is not in:\n{text}");
    }
    // Unmatched paths are one label, not one per path.
    s.get("/no/such/path/1", None).await;
    s.get("/no/such/path/2", None).await;
    let text = s.get("/metrics", None).await.text;
    assert!(!text.contains("/no/such/path"), "{text}");
    // Content never reaches the metrics: no hashes, no secrets.
    assert!(!text.contains(BRIDGE));
    assert!(!text.contains(s.secret(Role::Admin)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_imports_in_progress() {
    let s = Server::start(ServerConfig::default()).await;
    let text = s.get("/metrics", None).await.text;
    assert!(text.contains("ronda_imports_in_progress 0"), "{text}");
    // An import (here: two batches written as `ronda bank import` writes
    // them, possibly from another process) shows its progress.
    let actor = ronda_store::Actor::local("test");
    let bank = s
        .store
        .create_bank(&ronda_store::NewBank::named("IMPORTING"), &actor)
        .await
        .unwrap();
    for (i, part) in [[BRIDGE], [OTHER]].iter().enumerate() {
        let entries: Vec<ronda_store::NewEntry> = part
            .iter()
            .map(|h| {
                ronda_store::NewEntry::from_signal(
                    ronda_hash::Signal::parse(ronda_hash::SignalType::Pdq, h).unwrap(),
                )
            })
            .collect();
        let line = (i + 1).to_string();
        let cp = ronda_store::ImportCheckpoint {
            source: "file:1:/data/list \"a\".txt",
            value: &line,
            bytes_done: Some(65 * (i as u64 + 1)),
            bytes_total: Some(130),
        };
        s.store
            .import_batch(&bank, &entries, &[], Some(cp), &actor)
            .await
            .unwrap();
    }
    let text = s.get("/metrics", None).await.text;
    let labels = r#"bank="IMPORTING",source="file:1:/data/list \"a\".txt""#;
    for needle in [
        "ronda_imports_in_progress 1".to_owned(),
        format!("ronda_import_records{{{labels}}} 2"),
        format!("ronda_import_bytes_done{{{labels}}} 130"),
        format!("ronda_import_bytes_total{{{labels}}} 130"),
    ] {
        assert!(text.contains(&needle), "{needle} is not in:\n{text}");
    }
    // A finished import clears its checkpoint and leaves the metrics.
    s.store
        .clear_checkpoint("file:1:/data/list \"a\".txt")
        .await
        .unwrap();
    let text = s.get("/metrics", None).await.text;
    assert!(text.contains("ronda_imports_in_progress 0"), "{text}");
    assert!(!text.contains("ronda_import_records{"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_records_and_verifies() {
    let s = Server::start(ServerConfig::default()).await;
    s.create_bank("AUDITED").await;
    s.add_pdq("AUDITED", BRIDGE).await;
    let r = s.get("/api/v1/audit/verify", Some(Role::Auditor)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(v["first_bad_seq"], Value::Null, "{v}");
    assert!(v["events"].as_u64().is_some_and(|n| n >= 7), "{v}");
    let r = s.get("/api/v1/audit?limit=1000", Some(Role::Admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events = r.json()["events"].as_array().expect("events").clone();
    let analyst = format!("token:{}", s.token_id(Role::Analyst));
    for action in ["bank.create", "entry.create"] {
        assert!(
            events
                .iter()
                .any(|e| e["action"] == action && e["actor"] == analyst.as_str()),
            "no {action} by {analyst}: {events:?}"
        );
    }
    let r = s
        .get("/api/v1/audit?after=2&limit=1", Some(Role::Auditor))
        .await;
    let page = r.json()["events"].clone();
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    assert_eq!(page[0]["seq"], 3);
    // Tampering is noticed.
    s.store
        .execute_unchecked("UPDATE audit_events SET actor = 'local:mallory' WHERE seq = 2")
        .await
        .unwrap();
    let v = s
        .get("/api/v1/audit/verify", Some(Role::Auditor))
        .await
        .json();
    assert_eq!(v["first_bad_seq"], 2, "{v}");
}

async fn whoami(s: &Server, secret: &str) -> crate::support::Reply {
    call(s.client.get(s.url("/api/v1/whoami")).bearer_auth(secret)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_managed_through_the_api() {
    let s = Server::start(ServerConfig::default()).await;
    let r = s
        .post_json(
            "/api/v1/tokens",
            Role::Admin,
            &json!({ "label": "platform-x", "role": "platform" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    let secret = v["secret"].as_str().expect("a secret").to_owned();
    let id = v["token"]["id"].as_i64().expect("an id");
    assert!(secret.starts_with("ronda_"), "{secret}");
    assert_eq!(v["token"]["role"], "platform");
    assert_eq!(v["token"]["label"], "platform-x");

    let r = whoami(&s, &secret).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["role"], "platform");
    assert_eq!(r.json()["token_id"], id);

    let r = s.get("/api/v1/tokens", Some(Role::Admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(&secret), "the list shows a secret");
    assert!(
        !r.text.contains("secret"),
        "the list mentions secrets: {}",
        r.text
    );
    for role in Role::ALL {
        assert!(!r.text.contains(s.secret(role)));
    }
    let tokens = r.json()["tokens"].as_array().expect("tokens").clone();
    assert_eq!(tokens.len(), 6);
    assert!(
        tokens
            .iter()
            .any(|t| t["id"] == id && t["revoked_at"].is_null())
    );

    let r = s
        .post_json(
            "/api/v1/tokens",
            Role::Admin,
            &json!({ "label": "x", "role": "emperor" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.message();

    let r = s
        .delete(&format!("/api/v1/tokens/{id}"), Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s
        .delete(&format!("/api/v1/tokens/{id}"), Some(Role::Admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = s.get("/api/v1/tokens", Some(Role::Admin)).await;
    let tokens = r.json()["tokens"].as_array().expect("tokens").clone();
    assert!(
        tokens
            .iter()
            .any(|t| t["id"] == id && t["revoked_at"].is_i64())
    );
    let refused = eventually!(Duration::from_millis(3500), {
        whoami(&s, &secret).await.status == StatusCode::UNAUTHORIZED
    });
    assert!(
        refused.is_some(),
        "the revoked token still works after 3.5 s"
    );

    // The audit log names who did it, never the secret.
    let r = s.get("/api/v1/audit?limit=1000", Some(Role::Auditor)).await;
    assert!(!r.text.contains(&secret));
    let admin = format!("token:{}", s.token_id(Role::Admin));
    let events = r.json()["events"].as_array().expect("events").clone();
    for action in ["token.create", "token.revoke"] {
        assert!(
            events
                .iter()
                .any(|e| e["action"] == action && e["actor"] == admin.as_str()),
            "no {action} by {admin}"
        );
    }
}

/// Errors on the native API are `{"message": ...}` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_errors_are_json_messages() {
    let s = Server::start(ServerConfig::default()).await;
    let checks: Vec<(Method, &str, Option<&str>)> = vec![
        (Method::GET, "/api/v1/entries/abc", None),
        (Method::PATCH, "/api/v1/entries/abc", Some("{}")),
        (Method::DELETE, "/api/v1/tokens/abc", None),
        (Method::GET, "/api/v1/banks/x/entries?limit=many", None),
        (Method::GET, "/api/v1/audit?after=x", None),
        (Method::POST, "/api/v1/banks", Some("not json")),
        (
            Method::GET,
            "/api/v1/lookup?signal_type=pdq&signal=x&radius=-1",
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body) in checks {
        let mut rb = s.req(method.clone(), path, Some(Role::Admin));
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
