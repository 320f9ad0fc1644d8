//! The records the store keeps.

use std::fmt;
use std::str::FromStr;

use ronda_hash::Signal;
use serde::{Deserialize, Serialize};

/// Unix time in milliseconds.
pub type Millis = i64;

/// What a token may do. Every route declares the roles it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens and bank deletion.
    Admin,
    /// Referral-unit and NGO analysts: items, banks, referrals.
    Analyst,
    /// Platform reviewers: review queues and decisions.
    Reviewer,
    /// A platform's systems: hash-and-match, referral answers, webhooks.
    Platform,
    /// Read-only access to everything, including the audit log.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Analyst,
        Role::Reviewer,
        Role::Platform,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Reviewer => "reviewer",
            Role::Platform => "platform",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}: expected admin, analyst, reviewer, platform or auditor"
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub created_at: Millis,
}

/// An authenticated caller: the token, what it may do and, when the token
/// belongs to a user, who.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    pub token_id: i64,
    pub label: String,
    pub role: Role,
    pub org_id: Option<i64>,
    /// The user the token acts for; `None` for a service token.
    pub user: Option<UserRef>,
}

impl Principal {
    /// The audit log's name for this caller: the user when the token has
    /// one, else the token.
    pub fn actor(&self) -> Actor {
        match &self.user {
            Some(u) => Actor(format!("user:{}", u.name)),
            None => Actor(format!("token:{}", self.token_id)),
        }
    }
}

/// Who did something, as the audit log records it: `user:<name>` for API
/// callers whose token belongs to a user, `token:<id>` for other API
/// callers, `local:<name>` for commands run on the server's own machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn local(name: &str) -> Actor {
        Actor(format!("local:{name}"))
    }
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    pub role: Role,
    pub org_id: Option<i64>,
    /// The user the token acts for; `None` for a service token.
    pub user_id: Option<i64>,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A person who uses Ronda (an analyst, reviewer, administrator, auditor or
/// a platform's staff), with one role and at most one organisation. Users
/// are disabled, never deleted, so that the audit log's `user:<name>`
/// always names someone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    /// The login name; unique and never changed.
    pub name: String,
    pub display_name: Option<String>,
    /// What the user's tokens may do.
    pub role: Role,
    pub org_id: Option<i64>,
    /// The organisation's name, for people reading listings.
    pub org_name: Option<String>,
    pub created_at: Millis,
    pub disabled_at: Option<Millis>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// 1 to 64 characters: lowercase ASCII letters, digits, `.`, `_`, `-`
    /// and `@`, so that it is safe in URLs and in the audit log's actor.
    pub name: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub org_id: Option<i64>,
}

impl NewUser {
    pub fn new(name: impl Into<String>, role: Role) -> NewUser {
        NewUser {
            name: name.into(),
            display_name: None,
            role,
            org_id: None,
        }
    }
}

/// The user behind an authenticated token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRef {
    pub id: i64,
    pub name: String,
}

/// Terrorist-content reasons of Art. 2(7) of Regulation (EU) 2021/784.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcoReason {
    Incites,
    SolicitsToCommit,
    SolicitsToParticipate,
    Instruction,
    Threat,
}

