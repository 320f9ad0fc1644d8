//! The in-memory indexes of one node, kept in step with the store by
//! polling its change feed: an entry added or removed through any node is
//! visible to lookups here within one poll interval.
//!
//! With a snapshot path, a node starts from its last snapshot and reads
//! only the changes after it; it writes a new one now and then while it
//! follows, and when it stops.

mod snapshot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use ronda_hash::{PdqHash, Signal, SignalType, text};
use ronda_index::exact::{ExactIndex, ExactKey};
use ronda_index::hamming::HammingIndex;
use ronda_index::url::{UrlIndex, UrlRule};
use ronda_store::{Bank, Cursor, EntryChange, Millis, Store, StoreError};

/// How often followers poll the change feed.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Changes read per query while catching up.
const PAGE: i64 = 20_000;

/// What a node knows of one live entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    pub bank_id: i64,
    pub enabled: bool,
    pub disable_until: Option<Millis>,
}

impl EntryMeta {
    pub fn is_active(&self, now: Millis) -> bool {
        self.enabled && self.disable_until.is_none_or(|t| t <= now)
    }
}

/// One hit of a lookup, before bank or state filtering.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub entry_id: i64,
    pub meta: EntryMeta,
    /// Hamming distance for PDQ; `None` for exact matches.
    pub distance: Option<u32>,
    /// The dihedral variant that matched, for dihedral PDQ lookups.
    pub variant: Option<u8>,
}

#[derive(Debug, Default)]
struct Indexes {
    pdq: HammingIndex,
    exact: ExactIndex<u64>,
    urls: UrlIndex<u64>,
    entries: HashMap<i64, EntryMeta>,
    banks: HashMap<i64, Bank>,
    cursor: Cursor,
    /// Signals per type, for `/m/index/status`.
    sizes: HashMap<SignalType, u64>,
    /// When the newest applied change was read (Unix ms).
    built_to: Millis,
}

/// The exact-index key of a signal, if it is matched exactly.
fn exact_key(signal: &Signal) -> Option<ExactKey> {
    match signal {
        Signal::Md5(d) => Some(ExactKey::Md5(*d)),
        Signal::Sha256(d) => Some(ExactKey::Sha256(*d)),
        Signal::VideoMd5(d) => Some(ExactKey::VideoMd5(*d)),
        Signal::TextSha256(d) => Some(ExactKey::TextSha256(*d)),
        // Raw text matches through the hash of its normalised form.
        Signal::RawText(t) => Some(ExactKey::TextSha256(text::text_sha256(t))),
        // vPDQ is matched per video, not through an exact key (not indexed
        // by the server yet).
        Signal::Pdq(_) | Signal::Url(_) | Signal::Vpdq(_) => None,
    }
}

impl Indexes {
    fn add_signal(&mut self, id: u64, signal: &Signal) {
        match signal {
            Signal::Pdq(h) => self.pdq.add(*h, id),
            Signal::Url(u) => {
                self.urls.add(UrlRule::Exact(u.as_str().to_owned()), id);
            }
            other => {
                if let Some(k) = exact_key(other) {
                    self.exact.add(k, id);
                }
            }
        }
        *self.sizes.entry(signal.signal_type()).or_default() += 1;
    }

    fn remove_signal(&mut self, id: u64, signal: &Signal) {
        let removed = match signal {
            Signal::Pdq(h) => self.pdq.remove(h, id),
            Signal::Url(u) => self.urls.remove(&UrlRule::Exact(u.as_str().to_owned()), id),
            other => exact_key(other).is_some_and(|k| self.exact.remove(&k, id)),
        };
        if removed && let Some(n) = self.sizes.get_mut(&signal.signal_type()) {
            *n = n.saturating_sub(1);
        }
    }

    fn apply(&mut self, c: &EntryChange) {
        let id = c.entry_id as u64;
        let known = self.entries.contains_key(&c.entry_id);
        if c.deleted {
            if known {
                self.entries.remove(&c.entry_id);
                for s in &c.signals {
                    self.remove_signal(id, s);
                }
            }
        } else {
            if !known {
                for s in &c.signals {
                    self.add_signal(id, s);
                }
            }
            let meta = EntryMeta {
                bank_id: c.bank_id,
                enabled: c.enabled,
                disable_until: c.disable_until,
            };
            self.entries.insert(c.entry_id, meta);
        }
        self.cursor = c.cursor;
    }

