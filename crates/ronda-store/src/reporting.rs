//! What a campaign report is computed from, read in a few bulk queries:
//! the campaign's items (duplicates included) with their latest
//! terrorist-content group and liveness summary, and the first response
//! to each of their referrals. The report itself (`ronda-report`) is
//! computed by the caller; the store only reads.

use sqlx::Row;

use crate::{Millis, Store, StoreError};

/// One item of the campaign, as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportItemRow {
    pub id: i64,
    pub url: String,
    pub org: Option<String>,
    pub platform_id: Option<i64>,
    /// The group of the latest terrorist-content assessment.
    pub group: Option<String>,
    /// The captured bytes' SHA-256: the same content where equal.
    pub blob_sha256: Option<String>,
    pub created_at: Millis,
    pub duplicate_of: Option<i64>,
    /// The liveness summary: last live, first removed, last checked.
    pub last_seen_live_at: Option<Millis>,
    pub first_seen_removed_at: Option<Millis>,
    pub last_checked_at: Option<Millis>,
}

/// The first platform response to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportResponseRow {
    pub referral_id: i64,
    /// When the response was recorded.
    pub at: Millis,
    /// The Annex II time of the measure, if one.
    pub measure_at: Option<Millis>,
}

/// Most items one report reads.
pub const MAX_REPORT_ITEMS: i64 = 1_000_000;

impl Store {
    /// The campaign's items, by id, with group and liveness.
    pub async fn report_items(&self, campaign_id: i64) -> Result<Vec<ReportItemRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.url, o.name, i.platform_id, \
             (SELECT a.group_name FROM assessments a WHERE a.item_id = i.id \
              AND a.verdict = 'terrorist_content' ORDER BY a.id DESC LIMIT 1), \
             i.blob_sha256, i.created_at, i.duplicate_of, \
             l.last_seen_live_at, l.first_seen_removed_at, l.last_checked_at \
             FROM items i LEFT JOIN organisations o ON o.id = i.org_id \
             LEFT JOIN item_liveness l ON l.item_id = i.id \
             WHERE i.campaign_id = $1 ORDER BY i.id LIMIT $2",
        )
        .bind(campaign_id)
        .bind(MAX_REPORT_ITEMS)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportItemRow {
                    id: r.try_get(0)?,
                    url: r.try_get(1)?,
                    org: r.try_get(2)?,
                    platform_id: r.try_get(3)?,
                    group: r.try_get(4)?,
                    blob_sha256: r.try_get(5)?,
                    created_at: r.try_get(6)?,
                    duplicate_of: r.try_get(7)?,
                    last_seen_live_at: r.try_get(8)?,
                    first_seen_removed_at: r.try_get(9)?,
                    last_checked_at: r.try_get(10)?,
                })
            })
            .collect()
    }

    /// The first response to each referral of the campaign's items.
    pub async fn report_responses(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<ReportResponseRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.referral_id, MIN(s.at), MIN(s.measure_at) FROM referral_responses s \
             JOIN referrals r ON r.id = s.referral_id JOIN items i ON i.id = r.item_id \
             WHERE i.campaign_id = $1 GROUP BY s.referral_id ORDER BY s.referral_id",
        )
        .bind(campaign_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportResponseRow {
                    referral_id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    measure_at: r.try_get(2)?,
                })
            })
            .collect()
    }
}
