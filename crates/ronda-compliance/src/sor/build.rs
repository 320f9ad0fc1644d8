//! Statements of reasons for decisions on terrorist content.
//!
//! Every such statement has the illegal-content ground with Regulation (EU)
//! 2021/784 (TCO) as the legal ground and the Art. 2(7) reasons as the
//! explanation, category `STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY` and
//! keyword `KEYWORD_TERRORIST_CONTENT`.
//!
//! **Which `source_type`.** The Transparency Database's guidance on
//! `source_type` says: notices under Art. 16 DSA are `SOURCE_ARTICLE_16`,
//! unless a trusted flagger (Art. 22) sent them (`SOURCE_TRUSTED_FLAGGER`);
//! any other notification, *including orders of authorities that do not
//! fall under Art. 9 DSA*, is `SOURCE_TYPE_OTHER_NOTIFICATION`; the
//! provider's own detection is `SOURCE_VOLUNTARY`. So:
//!
//! | how Ronda learnt of it | `source_type` |
//! | --- | --- |
//! | a TCO removal order (Art. 3 TCO; an authority's order under its own regulation, not an Art. 9 DSA order) | `SOURCE_TYPE_OTHER_NOTIFICATION` |
//! | a referral by an authority or referral unit without trusted-flagger status | `SOURCE_TYPE_OTHER_NOTIFICATION` |
//! | a referral or notice by a trusted flagger | `SOURCE_TRUSTED_FLAGGER` |
//! | a notice from anyone else through the Art. 16 mechanism | `SOURCE_ARTICLE_16` |
//! | the platform's own detection: hash matching at upload, specific measures (Art. 5 TCO), moderators | `SOURCE_VOLUNTARY` |
//!
//! `source_identity` names the authority or flagger (an organisation, never
//! a person: Art. 24(5) DSA forbids personal data), and is left out for
//! Art. 16 notices (the notifier is usually a person) and own initiative.
//!
//! **Non-disclosure.** When a removal order carries the Art. 11(3) TCO
//! non-disclosure decision, the content provider may not be told until it
//! ends, and a statement in a public database would tell them; so
//! [`Built::not_before`] holds the day from which it may be submitted.
//! The caller keeps it until then.

use serde::{Deserialize, Serialize};

use super::enums::{
    AccountType, AutomatedDecision, Category, ContentType, Country, DecisionGround,
    DecisionVisibility, Keyword, Language, SourceType, YesNo,
};
use super::{FieldErrors, Statement};
use crate::date::Date;

/// The reasons of Art. 2(7) TCO, with the names the rest of Ronda uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcoReason {
    /// (a) incites the commission of terrorist offences.
    Incites,
    /// (b) solicits a person or a group to commit or contribute to them.
    SolicitsToCommit,
    /// (c) solicits a person or a group to participate in a terrorist group.
    SolicitsToParticipate,
    /// (d) gives instruction on making or using weapons or hazardous
    /// substances, or other methods, to commit terrorist offences.
    Instruction,
    /// (e) threatens to commit a terrorist offence.
    Threat,
}

impl TcoReason {
    pub const ALL: [TcoReason; 5] = [
        TcoReason::Incites,
        TcoReason::SolicitsToCommit,
        TcoReason::SolicitsToParticipate,
        TcoReason::Instruction,
        TcoReason::Threat,
    ];

    /// The point of Art. 2(7): `a` to `e`.
    pub fn point(self) -> char {
        match self {
            TcoReason::Incites => 'a',
            TcoReason::SolicitsToCommit => 'b',
            TcoReason::SolicitsToParticipate => 'c',
            TcoReason::Instruction => 'd',
            TcoReason::Threat => 'e',
        }
    }

