//! Items (one piece of content at one location, as submitted by an analyst)
//! and campaigns (action days that group them), with deconfliction.
//!
//! The dedup rule, decided in [`Store::add_item`] inside the store's write
//! lock so that concurrent submitters cannot both win:
//!
//! - **Same canonical URL in the same campaign** (no campaign counts as one
//!   campaign): the new submission is kept as a record of who reported it,
//!   with `duplicate_of` pointing at the first item; only the first goes on
//!   through the workflow, so a location is never referred twice.
//! - **Same content elsewhere** (an identical SHA-256, MD5, PDQ or
//!   normalised-text hash at another URL, or in the same campaign a PDQ
//!   within [`NEAR_PDQ`] of another first report's): a new item, since another
//!   location needs its own referral, but the submitter is told who
//!   reported that content before.
//!
//! Who sees what is [`ItemViewer`]: an organisation sees its own items in
//! full, notes included, and of other organisations only the deconfliction
//! hints on its own items ([`OtherReport`]: which organisation reported the
//! same URL or content, and when).

use std::fmt;
use std::str::FromStr;

use ronda_hash::url::CanonicalUrl;
use ronda_hash::{PdqHash, Sha256Digest, Signal, SignalType};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::platforms::clean_text;
use crate::{Actor, Millis, Store, StoreError, Tx};

/// Where an item stands in the workflow:
///
/// ```text
/// new ──decide──▶ assessed ──refer──▶ referred ──removed──▶ removed
///  │  ╲                                   (a referral removed, or a
///  │   ╲─escalate─▶ escalated ─decide─▶ …  liveness check saw it gone)
///  ╰──decide──▶ dismissed
/// ```
///
/// A claim in the review queue is a lease on the queue row, not a status:
/// when it expires the item is simply claimable again. Duplicates stay
/// `new` for ever (they are never reviewed or referred: their first
/// report is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting for review.
    New,
    /// A reviewer asked for a second opinion: back in the queue, on top.
    Escalated,
    /// Assessed as terrorist content: to be referred.
    Assessed,
    /// Assessed as not terrorist content.
    Dismissed,
    /// Referred to its platform (or its providers).
    Referred,
    /// Seen removed, or a referral of it ended `removed`.
    Removed,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 6] = [
        ItemStatus::New,
        ItemStatus::Escalated,
        ItemStatus::Assessed,
        ItemStatus::Dismissed,
        ItemStatus::Referred,
        ItemStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::New => "new",
            ItemStatus::Escalated => "escalated",
            ItemStatus::Assessed => "assessed",
            ItemStatus::Dismissed => "dismissed",
            ItemStatus::Referred => "referred",
            ItemStatus::Removed => "removed",
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ItemStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<ItemStatus, String> {
        ItemStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown item status {s:?}: expected new, escalated, assessed, dismissed, \
                     referred or removed"
                )
            })
    }
}

/// An action day: a name and a time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub starts_at: Option<Millis>,
    pub ends_at: Option<Millis>,
}

/// A bank entry that matched one of an item's signals at capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMatch {
    pub entry_id: i64,
    pub bank_id: i64,
    #[serde(serialize_with = "signal_type_name")]
    pub signal_type: SignalType,
    /// Hamming distance for PDQ; `None` for exact matches.
    pub distance: Option<u32>,
}

fn signal_type_name<S: serde::Serializer>(t: &SignalType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}

/// A submission, after capture.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    /// The submitter's organisation.
    pub org_id: Option<i64>,
    /// The submitter, when a person.
    pub user_id: Option<i64>,
    pub campaign_id: Option<i64>,
    /// The URL as given.
    pub url: String,
    pub canonical_url: CanonicalUrl,
    pub platform_id: Option<i64>,
    /// The captured bytes' SHA-256 in the blob store.
    pub blob_sha256: Option<Sha256Digest>,
    /// `photo`, `video`, `text` or `file`.
    pub content_type: Option<String>,
    /// Private to the submitter's organisation.
    pub note: Option<String>,
    /// Content signals (PDQ, MD5, SHA-256, video MD5, text SHA-256): what
    /// content deconfliction compares.
    pub signals: Vec<Signal>,
    pub matches: Vec<ItemMatch>,
}

