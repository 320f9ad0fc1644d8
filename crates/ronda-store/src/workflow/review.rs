//! The review queue and assessments (C11).
//!
//! Every first report enters the queue when it is added (in
//! [`Store::add_item`]'s transaction), with a priority from 0 to 10:
//! [`review_priority`]. A reviewer claims the next item: the claim is a
//! lease (`claimed_by`, `claim_expires_at`) taken inside the store's write
//! lock, so two reviewers never hold the same item, on either backend; an
//! expired lease makes the item claimable again. A decision records an
//! [`Assessment`] and moves the item on (`assessed`, `dismissed`, or
//! `escalated`: back in the queue at priority 10 for a second opinion).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::items::{ITEM_SELECT, load_details, row_to_item};
use crate::platforms::clean_text;
use crate::{
    Actor, Item, ItemMatch, ItemStatus, ItemViewer, Labels, Millis, Store, StoreError, TcoReason,
    Tx,
};
use ronda_hash::SignalType;

/// A reviewer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Terrorist content (TCO Art. 2(7)): to be referred.
    TerroristContent,
    NotTerroristContent,
    /// Needs a second opinion.
    Escalate,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [
        Verdict::TerroristContent,
        Verdict::NotTerroristContent,
        Verdict::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::TerroristContent => "terrorist_content",
            Verdict::NotTerroristContent => "not_terrorist_content",
            Verdict::Escalate => "escalate",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Verdict, String> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown verdict {s:?}: expected terrorist_content, not_terrorist_content or escalate"
                )
            })
    }
}

pub(crate) fn tco_reason_str(r: TcoReason) -> &'static str {
    match r {
        TcoReason::Incites => "incites",
        TcoReason::SolicitsToCommit => "solicits_to_commit",
        TcoReason::SolicitsToParticipate => "solicits_to_participate",
        TcoReason::Instruction => "instruction",
        TcoReason::Threat => "threat",
    }
}

/// A TCO Art. 2(7) reason from its wire name.
pub fn parse_tco_reason(s: &str) -> Result<TcoReason, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        format!(
            "unknown TCO reason {s:?}: expected incites, solicits_to_commit, \
             solicits_to_participate, instruction or threat"
        )
    })
}

/// A decision as a reviewer gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    pub verdict: Option<Verdict>,
    /// Required for `terrorist_content`, refused otherwise.
    #[serde(default)]
    pub reason: Option<TcoReason>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub outlet: Option<String>,
    /// 1 (lowest) to 5 (highest).
    #[serde(default)]
    pub severity: Option<u8>,
    /// The content's language (a BCP 47 tag).
    #[serde(default)]
    pub language: Option<String>,
    /// Private to the reviewer's organisation, as item notes are.
    #[serde(default)]
    pub notes: Option<String>,
}

impl NewAssessment {
    pub fn new(verdict: Verdict) -> NewAssessment {
        NewAssessment {
            verdict: Some(verdict),
            ..NewAssessment::default()
        }
    }
}

/// Longest free-text label (group, outlet).
pub const MAX_LABEL_BYTES: usize = 200;
/// Longest assessment notes.
pub const MAX_NOTES_BYTES: usize = 10_000;
/// Longest claim: a reviewer who walks away frees the item after this.
pub const MAX_LEASE_MS: Millis = 24 * 60 * 60 * 1000;
/// The claim a reviewer gets unless they ask for another length.
pub const DEFAULT_LEASE_MS: Millis = 15 * 60 * 1000;

/// An assessment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub id: i64,
    pub item_id: i64,
    pub verdict: Verdict,
    pub reason: Option<TcoReason>,
    pub group: Option<String>,
    pub outlet: Option<String>,
    pub severity: Option<u8>,
    pub language: Option<String>,
    pub notes: Option<String>,
    /// The audit log's actor.
    pub reviewer: String,
    pub user_id: Option<i64>,
    pub decided_at: Millis,
}

/// An item in the review queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewTask {
    pub priority: u8,
    pub enqueued_at: Millis,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<Millis>,
    pub item: Item,
}