    /// What the point says, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            TcoReason::Incites => "incites the commission of terrorist offences",
            TcoReason::SolicitsToCommit => {
                "solicits a person or group to commit or contribute to terrorist offences"
            }
            TcoReason::SolicitsToParticipate => {
                "solicits a person or group to participate in the activities of a terrorist group"
            }
            TcoReason::Instruction => {
                "provides instruction on making or using weapons or hazardous substances, \
                 or on other methods, for committing terrorist offences"
            }
            TcoReason::Threat => "threatens to commit a terrorist offence",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TcoReason::Incites => "incites",
            TcoReason::SolicitsToCommit => "solicits_to_commit",
            TcoReason::SolicitsToParticipate => "solicits_to_participate",
            TcoReason::Instruction => "instruction",
            TcoReason::Threat => "threat",
        }
    }
}

/// What was done to the content (TCO Art. 3(3): remove it, or disable
/// access to it in all Member States).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Removed,
    Disabled,
}

/// How the platform learnt of the content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Found {
    /// A removal order under Art. 3 TCO.
    RemovalOrder {
        /// The issuing authority (an organisation's name).
        authority: String,
        /// The issuing Member State.
        member_state: Country,
        /// The end of an Art. 11(3) non-disclosure period, if one runs.
        #[serde(default)]
        non_disclosure_until: Option<Date>,
    },
    /// A referral or notice from an authority or organisation.
    Referral {
        /// The referring organisation's name.
        from: String,
        /// Whether it is a trusted flagger under Art. 22 DSA.
        trusted_flagger: bool,
    },
    /// A notice through the platform's Art. 16 DSA mechanism.
    Notice,
    /// The platform's own detection (hash matching, specific measures,
    /// moderators).
    OwnInitiative,
}

/// A decision to remove or disable terrorist content, as the platform side
/// records it; what [`terrorist_content`] needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerroristContentDecision {
    /// The statement's `puid`: stable, unique per platform, `[a-zA-Z0-9_-]`
    /// (e.g. `ronda-decision-1234`), so that resubmitting is recognised.
    pub puid: String,
    pub measure: Measure,
    pub found: Found,
    /// At least one.
    pub reasons: Vec<TcoReason>,
    /// At least one.
    pub content_types: Vec<ContentType>,
    /// When the content was posted.
    pub content_date: Date,
    /// When the decision took effect.
    pub decided_on: Date,
    /// Whether the content was detected by automated means (hash match).
    pub automated_detection: bool,
    /// Whether and how far the decision itself was automated.
    pub automated_decision: AutomatedDecision,
    #[serde(default)]
    pub content_language: Option<Language>,
    #[serde(default)]
    pub account_type: Option<AccountType>,
    /// Facts and circumstances in the platform's own words (no personal
    /// data, never the content); when `None` or blank, a standard text is
    /// made from the other fields.
    #[serde(default)]
    pub facts: Option<String>,
}

/// A statement made by [`terrorist_content`].
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub statement: Statement,
    /// The first day it may be submitted (the day after a non-disclosure
    /// period ends), if it must wait.
    pub not_before: Option<Date>,
}