    /// Replaces the bank list; when a bank has gone, drops its entries.
    fn set_banks(&mut self, banks: Vec<Bank>) {
        let gone = self
            .banks
            .keys()
            .any(|id| !banks.iter().any(|b| b.id == *id));
        self.banks = banks.into_iter().map(|b| (b.id, b)).collect();
        if gone {
            self.drop_orphans();
        }
    }

    /// Drops the entries of banks that no longer exist (a bank delete
    /// removes its entries without tombstones).
    fn drop_orphans(&mut self) {
        let banks = &self.banks;
        let orphans: Vec<i64> = self
            .entries
            .iter()
            .filter(|(_, m)| !banks.contains_key(&m.bank_id))
            .map(|(&id, _)| id)
            .collect();
        if orphans.is_empty() {
            return;
        }
        for id in &orphans {
            self.entries.remove(id);
        }
        // PDQ hashes are dropped from the index; exact and URL keys of the
        // orphans stay until the next restart but never match, since every
        // hit is checked against `entries`.
        let gone: Vec<(PdqHash, u64)> = self
            .pdq
            .entries()
            .filter(|(_, id)| !self.entries.contains_key(&(*id as i64)))
            .collect();
        for (h, id) in gone {
            self.pdq.remove(&h, id);
        }
        if let Some(n) = self.sizes.get_mut(&SignalType::Pdq) {
            *n = self.pdq.len() as u64;
        }
        tracing::info!(entries = orphans.len(), "dropped entries of deleted banks");
    }
}

pub use snapshot::SnapshotError;

/// Where a node keeps its index snapshot, and how often it rewrites it
/// while changes arrive.
#[derive(Debug, Clone)]
pub struct SnapshotPolicy {
    pub path: PathBuf,
    pub every: Duration,
}

impl SnapshotPolicy {
    /// `index.snapshot` in `dir`, rewritten at most every 10 minutes.
    pub fn in_dir(dir: &std::path::Path) -> SnapshotPolicy {
        SnapshotPolicy {
            path: dir.join("index.snapshot"),
            every: Duration::from_secs(600),
        }
    }
}

/// The last snapshot this node wrote or loaded.
#[derive(Debug, Default)]
struct Written {
    cursor: Option<Cursor>,
    at: Option<Instant>,
}

/// The node's matcher: indexes behind a lock, and whether they have caught
/// up with the store at least once.
#[derive(Debug, Default)]
pub struct Matcher {
    inner: RwLock<Indexes>,
    /// The first load (from the snapshot or the store) is done.
    loaded: AtomicBool,
    /// It came from the snapshot.
    from_snapshot: AtomicBool,
    ready: AtomicBool,
    last_sync: AtomicI64,
    snapshot: Option<SnapshotPolicy>,
    store_id: OnceLock<String>,
    written: Mutex<Written>,
}

/// Index sizes and freshness, for `/m/index/status` and `/metrics`.
#[derive(Debug, Clone)]
pub struct IndexStatus {
    pub ready: bool,
    pub entries: u64,
    pub sizes: HashMap<SignalType, u64>,
    pub built_to: Millis,
    pub last_sync: Millis,
    pub cursor: Cursor,
    pub pdq_memory_bytes: u64,
    /// The first load came from the node's snapshot, not the store.
    pub from_snapshot: bool,
}

impl Matcher {
    pub fn new() -> Matcher {
        Matcher::default()
    }

    /// A matcher that starts from, and keeps, a snapshot.
    pub fn with_snapshot(policy: Option<SnapshotPolicy>) -> Matcher {
        Matcher {
            snapshot: policy,
            ..Matcher::default()
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Indexes> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Indexes> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Reads every change after the current cursor and applies it, then
    /// reloads the bank list; the first call loads everything first.
    /// Returns the number of entries loaded and changes applied.
    pub async fn sync(&self, store: &Store) -> Result<usize, StoreError> {
        let mut applied = 0;
        if !self.loaded.load(Ordering::Acquire) {
            applied += self.load(store).await?;
            self.loaded.store(true, Ordering::Release);
        }
        applied += self.catch_up(store).await?;
        self.last_sync.store(now_ms(), Ordering::Release);
        self.ready.store(true, Ordering::Release);
        Ok(applied)
    }

    /// Applies the changes after the current cursor, a page at a time.
    async fn catch_up(&self, store: &Store) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let cursor = self.read().cursor;
            let page = store.changes_since(cursor, PAGE).await?;
            // The banks are read after the changes, so every bank an applied
            // entry belongs to is known: lookups never see an entry without
            // its bank. Both are swapped in under one lock.
            let banks = store.list_banks().await?;
            let done = page.len() < PAGE as usize;
            {
                let mut ix = self.write();
                // Another task may have applied the same page meanwhile.
                if ix.cursor == cursor {
                    for c in &page {
                        ix.apply(c);
                    }
                    applied += page.len();
                    if !page.is_empty() {
                        ix.built_to = now_ms();
                    }
                    ix.set_banks(banks);
                }
            }
            if done {
                break;
            }
        }
        Ok(applied)
    }

