//! Statements for terrorist-content decisions: the fields the builder
//! chooses, and a property test that what it builds always validates and
//! that removing any one required field is caught and named.

use proptest::prelude::*;
use ronda_compliance::sor::build::{
    Found, Measure, TCO_LEGAL_GROUND, TcoReason, TerroristContentDecision, terrorist_content,
};
use ronda_compliance::sor::{
    AccountType, AutomatedDecision, ContentType, Country, Language, SourceType, WireEnum,
};
use ronda_compliance::{Date, validate_value};

use crate::statements::decision;

#[test]
fn source_type_follows_how_the_content_was_found() {
    let order = Found::RemovalOrder {
        authority: "Bundeskriminalamt".into(),
        member_state: Country::De,
        non_disclosure_until: None,
    };
    let cases = [
        (order, SourceType::OtherNotification, true),
        (
            Found::Referral {
                from: "EU IRU".into(),
                trusted_flagger: false,
            },
            SourceType::OtherNotification,
            true,
        ),
        (
            Found::Referral {
                from: "Flagger NGO".into(),
                trusted_flagger: true,
            },
            SourceType::TrustedFlagger,
            true,
        ),
        (Found::Notice, SourceType::Article16, false),
        (Found::OwnInitiative, SourceType::Voluntary, false),
    ];
    for (found, source, has_identity) in cases {
        let mut d = decision("x-1");
        d.found = found.clone();
        let built = terrorist_content(&d).unwrap();
        assert_eq!(built.statement.source_type, source, "{found:?}");
        assert_eq!(
            built.statement.source_identity.is_some(),
            has_identity,
            "{found:?}"
        );
        assert_eq!(built.not_before, None);
    }
}

#[test]
fn a_removal_order_statement_states_the_tco_ground_and_reasons() {
    let mut d = decision("order-7");
    d.found = Found::RemovalOrder {
        authority: "Autorità".into(),
        member_state: Country::It,
        non_disclosure_until: Some(Date::parse("2026-04-30").unwrap()),
    };
    d.measure = Measure::Disabled;
    d.reasons = vec![TcoReason::Threat, TcoReason::Incites, TcoReason::Threat];
    d.automated_detection = false;
    d.automated_decision = AutomatedDecision::NotAutomated;
    d.content_language = Language::parse("it");
    d.account_type = Some(AccountType::Private);
    let built = terrorist_content(&d).unwrap();
    let s = &built.statement;
    let ground = s.illegal_content_legal_ground.as_deref().unwrap();
    assert!(ground.starts_with(TCO_LEGAL_GROUND), "{ground}");
    assert!(ground.contains("(a and e)"), "{ground}");
    assert!(ground.contains("removal order under Article 3"), "{ground}");
    let explanation = s.illegal_content_explanation.as_deref().unwrap();
    assert!(explanation.contains("(point a)") && explanation.contains("(point e)"));
    assert_eq!(
        s.source_identity.as_deref(),
        Some("Autorità (IT), removal order under Regulation (EU) 2021/784")
    );
    let v = s.to_value();
    assert_eq!(
        v["decision_visibility"][0],
        "DECISION_VISIBILITY_CONTENT_DISABLED"
    );
    assert_eq!(v["content_language"], "IT");
    assert_eq!(v["automated_detection"], "No");
    assert_eq!(v["account_type"], "ACCOUNT_TYPE_PRIVATE");
    // Held back until the non-disclosure period is over.
    assert_eq!(built.not_before, Date::parse("2026-05-01").ok());
}