/// The legal ground stated for every terrorist-content decision.
pub const TCO_LEGAL_GROUND: &str = "Regulation (EU) 2021/784 on addressing the dissemination of terrorist content online, Article 2(7)";

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `s` cut to at most `max` characters (names are free text from elsewhere).
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Builds the statement of reasons for a terrorist-content decision, and
/// validates it: `Err` holds what makes it unacceptable to the database
/// (an empty `reasons` or `content_types` list, a bad `puid`, dates out of
/// range, text too long).
pub fn terrorist_content(d: &TerroristContentDecision) -> Result<Built, FieldErrors> {
    let mut reasons = d.reasons.clone();
    reasons.sort();
    reasons.dedup();
    let mut content_types = d.content_types.clone();
    content_types.sort();
    content_types.dedup();

    let points: Vec<String> = reasons.iter().map(|r| r.point().to_string()).collect();
    let legal_ground = match &d.found {
        Found::RemovalOrder { .. } => format!(
            "{TCO_LEGAL_GROUND}({}); removal order under Article 3",
            list(&points)
        ),
        _ => format!("{TCO_LEGAL_GROUND}({})", list(&points)),
    };
    let explanation = {
        let what: Vec<String> = reasons
            .iter()
            .map(|r| format!("{} (point {})", r.description(), r.point()))
            .collect();
        format!(
            "The content is terrorist content within Article 2(7) of Regulation (EU) 2021/784: it {}.",
            list(&what)
        )
    };

    let (source_type, source_identity, not_before) = match &d.found {
        Found::RemovalOrder {
            authority,
            member_state,
            non_disclosure_until,
        } => (
            SourceType::OtherNotification,
            Some(clip(
                &format!(
                    "{authority} ({member_state}), removal order under Regulation (EU) 2021/784"
                ),
                500,
            )),
            non_disclosure_until.and_then(Date::next),
        ),
        Found::Referral {
            from,
            trusted_flagger,
        } => (
            if *trusted_flagger {
                SourceType::TrustedFlagger
            } else {
                SourceType::OtherNotification
            },
            Some(clip(from.trim(), 500)).filter(|f| !f.is_empty()),
            None,
        ),
        Found::Notice => (SourceType::Article16, None, None),
        Found::OwnInitiative => (SourceType::Voluntary, None, None),
    };

    let verb = match d.measure {
        Measure::Removed => "removed",
        Measure::Disabled => "access to it was disabled",
    };
    let given_facts = d.facts.as_deref().map(str::trim).filter(|f| !f.is_empty());
    let facts = given_facts.map(str::to_owned).unwrap_or_else(|| {
        let how = match &d.found {
            Found::RemovalOrder { .. } => "A removal order of a competent authority identified the content",
            Found::Referral { .. } => "A referral identified the content",
            Found::Notice => "A notice identified the content",
            Found::OwnInitiative if d.automated_detection => {
                "The content matched known terrorist content in the platform's hash lists"
            }
            Found::OwnInitiative => "The platform's moderators identified the content",
        };
        let review = match d.automated_decision {
            AutomatedDecision::Fully => "the decision was taken by automated means",
            AutomatedDecision::Partially => "a person reviewed the match before the decision",
            AutomatedDecision::NotAutomated => "a person took the decision",
        };
        format!(
            "{how}; {review}. The content was assessed as terrorist content and {verb} in all Member States."
        )
    });

    let decision_visibility = match d.measure {
        Measure::Removed => vec![DecisionVisibility::ContentRemoved],
        Measure::Disabled => vec![DecisionVisibility::ContentDisabled],
    };

    let statement = Statement {
        decision_visibility,
        decision_visibility_other: None,
        decision_monetary: None,
        decision_monetary_other: None,
        decision_provision: None,
        decision_account: None,
        account_type: d.account_type,
        decision_ground: DecisionGround::IllegalContent,
        decision_ground_reference_url: Some("https://eur-lex.europa.eu/eli/reg/2021/784/oj".into()),
        illegal_content_legal_ground: Some(legal_ground),
        illegal_content_explanation: Some(explanation),
        incompatible_content_ground: None,
        incompatible_content_explanation: None,
        incompatible_content_illegal: None,
        content_type: content_types,
        content_type_other: None,
        category: Category::RiskForPublicSecurity,
        category_addition: Vec::new(),
        category_specification: vec![Keyword::TerroristContent],
        category_specification_other: None,
        // TCO Art. 3(3): in all Member States.
        territorial_scope: Country::eu(),
        content_language: d.content_language,
        content_date: d.content_date,
        application_date: d.decided_on,
        end_date_account_restriction: None,
        end_date_monetary_restriction: None,
        end_date_service_restriction: None,
        // Removal and disabling under TCO are not temporary.
        end_date_visibility_restriction: None,
        decision_facts: facts,
        source_type,
        source_identity,
        automated_detection: YesNo::from(d.automated_detection),
        automated_decision: d.automated_decision,
        puid: d.puid.clone(),
        content_id: None,
    };
    let mut errors = statement.validate().err().unwrap_or_default();
    if reasons.is_empty() {
        errors.add(
            "illegal_content_explanation",
            "a terrorist-content decision needs at least one Art. 2(7) reason",
        );
    }
    if errors.is_empty() {
        Ok(Built {
            statement,
            not_before,
        })
    } else {
        Err(errors)
    }
}