/// One bank match's weight in [`review_priority`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchStrength {
    /// The entry's severity label (1 to 5), else its bank's; `None`: 3.
    pub severity: Option<u8>,
    /// PDQ Hamming distance; `None` (or 0) for an exact match.
    pub distance: Option<u32>,
}

/// The queue priority, 0 to 10 (like Jigsaw Altitude's score), from the
/// item's bank matches at capture: each match scores
/// `2 × severity × confidence`, rounded, where severity is 1 to 5 (3 when
/// unlabelled) and confidence is 1 for an exact match and
/// `(64 − d) / 64` for a PDQ match at distance `d` (0.52 at the match
/// radius 31); the item takes its best match's score. An item without
/// matches (an analyst's own find) scores 2, an escalated item 10.
pub fn review_priority(matches: &[MatchStrength]) -> u8 {
    matches
        .iter()
        .map(|m| {
            let s = i64::from(m.severity.unwrap_or(3).clamp(1, 5));
            let d = i64::from(m.distance.unwrap_or(0).min(64));
            // round(2·s·(64 − d)/64) in integers.
            let score = (2 * s * (64 - d) + 32) / 64;
            u8::try_from(score.clamp(1, 10)).unwrap_or(10)
        })
        .max()
        .unwrap_or(2)
}

/// Puts a new first report in the queue, inside `add_item`'s transaction.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    item_id: i64,
    matches: &[ItemMatch],
    now: Millis,
) -> Result<(), StoreError> {
    let mut strengths = Vec::with_capacity(matches.len());
    // One label lookup per entry; an entry or bank gone since keeps the
    // default severity.
    let mut severities: Vec<(i64, Option<u8>)> = Vec::new();
    for m in matches {
        let distance = match m.signal_type {
            SignalType::Pdq => m.distance,
            _ => None,
        };
        let cached = severities
            .iter()
            .find(|(e, _)| *e == m.entry_id)
            .map(|(_, s)| *s);
        let severity = match cached {
            Some(s) => s,
            None => {
                let row = sqlx::query(
                    "SELECT e.labels, b.labels FROM entries e JOIN banks b ON b.id = e.bank_id \
                     WHERE e.id = $1",
                )
                .bind(m.entry_id)
                .fetch_optional(&mut **tx)
                .await?;
                let s = match row {
                    Some(r) => {
                        let entry = Labels::from_json(&r.try_get::<String, _>(0)?)?;
                        let bank = Labels::from_json(&r.try_get::<String, _>(1)?)?;
                        entry.severity.or(bank.severity)
                    }
                    None => None,
                };
                severities.push((m.entry_id, s));
                s
            }
        };
        strengths.push(MatchStrength { severity, distance });
    }
    let priority = review_priority(&strengths);
    sqlx::query("INSERT INTO review_queue (item_id, priority, enqueued_at) VALUES ($1, $2, $3)")
        .bind(item_id)
        .bind(i64::from(priority))
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const TASK_COLUMNS: &str = "q.priority, q.enqueued_at, q.claimed_by, q.claim_expires_at";

/// `ITEM_SELECT` joined with the queue: item columns 0..=16, then the
/// queue's 17..=20.
fn task_select() -> String {
    let (select, from) = ITEM_SELECT
        .split_once(" FROM items i")
        .expect("ITEM_SELECT reads from items i");
    format!("{select}, {TASK_COLUMNS} FROM items i JOIN review_queue q ON q.item_id = i.id{from}")
}

fn row_to_task(r: &AnyRow) -> Result<ReviewTask, StoreError> {
    let priority: i64 = r.try_get(17)?;
    Ok(ReviewTask {
        priority: u8::try_from(priority).map_err(StoreError::corrupt)?,
        enqueued_at: r.try_get(18)?,
        claimed_by: r.try_get(19)?,
        claim_expires_at: r.try_get(20)?,
        item: row_to_item(r)?,
    })
}

const ASSESSMENT_COLUMNS: &str = "id, item_id, verdict, reason, group_name, outlet, severity, \
     language, notes, reviewer, user_id, decided_at";

fn row_to_assessment(r: &AnyRow) -> Result<Assessment, StoreError> {
    let verdict: String = r.try_get(2)?;
    let reason: Option<String> = r.try_get(3)?;
    let severity: Option<i64> = r.try_get(6)?;
    Ok(Assessment {
        id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        verdict: verdict.parse().map_err(StoreError::corrupt)?,
        reason: reason
            .as_deref()
            .map(parse_tco_reason)
            .transpose()
            .map_err(StoreError::corrupt)?,
        group: r.try_get(4)?,
        outlet: r.try_get(5)?,
        severity: severity.and_then(|s| u8::try_from(s).ok()),
        language: r.try_get(7)?,
        notes: r.try_get(8)?,
        reviewer: r.try_get(9)?,
        user_id: r.try_get(10)?,
        decided_at: r.try_get(11)?,
    })
}

/// The checked form of a decision.
fn check_assessment(a: &NewAssessment) -> Result<(Verdict, NewAssessment), StoreError> {
    let bad = |m: &str| StoreError::InvalidInput(m.to_owned());
    let verdict = a.verdict.ok_or_else(|| {
        bad("a decision needs a verdict: terrorist_content, not_terrorist_content or escalate")
    })?;
    match (verdict, a.reason) {
        (Verdict::TerroristContent, None) => {
            return Err(bad(
                "a terrorist_content verdict needs a TCO Art. 2(7) reason: incites, \
                 solicits_to_commit, solicits_to_participate, instruction or threat",
            ));
        }
        (Verdict::NotTerroristContent, Some(_)) => {
            return Err(bad("a not_terrorist_content verdict takes no TCO reason"));
        }
        _ => {}
    }
    if let Some(s) = a.severity
        && !(1..=5).contains(&s)
    {
        return Err(StoreError::InvalidInput(format!(
            "severity {s} is out of range 1..=5"
        )));
    }
    let language = clean_text("language", a.language.as_deref(), 35)?;
    if let Some(l) = &language
        && !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(StoreError::InvalidInput(format!(
            "invalid language {l:?}: expected a language tag such as ar or pt-BR"
        )));
    }
    Ok((
        verdict,
        NewAssessment {
            verdict: Some(verdict),
            reason: a.reason,
            group: clean_text("group", a.group.as_deref(), MAX_LABEL_BYTES)?,
            outlet: clean_text("outlet", a.outlet.as_deref(), MAX_LABEL_BYTES)?,
            severity: a.severity,
            language,
            notes: clean_text("notes", a.notes.as_deref(), MAX_NOTES_BYTES)?,
        },
    ))
}

