//! The Transparency Database's rules for a statement, applied to JSON.
//!
//! The rules are those the database's API enforces (its request
//! validation, read from the Commission's `transparency-database`
//! repository), with its semantics: a field is *missing* when absent,
//! `null`, a blank string or an empty list; a conditional field that does
//! not apply is ignored, not refused; unknown fields are ignored. Two rules
//! are stricter than the API, on purpose, because the API's documentation
//! states them and a later version may enforce them: an end date is not
//! before the application date, and free-text fields must be strings (the
//! API also takes numbers). Messages are ours; the *shape* is the
//! database's: `{"field": ["message", ...]}` per statement, and
//! `{"statement_<i>": {...}}` for a batch.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Statement;
use super::enums::{
    AccountType, AutomatedDecision, Category, ContentType, Country, DecisionAccount,
    DecisionGround, DecisionMonetary, DecisionProvision, DecisionVisibility, Keyword, LANGUAGES,
    SourceType, WireEnum, YesNo,
};
use crate::date::Date;

/// The most statements one call to `POST /api/v1/statements` takes.
pub const MAX_BATCH: usize = 100;

/// Errors per field, as in the database's `422` body: field name to messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds a message for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// The fields with errors, in name order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The messages for `field` (empty when it has none).
    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
}

/// A batch's errors: [`statement_key`] of the statement's position in the
/// request to its field errors.
pub type BatchErrors = BTreeMap<String, FieldErrors>;

/// `statement_<index>`, the database's key for a statement of a batch.
pub fn statement_key(index: usize) -> String {
    format!("statement_{index}")
}

/// The index in a `statement_<index>` key.
pub fn parse_statement_key(key: &str) -> Option<usize> {
    let digits = key.strip_prefix("statement_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn human(field: &str) -> String {
    field.replace('_', " ")
}

/// PHP's `trim`: the characters a "blank" string is made of.
fn is_blank(s: &str) -> bool {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\u{0B}'])
        .is_empty()
}

/// Whether `value` counts as given (the database's `required`).
fn given(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !is_blank(s),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

struct Checker<'a> {
    obj: &'a Map<String, Value>,
    errors: FieldErrors,
}

impl<'a> Checker<'a> {
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    fn given(&self, field: &str) -> bool {
        given(self.obj.get(field))
    }

    fn required(&mut self, field: &str) -> bool {
        if self.given(field) {
            true
        } else {
            self.errors
                .add(field, format!("the {} field is required", human(field)));
            false
        }
    }

    /// A string from a list of wire values; true when it is one.
    fn one_of<T: WireEnum>(&mut self, field: &str) -> Option<T> {
        let v = self.get(field)?;
        match v.as_str().and_then(T::parse) {
            Some(t) => Some(t),
            None => {
                self.errors
                    .add(field, format!("the selected {} is invalid", human(field)));
                None
            }
        }
    }

    /// A list whose every element is one of `allowed`.
    fn list_of(&mut self, field: &str, allowed: impl Fn(&str) -> bool) -> Vec<&'a str> {
        let Some(v) = self.get(field) else {
            return Vec::new();
        };
        let Some(items) = v.as_array() else {
            self.errors.add(
                field,
                format!("the {} field must be an array", human(field)),
            );
            return Vec::new();
        };
        let values: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        if values.len() != items.len() || !values.iter().all(|s| allowed(s)) {
            self.errors
                .add(field, format!("the selected {} is invalid", human(field)));
        }
        values
    }

    /// Free text of at most `max` characters (Unicode scalar values, as
    /// PHP's `mb_strlen` counts).
    fn text(&mut self, field: &str, max: usize) {
        let Some(v) = self.get(field) else { return };
        match v.as_str() {
            None => self.errors.add(
                field,
                format!("the {} field must be a string", human(field)),
            ),
            Some(s) if s.chars().count() > max => self.errors.add(
                field,
                format!(
                    "the {} field must not be longer than {max} characters",
                    human(field)
                ),
            ),
            Some(_) => {}
        }
    }

    fn required_text(&mut self, field: &str, max: usize) {
        if self.required(field) {
            self.text(field, max);
        }
    }

    /// A `YYYY-MM-DD` date within `[min, max]` (either bound optional).
    fn date(&mut self, field: &str, min: Option<Date>, max: Option<Date>) -> Option<Date> {
        let v = self.get(field)?;
        let Some(date) = v.as_str().and_then(|s| Date::parse(s).ok()) else {
            self.errors.add(
                field,
                format!("the {} does not match the format YYYY-MM-DD", human(field)),
            );
            return None;
        };
        if let Some(min) = min.filter(|m| date < *m) {
            self.errors.add(
                field,
                format!("the {} must be on or after {min}", human(field)),
            );
            return None;
        }
        if let Some(max) = max.filter(|m| date > *m) {
            self.errors.add(
                field,
                format!("the {} must be on or before {max}", human(field)),
            );
            return None;
        }
        Some(date)
    }
}

