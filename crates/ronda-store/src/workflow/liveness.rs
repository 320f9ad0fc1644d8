//! Liveness checks: the record of each check of a referred item (what the
//! scheduler saw, with its evidence), and per item the last time it was
//! seen live and the first time it was seen gone, so that a report can
//! bound the time of removal: after `last_seen_live_at`, at or before
//! `first_seen_removed_at`.
//!
//! The first check that sees an item removed moves every referral of it
//! that awaits removal to `removed` (the state machine's `seen_removed`),
//! in the same transaction.

use std::fmt;
use std::str::FromStr;

use ronda_hash::Sha256Digest;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::page_limit;
use super::referrals::apply_event;
use super::state::ReferralEvent;
use crate::audit::{self, What};
use crate::platforms::clean_text;
use crate::{Actor, ItemStatus, ItemViewer, Millis, Store, StoreError};

/// What a check found at the item's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LivenessState {
    Live,
    Removed,
    /// No answer, or one that tells nothing (5xx, 429, 403, …).
    Unavailable,
    /// Something else is there now.
    Changed,
}

impl LivenessState {
    pub const ALL: [LivenessState; 4] = [
        LivenessState::Live,
        LivenessState::Removed,
        LivenessState::Unavailable,
        LivenessState::Changed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LivenessState::Live => "live",
            LivenessState::Removed => "removed",
            LivenessState::Unavailable => "unavailable",
            LivenessState::Changed => "changed",
        }
    }
}

impl fmt::Display for LivenessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LivenessState {
    type Err = String;

    fn from_str(s: &str) -> Result<LivenessState, String> {
        LivenessState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown liveness state {s:?}: expected live, removed, unavailable or changed"
                )
            })
    }
}

/// A check to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLivenessCheck {
    pub item_id: i64,
    /// The referral the check was made for, if one.
    pub referral_id: Option<i64>,
    /// When the check ran; `None`: now (the store's clock).
    pub checked_at: Option<Millis>,
    pub http_status: Option<u16>,
    pub state: LivenessState,
    /// SHA-256 of what was fetched.
    pub evidence_sha256: Option<Sha256Digest>,
    /// Why, in a few words (never page content), at most
    /// [`MAX_DETAIL_BYTES`].
    pub detail: Option<String>,
}

pub const MAX_DETAIL_BYTES: usize = 500;

/// A check as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivenessCheck {
    pub id: i64,
    pub item_id: i64,
    pub referral_id: Option<i64>,
    pub checked_at: Millis,
    pub http_status: Option<u16>,
    pub state: LivenessState,
    pub evidence_sha256: Option<String>,
    pub detail: Option<String>,
}

/// What the checks of one item found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemLiveness {
    pub item_id: i64,
    pub checks: i64,
    pub last_checked_at: Millis,
    pub last_state: LivenessState,
    /// The last check that saw it live before it was first seen removed.
    pub last_seen_live_at: Option<Millis>,
    pub first_seen_removed_at: Option<Millis>,
}

/// An item due for a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueCheck {
    pub item_id: i64,
    pub url: String,
    pub canonical_url: String,
    /// The item's platform (whose removal rules apply; for fairness).
    pub platform_id: Option<i64>,
    /// The captured bytes' SHA-256, to tell `live` from `changed`.
    pub blob_sha256: Option<String>,
    pub last_checked_at: Option<Millis>,
    pub last_state: Option<LivenessState>,
}

fn row_to_check(r: &AnyRow) -> Result<LivenessCheck, StoreError> {
    let status: Option<i64> = r.try_get(4)?;
    let state: String = r.try_get(5)?;
    Ok(LivenessCheck {
        id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        referral_id: r.try_get(2)?,
        checked_at: r.try_get(3)?,
        http_status: status.and_then(|s| u16::try_from(s).ok()),
        state: state.parse().map_err(StoreError::corrupt)?,
        evidence_sha256: r.try_get(6)?,
        detail: r.try_get(7)?,
    })
}

fn row_to_liveness(r: &AnyRow) -> Result<ItemLiveness, StoreError> {
    let state: String = r.try_get(3)?;
    Ok(ItemLiveness {
        item_id: r.try_get(0)?,
        checks: r.try_get(1)?,
        last_checked_at: r.try_get(2)?,
        last_state: state.parse().map_err(StoreError::corrupt)?,
        last_seen_live_at: r.try_get(4)?,
        first_seen_removed_at: r.try_get(5)?,
    })
}