impl NewItem {
    /// A submission of a URL alone, nothing captured.
    pub fn url(canonical_url: CanonicalUrl) -> NewItem {
        NewItem {
            org_id: None,
            user_id: None,
            campaign_id: None,
            url: canonical_url.as_str().to_owned(),
            canonical_url,
            platform_id: None,
            blob_sha256: None,
            content_type: None,
            note: None,
            signals: Vec::new(),
            matches: Vec::new(),
        }
    }
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub id: i64,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub submitted_by: String,
    pub user_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub campaign: Option<String>,
    pub url: String,
    pub canonical_url: String,
    pub platform_id: Option<i64>,
    pub platform: Option<String>,
    pub blob_sha256: Option<String>,
    pub content_type: Option<String>,
    pub note: Option<String>,
    pub status: ItemStatus,
    pub duplicate_of: Option<i64>,
    pub created_at: Millis,
    #[serde(skip)]
    pub signals: Vec<Signal>,
    pub matches: Vec<ItemMatch>,
}

/// Why two reports are the same thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DedupReason {
    /// The same canonical URL in the same campaign.
    Url,
    /// Identical content (a hash in common) at another URL.
    Content,
}

/// Another report of the same URL or content: the deconfliction hint every
/// organisation sees, whoever made the report (never its note or author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherReport {
    pub item_id: i64,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub reported_at: Millis,
    pub reason: DedupReason,
}

/// What [`Store::add_item`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddedItem {
    pub item: Item,
    /// The URL had been reported in this campaign: `item.duplicate_of`
    /// names the first report.
    pub duplicate: bool,
    /// Earlier reports of the same URL or content.
    pub already_reported_by: Vec<OtherReport>,
}

/// An item as a viewer sees it, with the other reports of its URL and
/// content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    #[serde(flatten)]
    pub item: Item,
    pub other_reports: Vec<OtherReport>,
}

/// Who is looking at items: the visibility rule in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemViewer {
    /// Administrators and auditors: every item, notes included.
    Everyone,
    /// A member of an organisation (`None`: a caller without one): the
    /// organisation's own items, and other organisations' only as
    /// [`OtherReport`]s on its own items.
    Org(Option<i64>),
}

impl ItemViewer {
    /// Whether this viewer sees an item of organisation `org_id` (with
    /// its note, submitter and matches).
    pub fn sees(&self, org_id: Option<i64>) -> bool {
        match self {
            ItemViewer::Everyone => true,
            ItemViewer::Org(own) => *own == org_id,
        }
    }

    /// The SQL condition on `items i` that [`sees`](Self::sees) states,
    /// and its parameter.
    fn condition(&self) -> Option<(&'static str, Option<i64>)> {
        match self {
            ItemViewer::Everyone => None,
            ItemViewer::Org(Some(id)) => Some(("i.org_id = $", Some(*id))),
            ItemViewer::Org(None) => Some(("i.org_id IS NULL", None)),
        }
    }
}

/// Which items a listing returns (all filters together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub campaign_id: Option<i64>,
    pub platform_id: Option<i64>,
    pub status: Option<ItemStatus>,
    pub org_id: Option<i64>,
    /// Leave out submissions recorded as duplicates.
    pub first_reports_only: bool,
    /// Items with ids above this (paging).
    pub after: i64,
    /// At most this many (1 to 1000; 0 means 100).
    pub limit: i64,
}

/// Most signals and matches one item may carry.
const MAX_SIGNALS: usize = 100;
const MAX_MATCHES: usize = 1000;
/// Most other reports returned per item and reason.
const MAX_REPORTS: i64 = 100;
/// PDQ distance within which two pictures are the same content (the match
/// radius).
pub const NEAR_PDQ: u32 = 31;
/// Most PDQ hashes of a campaign scanned for near-same content.
const MAX_NEAR_SCAN: i64 = 200_000;