    /// The first load: from the snapshot when there is a good one for this
    /// store, else from the store. Returns the number of entries loaded.
    async fn load(&self, store: &Store) -> Result<usize, StoreError> {
        let store_id = store.store_id().await?;
        let _ = self.store_id.set(store_id.clone());
        if let Some(policy) = &self.snapshot {
            let path = policy.path.clone();
            let start = Instant::now();
            match self.load_snapshot(store, path.clone(), store_id).await {
                Ok(Some(n)) => {
                    self.from_snapshot.store(true, Ordering::Release);
                    tracing::info!(
                        entries = n,
                        ms = start.elapsed().as_millis() as u64,
                        path = %path.display(),
                        "index loaded from its snapshot"
                    );
                    return Ok(n);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    error = %e,
                    "index snapshot not used; loading from the store"
                ),
            }
        }
        self.load_from_store(store).await
    }

    /// Installs the snapshot's indexes; `None` when there is no snapshot.
    async fn load_snapshot(
        &self,
        store: &Store,
        path: PathBuf,
        store_id: String,
    ) -> Result<Option<usize>, SnapshotError> {
        if !path.exists() {
            return Ok(None);
        }
        let mut ix = tokio::task::spawn_blocking(move || snapshot::read(&path, &store_id))
            .await
            .map_err(|e| SnapshotError::Invalid(format!("the reader failed: {e}")))??;
        let seq = store.change_seq().await.map_err(store_error)?;
        if ix.cursor.seq > seq {
            // The database went back in time (restored from a backup):
            // the snapshot knows changes the store does not.
            return Err(SnapshotError::Invalid(format!(
                "it is newer than the store (change {} > {seq})",
                ix.cursor.seq
            )));
        }
        // Banks deleted since the snapshot took their entries with them,
        // without tombstones.
        let banks = store.list_banks().await.map_err(store_error)?;
        ix.set_banks(banks);
        ix.drop_orphans();
        let n = ix.entries.len();
        let cursor = ix.cursor;
        *self.write() = ix;
        *self.written.lock().unwrap_or_else(|e| e.into_inner()) = Written {
            cursor: Some(cursor),
            at: Some(Instant::now()),
        };
        Ok(Some(n))
    }

    /// Every live entry in one read, the PDQ index built once at the end,
    /// swapped in whole.
    async fn load_from_store(&self, store: &Store) -> Result<usize, StoreError> {
        let mut ix = Indexes::default();
        let mut pdq = Vec::new();
        let mut n = 0;
        let cursor = store
            .load_live_entries(|c| {
                n += 1;
                for s in &c.signals {
                    if let Signal::Pdq(h) = s {
                        pdq.push((*h, c.entry_id as u64));
                        *ix.sizes.entry(SignalType::Pdq).or_default() += 1;
                    } else {
                        ix.add_signal(c.entry_id as u64, s);
                    }
                }
                ix.entries.insert(
                    c.entry_id,
                    EntryMeta {
                        bank_id: c.bank_id,
                        enabled: c.enabled,
                        disable_until: c.disable_until,
                    },
                );
            })
            .await?;
        ix.pdq.extend(pdq);
        ix.cursor = cursor;
        ix.built_to = now_ms();
        let banks = store.list_banks().await?;
        ix.set_banks(banks);
        // A bank deleted between the two reads leaves orphans.
        ix.drop_orphans();
        *self.write() = ix;
        tracing::info!(entries = n, "index loaded from the store");
        Ok(n)
    }