/// The user id behind an actor `user:<name>`, if any.
pub(crate) async fn actor_user_id(tx: &mut Tx, actor: &Actor) -> Result<Option<i64>, StoreError> {
    let Some(name) = actor.0.strip_prefix("user:") else {
        return Ok(None);
    };
    Ok(sqlx::query("SELECT id FROM users WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// Sets an item's status inside a write transaction.
pub(crate) async fn set_item_status(
    tx: &mut Tx,
    item_id: i64,
    status: ItemStatus,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE items SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(item_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Claims the next item for `actor`: the caller's own unexpired claim
    /// if it has one (renewed), else the highest-priority unclaimed (or
    /// expired) item that `viewer` sees, oldest first. The lease lasts
    /// `lease_ms` (1 ms to [`MAX_LEASE_MS`]). `None`: nothing to review.
    pub async fn claim_next_review(
        &self,
        viewer: ItemViewer,
        lease_ms: Millis,
        actor: &Actor,
    ) -> Result<Option<ReviewTask>, StoreError> {
        if !(1..=MAX_LEASE_MS).contains(&lease_ms) {
            return Err(StoreError::InvalidInput(format!(
                "a review claim lasts 1 ms to {MAX_LEASE_MS} ms, not {lease_ms}"
            )));
        }
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let select = task_select();
        let (cond, value) = match viewer {
            ItemViewer::Everyone => ("1 = 1", None),
            ItemViewer::Org(Some(id)) => ("i.org_id = $3", Some(id)),
            ItemViewer::Org(None) => ("i.org_id IS NULL", None),
        };
        // The caller's own claim first (so that asking again does not
        // hoard items), then the queue's head.
        let sql = format!(
            "{select} WHERE ((q.claimed_by = $1 AND q.claim_expires_at > $2) \
             OR q.claimed_by IS NULL OR q.claim_expires_at <= $2) AND {cond} \
             ORDER BY CASE WHEN q.claimed_by = $1 AND q.claim_expires_at > $2 THEN 0 ELSE 1 END, \
             q.priority DESC, q.enqueued_at, q.item_id LIMIT 1"
        );
        let mut q = sqlx::query(&sql).bind(&actor.0).bind(now);
        if let Some(v) = value {
            q = q.bind(v);
        }
        let Some(row) = q.fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let mut task = row_to_task(&row)?;
        let expires = now.saturating_add(lease_ms);
        sqlx::query(
            "UPDATE review_queue SET claimed_by = $1, claim_expires_at = $2 WHERE item_id = $3",
        )
        .bind(&actor.0)
        .bind(expires)
        .bind(task.item.id)
        .execute(&mut *tx)
        .await?;
        task.claimed_by = Some(actor.0.clone());
        task.claim_expires_at = Some(expires);
        load_details(&mut tx, &mut task.item).await?;
        let what = What {
            action: "review.claim",
            record_kind: "item",
            record_id: &task.item.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "expires_at": expires })).await?;
        tx.commit().await?;
        Ok(Some(task))
    }

    /// Gives up `actor`'s claim on an item.
    pub async fn release_review(&self, item_id: i64, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let done = sqlx::query(
            "UPDATE review_queue SET claimed_by = NULL, claim_expires_at = NULL \
             WHERE item_id = $1 AND claimed_by = $2 AND claim_expires_at > $3",
        )
        .bind(item_id)
        .bind(&actor.0)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::not_found("review claim on item", item_id));
        }
        let what = What {
            action: "review.release",
            record_kind: "item",
            record_id: &item_id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a decision on a queued item that `viewer` sees. Someone
    /// else's unexpired claim on it is a conflict; no claim at all is
    /// fine (a decision from the command line). The audit event carries
    /// the verdict and reason, never the notes.
    pub async fn decide_review(
        &self,
        item_id: i64,
        decision: &NewAssessment,
        viewer: ItemViewer,
        actor: &Actor,
    ) -> Result<Assessment, StoreError> {
        let (verdict, a) = check_assessment(decision)?;
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let row = sqlx::query(
            "SELECT i.org_id, i.duplicate_of, q.claimed_by, q.claim_expires_at FROM items i \
             LEFT JOIN review_queue q ON q.item_id = i.id WHERE i.id = $1",
        )
        .bind(item_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("item", item_id));
        };
        if !viewer.sees(row.try_get(0)?) {
            return Err(StoreError::not_found("item", item_id));
        }
        if let Some(first) = row.try_get::<Option<i64>, _>(1)? {
            return Err(StoreError::InvalidInput(format!(
                "item {item_id} is a duplicate of item {first}: review the first report"
            )));
        }
        let claimed_by: Option<String> = row.try_get(2)?;
        let expires: Option<Millis> = row.try_get(3)?;
        let queued: bool = sqlx::query("SELECT 1 FROM review_queue WHERE item_id = $1")
            .bind(item_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !queued {
            return Err(StoreError::InvalidInput(format!(
                "item {item_id} is not waiting for review"
            )));
        }
        if let (Some(by), Some(exp)) = (&claimed_by, expires)
            && by != &actor.0
            && exp > now
        {
            return Err(StoreError::Conflict {
                kind: "review claim",
                key: format!("item {item_id} is claimed by {by}"),
            });
        }
        let user_id = actor_user_id(&mut tx, actor).await?;
        let row = sqlx::query(&format!(
            "INSERT INTO assessments (item_id, verdict, reason, group_name, outlet, severity, \
             language, notes, reviewer, user_id, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {ASSESSMENT_COLUMNS}"
        ))
        .bind(item_id)
        .bind(verdict.as_str())
        .bind(a.reason.map(tco_reason_str))
        .bind(a.group.as_deref())
        .bind(a.outlet.as_deref())
        .bind(a.severity.map(i64::from))
        .bind(a.language.as_deref())
        .bind(a.notes.as_deref())
        .bind(&actor.0)
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let assessment = row_to_assessment(&row)?;
        let status = match verdict {
            Verdict::TerroristContent => ItemStatus::Assessed,
            Verdict::NotTerroristContent => ItemStatus::Dismissed,
            Verdict::Escalate => ItemStatus::Escalated,
        };
        if verdict == Verdict::Escalate {
            sqlx::query(
                "UPDATE review_queue SET priority = 10, claimed_by = NULL, \
                 claim_expires_at = NULL WHERE item_id = $1",
            )
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM review_queue WHERE item_id = $1")
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
        }
        set_item_status(&mut tx, item_id, status).await?;
        let what = What {
            action: "review.decide",
            record_kind: "item",
            record_id: &item_id.to_string(),
        };
        let detail = json!({
            "assessment_id": assessment.id,
            "verdict": verdict.as_str(),
            "reason": a.reason.map(tco_reason_str),
            "severity": a.severity,
        });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(assessment)
    }

    /// The queue as `viewer` sees it, in the order claims take it: the
    /// `offset`-th entry on, at most `limit` (1 to 1000; 0: 100).
    pub async fn review_queue(
        &self,
        viewer: ItemViewer,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ReviewTask>, StoreError> {
        let select = task_select();
        let (cond, value) = match viewer {
            ItemViewer::Everyone => ("1 = 1", None),
            ItemViewer::Org(Some(id)) => ("i.org_id = $3", Some(id)),
            ItemViewer::Org(None) => ("i.org_id IS NULL", None),
        };
        let sql = format!(
            "{select} WHERE {cond} ORDER BY q.priority DESC, q.enqueued_at, q.item_id \
             LIMIT $1 OFFSET $2"
        );
        let mut q = sqlx::query(&sql)
            .bind(super::page_limit(limit))
            .bind(offset.max(0));
        if let Some(v) = value {
            q = q.bind(v);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(row_to_task).collect()
    }

    /// An item's assessments, oldest first, if `viewer` sees the item.
    pub async fn assessments(
        &self,
        item_id: i64,
        viewer: ItemViewer,
    ) -> Result<Vec<Assessment>, StoreError> {
        let org: Option<Option<i64>> = sqlx::query("SELECT org_id FROM items WHERE id = $1")
            .bind(item_id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match org {
            Some(org) if viewer.sees(org) => {}
            _ => return Err(StoreError::not_found("item", item_id)),
        }
        let rows = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} FROM assessments WHERE item_id = $1 ORDER BY id LIMIT 1000"
        ))
        .bind(item_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_assessment).collect()
    }

    /// How many decisions `reviewer` made since `since` (the wellness
    /// count "reviewed today": the caller picks the day's start).
    pub async fn reviews_since(&self, reviewer: &Actor, since: Millis) -> Result<i64, StoreError> {
        Ok(
            sqlx::query(
                "SELECT COUNT(*) FROM assessments WHERE reviewer = $1 AND decided_at >= $2",
            )
            .bind(&reviewer.0)
            .bind(since)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(severity: Option<u8>, distance: Option<u32>) -> MatchStrength {
        MatchStrength { severity, distance }
    }

    #[test]
    fn priority_weighs_severity_by_confidence() {
        assert_eq!(review_priority(&[]), 2, "an analyst's own find");
        assert_eq!(review_priority(&[m(Some(5), None)]), 10);
        assert_eq!(review_priority(&[m(Some(5), Some(0))]), 10);
        assert_eq!(
            review_priority(&[m(None, None)]),
            6,
            "unlabelled: severity 3"
        );
        assert_eq!(review_priority(&[m(Some(1), None)]), 2);
        // At the PDQ radius the confidence is about a half.
        assert_eq!(review_priority(&[m(Some(5), Some(31))]), 5);
        assert_eq!(review_priority(&[m(Some(5), Some(16))]), 8);
        // The best match counts.
        assert_eq!(review_priority(&[m(Some(1), None), m(Some(4), Some(8))]), 7);
        // Out-of-range labels are clamped, never panic.
        assert_eq!(review_priority(&[m(Some(200), Some(500))]), 1);
    }
}
