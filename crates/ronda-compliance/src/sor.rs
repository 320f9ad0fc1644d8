//! DSA statements of reasons (Art. 17 and 24(5) DSA) in the schema of the
//! Commission's Transparency Database, as it stands since 1 July 2025.
//!
//! - [`Statement`]: one statement, typed; it serialises with the
//!   database's field names and values and leaves out what is empty.
//! - [`validate`](mod@validate): the database's rules, applied to the JSON
//!   that would be sent (so that a typed statement and a raw request are
//!   judged alike), with errors shaped like its `422` answer.
//! - [`plan`]: the batcher: valid statements with distinct `puid`s in
//!   batches of at most [`MAX_BATCH`].
//! - [`build`](mod@build): statements for terrorist-content decisions.

pub mod build;
pub mod enums;
pub mod validate;

use serde::{Deserialize, Serialize};

use crate::date::Date;
pub use enums::{
    AccountType, AutomatedDecision, Category, ContentType, Country, DecisionAccount,
    DecisionGround, DecisionMonetary, DecisionProvision, DecisionVisibility, Keyword, LANGUAGES,
    Language, SourceType, WireEnum, YesNo,
};
pub use validate::{
    BatchErrors, FieldErrors, MAX_BATCH, Plan, parse_statement_key, plan, statement_key,
    validate_request, validate_value,
};

/// `content_id`: identifiers of the content in key-value form; the only
/// key the database takes is `EAN-13`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentId {
    /// A product's EAN-13 code: 13 digits.
    #[serde(rename = "EAN-13", default, skip_serializing_if = "Option::is_none")]
    pub ean_13: Option<String>,
}

/// One statement of reasons. Field names and values are the database's;
/// `None` and empty lists are left out of the JSON. The enums cannot hold a
/// value the database does not know, but lengths, conditional fields and
/// dates can still be wrong: [`Statement::validate`] checks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// At least one of the four decision fields (this, `decision_monetary`,
    /// `decision_provision`, `decision_account`) is required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decision_visibility: Vec<DecisionVisibility>,
    /// Required (at most 500 characters) when `decision_visibility` holds
    /// [`DecisionVisibility::Other`]; ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_visibility_other: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_monetary: Option<DecisionMonetary>,
    /// Required (at most 500) when `decision_monetary` is
    /// [`DecisionMonetary::Other`]; ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_monetary_other: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_provision: Option<DecisionProvision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_account: Option<DecisionAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    pub decision_ground: DecisionGround,
    /// The terms or the law relied on, as an http(s) URL of at most 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_ground_reference_url: Option<String>,
    /// Required (at most 500) for [`DecisionGround::IllegalContent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illegal_content_legal_ground: Option<String>,
    /// Required (at most 2000) for [`DecisionGround::IllegalContent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illegal_content_explanation: Option<String>,
    /// Required (at most 500) for [`DecisionGround::IncompatibleContent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_ground: Option<String>,
    /// Required (at most 2000) for [`DecisionGround::IncompatibleContent`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_explanation: Option<String>,
    /// Whether incompatible content is also illegal; optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incompatible_content_illegal: Option<YesNo>,
    /// Required, at least one.
    pub content_type: Vec<ContentType>,
    /// Required (at most 500) when `content_type` holds [`ContentType::Other`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type_other: Option<String>,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_addition: Vec<Category>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_specification: Vec<Keyword>,
    /// At most 500; meant for [`Keyword::Other`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_specification_other: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub territorial_scope: Vec<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<Language>,
    /// When the content was posted; 2000-01-01 to 2038-01-01.
    pub content_date: Date,
    /// When the decision applies from; 2020-01-01 to 2038-01-01.
    pub application_date: Date,
    /// End dates of temporary restrictions (none: indefinite); not before
    /// the application date, not after 2038-01-01.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_account_restriction: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_monetary_restriction: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_service_restriction: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_visibility_restriction: Option<Date>,
    /// Facts and circumstances relied on; required, at most 5000. Never
    /// personal data, never the content itself.
    pub decision_facts: String,
    pub source_type: SourceType,
    /// The notifier, at most 500; ignored for [`SourceType::Voluntary`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    pub automated_detection: YesNo,
    pub automated_decision: AutomatedDecision,
    /// The platform's unique identifier of this statement: at most 500 of
    /// `[a-zA-Z0-9_-]`, unique per platform (the database refuses a `puid`
    /// it already has).
    pub puid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<ContentId>,
}

impl Statement {
    /// The statement as the JSON object that is sent.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .expect("a statement has string keys and no maps, so it always serialises")
    }

    /// Applies the database's rules to the JSON this statement sends.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let errors = validate_value(&self.to_value());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// The body of `POST /api/v1/statements`: `{"statements": [...]}`. Also the
/// form Ronda exports statements in, so that an export can be posted as is.
pub fn request_body<'a>(statements: impl IntoIterator<Item = &'a Statement>) -> serde_json::Value {
    serde_json::json!({
        "statements": statements.into_iter().map(Statement::to_value).collect::<Vec<_>>()
    })
}