fn is_content_signal(t: SignalType) -> bool {
    matches!(
        t,
        SignalType::Pdq
            | SignalType::Md5
            | SignalType::Sha256
            | SignalType::VideoMd5
            | SignalType::TextSha256
    )
}

fn check_campaign(c: &NewCampaign) -> Result<String, StoreError> {
    let name = c.name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(
            "a campaign name must have 1 to 200 characters and no control characters".into(),
        ));
    }
    if let (Some(s), Some(e)) = (c.starts_at, c.ends_at)
        && e < s
    {
        return Err(StoreError::InvalidInput(
            "a campaign cannot end before it starts".into(),
        ));
    }
    Ok(name.to_owned())
}

fn row_to_campaign(r: &AnyRow) -> Result<Campaign, StoreError> {
    Ok(Campaign {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        starts_at: r.try_get(2)?,
        ends_at: r.try_get(3)?,
        created_at: r.try_get(4)?,
    })
}

pub(crate) const ITEM_SELECT: &str = "SELECT i.id, i.org_id, o.name, i.submitted_by, i.user_id, \
     i.campaign_id, c.name, i.url, i.canonical_url, i.platform_id, p.name, i.blob_sha256, \
     i.content_type, i.note, i.status, i.duplicate_of, i.created_at FROM items i \
     LEFT JOIN organisations o ON o.id = i.org_id \
     LEFT JOIN campaigns c ON c.id = i.campaign_id \
     LEFT JOIN platforms p ON p.id = i.platform_id";

pub(crate) fn row_to_item(r: &AnyRow) -> Result<Item, StoreError> {
    let status: String = r.try_get(14)?;
    Ok(Item {
        id: r.try_get(0)?,
        org_id: r.try_get(1)?,
        org: r.try_get(2)?,
        submitted_by: r.try_get(3)?,
        user_id: r.try_get(4)?,
        campaign_id: r.try_get(5)?,
        campaign: r.try_get(6)?,
        url: r.try_get(7)?,
        canonical_url: r.try_get(8)?,
        platform_id: r.try_get(9)?,
        platform: r.try_get(10)?,
        blob_sha256: r.try_get(11)?,
        content_type: r.try_get(12)?,
        note: r.try_get(13)?,
        status: status.parse().map_err(StoreError::corrupt)?,
        duplicate_of: r.try_get(15)?,
        created_at: r.try_get(16)?,
        signals: Vec::new(),
        matches: Vec::new(),
    })
}

