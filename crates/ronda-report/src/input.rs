//! What a report is computed from: plain records, shaped like what the store
//! holds, filled by the caller. Nothing here is derived; [`crate::compute()`]
//! derives everything from these records alone.
//!
//! Times are Unix milliseconds ([`Millis`]), as in the store. Records refer to
//! each other by the store's ids: an item names its platform by
//! [`Platform::id`], a referral its item by [`Item::id`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Unix time in milliseconds.
pub type Millis = i64;

/// Everything one campaign report is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportInput {
    pub campaign: Campaign,
    /// The moment the report describes ("as of"): removal orders whose
    /// deadline passed before it without a removal are overdue. The caller
    /// passes it (this crate reads no clock), so the same records and the
    /// same `as_of` always give the same report, byte for byte.
    pub as_of: Millis,
    /// The platform directory, or at least every platform that an item,
    /// referral or outlink names. Platforms without items are left out of
    /// the per-platform tables.
    pub platforms: Vec<Platform>,
    /// Every submission in the campaign, duplicates included.
    pub items: Vec<Item>,
    /// Every referral and removal order of the campaign's items, drafts
    /// included (drafts are not counted: a referral counts once sent).
    pub referrals: Vec<Referral>,
    /// What liveness checks saw, at most one record per item; an item
    /// without one was never checked.
    pub liveness: Vec<Liveness>,
}

/// The campaign (action day) itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    /// The window, when the campaign has one; shown, not used to filter
    /// (the caller passes the campaign's records).
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
}

/// A platform or infrastructure provider from the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub id: i64,
    pub name: String,
    pub kind: PlatformKind,
}

/// What sort of service a platform is; the same names as the store's
/// platform directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    Social,
    Video,
    FileHost,
    Chat,
    Forum,
    Archive,
    Paste,
    Hosting,
    Registrar,
    Cdn,
    /// A site or instance run by a group itself.
    GroupRun,
}

impl PlatformKind {
    pub const ALL: [PlatformKind; 11] = [
        PlatformKind::Social,
        PlatformKind::Video,
        PlatformKind::FileHost,
        PlatformKind::Chat,
        PlatformKind::Forum,
        PlatformKind::Archive,
        PlatformKind::Paste,
        PlatformKind::Hosting,
        PlatformKind::Registrar,
        PlatformKind::Cdn,
        PlatformKind::GroupRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::Social => "social",
            PlatformKind::Video => "video",
            PlatformKind::FileHost => "file_host",
            PlatformKind::Chat => "chat",
            PlatformKind::Forum => "forum",
            PlatformKind::Archive => "archive",
            PlatformKind::Paste => "paste",
            PlatformKind::Hosting => "hosting",
            PlatformKind::Registrar => "registrar",
            PlatformKind::Cdn => "cdn",
            PlatformKind::GroupRun => "group_run",
        }
    }
}

impl fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlatformKind {
    type Err = String;

    fn from_str(s: &str) -> Result<PlatformKind, String> {
        PlatformKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown platform kind {s:?}"))
    }
}

/// One submission: a piece of content at one location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    /// The URL as submitted; appears in the per-item CSV only.
    pub url: String,
    /// The submitting organisation's name, when it has one.
    pub organisation: Option<String>,
    /// The platform the URL belongs to ([`Platform::id`]); `None` when no
    /// platform claimed it.
    pub platform_id: Option<i64>,
    /// The group or outlet from the assessment, when assessed.
    pub group: Option<String>,
    /// Items with equal keys are the same content (for re-uploads and
    /// spread): any stable identifier of the content, such as a SHA-256 or
    /// a content cluster id. `None`: nothing captured to compare.
    pub content_key: Option<String>,
    pub submitted_at: Millis,
    /// Set on a submission of a URL already reported in the campaign: it
    /// counts as a report (and its organisation as a participant), not as
    /// an item.
    pub duplicate_of: Option<i64>,
    /// Platforms ([`Platform::id`]) that the item's text links to. Links
    /// to the item's own platform and to platforms not in
    /// [`ReportInput::platforms`] are ignored.
    pub outlinks: Vec<i64>,
}

