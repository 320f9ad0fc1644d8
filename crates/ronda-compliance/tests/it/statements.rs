//! The validator, one rule at a time, on the JSON of a valid statement with
//! one thing changed; and the batcher.

use ronda_compliance::sor::build::{
    Found, Measure, TcoReason, TerroristContentDecision, terrorist_content,
};
use ronda_compliance::sor::{
    AutomatedDecision, ContentType, MAX_BATCH, parse_statement_key, plan, statement_key,
    validate_request, validate_value,
};
use ronda_compliance::{Date, FieldErrors, Statement};
use serde_json::{Value, json};

pub fn decision(puid: &str) -> TerroristContentDecision {
    TerroristContentDecision {
        puid: puid.to_owned(),
        measure: Measure::Removed,
        found: Found::OwnInitiative,
        reasons: vec![TcoReason::Incites],
        content_types: vec![ContentType::Image],
        content_date: Date::parse("2026-03-01").unwrap(),
        decided_on: Date::parse("2026-03-02").unwrap(),
        automated_detection: true,
        automated_decision: AutomatedDecision::Partially,
        content_language: None,
        account_type: None,
        facts: None,
    }
}

pub fn statement(puid: &str) -> Statement {
    terrorist_content(&decision(puid)).unwrap().statement
}

fn valid() -> Value {
    statement("s-1").to_value()
}