/// An item's signals and matches, read through `conn`.
pub(crate) async fn load_details(
    conn: &mut sqlx::AnyConnection,
    item: &mut Item,
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT signal_type, value FROM item_signals WHERE item_id = $1 \
         ORDER BY signal_type, value",
    )
    .bind(item.id)
    .fetch_all(&mut *conn)
    .await?;
    item.signals = rows
        .iter()
        .map(|r| {
            let t: String = r.try_get(0)?;
            let v: String = r.try_get(1)?;
            let t: SignalType = t
                .parse()
                .map_err(|e| StoreError::corrupt(format!("item signal: {e}")))?;
            Signal::parse(t, &v).map_err(|e| StoreError::corrupt(format!("item signal: {e}")))
        })
        .collect::<Result<_, StoreError>>()?;
    let rows = sqlx::query(
        "SELECT entry_id, bank_id, signal_type, distance FROM item_matches WHERE item_id = $1 \
         ORDER BY entry_id, signal_type",
    )
    .bind(item.id)
    .fetch_all(&mut *conn)
    .await?;
    item.matches = rows
        .iter()
        .map(|r| {
            let t: String = r.try_get(2)?;
            let distance: Option<i64> = r.try_get(3)?;
            Ok(ItemMatch {
                entry_id: r.try_get(0)?,
                bank_id: r.try_get(1)?,
                signal_type: t
                    .parse()
                    .map_err(|e| StoreError::corrupt(format!("item match: {e}")))?,
                distance: distance.and_then(|d| u32::try_from(d).ok()),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(())
}

fn row_to_report(r: &AnyRow, reason: DedupReason) -> Result<OtherReport, StoreError> {
    Ok(OtherReport {
        item_id: r.try_get(0)?,
        org_id: r.try_get(1)?,
        org: r.try_get(2)?,
        reported_at: r.try_get(3)?,
        reason,
    })
}

/// The other reports of `item`'s URL (its first report and that one's
/// duplicates) and of its content (first reports elsewhere that share a
/// content hash with it), oldest first.
async fn other_reports(
    conn: &mut sqlx::AnyConnection,
    item_id: i64,
    duplicate_of: Option<i64>,
) -> Result<Vec<OtherReport>, StoreError> {
    let first = duplicate_of.unwrap_or(item_id);
    let rows = sqlx::query(
        "SELECT i.id, i.org_id, o.name, i.created_at FROM items i \
         LEFT JOIN organisations o ON o.id = i.org_id \
         WHERE (i.id = $1 OR i.duplicate_of = $1) AND i.id <> $2 ORDER BY i.id LIMIT $3",
    )
    .bind(first)
    .bind(item_id)
    .bind(MAX_REPORTS)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| row_to_report(r, DedupReason::Url))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = sqlx::query(
        "SELECT i.id, i.org_id, o.name, i.created_at FROM items i \
         LEFT JOIN organisations o ON o.id = i.org_id \
         WHERE i.duplicate_of IS NULL AND i.id <> $1 AND i.id <> $2 AND i.id IN ( \
           SELECT b.item_id FROM item_signals a JOIN item_signals b \
           ON b.signal_type = a.signal_type AND b.value = a.value WHERE a.item_id = $2) \
         ORDER BY i.id LIMIT $3",
    )
    .bind(first)
    .bind(item_id)
    .bind(MAX_REPORTS)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        out.push(row_to_report(r, DedupReason::Content)?);
    }
    for id in near_pdq_reports(conn, first, item_id).await? {
        if out.iter().any(|r| r.item_id == id) {
            continue;
        }
        let row = sqlx::query(
            "SELECT i.id, i.org_id, o.name, i.created_at FROM items i \
             LEFT JOIN organisations o ON o.id = i.org_id WHERE i.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        out.push(row_to_report(&row, DedupReason::Content)?);
    }
    out.sort_by_key(|r| (r.reported_at, r.item_id));
    Ok(out)
}

/// First reports in the same campaign whose PDQ is within [`NEAR_PDQ`] of
/// one of `item_id`'s, identical hashes aside (the exact query finds
/// those): near-same pictures at other locations. Compared by a scan of
/// the campaign's PDQ hashes, at most [`MAX_NEAR_SCAN`] of them, so that
/// the cost stays bounded inside the write lock.
async fn near_pdq_reports(
    conn: &mut sqlx::AnyConnection,
    first: i64,
    item_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let own: Vec<PdqHash> =
        sqlx::query("SELECT value FROM item_signals WHERE item_id = $1 AND signal_type = 'pdq'")
            .bind(item_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok()?.parse().ok())
            .collect();
    if own.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT s.item_id, s.value FROM item_signals s JOIN items i ON i.id = s.item_id \
         WHERE s.signal_type = 'pdq' AND i.duplicate_of IS NULL AND i.id <> $1 AND i.id <> $2 \
         AND COALESCE(i.campaign_id, 0) = \
             (SELECT COALESCE(campaign_id, 0) FROM items WHERE id = $2) \
         ORDER BY s.item_id LIMIT $3",
    )
    .bind(first)
    .bind(item_id)
    .bind(MAX_NEAR_SCAN)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let Ok(other) = r.try_get::<String, _>(1)?.parse::<PdqHash>() else {
            continue;
        };
        let near = own
            .iter()
            .any(|h| (1..=NEAR_PDQ).contains(&h.distance(&other)));
        if near && out.last() != Some(&id) && out.len() < MAX_REPORTS as usize {
            out.push(id);
        }
    }
    Ok(out)
}