/// A voluntary referral or a binding removal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    Referral,
    RemovalOrder,
}

/// Where a referral stands; the store's state machine's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    Draft,
    Sent,
    Acknowledged,
    Removed,
    NotRemoved,
    Disputed,
    /// An Annex III impossibility response.
    Impossible,
}

impl ReferralKind {
    pub const ALL: [ReferralKind; 2] = [ReferralKind::Referral, ReferralKind::RemovalOrder];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralKind::Referral => "referral",
            ReferralKind::RemovalOrder => "removal_order",
        }
    }
}

impl FromStr for ReferralKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ReferralKind, String> {
        ReferralKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown referral kind {s:?}"))
    }
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 7] = [
        ReferralStatus::Draft,
        ReferralStatus::Sent,
        ReferralStatus::Acknowledged,
        ReferralStatus::Removed,
        ReferralStatus::NotRemoved,
        ReferralStatus::Disputed,
        ReferralStatus::Impossible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Sent => "sent",
            ReferralStatus::Acknowledged => "acknowledged",
            ReferralStatus::Removed => "removed",
            ReferralStatus::NotRemoved => "not_removed",
            ReferralStatus::Disputed => "disputed",
            ReferralStatus::Impossible => "impossible",
        }
    }
}

impl FromStr for ReferralStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<ReferralStatus, String> {
        ReferralStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown referral status {s:?}"))
    }
}

/// A referral or removal order of one item to one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: i64,
    pub item_id: i64,
    /// The addressee ([`Platform::id`]): the item's platform, or for a
    /// group-run site one of its infrastructure providers. `None`: the
    /// item's platform.
    pub platform_id: Option<i64>,
    pub kind: ReferralKind,
    pub status: ReferralStatus,
    /// When it was sent; `None` for a draft. Only sent referrals count.
    pub sent_at: Option<Millis>,
    /// A removal order's deadline as the state machine last set it (one
    /// hour from receipt, restarted by a clarification). `None` on an
    /// order: one hour after `sent_at`.
    pub deadline: Option<Millis>,
    /// When the addressee's response (Annex II, Annex III, or a status
    /// change entered by hand) arrived.
    pub responded_at: Option<Millis>,
    /// The Annex II time of the measure (removal or disabling), as the
    /// platform states it.
    pub measure_at: Option<Millis>,
}

impl Referral {
    /// The deadline that applies: the recorded one, or one hour after
    /// sending for an order that has none recorded; `None` for referrals.
    pub fn effective_deadline(&self) -> Option<Millis> {
        match self.kind {
            ReferralKind::Referral => None,
            ReferralKind::RemovalOrder => self
                .deadline
                .or_else(|| self.sent_at.map(|t| t.saturating_add(HOUR_MS))),
        }
    }
}

/// What the liveness checks of one item saw, summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Liveness {
    pub item_id: i64,
    /// The last check that saw the item live (before `first_removed_at`
    /// when there is one): the lower bound of the time of removal.
    pub last_live_at: Option<Millis>,
    /// The first check that saw it removed: **the time of removal**.
    /// Checks that found the platform unavailable are neither live nor
    /// removed.
    pub first_removed_at: Option<Millis>,
    /// The last check of any outcome: an item not removed is censored
    /// there in the survival curve.
    pub last_checked_at: Option<Millis>,
}

pub(crate) const MINUTE_MS: Millis = 60_000;
pub(crate) const HOUR_MS: Millis = 60 * MINUTE_MS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in PlatformKind::ALL {
            assert_eq!(k.as_str().parse::<PlatformKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for k in ReferralKind::ALL {
            assert_eq!(k.as_str().parse::<ReferralKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in ReferralStatus::ALL {
            assert_eq!(s.as_str().parse::<ReferralStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("video ".parse::<PlatformKind>().is_err());
        assert!("order".parse::<ReferralKind>().is_err());
    }
}
