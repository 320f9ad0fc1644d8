//! Bank entries, their signals, bulk imports and the change feed.

use std::collections::HashMap;
use std::fmt::Write as _;

use ronda_hash::{Signal, SignalType};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::{
    Actor, Backend, Bank, Cursor, Entry, EntryChange, EntryUpdate, ImportCheckpoint,
    ImportProgress, ImportStats, Labels, NewEntry, Store, StoreError, Tx, next_seq, now_ms,
};

/// The most entries one import batch may hold: keeps every statement well
/// inside SQLite's 32,766 bound parameters (9 per entry).
pub const MAX_BATCH: usize = 2_000;

const ENTRY_COLUMNS: &str = "id, bank_id, external_id, enabled, disable_until, labels, source, \
                             collab, original_media_uri, created_at, updated_at, note, metadata";

fn row_to_entry(r: &AnyRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        id: r.try_get(0)?,
        bank_id: r.try_get(1)?,
        external_id: r.try_get(2)?,
        enabled: r.try_get::<i64, _>(3)? != 0,
        disable_until: r.try_get(4)?,
        labels: Labels::from_json(&r.try_get::<String, _>(5)?)?,
        source: r.try_get(6)?,
        collab: r.try_get(7)?,
        original_media_uri: r.try_get(8)?,
        signals: Vec::new(),
        created_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
        note: r.try_get(11)?,
        metadata: r
            .try_get::<Option<String>, _>(12)?
            .map(|m| serde_json::from_str(&m))
            .transpose()
            .map_err(|e| StoreError::corrupt(format!("entry metadata: {e}")))?,
    })
}

fn parse_signal(ty: &str, value: &str) -> Result<Signal, StoreError> {
    let ty: SignalType = ty.parse().map_err(StoreError::corrupt)?;
    Signal::parse(ty, value).map_err(|e| StoreError::corrupt(format!("stored {ty} signal: {e}")))
}

/// The `n`th bind parameter (from 1) of a long generated statement.
/// SQLite resolves named parameters such as `$7` by a linear scan each, so
/// statements with thousands of them cost quadratic time there; its
/// positional `?` costs nothing. PostgreSQL needs `$n`.
fn ph(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `(a, b, c)` for a list of integer ids, inlined into SQL (integers only,
/// so there is nothing to escape).
fn id_list(ids: &[i64]) -> String {
    let mut s = String::from("(");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{id}");
    }
    s.push(')');
    s
}

/// The signals of the given entries, grouped by entry id.
async fn signals_of<'e, E>(exec: E, ids: &[i64]) -> Result<HashMap<i64, Vec<Signal>>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut out: HashMap<i64, Vec<Signal>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = sqlx::query(&format!(
        "SELECT entry_id, signal_type, value FROM signals WHERE entry_id IN {} \
         ORDER BY entry_id, signal_type, value",
        id_list(ids)
    ))
    .fetch_all(exec)
    .await?;
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let signal = parse_signal(&r.try_get::<String, _>(1)?, &r.try_get::<String, _>(2)?)?;
        out.entry(id).or_default().push(signal);
    }
    Ok(out)
}

fn check_entry(e: &NewEntry) -> Result<(), StoreError> {
    if e.signals.is_empty() {
        return Err(StoreError::InvalidInput(
            "an entry needs at least one signal".into(),
        ));
    }
    e.labels.validate().map_err(StoreError::InvalidInput)?;
    if let Some(id) = &e.external_id
        && (id.is_empty() || id.len() > 500)
    {
        return Err(StoreError::InvalidInput(
            "an external id must have 1 to 500 characters".into(),
        ));
    }
    check_note(e.note.as_deref())?;
    Ok(())
}