async fn exists(tx: &mut Tx, table: &str, id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

impl Store {
    // ------------------------------------------------------------ campaigns

    pub async fn create_campaign(
        &self,
        new: &NewCampaign,
        actor: &Actor,
    ) -> Result<Campaign, StoreError> {
        let name = check_campaign(new)?;
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let row = sqlx::query(
            "INSERT INTO campaigns (name, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING RETURNING id, name, starts_at, ends_at, created_at",
        )
        .bind(&name)
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict {
                kind: "campaign",
                key: name,
            });
        };
        let created = row_to_campaign(&row)?;
        let what = What {
            action: "campaign.create",
            record_kind: "campaign",
            record_id: &created.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "name": name })).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Every campaign, newest first.
    pub async fn list_campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, starts_at, ends_at, created_at FROM campaigns ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_campaign).collect()
    }

    pub async fn campaign(&self, name: &str) -> Result<Option<Campaign>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, starts_at, ends_at, created_at FROM campaigns WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_campaign).transpose()
    }

    // ------------------------------------------------------------ items

    /// Records a submission, deconflicted (see the module docs): in one
    /// transaction under the write lock, it finds the first report of the
    /// same URL in the same campaign and, if there is one, records this
    /// submission as its duplicate; and it finds earlier reports of the
    /// same content. The audit event carries ids and counts, never the URL
    /// or the note.
    pub async fn add_item(&self, new: &NewItem, actor: &Actor) -> Result<AddedItem, StoreError> {
        let url = new.url.trim();
        if url.is_empty() || url.len() > 8192 {
            return Err(StoreError::InvalidInput(
                "an item's url must have 1 to 8192 bytes".into(),
            ));
        }
        let note = clean_text("note", new.note.as_deref(), 10_000)?;
        let content_type = clean_text("content_type", new.content_type.as_deref(), 32)?;
        if new.signals.len() > MAX_SIGNALS || new.matches.len() > MAX_MATCHES {
            return Err(StoreError::InvalidInput(format!(
                "an item carries at most {MAX_SIGNALS} signals and {MAX_MATCHES} matches"
            )));
        }
        let mut signals: Vec<(SignalType, String)> = Vec::new();
        for s in &new.signals {
            let t = s.signal_type();
            if !is_content_signal(t) {
                return Err(StoreError::InvalidInput(format!(
                    "{t} is not a content signal an item can carry"
                )));
            }
            let pair = (t, s.value());
            if !signals.contains(&pair) {
                signals.push(pair);
            }
        }
        let mut tx = self.begin_write().await?;
        if let Some(id) = new.campaign_id
            && !exists(&mut tx, "campaigns", id).await?
        {
            return Err(StoreError::not_found("campaign", id));
        }
        if let Some(id) = new.org_id
            && !exists(&mut tx, "organisations", id).await?
        {
            return Err(StoreError::not_found("organisation", id));
        }
        if let Some(id) = new.platform_id
            && !exists(&mut tx, "platforms", id).await?
        {
            return Err(StoreError::not_found("platform", id));
        }
        // The write lock is held: no other submission can slip in between
        // this read and the insert, on either backend.
        let first: Option<i64> = sqlx::query(
            "SELECT id FROM items WHERE canonical_url = $1 AND COALESCE(campaign_id, 0) = $2 \
             AND duplicate_of IS NULL",
        )
        .bind(new.canonical_url.as_str())
        .bind(new.campaign_id.unwrap_or(0))
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let now = self.now();
        let id: i64 = sqlx::query(
            "INSERT INTO items (org_id, submitted_by, user_id, campaign_id, url, canonical_url, \
             platform_id, blob_sha256, content_type, note, status, duplicate_of, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(new.org_id)
        .bind(&actor.0)
        .bind(new.user_id)
        .bind(new.campaign_id)
        .bind(url)
        .bind(new.canonical_url.as_str())
        .bind(new.platform_id)
        .bind(new.blob_sha256.map(|d| d.to_string()))
        .bind(content_type.as_deref())
        .bind(note.as_deref())
        .bind(ItemStatus::New.as_str())
        .bind(first)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for (t, v) in &signals {
            sqlx::query(
                "INSERT INTO item_signals (item_id, signal_type, value) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(t.as_str())
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        for m in &new.matches {
            sqlx::query(
                "INSERT INTO item_matches (item_id, entry_id, bank_id, signal_type, distance) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(m.entry_id)
            .bind(m.bank_id)
            .bind(m.signal_type.as_str())
            .bind(m.distance.map(i64::from))
            .execute(&mut *tx)
            .await?;
        }
        if first.is_none() {
            crate::workflow::review::enqueue(&mut tx, id, &new.matches, now).await?;
        }
        let reports = other_reports(&mut tx, id, first).await?;
        let what = What {
            action: "item.add",
            record_kind: "item",
            record_id: &id.to_string(),
        };
        let detail = json!({
            "org_id": new.org_id,
            "campaign_id": new.campaign_id,
            "platform_id": new.platform_id,
            "duplicate_of": first,
            "blob_sha256": new.blob_sha256.map(|d| d.to_string()),
            "signals": signals.len(),
            "matches": new.matches.len(),
        });
        audit::append(&mut tx, actor, what, detail).await?;
        let mut item = row_to_item(
            &sqlx::query(&format!("{ITEM_SELECT} WHERE i.id = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?,
        )?;
        load_details(&mut tx, &mut item).await?;
        tx.commit().await?;
        Ok(AddedItem {
            item,
            duplicate: first.is_some(),
            already_reported_by: reports,
        })
    }

    /// The item with this id as `viewer` sees it; `None` if there is none
    /// or the viewer may not see it.
    pub async fn item(&self, id: i64, viewer: ItemViewer) -> Result<Option<ItemView>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!("{ITEM_SELECT} WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut item = row_to_item(&row)?;
        if !viewer.sees(item.org_id) {
            return Ok(None);
        }
        load_details(&mut conn, &mut item).await?;
        let other_reports = other_reports(&mut conn, item.id, item.duplicate_of).await?;
        Ok(Some(ItemView {
            item,
            other_reports,
        }))
    }

    /// Items matching `filter` that `viewer` sees, by id.
    pub async fn list_items(
        &self,
        filter: &ItemFilter,
        viewer: ItemViewer,
    ) -> Result<Vec<ItemView>, StoreError> {
        let mut conditions: Vec<String> = vec!["i.id > $1".into()];
        let mut ints: Vec<i64> = vec![filter.after];
        let mut push = |sql: &str, value: Option<i64>| match value {
            Some(v) => {
                ints.push(v);
                conditions.push(format!("{sql}{}", ints.len()));
            }
            None => conditions.push(sql.to_owned()),
        };
        if let Some((sql, value)) = viewer.condition() {
            push(sql, value);
        }
        if let Some(c) = filter.campaign_id {
            push("i.campaign_id = $", Some(c));
        }
        if let Some(p) = filter.platform_id {
            push("i.platform_id = $", Some(p));
        }
        if let Some(o) = filter.org_id {
            push("i.org_id = $", Some(o));
        }
        if filter.first_reports_only {
            push("i.duplicate_of IS NULL", None);
        }
        // Statuses are a closed set of fixed names: safe to inline.
        if let Some(s) = filter.status {
            push(&format!("i.status = '{}'", s.as_str()), None);
        }
        let limit = if filter.limit <= 0 {
            100
        } else {
            filter.limit.min(1000)
        };
        let sql = format!(
            "{ITEM_SELECT} WHERE {} ORDER BY i.id LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut conn = self.pool().acquire().await?;
        let mut q = sqlx::query(&sql);
        for v in &ints {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut item = row_to_item(row)?;
            load_details(&mut conn, &mut item).await?;
            let other_reports = other_reports(&mut conn, item.id, item.duplicate_of).await?;
            out.push(ItemView {
                item,
                other_reports,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organisation_sees_only_its_own_items() {
        let own = ItemViewer::Org(Some(1));
        assert!(own.sees(Some(1)));
        assert!(!own.sees(Some(2)));
        assert!(!own.sees(None));
        let none = ItemViewer::Org(None);
        assert!(none.sees(None));
        assert!(!none.sees(Some(1)));
        assert!(ItemViewer::Everyone.sees(Some(7)));
        assert!(ItemViewer::Everyone.sees(None));
    }
}