    /// Follows the store until `shutdown` resolves, writing snapshots on
    /// the way and a last one at the end.
    pub async fn follow(
        self: Arc<Self>,
        store: Store,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            match self.sync(&store).await {
                Ok(_) => self.clone().save_snapshot(false).await,
                Err(e) => tracing::warn!(error = %e, "index sync failed; retrying"),
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = shutdown.changed() => {
                    if self.is_ready() {
                        self.clone().save_snapshot(true).await;
                    }
                    return;
                }
            }
        }
    }

    /// Writes the snapshot if the indexes moved since the last one and,
    /// unless `now`, the policy's interval has passed. Failures are logged:
    /// a node without a snapshot still works, it only starts slower.
    pub async fn save_snapshot(self: Arc<Self>, now: bool) {
        let Some(policy) = self.snapshot.clone() else {
            return;
        };
        let Some(store_id) = self.store_id.get().cloned() else {
            return;
        };
        let cursor = self.read().cursor;
        {
            let w = self.written.lock().unwrap_or_else(|e| e.into_inner());
            let due = now || w.at.is_none_or(|t| t.elapsed() >= policy.every);
            if w.cursor == Some(cursor) || !due {
                return;
            }
        }
        let start = Instant::now();
        let me = self.clone();
        let path = policy.path.clone();
        // Only this task takes the write lock after the first load, so
        // holding the read lock while writing stalls no lookup.
        let result = tokio::task::spawn_blocking(move || {
            let ix = me.read();
            snapshot::write(&ix, &store_id, &path).map(|()| (ix.cursor, ix.entries.len()))
        })
        .await;
        let mut w = self.written.lock().unwrap_or_else(|e| e.into_inner());
        w.at = Some(Instant::now());
        match result {
            Ok(Ok((cursor, n))) => {
                w.cursor = Some(cursor);
                tracing::info!(
                    entries = n,
                    ms = start.elapsed().as_millis() as u64,
                    path = %policy.path.display(),
                    "index snapshot written"
                );
            }
            Ok(Err(e)) => tracing::warn!(
                path = %policy.path.display(),
                error = %e,
                "could not write the index snapshot"
            ),
            Err(e) => tracing::warn!(error = %e, "the snapshot writer failed"),
        }
    }

    pub fn status(&self) -> IndexStatus {
        let ix = self.read();
        IndexStatus {
            ready: self.is_ready(),
            entries: ix.entries.len() as u64,
            sizes: ix.sizes.clone(),
            built_to: ix.built_to,
            last_sync: self.last_sync.load(Ordering::Acquire),
            cursor: ix.cursor,
            pdq_memory_bytes: ix.pdq.memory_bytes() as u64,
            from_snapshot: self.from_snapshot.load(Ordering::Acquire),
        }
    }

    /// The bank with this id, as of the last sync.
    pub fn bank(&self, id: i64) -> Option<Bank> {
        self.read().banks.get(&id).cloned()
    }

    /// Every live entry holding `signal` (PDQ: within `radius`), whatever
    /// its state or bank's state.
    pub fn lookup(&self, signal: &Signal, radius: u32) -> Vec<Hit> {
        let ix = self.read();
        let hit = |id: u64, distance, variant| {
            ix.entries.get(&(id as i64)).map(|meta| Hit {
                entry_id: id as i64,
                meta: *meta,
                distance,
                variant,
            })
        };
        let mut hits: Vec<Hit> = match signal {
            Signal::Pdq(h) => ix
                .pdq
                .query(h, radius)
                .into_iter()
                .filter_map(|m| hit(m.id, Some(m.distance), None))
                .collect(),
            Signal::Url(u) => ix
                .urls
                .lookup(u)
                .into_iter()
                .filter_map(|h| hit(h.id, None, None))
                .collect(),
            other => match exact_key(other) {
                Some(k) => ix
                    .exact
                    .lookup(&k)
                    .iter()
                    .filter_map(|&id| hit(id, None, None))
                    .collect(),
                None => Vec::new(),
            },
        };
        hits.sort_by_key(|h| (h.distance, h.entry_id));
        hits
    }

    /// PDQ lookup of an image's 8 dihedral hashes in one pass; each entry
    /// once, with its closest variant.
    pub fn lookup_dihedral(&self, needles: &[PdqHash; 8], radius: u32) -> Vec<Hit> {
        let ix = self.read();
        let mut hits: Vec<Hit> = ix
            .pdq
            .query_dihedral(needles, radius)
            .into_iter()
            .filter_map(|m| {
                ix.entries.get(&(m.id as i64)).map(|meta| Hit {
                    entry_id: m.id as i64,
                    meta: *meta,
                    distance: Some(m.distance),
                    variant: Some(m.variant),
                })
            })
            .collect();
        hits.sort_by_key(|h| (h.distance, h.entry_id));
        hits
    }
}

fn store_error(e: StoreError) -> SnapshotError {
    SnapshotError::Invalid(format!("the store could not be read: {e}"))
}

pub(crate) fn now_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}