/// Labels carried by banks and entries. Unknown keys are refused on input
/// so that a typo does not silently drop a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tco_reason: Option<TcoReason>,
    /// 1 (lowest) to 5 (highest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Labels {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(s) = self.severity
            && !(1..=5).contains(&s)
        {
            return Err(format!("severity {s} is out of range 1..=5"));
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    pub(crate) fn from_json(s: &str) -> Result<Labels, crate::StoreError> {
        serde_json::from_str(s).map_err(|e| crate::StoreError::corrupt(format!("labels: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bank {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    /// HMA's knob: the share of lookups this bank takes part in (0.0–1.0).
    pub matching_enabled_ratio: f64,
    pub labels: Labels,
    pub org_id: Option<i64>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewBank {
    pub name: String,
    pub enabled: bool,
    pub matching_enabled_ratio: f64,
    pub labels: Labels,
    pub org_id: Option<i64>,
}

impl NewBank {
    pub fn named(name: impl Into<String>) -> NewBank {
        NewBank {
            name: name.into(),
            enabled: true,
            matching_enabled_ratio: 1.0,
            labels: Labels::default(),
            org_id: None,
        }
    }
}

/// A partial update of a bank; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BankUpdate {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub matching_enabled_ratio: Option<f64>,
    pub labels: Option<Labels>,
}

/// One piece of known content in a bank, with its signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub bank_id: i64,
    pub external_id: String,
    pub enabled: bool,
    pub disable_until: Option<Millis>,
    pub labels: Labels,
    pub source: Option<String>,
    pub collab: Option<String>,
    pub original_media_uri: Option<String>,
    pub note: Option<String>,
    /// Free JSON metadata given by the caller (HMA's `metadata`).
    pub metadata: Option<serde_json::Value>,
    pub signals: Vec<Signal>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Entry {
    /// Whether lookups should return this entry at time `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.enabled && self.disable_until.is_none_or(|t| t <= now)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// The source's identity for this entry; imports are idempotent on it.
    /// `None` derives one from the signals (`<type>:<value>` of the first),
    /// so that re-importing a plain hash list adds nothing.
    pub external_id: Option<String>,
    pub signals: Vec<Signal>,
    pub labels: Labels,
    pub source: Option<String>,
    pub collab: Option<String>,
    pub original_media_uri: Option<String>,
    pub note: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub enabled: bool,
    pub disable_until: Option<Millis>,
}

impl NewEntry {
    pub fn from_signal(signal: Signal) -> NewEntry {
        NewEntry {
            external_id: None,
            signals: vec![signal],
            labels: Labels::default(),
            source: None,
            collab: None,
            original_media_uri: None,
            note: None,
            metadata: None,
            enabled: true,
            disable_until: None,
        }
    }

    pub(crate) fn resolved_external_id(&self) -> Result<String, crate::StoreError> {
        if let Some(id) = &self.external_id {
            return Ok(id.clone());
        }
        let first = self.signals.first().ok_or_else(|| {
            crate::StoreError::InvalidInput("an entry needs at least one signal".to_owned())
        })?;
        Ok(format!(
            "{}:{}",
            first.signal_type().as_str(),
            first.value()
        ))
    }
}

/// A partial update of an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryUpdate {
    pub enabled: Option<bool>,
    /// `Some(None)` clears the time.
    pub disable_until: Option<Option<Millis>>,
    pub labels: Option<Labels>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
}

/// Where an import stands, saved with each batch it commits so that a
/// killed import resumes after its last batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportCheckpoint<'a> {
    /// The import's source: a file (with its size and time) or an API.
    pub source: &'a str,
    /// Where to resume: the last line, or the API's own checkpoint.
    pub value: &'a str,
    /// Bytes read so far, and of how many, when the source has a size.
    pub bytes_done: Option<u64>,
    pub bytes_total: Option<u64>,
}

impl<'a> ImportCheckpoint<'a> {
    /// A checkpoint without byte progress.
    pub fn new(source: &'a str, value: &'a str) -> ImportCheckpoint<'a> {
        ImportCheckpoint {
            source,
            value,
            bytes_done: None,
            bytes_total: None,
        }
    }
}

/// An import that has saved a checkpoint and not yet finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProgress {
    pub source: String,
    pub bank: String,
    /// Records committed, across resumes.
    pub records: u64,
    pub bytes_done: Option<u64>,
    pub bytes_total: Option<u64>,
    /// When the last batch committed (Unix ms).
    pub updated_at: Millis,
}

/// What one import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    /// New entries, and deleted ones brought back.
    pub added: u64,
    /// Entries that were already there.
    pub unchanged: u64,
    /// Entries removed because the source marked them deleted.
    pub removed: u64,
}

impl std::ops::AddAssign for ImportStats {
    fn add_assign(&mut self, other: ImportStats) {
        self.added += other.added;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
    }
}

/// A position in the change feed: entries are ordered by `(seq, id)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cursor {
    pub seq: i64,
    pub id: i64,
}

/// The state of one entry after a change, as a follower needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryChange {
    pub cursor: Cursor,
    pub entry_id: i64,
    pub bank_id: i64,
    pub enabled: bool,
    pub disable_until: Option<Millis>,
    /// The entry was deleted: followers drop its signals.
    pub deleted: bool,
    /// An entry's signals never change after it is created.
    pub signals: Vec<Signal>,
}
