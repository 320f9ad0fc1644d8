//! The tamper-evident audit log: every mutation appends one event in its own
//! transaction; each event's hash covers its fields and the previous
//! event's hash, so editing, removing or reordering any event breaks the
//! chain from that point on.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Actor, Millis, Store, StoreError, Tx, now_ms};

/// One audit event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    /// JSON with ids and counts, never content.
    pub detail: String,
    #[serde(serialize_with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "hex_bytes")]
    pub hash: Vec<u8>,
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub events: u64,
    /// The first event whose hash or link does not check out.
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
}

fn event_hash(
    prev: &[u8],
    seq: i64,
    at: Millis,
    fields: [&str; 5], // actor, action, record_kind, record_id, detail
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for f in fields {
        // Length-prefixed so that moving bytes between fields changes the hash.
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize().to_vec()
}

/// What an audit event says happened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct What<'a> {
    pub action: &'a str,
    pub record_kind: &'a str,
    pub record_id: &'a str,
}

/// Appends one event inside a write transaction (see `Store::begin_write`).
pub(crate) async fn append(
    tx: &mut Tx,
    actor: &Actor,
    what: What<'_>,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "UPDATE store_meta SET audit_seq = audit_seq + 1 WHERE id = 1 \
         RETURNING audit_seq, audit_head",
    )
    .fetch_one(&mut **tx)
    .await?;
    let seq: i64 = row.try_get(0)?;
    let prev: Vec<u8> = row.try_get(1)?;
    let at = now_ms();
    let detail = detail.to_string();
    let hash = event_hash(
        &prev,
        seq,
        at,
        [
            &actor.0,
            what.action,
            what.record_kind,
            what.record_id,
            &detail,
        ],
    );
    sqlx::query(
        "INSERT INTO audit_events \
         (seq, at, actor, action, record_kind, record_id, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(at)
    .bind(&actor.0)
    .bind(what.action)
    .bind(what.record_kind)
    .bind(what.record_id)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE store_meta SET audit_head = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn row_to_event(row: &sqlx::any::AnyRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        record_kind: row.try_get("record_kind")?,
        record_id: row.try_get("record_id")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const EVENT_COLUMNS: &str =
    "seq, at, actor, action, record_kind, record_id, detail, prev_hash, hash";

impl Store {
    /// Audit events with `seq > after`, oldest first.
    pub async fn audit_events(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_event).collect()
    }

    /// Walks the whole chain: every event's hash must be the hash of its
    /// fields and of the previous event's hash, sequence numbers must have
    /// no gaps, and the last hash must be the head the store remembers.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let mut prev = vec![0u8; 32];
        let mut expected_seq = 1i64;
        let mut count = 0u64;
        let bad = |seq: i64, reason: String, count: u64| AuditVerification {
            events: count,
            first_bad_seq: Some(seq),
            reason: Some(reason),
        };
        loop {
            let page = self.audit_events(expected_seq - 1, 10_000).await?;
            if page.is_empty() {
                break;
            }
            for e in page {
                if e.seq != expected_seq {
                    return Ok(bad(
                        e.seq,
                        format!("expected event {expected_seq} next"),
                        count,
                    ));
                }
                if e.prev_hash != prev {
                    return Ok(bad(e.seq, "previous-hash link broken".into(), count));
                }
                let fields = [
                    e.actor.as_str(),
                    &e.action,
                    &e.record_kind,
                    &e.record_id,
                    &e.detail,
                ];
                if event_hash(&prev, e.seq, e.at, fields) != e.hash {
                    return Ok(bad(
                        e.seq,
                        "event hash does not match its fields".into(),
                        count,
                    ));
                }
                prev = e.hash;
                expected_seq += 1;
                count += 1;
            }
        }
        let row = sqlx::query("SELECT audit_seq, audit_head FROM store_meta WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let head_seq: i64 = row.try_get(0)?;
        let head: Vec<u8> = row.try_get(1)?;
        if head_seq != expected_seq - 1 || head != prev {
            return Ok(bad(
                expected_seq,
                format!(
                    "chain ends at event {} but the head says {head_seq}",
                    expected_seq - 1
                ),
                count,
            ));
        }
        Ok(AuditVerification {
            events: count,
            first_bad_seq: None,
            reason: None,
        })
    }
}