fn day(y: i32, m: u8, d: u8) -> Date {
    Date::new(y, m, d).expect("a constant date that exists")
}

/// Whether `s` is an absolute http(s) URL with a host and no whitespace.
fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `puid` is made of `[a-zA-Z0-9_-]` only (and is not empty).
pub fn is_valid_puid(puid: &str) -> bool {
    !puid.is_empty()
        && puid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Applies the database's rules to one statement as JSON. Empty when valid.
pub fn validate_value(statement: &Value) -> FieldErrors {
    let Some(obj) = statement.as_object() else {
        let mut errors = FieldErrors::default();
        errors.add("statement", "the statement must be a JSON object");
        return errors;
    };
    let mut c = Checker {
        obj,
        errors: FieldErrors::default(),
    };

    // At least one of the four decisions.
    const DECISIONS: [&str; 4] = [
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    ];
    if !DECISIONS.iter().any(|f| c.given(f)) {
        for f in DECISIONS {
            c.errors.add(
                f,
                format!(
                    "the {} field is required when none of the other decision fields \
                     (visibility, monetary, provision, account) is given",
                    human(f)
                ),
            );
        }
    }
    let visibility = c.list_of("decision_visibility", |s| {
        DecisionVisibility::parse(s).is_some()
    });
    if visibility.contains(&DecisionVisibility::Other.as_str()) {
        c.required_text("decision_visibility_other", 500);
    }
    let monetary = c.one_of::<DecisionMonetary>("decision_monetary");
    if monetary == Some(DecisionMonetary::Other) {
        c.required_text("decision_monetary_other", 500);
    }
    c.one_of::<DecisionProvision>("decision_provision");
    c.one_of::<DecisionAccount>("decision_account");
    c.one_of::<AccountType>("account_type");

    // The ground, and the fields each ground needs.
    let ground = if c.required("decision_ground") {
        c.one_of::<DecisionGround>("decision_ground")
    } else {
        None
    };
    if let Some(url) = c.get("decision_ground_reference_url") {
        c.text("decision_ground_reference_url", 500);
        if url.as_str().is_some_and(|u| !is_http_url(u)) {
            c.errors.add(
                "decision_ground_reference_url",
                "the decision ground reference url must be a valid http or https URL",
            );
        }
    }
    match ground {
        Some(DecisionGround::IllegalContent) => {
            c.required_text("illegal_content_legal_ground", 500);
            c.required_text("illegal_content_explanation", 2000);
        }
        Some(DecisionGround::IncompatibleContent) => {
            c.required_text("incompatible_content_ground", 500);
            c.required_text("incompatible_content_explanation", 2000);
            c.one_of::<YesNo>("incompatible_content_illegal");
        }
        None => {}
    }

    // What the content is.
    if c.required("content_type") {
        let types = c.list_of("content_type", |s| ContentType::parse(s).is_some());
        if types.contains(&ContentType::Other.as_str()) {
            c.required_text("content_type_other", 500);
        }
    }
    if c.required("category") {
        c.one_of::<Category>("category");
    }
    c.list_of("category_addition", |s| Category::parse(s).is_some());
    c.list_of("category_specification", |s| Keyword::parse(s).is_some());
    c.text("category_specification_other", 500);
    c.list_of("territorial_scope", |s| Country::parse(s).is_some());
    if c.get("content_language").is_some()
        && !c
            .get("content_language")
            .and_then(Value::as_str)
            .is_some_and(|s| LANGUAGES.contains(&s))
    {
        c.errors.add(
            "content_language",
            "the selected content language is invalid",
        );
    }

    // Dates.
    let last = day(2038, 1, 1);
    if c.required("content_date") {
        c.date("content_date", Some(day(2000, 1, 1)), Some(last));
    }
    let applied = if c.required("application_date") {
        c.date("application_date", Some(day(2020, 1, 1)), Some(last))
    } else {
        None
    };
    for f in [
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
    ] {
        if let (Some(end), Some(applied)) = (c.date(f, None, Some(last)), applied)
            && end < applied
        {
            c.errors.add(
                f,
                format!("the {} must be on or after the application date", human(f)),
            );
        }
    }

    c.required_text("decision_facts", 5000);
    let source = if c.required("source_type") {
        c.one_of::<SourceType>("source_type")
    } else {
        None
    };
    if source != Some(SourceType::Voluntary) {
        c.text("source_identity", 500);
    }
    if c.required("automated_detection") {
        c.one_of::<YesNo>("automated_detection");
    }
    if c.required("automated_decision") {
        c.one_of::<AutomatedDecision>("automated_decision");
    }

    if c.required("puid") {
        c.text("puid", 500);
        if c.get("puid")
            .and_then(Value::as_str)
            .is_some_and(|p| !is_valid_puid(p))
        {
            c.errors.add(
                "puid",
                "the puid may hold only letters a-z and A-Z, digits, hyphens and underscores",
            );
        }
    }

    if let Some(id) = c.get("content_id") {
        match id.as_object() {
            None => c
                .errors
                .add("content_id", "the content id field must be an object"),
            Some(id) => {
                if let Some(ean) = id.get("EAN-13")
                    && !ean
                        .as_str()
                        .is_some_and(|e| e.len() == 13 && e.bytes().all(|b| b.is_ascii_digit()))
                {
                    c.errors
                        .add("content_id.EAN-13", "the EAN-13 must be 13 digits");
                }
            }
        }
    }
    c.errors
}

/// Checks the envelope of `POST /api/v1/statements` (`{"statements": [...]}`,
/// 1 to [`MAX_BATCH`] of them) and every statement in it, as the database
/// does before it looks at `puid`s. `Err` holds the `errors` map of its 422
/// answer: `{"statements": [...]}` for a bad envelope, else
/// `{"statement_<i>": {field: [...]}}`.
pub fn validate_request(body: &Value) -> Result<&[Value], Value> {
    let statements = match body.get("statements") {
        Some(Value::Array(a)) if (1..=MAX_BATCH).contains(&a.len()) => a,
        Some(Value::Array(a)) if !a.is_empty() => {
            return Err(serde_json::json!({
                "statements": [format!("the statements field must have between 1 and {MAX_BATCH} items")]
            }));
        }
        _ => {
            return Err(serde_json::json!({
                "statements": ["the statements field is required and must be a non-empty array"]
            }));
        }
    };
    let errors: BatchErrors = statements
        .iter()
        .enumerate()
        .map(|(i, s)| (statement_key(i), validate_value(s)))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    if errors.is_empty() {
        Ok(statements)
    } else {
        Err(serde_json::to_value(errors).expect("string keys only"))
    }
}

/// What [`plan`] makes of a list of statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Positions in the input of the statements to send, in input order,
    /// cut into batches of at most [`MAX_BATCH`].
    pub batches: Vec<Vec<usize>>,
    /// Positions of the statements that must not be sent, with why: they
    /// fail [`validate_value`], or an earlier statement in the input has
    /// the same `puid`.
    pub rejected: Vec<(usize, FieldErrors)>,
}

/// The batcher: validates every statement, keeps the first of each `puid`
/// (a later one with the same `puid` is rejected under `puid`, because the
/// database would refuse it, or refuse the whole batch), and cuts the rest
/// into batches of at most [`MAX_BATCH`], in order.
pub fn plan(statements: &[Statement]) -> Plan {
    let mut seen = BTreeSet::new();
    let mut sendable = Vec::new();
    let mut rejected = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let mut errors = validate_value(&s.to_value());
        if errors.is_empty() && !seen.insert(s.puid.as_str()) {
            errors.add(
                "puid",
                "the puid is already used by an earlier statement in this submission",
            );
        }
        if errors.is_empty() {
            sendable.push(i);
        } else {
            rejected.push((i, errors));
        }
    }
    Plan {
        batches: sendable.chunks(MAX_BATCH).map(<[usize]>::to_vec).collect(),
        rejected,
    }
}