#[test]
fn the_builder_refuses_what_the_database_would() {
    let mut d = decision("x");
    d.reasons.clear();
    assert!(
        terrorist_content(&d)
            .unwrap_err()
            .contains("illegal_content_explanation")
    );
    let mut d = decision("bad puid");
    assert!(terrorist_content(&d).unwrap_err().contains("puid"));
    d = decision("x");
    d.content_types.clear();
    assert!(terrorist_content(&d).unwrap_err().contains("content_type"));
    d = decision("x");
    d.decided_on = Date::parse("2019-06-01").unwrap();
    assert!(
        terrorist_content(&d)
            .unwrap_err()
            .contains("application_date")
    );
    d = decision("x");
    d.facts = Some("f".repeat(5001));
    assert!(
        terrorist_content(&d)
            .unwrap_err()
            .contains("decision_facts")
    );
    // Blank facts fall back to the standard text.
    d.facts = Some("   ".into());
    let s = terrorist_content(&d).unwrap().statement;
    assert!(
        s.decision_facts.contains("hash lists"),
        "{}",
        s.decision_facts
    );
}

fn date_between(from: &str, to: &str) -> impl Strategy<Value = Date> {
    let a = Date::parse(from).unwrap().days_since_epoch();
    let b = Date::parse(to).unwrap().days_since_epoch();
    (a..=b).prop_map(|d| Date::from_days_since_epoch(d).unwrap())
}

fn subset<T: Clone + std::fmt::Debug + 'static>(all: Vec<T>) -> impl Strategy<Value = Vec<T>> {
    proptest::sample::subsequence(all.clone(), 1..=all.len())
}

fn found() -> impl Strategy<Value = Found> {
    prop_oneof![
        (
            "\\PC{0,200}",
            proptest::sample::select(Country::ALL.to_vec()),
            proptest::option::of(date_between("2020-01-01", "2037-12-31"))
        )
            .prop_map(|(authority, member_state, non_disclosure_until)| {
                Found::RemovalOrder {
                    authority,
                    member_state,
                    non_disclosure_until,
                }
            }),
        ("\\PC{0,600}", any::<bool>()).prop_map(|(from, trusted_flagger)| Found::Referral {
            from,
            trusted_flagger
        }),
        Just(Found::Notice),
        Just(Found::OwnInitiative),
    ]
}

prop_compose! {
    fn decisions()(
        puid in "[a-zA-Z0-9_-]{1,500}",
        removed in any::<bool>(),
        found in found(),
        reasons in subset(TcoReason::ALL.to_vec()),
        content_types in subset(ContentType::ALL.iter().copied().filter(|t| *t != ContentType::Other).collect()),
        content_date in date_between("2000-01-01", "2038-01-01"),
        decided_on in date_between("2020-01-01", "2038-01-01"),
        automated_detection in any::<bool>(),
        automated_decision in proptest::sample::select(AutomatedDecision::ALL.to_vec()),
        language in proptest::option::of(proptest::sample::select(ronda_compliance::sor::LANGUAGES.to_vec())),
        account_type in proptest::option::of(proptest::sample::select(AccountType::ALL.to_vec())),
        facts in proptest::option::of("\\PC{0,1000}"),
    ) -> TerroristContentDecision {
        TerroristContentDecision {
            puid,
            measure: if removed { Measure::Removed } else { Measure::Disabled },
            found,
            reasons,
            content_types,
            content_date,
            decided_on,
            automated_detection,
            automated_decision,
            content_language: language.and_then(Language::parse),
            account_type,
            facts,
        }
    }
}

/// The fields the database requires of every statement the builder makes
/// (the builder's one decision field is `decision_visibility`, and its
/// ground is illegal content).
const REQUIRED: [&str; 12] = [
    "decision_visibility",
    "decision_ground",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn built_statements_validate_and_lose_no_required_field_silently(
        d in decisions(),
        drop in 0..REQUIRED.len() + 1,
    ) {
        let built = terrorist_content(&d);
        prop_assert!(built.is_ok(), "{:?}", built.err());
        let statement = built.unwrap().statement;
        prop_assert!(statement.validate().is_ok());
        let mut v = statement.to_value();
        prop_assert!(validate_value(&v).is_empty());

        let field = REQUIRED.get(drop).copied().unwrap_or("puid");
        v.as_object_mut().unwrap().remove(field);
        let errors = validate_value(&v);
        prop_assert!(errors.contains(field), "{} removed: {:?}", field, errors);
        prop_assert!(errors.get(field).iter().any(|m| m.contains("required")));
    }
}