/// The errors of `valid()` changed by `edit`.
fn errors_after(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> FieldErrors {
    let mut v = valid();
    edit(v.as_object_mut().unwrap());
    validate_value(&v)
}

fn set(field: &str, value: Value) -> FieldErrors {
    let field = field.to_owned();
    errors_after(move |o| {
        o.insert(field, value);
    })
}

/// Asserts that exactly `fields` have errors.
#[track_caller]
fn assert_fields(errors: &FieldErrors, fields: &[&str]) {
    let got: Vec<&str> = errors.fields().collect();
    let mut want = fields.to_vec();
    want.sort();
    assert_eq!(got, want, "{errors:?}");
}

#[track_caller]
fn assert_valid(errors: &FieldErrors) {
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_built_statement_is_valid_and_uses_the_database_names() {
    let v = valid();
    assert_valid(&validate_value(&v));
    assert_eq!(
        v["decision_visibility"],
        json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
    );
    assert_eq!(v["decision_ground"], "DECISION_GROUND_ILLEGAL_CONTENT");
    assert_eq!(v["category"], "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY");
    assert_eq!(
        v["category_specification"],
        json!(["KEYWORD_TERRORIST_CONTENT"])
    );
    assert_eq!(v["content_type"], json!(["CONTENT_TYPE_IMAGE"]));
    assert_eq!(v["content_date"], "2026-03-01");
    assert_eq!(v["application_date"], "2026-03-02");
    assert_eq!(v["source_type"], "SOURCE_VOLUNTARY");
    assert_eq!(v["automated_detection"], "Yes");
    assert_eq!(v["automated_decision"], "AUTOMATED_DECISION_PARTIALLY");
    assert_eq!(v["puid"], "s-1");
    assert_eq!(v["territorial_scope"].as_array().unwrap().len(), 27);
    // Empty and absent fields are left out, not sent as null.
    assert!(v.get("decision_monetary").is_none());
    assert!(v.get("source_identity").is_none());
    assert!(v.get("incompatible_content_ground").is_none());
    assert!(v.as_object().unwrap().values().all(|x| !x.is_null()));
    // And it reads back into the same statement.
    let back: Statement = serde_json::from_value(v).unwrap();
    assert_eq!(back, statement("s-1"));
}

#[test]
fn every_required_field_is_named_when_missing() {
    for field in [
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ] {
        let errors = errors_after(|o| {
            o.remove(field);
        });
        assert!(errors.contains(field), "{field}: {errors:?}");
        assert!(
            errors.get(field)[0].contains("required"),
            "{field}: {errors:?}"
        );
        // null, blank and empty count as missing too.
        for missing in [Value::Null, json!(""), json!(" \t\n"), json!([])] {
            let errors = set(field, missing.clone());
            assert!(errors.contains(field), "{field} = {missing}: {errors:?}");
        }
    }
}

#[test]
fn one_of_the_four_decisions_is_required() {
    let none = errors_after(|o| {
        o.remove("decision_visibility");
    });
    assert_fields(
        &none,
        &[
            "decision_visibility",
            "decision_monetary",
            "decision_provision",
            "decision_account",
        ],
    );
    assert_fields(
        &set("decision_visibility", json!([])),
        &[
            "decision_visibility",
            "decision_monetary",
            "decision_provision",
            "decision_account",
        ],
    );
    for (field, value) in [
        ("decision_monetary", "DECISION_MONETARY_SUSPENSION"),
        ("decision_provision", "DECISION_PROVISION_TOTAL_TERMINATION"),
        ("decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    ] {
        let errors = errors_after(|o| {
            o.remove("decision_visibility");
            o.insert(field.into(), json!(value));
        });
        assert_valid(&errors);
    }
}

#[test]
fn the_illegal_content_ground_needs_its_two_fields_within_their_lengths() {
    for (field, max) in [
        ("illegal_content_legal_ground", 500),
        ("illegal_content_explanation", 2000),
    ] {
        let errors = errors_after(|o| {
            o.remove(field);
        });
        assert_fields(&errors, &[field]);
        assert_valid(&set(field, json!("x".repeat(max))));
        // Characters are counted, not bytes.
        assert_valid(&set(field, json!("é".repeat(max))));
        assert_fields(&set(field, json!("x".repeat(max + 1))), &[field]);
        assert_fields(&set(field, json!(42)), &[field]);
    }
}

#[test]
fn the_incompatible_content_ground_needs_its_own_fields_and_ignores_the_others() {
    let incompatible = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        errors_after(|o| {
            o.insert(
                "decision_ground".into(),
                json!("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
            );
            o.insert("incompatible_content_ground".into(), json!("Terms 4.2"));
            o.insert(
                "incompatible_content_explanation".into(),
                json!("violent extremism"),
            );
            // Not applicable now, so not checked even when too long.
            o.insert(
                "illegal_content_legal_ground".into(),
                json!("x".repeat(900)),
            );
            edit(o);
        })
    };
    assert_valid(&incompatible(&|_| {}));
    assert_valid(&incompatible(&|o| {
        o.remove("illegal_content_legal_ground");
        o.remove("illegal_content_explanation");
        o.insert("incompatible_content_illegal".into(), json!("Yes"));
    }));
    for (field, max) in [
        ("incompatible_content_ground", 500),
        ("incompatible_content_explanation", 2000),
    ] {
        assert_fields(
            &incompatible(&|o| {
                o.remove(field);
            }),
            &[field],
        );
        assert_fields(
            &incompatible(&|o| {
                o.insert(field.into(), json!("y".repeat(max + 1)));
            }),
            &[field],
        );
    }
    assert_fields(
        &incompatible(&|o| {
            o.insert("incompatible_content_illegal".into(), json!("yes"));
        }),
        &["incompatible_content_illegal"],
    );
    // Under the illegal-content ground, the incompatible fields are ignored.
    assert_valid(&set("incompatible_content_illegal", json!("maybe")));
}

#[test]
fn other_values_need_their_other_field() {
    // decision_visibility_other
    let with_other = |other: Option<Value>| {
        errors_after(|o| {
            o.insert(
                "decision_visibility".into(),
                json!([
                    "DECISION_VISIBILITY_CONTENT_REMOVED",
                    "DECISION_VISIBILITY_OTHER"
                ]),
            );
            if let Some(other) = other {
                o.insert("decision_visibility_other".into(), other);
            }
        })
    };
    assert_fields(&with_other(None), &["decision_visibility_other"]);
    assert_valid(&with_other(Some(json!("shadow ban"))));
    assert_fields(
        &with_other(Some(json!("z".repeat(501)))),
        &["decision_visibility_other"],
    );
    // Ignored when OTHER is not chosen.
    assert_valid(&set("decision_visibility_other", json!("z".repeat(900))));

    // decision_monetary_other
    let monetary = |other: Option<&str>| {
        errors_after(|o| {
            o.insert("decision_monetary".into(), json!("DECISION_MONETARY_OTHER"));
            if let Some(other) = other {
                o.insert("decision_monetary_other".into(), json!(other));
            }
        })
    };
    assert_fields(&monetary(None), &["decision_monetary_other"]);
    assert_fields(&monetary(Some("  ")), &["decision_monetary_other"]);
    assert_valid(&monetary(Some("ads paused")));

    // content_type_other
    let content = |other: Option<&str>| {
        errors_after(|o| {
            o.insert("content_type".into(), json!(["CONTENT_TYPE_OTHER"]));
            if let Some(other) = other {
                o.insert("content_type_other".into(), json!(other));
            }
        })
    };
    assert_fields(&content(None), &["content_type_other"]);
    assert_valid(&content(Some("livestream")));

    // category_specification_other is optional but limited.
    assert_valid(&set("category_specification_other", json!("w".repeat(500))));
    assert_fields(
        &set("category_specification_other", json!("w".repeat(501))),
        &["category_specification_other"],
    );
}

#[test]
fn enumerations_take_only_the_database_values() {
    for (field, bad) in [
        ("decision_ground", json!("DECISION_GROUND_ILLEGAL")),
        ("decision_ground", json!("decision_ground_illegal_content")),
        ("decision_ground", json!(1)),
        ("decision_monetary", json!("DECISION_MONETARY_FINE")),
        ("decision_provision", json!("DECISION_PROVISION_SOME")),
        ("decision_account", json!("DECISION_ACCOUNT_BANNED")),
        ("account_type", json!("ACCOUNT_TYPE_ROBOT")),
        ("category", json!("STATEMENT_CATEGORY_TERRORISM")),
        ("source_type", json!("SOURCE_REMOVAL_ORDER")),
        ("automated_detection", json!("yes")),
        ("automated_detection", json!(true)),
        ("automated_decision", json!("AUTOMATED_DECISION_MAYBE")),
        ("content_language", json!("en")),
        ("content_language", json!("XX")),
        ("decision_visibility", json!(["DECISION_VISIBILITY_HIDDEN"])),
        (
            "decision_visibility",
            json!("DECISION_VISIBILITY_CONTENT_REMOVED"),
        ),
        (
            "content_type",
            json!(["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_GIF"]),
        ),
        ("content_type", json!([["CONTENT_TYPE_IMAGE"]])),
        (
            "category_addition",
            json!(["STATEMENT_CATEGORY_VIOLENCE", "X"]),
        ),
        ("category_specification", json!(["KEYWORD_TERRORISM"])),
        ("territorial_scope", json!(["DE", "GB"])),
        ("territorial_scope", json!(["EL"])),
        ("territorial_scope", json!(["de"])),
    ] {
        let errors = set(field, bad.clone());
        assert_fields(&errors, &[field]);
        let _ = bad;
    }
    for (field, good) in [
        ("content_language", json!("EL")),
        ("content_language", json!("DE")),
        ("account_type", json!("ACCOUNT_TYPE_PRIVATE")),
        ("category_addition", json!(["STATEMENT_CATEGORY_VIOLENCE"])),
        ("territorial_scope", json!(["IS", "LI", "NO", "GR"])),
        ("territorial_scope", json!([])),
        (
            "content_type",
            json!(["CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_VIDEO"]),
        ),
    ] {
        assert_valid(&set(field, good));
    }
}

#[test]
fn dates_are_strict_and_within_the_database_range() {
    for bad in [
        "2026-3-1",
        "01-03-2026",
        "2026-02-30",
        "2026-03-01T00:00:00Z",
        "yesterday",
    ] {
        let errors = set("content_date", json!(bad));
        assert_fields(&errors, &["content_date"]);
        assert!(
            errors.get("content_date")[0].contains("YYYY-MM-DD"),
            "{errors:?}"
        );
    }
    assert_fields(&set("content_date", json!(20260301)), &["content_date"]);
    assert_valid(&set("content_date", json!("2000-01-01")));
    assert_fields(&set("content_date", json!("1999-12-31")), &["content_date"]);
    assert_valid(&set("content_date", json!("2024-02-29")));
    assert_fields(
        &set("application_date", json!("2019-12-31")),
        &["application_date"],
    );
    assert_valid(&set("application_date", json!("2020-01-01")));
    assert_fields(
        &set("application_date", json!("2038-01-02")),
        &["application_date"],
    );

    for field in [
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
    ] {
        assert_valid(&set(field, json!("2026-03-02")));
        assert_valid(&set(field, json!("2038-01-01")));
        // Before the application date (2026-03-02).
        assert_fields(&set(field, json!("2026-03-01")), &[field]);
        assert_fields(&set(field, json!("2038-01-02")), &[field]);
        assert_fields(&set(field, json!("2026/12/31")), &[field]);
    }
}

#[test]
fn decision_facts_are_limited_to_5000_characters() {
    assert_valid(&set("decision_facts", json!("f".repeat(5000))));
    assert_fields(
        &set("decision_facts", json!("f".repeat(5001))),
        &["decision_facts"],
    );
}

#[test]
fn puid_is_limited_in_length_and_characters() {
    for good in ["a", "A-z_0-9", "ronda-decision-123", &"p".repeat(500)] {
        assert_valid(&set("puid", json!(good)));
    }
    for bad in [
        "has space",
        "dot.ted",
        "slash/",
        "new\nline",
        "trailing\n",
        "ümlaut",
        "plus+",
        &"p".repeat(501),
    ] {
        assert_fields(&set("puid", json!(bad)), &["puid"]);
    }
    assert_fields(&set("puid", json!(123)), &["puid"]);
}

#[test]
fn source_identity_is_limited_unless_the_source_is_voluntary() {
    // The built statement is voluntary: the identity is ignored.
    assert_valid(&set("source_identity", json!("s".repeat(900))));
    let errors = errors_after(|o| {
        o.insert("source_type".into(), json!("SOURCE_TRUSTED_FLAGGER"));
        o.insert("source_identity".into(), json!("s".repeat(501)));
    });
    assert_fields(&errors, &["source_identity"]);
    let errors = errors_after(|o| {
        o.insert("source_type".into(), json!("SOURCE_ARTICLE_16"));
        o.insert("source_identity".into(), json!("s".repeat(500)));
    });
    assert_valid(&errors);
}

#[test]
fn reference_url_and_content_id_are_checked() {
    assert_valid(&set(
        "decision_ground_reference_url",
        json!("https://example.org/terms#4"),
    ));
    for bad in [
        "example.org/terms",
        "ftp://example.org/x",
        "https://",
        "https://a b",
    ] {
        assert_fields(
            &set("decision_ground_reference_url", json!(bad)),
            &["decision_ground_reference_url"],
        );
    }
    let long = format!("https://example.org/{}", "a".repeat(490));
    assert_fields(
        &set("decision_ground_reference_url", json!(long)),
        &["decision_ground_reference_url"],
    );
    assert_valid(&set("content_id", json!({"EAN-13": "0123456789123"})));
    assert_fields(
        &set("content_id", json!({"EAN-13": "012345678912"})),
        &["content_id.EAN-13"],
    );
    assert_fields(&set("content_id", json!("0123456789123")), &["content_id"]);
}

#[test]
fn unknown_fields_are_ignored_and_non_objects_refused() {
    assert_valid(&set("platform_note", json!("anything")));
    let errors = validate_value(&json!(["not", "an", "object"]));
    assert_fields(&errors, &["statement"]);
    // An empty object names every required field and all four decisions.
    let errors = validate_value(&json!({}));
    for field in [
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ] {
        assert!(errors.contains(field), "{field}: {errors:?}");
    }
}

#[test]
fn the_request_envelope_and_its_statements_are_checked() {
    let ok = json!({"statements": [valid(), statement("s-2").to_value()]});
    assert_eq!(validate_request(&ok).unwrap().len(), 2);

    for bad in [
        json!({}),
        json!({"statements": []}),
        json!({"statements": "x"}),
    ] {
        let errors = validate_request(&bad).unwrap_err();
        assert!(errors.get("statements").is_some(), "{errors}");
    }
    let many: Vec<Value> = (0..=MAX_BATCH)
        .map(|i| statement(&format!("s-{i}")).to_value())
        .collect();
    let errors = validate_request(&json!({ "statements": many })).unwrap_err();
    assert!(errors["statements"][0].as_str().unwrap().contains("100"));

    let mut bad = statement("s-3").to_value();
    bad.as_object_mut().unwrap().remove("category");
    let body = json!({"statements": [valid(), bad, {"puid": "x"}]});
    let errors = validate_request(&body).unwrap_err();
    let keys: Vec<&String> = errors.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["statement_1", "statement_2"]);
    assert_eq!(
        errors["statement_1"]["category"][0],
        "the category field is required"
    );
    assert_eq!(parse_statement_key(&statement_key(7)), Some(7));
    for bad in ["statement_", "statement_x", "statements_1", "statement_-1"] {
        assert_eq!(parse_statement_key(bad), None);
    }
}

#[test]
fn the_batcher_sends_valid_distinct_statements_in_batches_of_at_most_100() {
    let mut input: Vec<Statement> = (0..250).map(|i| statement(&format!("p-{i}"))).collect();
    // An invalid one, and a later duplicate of an earlier puid.
    input[10].decision_facts = String::new();
    input[20].puid = "p-5".into();
    input.push(statement("p-0"));
    let plan = plan(&input);
    let sizes: Vec<usize> = plan.batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 48]);
    assert!(plan.batches.iter().all(|b| b.len() <= MAX_BATCH));
    let sent: Vec<usize> = plan.batches.concat();
    assert!(sent.windows(2).all(|w| w[0] < w[1]), "input order is kept");
    let rejected: Vec<usize> = plan.rejected.iter().map(|(i, _)| *i).collect();
    assert_eq!(rejected, [10, 20, 250]);
    assert!(plan.rejected[0].1.contains("decision_facts"));
    assert!(plan.rejected[1].1.get("puid")[0].contains("earlier statement"));
    assert!(sent.contains(&5) && sent.contains(&0));

    assert!(ronda_compliance::plan(&[]).batches.is_empty());
    let exact: Vec<Statement> = (0..200).map(|i| statement(&format!("e-{i}"))).collect();
    let sizes: Vec<usize> = ronda_compliance::plan(&exact)
        .batches
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(sizes, [100, 100]);
}