const CHECK_COLUMNS: &str =
    "id, item_id, referral_id, checked_at, http_status, state, evidence_sha256, detail";
const LIVENESS_COLUMNS: &str =
    "item_id, checks, last_checked_at, last_state, last_seen_live_at, first_seen_removed_at";

/// The statuses of referrals that liveness checks look after (the same as
/// [`ReferralStatus::awaits_removal`]).
const AWAITING: &str = "('sent', 'acknowledged', 'disputed', 'impossible', 'not_removed')";

impl Store {
    /// Records one check. The first check that sees the item removed sets
    /// its `first_seen_removed_at`, moves its referrals that await
    /// removal to `removed` and the item to `removed`; a check that sees
    /// it live before that moves `last_seen_live_at` on.
    pub async fn record_liveness_check(
        &self,
        check: &NewLivenessCheck,
        actor: &Actor,
    ) -> Result<LivenessCheck, StoreError> {
        let detail = clean_text("detail", check.detail.as_deref(), MAX_DETAIL_BYTES)?;
        if let Some(s) = check.http_status
            && !(100..=599).contains(&s)
        {
            return Err(StoreError::InvalidInput(format!(
                "http_status {s} is not an HTTP status"
            )));
        }
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let at = check.checked_at.unwrap_or(now);
        if sqlx::query("SELECT 1 FROM items WHERE id = $1")
            .bind(check.item_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::not_found("item", check.item_id));
        }
        if let Some(r) = check.referral_id
            && sqlx::query("SELECT 1 FROM referrals WHERE id = $1 AND item_id = $2")
                .bind(r)
                .bind(check.item_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
        {
            return Err(StoreError::InvalidInput(format!(
                "referral {r} is not a referral of item {}",
                check.item_id
            )));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO liveness_checks (item_id, referral_id, checked_at, http_status, state, \
             evidence_sha256, detail) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {CHECK_COLUMNS}"
        ))
        .bind(check.item_id)
        .bind(check.referral_id)
        .bind(at)
        .bind(check.http_status.map(i64::from))
        .bind(check.state.as_str())
        .bind(check.evidence_sha256.map(|d| d.to_string()))
        .bind(detail.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let recorded = row_to_check(&row)?;
        let before = sqlx::query(&format!(
            "SELECT {LIVENESS_COLUMNS} FROM item_liveness WHERE item_id = $1"
        ))
        .bind(check.item_id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(row_to_liveness)
        .transpose()?;
        let removed_before = before.as_ref().and_then(|b| b.first_seen_removed_at);
        let first_removal = check.state == LivenessState::Removed && removed_before.is_none();
        let first_seen_removed_at = if first_removal {
            Some(at)
        } else {
            removed_before
        };
        let mut last_seen_live_at = before.as_ref().and_then(|b| b.last_seen_live_at);
        if check.state == LivenessState::Live
            && removed_before.is_none()
            && last_seen_live_at.is_none_or(|t| t < at)
        {
            last_seen_live_at = Some(at);
        }
        // The latest check by time is the "last" one (the scheduler may
        // record out of order across nodes).
        let (last_checked_at, last_state) = match &before {
            Some(b) if b.last_checked_at > at => (b.last_checked_at, b.last_state),
            _ => (at, check.state),
        };
        match &before {
            None => {
                sqlx::query(&format!(
                    "INSERT INTO item_liveness ({LIVENESS_COLUMNS}) VALUES ($1, 1, $2, $3, $4, $5)"
                ))
                .bind(check.item_id)
                .bind(last_checked_at)
                .bind(last_state.as_str())
                .bind(last_seen_live_at)
                .bind(first_seen_removed_at)
                .execute(&mut *tx)
                .await?;
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE item_liveness SET checks = checks + 1, last_checked_at = $1, \
                     last_state = $2, last_seen_live_at = $3, first_seen_removed_at = $4 \
                     WHERE item_id = $5",
                )
                .bind(last_checked_at)
                .bind(last_state.as_str())
                .bind(last_seen_live_at)
                .bind(first_seen_removed_at)
                .bind(check.item_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        let mut moved = Vec::new();
        if first_removal {
            let rows = sqlx::query(&format!(
                "SELECT id FROM referrals WHERE item_id = $1 AND status IN {AWAITING} ORDER BY id"
            ))
            .bind(check.item_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let id: i64 = r.try_get(0)?;
                apply_event(
                    &mut tx,
                    id,
                    ReferralEvent::SeenRemoved,
                    at,
                    now,
                    actor,
                    json!({ "liveness_check_id": recorded.id }),
                )
                .await?;
                moved.push(id);
            }
            // Seen gone: the item is removed whether or not a referral of
            // it moved (it may have been referred and then withdrawn).
            sqlx::query("UPDATE items SET status = $1 WHERE id = $2 AND status = $3")
                .bind(ItemStatus::Removed.as_str())
                .bind(check.item_id)
                .bind(ItemStatus::Referred.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let what = What {
            action: "liveness.check",
            record_kind: "item",
            record_id: &check.item_id.to_string(),
        };
        let audit_detail = json!({
            "check_id": recorded.id,
            "state": check.state.as_str(),
            "http_status": check.http_status,
            "referrals_removed": moved,
        });
        audit::append(&mut tx, actor, what, audit_detail).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Items due for a check: referred (a referral sent and not yet
    /// removed or withdrawn), not yet seen removed, and not checked since
    /// `not_checked_since` (never-checked items first, then the oldest
    /// check), at most `limit` (1 to 1000; 0: 100). Fairness between
    /// platforms is the scheduler's.
    pub async fn items_due_for_liveness_check(
        &self,
        not_checked_since: Millis,
        limit: i64,
    ) -> Result<Vec<DueCheck>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT i.id, i.url, i.canonical_url, i.platform_id, i.blob_sha256, \
             l.last_checked_at, l.last_state FROM items i \
             LEFT JOIN item_liveness l ON l.item_id = i.id \
             WHERE EXISTS (SELECT 1 FROM referrals r WHERE r.item_id = i.id \
               AND r.status IN {AWAITING}) \
             AND l.first_seen_removed_at IS NULL \
             AND COALESCE(l.last_checked_at, -1) < $1 \
             ORDER BY COALESCE(l.last_checked_at, -1), i.id LIMIT $2"
        ))
        .bind(not_checked_since)
        .bind(page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: Option<String> = r.try_get(6)?;
                Ok(DueCheck {
                    item_id: r.try_get(0)?,
                    url: r.try_get(1)?,
                    canonical_url: r.try_get(2)?,
                    platform_id: r.try_get(3)?,
                    blob_sha256: r.try_get(4)?,
                    last_checked_at: r.try_get(5)?,
                    last_state: state
                        .as_deref()
                        .map(str::parse)
                        .transpose()
                        .map_err(StoreError::corrupt)?,
                })
            })
            .collect()
    }

    /// An item's checks, oldest first, after check id `after`, at most
    /// `limit` (1 to 1000; 0: 100), if `viewer` sees the item.
    pub async fn liveness_checks(
        &self,
        item_id: i64,
        viewer: ItemViewer,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LivenessCheck>, StoreError> {
        self.check_item_visible(item_id, viewer).await?;
        let rows = sqlx::query(&format!(
            "SELECT {CHECK_COLUMNS} FROM liveness_checks WHERE item_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(item_id)
        .bind(after)
        .bind(page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_check).collect()
    }

    /// What the checks of an item found; `None` before the first check.
    pub async fn item_liveness(
        &self,
        item_id: i64,
        viewer: ItemViewer,
    ) -> Result<Option<ItemLiveness>, StoreError> {
        self.check_item_visible(item_id, viewer).await?;
        let row = sqlx::query(&format!(
            "SELECT {LIVENESS_COLUMNS} FROM item_liveness WHERE item_id = $1"
        ))
        .bind(item_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_liveness).transpose()
    }

    async fn check_item_visible(&self, item_id: i64, viewer: ItemViewer) -> Result<(), StoreError> {
        let org: Option<Option<i64>> = sqlx::query("SELECT org_id FROM items WHERE id = $1")
            .bind(item_id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match org {
            Some(org) if viewer.sees(org) => Ok(()),
            _ => Err(StoreError::not_found("item", item_id)),
        }
    }
}

// The SQL list above must name the same statuses as the state machine.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReferralStatus;

    #[test]
    fn the_awaiting_list_matches_the_state_machine() {
        for s in ReferralStatus::ALL {
            assert_eq!(
                AWAITING.contains(&format!("'{}'", s.as_str())),
                s.awaits_removal(),
                "{s}"
            );
        }
        for s in LivenessState::ALL {
            assert_eq!(s.as_str().parse::<LivenessState>(), Ok(s));
        }
    }
}