fn check_note(note: Option<&str>) -> Result<(), StoreError> {
    if note.is_some_and(|n| n.chars().count() > 255) {
        return Err(StoreError::InvalidInput(
            "note must be at most 255 characters".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Adds one entry (or brings back a deleted one with the same external
    /// id). Returns the entry and whether it was new.
    pub async fn add_entry(
        &self,
        bank: &Bank,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<(Entry, bool), StoreError> {
        check_entry(entry)?;
        let mut tx = self.begin_write().await?;
        let inserted = insert_entries(
            &mut tx,
            self.backend(),
            bank.id,
            std::slice::from_ref(entry),
        )
        .await?;
        let external_id = entry.resolved_external_id()?;
        let added = !inserted.is_empty();
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE bank_id = $1 AND external_id = $2"
        ))
        .bind(bank.id)
        .bind(&external_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut stored = row_to_entry(&row)?;
        stored.signals = signals_of(&mut *tx, &[stored.id])
            .await?
            .remove(&stored.id)
            .unwrap_or_default();
        if added {
            let what = What {
                action: "entry.create",
                record_kind: "entry",
                record_id: &stored.id.to_string(),
            };
            audit::append(&mut tx, actor, what, json!({ "bank_id": bank.id })).await?;
        }
        tx.commit().await?;
        Ok((stored, added))
    }

    /// Imports a batch of entries in one transaction: entries whose external
    /// id is already live in the bank are left as they are, so importing the
    /// same list twice adds nothing. `removed` lists external ids the source
    /// marked deleted. `checkpoint`, when given, is saved in the same
    /// transaction, so that a resumed import starts exactly after the last
    /// committed batch.
    pub async fn import_batch(
        &self,
        bank: &Bank,
        entries: &[NewEntry],
        removed: &[String],
        checkpoint: Option<ImportCheckpoint<'_>>,
        actor: &Actor,
    ) -> Result<ImportStats, StoreError> {
        if entries.len() + removed.len() > MAX_BATCH {
            return Err(StoreError::InvalidInput(format!(
                "an import batch holds at most {MAX_BATCH} entries"
            )));
        }
        for e in entries {
            check_entry(e)?;
        }
        let mut tx = self.begin_write().await?;
        let inserted = insert_entries(&mut tx, self.backend(), bank.id, entries).await?;
        let removed_count = if removed.is_empty() {
            0
        } else {
            tombstone(&mut tx, self.backend(), bank.id, removed).await?
        };
        if let Some(cp) = &checkpoint {
            let records = (entries.len() + removed.len()) as i64;
            save_checkpoint(&mut tx, cp, &bank.name, records).await?;
        }
        let stats = ImportStats {
            added: inserted.len() as u64,
            unchanged: (entries.len() - inserted.len()) as u64,
            removed: removed_count,
        };
        if stats.added > 0 || stats.removed > 0 {
            let what = What {
                action: "bank.import",
                record_kind: "bank",
                record_id: &bank.id.to_string(),
            };
            let detail = json!({
                "added": stats.added,
                "removed": stats.removed,
                "source": checkpoint.map(|c| c.source),
            });
            audit::append(&mut tx, actor, what, detail).await?;
        }
        tx.commit().await?;
        Ok(stats)
    }

    /// The checkpoint last saved for an import source.
    pub async fn checkpoint(&self, source: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT checkpoint FROM import_checkpoints WHERE source = $1")
            .bind(source)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Imports under way (or killed before they finished): one row per
    /// source with a checkpoint, oldest first.
    pub async fn imports_in_progress(&self) -> Result<Vec<ImportProgress>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, bank, records, bytes_done, bytes_total, updated_at \
             FROM import_checkpoints WHERE finished_at IS NULL ORDER BY updated_at, source",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                let bytes = |v: Option<i64>| v.map(|b| b.max(0) as u64);
                Ok(ImportProgress {
                    source: r.try_get(0)?,
                    bank: r.try_get(1)?,
                    records: r.try_get::<i64, _>(2)?.max(0) as u64,
                    bytes_done: bytes(r.try_get(3)?),
                    bytes_total: bytes(r.try_get(4)?),
                    updated_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Marks an import finished but keeps its checkpoint, for sources read
    /// incrementally (an API's `after`): the next run starts from it.
    pub async fn finish_checkpoint(&self, source: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE import_checkpoints SET finished_at = $1 WHERE source = $2")
            .bind(now_ms())
            .bind(source)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets an import source's checkpoint, once its import completed:
    /// the next import of the same source reads it all again (and, being
    /// idempotent, adds only what is new).
    pub async fn clear_checkpoint(&self, source: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM import_checkpoints WHERE source = $1")
            .bind(source)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// One live entry by id.
    pub async fn entry(&self, id: i64) -> Result<Option<Entry>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1 AND deleted = 0"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut e = row_to_entry(&row)?;
        e.signals = signals_of(self.pool(), &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(Some(e))
    }

    /// Live entries of a bank with `id > after`, in id order: pages for
    /// export.
    pub async fn entries_page(
        &self,
        bank_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries \
             WHERE bank_id = $1 AND id > $2 AND deleted = 0 ORDER BY id LIMIT $3"
        ))
        .bind(bank_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut entries = rows
            .iter()
            .map(row_to_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        let mut signals = signals_of(self.pool(), &ids).await?;
        for e in &mut entries {
            e.signals = signals.remove(&e.id).unwrap_or_default();
        }
        Ok(entries)
    }

    /// Number of live entries in a bank.
    pub async fn count_entries(&self, bank_id: i64) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM entries WHERE bank_id = $1 AND deleted = 0")
            .bind(bank_id)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(n as u64)
    }

    pub async fn update_entry(
        &self,
        id: i64,
        update: &EntryUpdate,
        actor: &Actor,
    ) -> Result<Entry, StoreError> {
        if let Some(l) = &update.labels {
            l.validate().map_err(StoreError::InvalidInput)?;
        }
        if let Some(n) = &update.note {
            check_note(n.as_deref())?;
        }
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        let row = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1 AND deleted = 0"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("entry", id));
        };
        let mut e = row_to_entry(&row)?;
        if let Some(v) = update.enabled {
            e.enabled = v;
        }
        if let Some(v) = update.disable_until {
            e.disable_until = v;
        }
        if let Some(v) = &update.labels {
            e.labels = v.clone();
        }
        if let Some(v) = &update.note {
            e.note = v.clone();
        }
        e.updated_at = now_ms();
        sqlx::query(
            "UPDATE entries SET enabled = $1, disable_until = $2, labels = $3, note = $7, \
             updated_at = $4, seq = $5 WHERE id = $6",
        )
        .bind(i64::from(e.enabled))
        .bind(e.disable_until)
        .bind(e.labels.to_json())
        .bind(e.updated_at)
        .bind(seq)
        .bind(id)
        .bind(e.note.clone())
        .execute(&mut *tx)
        .await?;
        e.signals = signals_of(&mut *tx, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let what = What {
            action: "entry.update",
            record_kind: "entry",
            record_id: &id.to_string(),
        };
        let detail = json!({ "enabled": e.enabled, "disable_until": e.disable_until });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Deletes an entry. It stays as a tombstone so that followers learn of
    /// the removal from the change feed.
    pub async fn delete_entry(&self, id: i64, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE entries SET deleted = 1, seq = $1, updated_at = $2 WHERE id = $3 AND deleted = 0",
        )
        .bind(seq)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::not_found("entry", id));
        }
        let what = What {
            action: "entry.delete",
            record_kind: "entry",
            record_id: &id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Entries that changed after `cursor`, in commit order, at most
    /// `limit`: what a follower applies to its in-memory indexes.
    pub async fn changes_since(
        &self,
        cursor: Cursor,
        limit: i64,
    ) -> Result<Vec<EntryChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, bank_id, enabled, disable_until, deleted, seq FROM entries \
             WHERE seq > $1 OR (seq = $1 AND id > $2) ORDER BY seq, id LIMIT $3",
        )
        .bind(cursor.seq)
        .bind(cursor.id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let mut signals = signals_of(self.pool(), &ids).await?;
        rows.iter()
            .map(|r| {
                let entry_id: i64 = r.try_get(0)?;
                Ok(EntryChange {
                    cursor: Cursor {
                        seq: r.try_get(5)?,
                        id: entry_id,
                    },
                    entry_id,
                    bank_id: r.try_get(1)?,
                    enabled: r.try_get::<i64, _>(2)? != 0,
                    disable_until: r.try_get(3)?,
                    deleted: r.try_get::<i64, _>(4)? != 0,
                    signals: signals.remove(&entry_id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Every live entry with its signals, in one consistent read, and the
    /// feed position it is current to: a follower's first load (then it
    /// follows [`changes_since`](Self::changes_since) from the cursor).
    /// Much faster than paging through the feed from the start.
    pub async fn load_live_entries(
        &self,
        mut f: impl FnMut(EntryChange),
    ) -> Result<Cursor, StoreError> {
        use futures_util::TryStreamExt;
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let top = sqlx::query("SELECT seq, id FROM entries ORDER BY seq DESC, id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let cursor = match top {
            Some(r) => Cursor {
                seq: r.try_get(0)?,
                id: r.try_get(1)?,
            },
            None => Cursor::default(),
        };
        {
            let mut rows = sqlx::query(
                "SELECT e.id, e.bank_id, e.enabled, e.disable_until, s.signal_type, s.value \
                 FROM entries e JOIN signals s ON s.entry_id = e.id \
                 WHERE e.deleted = 0 ORDER BY e.id",
            )
            .fetch(&mut *tx);
            let mut current: Option<EntryChange> = None;
            while let Some(r) = rows.try_next().await? {
                let id: i64 = r.try_get(0)?;
                let signal =
                    parse_signal(&r.try_get::<String, _>(4)?, &r.try_get::<String, _>(5)?)?;
                match &mut current {
                    Some(c) if c.entry_id == id => c.signals.push(signal),
                    _ => {
                        if let Some(done) = current.take() {
                            f(done);
                        }
                        current = Some(EntryChange {
                            cursor,
                            entry_id: id,
                            bank_id: r.try_get(1)?,
                            enabled: r.try_get::<i64, _>(2)? != 0,
                            disable_until: r.try_get(3)?,
                            deleted: false,
                            signals: vec![signal],
                        });
                    }
                }
            }
            if let Some(done) = current {
                f(done);
            }
        }
        tx.commit().await?;
        Ok(cursor)
    }

    /// The newest change sequence number.
    pub async fn change_seq(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT change_seq FROM store_meta WHERE id = 1")
                .fetch_one(self.pool())
                .await?
                .try_get(0)?,
        )
    }

    /// The store's random identity, fixed when its schema was created: a
    /// node's index snapshot is used only against the store it came from.
    pub async fn store_id(&self) -> Result<String, StoreError> {
        Ok(sqlx::query("SELECT store_id FROM store_meta WHERE id = 1")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// Live entries holding exactly this signal, in any bank.
    pub async fn entries_with_signal(&self, signal: &Signal) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.entry_id FROM signals s JOIN entries e ON e.id = s.entry_id \
             WHERE s.signal_type = $1 AND s.value = $2 AND e.deleted = 0 ORDER BY s.entry_id",
        )
        .bind(signal.signal_type().as_str())
        .bind(signal.value())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }
}

/// Inserts entries (one multi-row statement) and their signals; returns the
/// ids of the rows that were inserted or revived from a tombstone.
async fn insert_entries(
    tx: &mut Tx,
    backend: Backend,
    bank_id: i64,
    entries: &[NewEntry],
) -> Result<Vec<i64>, StoreError> {
    // One statement may not touch a row twice (PostgreSQL refuses it), so a
    // batch that repeats an external id keeps the first.
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    let mut unique: Vec<(String, &NewEntry)> = Vec::with_capacity(entries.len());
    for e in entries {
        let external_id = e.resolved_external_id()?;
        if seen.insert(external_id.clone()) {
            unique.push((external_id, e));
        }
    }
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let seq = next_seq(tx).await?;
    let now = now_ms();
    // Per row: external_id, enabled, disable_until, labels, source, collab,
    // original_media_uri, note, metadata as parameters; the integers we own
    // inline.
    let mut sql = String::from(
        "INSERT INTO entries (bank_id, external_id, enabled, disable_until, labels, source, \
         collab, original_media_uri, note, metadata, created_at, updated_at, seq, deleted) \
         VALUES ",
    );
    for i in 0..unique.len() {
        let p = i * 9;
        if i > 0 {
            sql.push(',');
        }
        let _ = write!(
            sql,
            "({bank_id}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {now}, {now}, {seq}, 0)",
            ph(backend, p + 1),
            ph(backend, p + 2),
            ph(backend, p + 3),
            ph(backend, p + 4),
            ph(backend, p + 5),
            ph(backend, p + 6),
            ph(backend, p + 7),
            ph(backend, p + 8),
            ph(backend, p + 9)
        );
    }
    sql.push_str(
        " ON CONFLICT (bank_id, external_id) DO UPDATE SET deleted = 0, seq = excluded.seq, \
         updated_at = excluded.updated_at WHERE entries.deleted = 1 RETURNING id, external_id",
    );
    let mut q = sqlx::query(&sql);
    for (external_id, e) in &unique {
        q = q
            .bind(external_id.clone())
            .bind(i64::from(e.enabled))
            .bind(e.disable_until)
            .bind(e.labels.to_json())
            .bind(e.source.clone())
            .bind(e.collab.clone())
            .bind(e.original_media_uri.clone())
            .bind(e.note.clone())
            .bind(e.metadata.as_ref().map(|m| m.to_string()));
    }
    let rows = q.fetch_all(&mut **tx).await?;
    let mut by_external: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    for r in &rows {
        by_external.insert(r.try_get(1)?, r.try_get(0)?);
    }
    // Signals of the inserted rows; a revived row keeps its old signals and
    // `DO NOTHING` skips them.
    let mut sql = String::from("INSERT INTO signals (entry_id, signal_type, value) VALUES ");
    let mut values: Vec<(&'static str, String)> = Vec::new();
    for (external_id, e) in &unique {
        let Some(&id) = by_external.get(external_id) else {
            continue;
        };
        for s in &e.signals {
            let p = values.len() * 2;
            if !values.is_empty() {
                sql.push(',');
            }
            let _ = write!(
                sql,
                "({id}, {}, {})",
                ph(backend, p + 1),
                ph(backend, p + 2)
            );
            values.push((s.signal_type().as_str(), s.value()));
        }
    }
    if !values.is_empty() {
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut q = sqlx::query(&sql);
        for (t, v) in values {
            q = q.bind(t).bind(v);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

async fn tombstone(
    tx: &mut Tx,
    backend: Backend,
    bank_id: i64,
    external_ids: &[String],
) -> Result<u64, StoreError> {
    let seq = next_seq(tx).await?;
    let mut sql = format!(
        "UPDATE entries SET deleted = 1, seq = {seq}, updated_at = {} \
         WHERE bank_id = {bank_id} AND deleted = 0 AND external_id IN (",
        now_ms()
    );
    for i in 0..external_ids.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&ph(backend, i + 1));
    }
    sql.push(')');
    let mut q = sqlx::query(&sql);
    for id in external_ids {
        q = q.bind(id.as_str());
    }
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

/// Saves a checkpoint and adds `records` to the import's progress.
async fn save_checkpoint(
    tx: &mut Tx,
    cp: &ImportCheckpoint<'_>,
    bank: &str,
    records: i64,
) -> Result<(), StoreError> {
    let bytes = |v: Option<u64>| v.map(|b| i64::try_from(b).unwrap_or(i64::MAX));
    sqlx::query(
        "INSERT INTO import_checkpoints \
         (source, checkpoint, updated_at, bank, records, bytes_done, bytes_total) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (source) DO UPDATE SET checkpoint = excluded.checkpoint, \
         updated_at = excluded.updated_at, bank = excluded.bank, \
         records = CASE WHEN import_checkpoints.finished_at IS NULL \
             THEN import_checkpoints.records + excluded.records ELSE excluded.records END, \
         bytes_done = excluded.bytes_done, bytes_total = excluded.bytes_total, \
         finished_at = NULL",
    )
    .bind(cp.source)
    .bind(cp.value)
    .bind(now_ms())
    .bind(bank)
    .bind(records)
    .bind(bytes(cp.bytes_done))
    .bind(bytes(cp.bytes_total))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
