//! Ronda's store: banks of known content, their entries and signals,
//! organisations, API tokens and the hash-chained audit log, on SQLite (the
//! embedded default) or PostgreSQL; and a content-addressed blob store for
//! captured files.
//!
//! Both backends run the same SQL through `sqlx`'s `Any` driver; only the
//! schema files and the connection set-up differ. Every mutation runs in one
//! transaction that first takes the store's write lock (the `store_meta`
//! row), bumps the change sequence when it touches banks or entries, and
//! appends its audit event, so that:
//!
//! - followers (the in-memory indexes of every node) see changes in commit
//!   order by polling [`Store::changes_since`];
//! - the audit chain has no forks;
//! - a crash at any point leaves either the whole mutation or none of it.

mod audit;
mod auth;
mod banks;
mod blobs;
mod clock;
mod entries;
mod error;
mod items;
mod migrate;
mod model;
mod overview;
mod platforms;
mod reporting;
mod sessions;
mod users;
mod workflow;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use audit::{AuditEvent, AuditVerification};
pub use blobs::BlobStore;
pub use clock::Clock;
pub use entries::MAX_BATCH;
pub use error::StoreError;
pub use items::*;
pub use model::*;
pub use platforms::*;
pub use reporting::*;
pub use sessions::*;
pub use workflow::*;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// When the embedded database makes a commit durable. Either way a commit
/// is atomic and survives the process being killed; the difference is a
/// power cut or OS crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is on disk before it returns (SQLite `synchronous =
    /// FULL`): the server's mode.
    EveryCommit,
    /// Commits reach the disk at the latest at [`Store::sync_to_disk`]
    /// (`synchronous = NORMAL` in WAL mode): bulk imports, which sync once
    /// at the end, and resume from their checkpoint if a power cut takes
    /// the last batches.
    OnSync,
}

/// The file name of the embedded database inside a data directory.
pub const SQLITE_FILE: &str = "ronda.db";

/// A handle to the store; cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    clock: Clock,
}

pub(crate) type Tx = Transaction<'static, Any>;

impl Store {
    /// Opens the store named by `database` (`postgres://…`), or the embedded
    /// SQLite database in `data_dir` when `database` is `None`; creates the
    /// directory and applies migrations.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(database, data_dir, Durability::EveryCommit).await
    }

    /// As [`open`](Self::open), with a choice of durability.
    pub async fn open_with(
        database: Option<&str>,
        data_dir: &Path,
        durability: Durability,
    ) -> Result<Store, StoreError> {
        match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Store::open_postgres(url).await
            }
            Some(url) if url.starts_with("sqlite:") => {
                Store::open_sqlite_url(url, durability).await
            }
            Some(other) => Err(StoreError::InvalidInput(format!(
                "unsupported database URL scheme in {:?}: expected postgres:// or sqlite:",
                redact_url(other)
            ))),
            None => Store::open_sqlite(data_dir, durability).await,
        }
    }

    /// Opens (creating if needed) the embedded database `DIR/ronda.db`.
    pub async fn open_sqlite(data_dir: &Path, durability: Durability) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path: PathBuf = data_dir.join(SQLITE_FILE);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Store::open_sqlite_url(&url, durability).await
    }

    async fn open_sqlite_url(url: &str, durability: Durability) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        // A bulk load also lets the WAL grow (to 1 GiB) before it is
        // copied back into the database, so that hot index pages are
        // written back once rather than at every 4 MiB checkpoint.
        let (synchronous, checkpoint_pages) = match durability {
            Durability::EveryCommit => ("FULL", 1000),
            Durability::OnSync => ("NORMAL", 262_144),
        };
        let options = AnyConnectOptions::from_str(url)?;
        // Each connection has its own page cache: a bulk load keeps to one
        // connection, so that its cache stays warm.
        let connections = match durability {
            Durability::EveryCommit => 8,
            Durability::OnSync => 1,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // FULL: a committed transaction survives power loss, not
                    // only a process crash.
                    // A 256 MiB page cache per connection (allocated as used):
                    // bank indexes have random keys, and SQLite's 2 MiB
                    // default turns every insert into page I/O past a few
                    // hundred thousand entries.
                    let pragmas = format!(
                        "PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; \
                         PRAGMA busy_timeout = 10000; PRAGMA cache_size = -262144; \
                         PRAGMA temp_store = MEMORY; \
                         PRAGMA wal_autocheckpoint = {checkpoint_pages};"
                    );
                    conn.execute(pragmas.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        pool.execute("PRAGMA journal_mode = WAL").await?;
        let store = Store {
            pool,
            backend: Backend::Sqlite,
            clock: Clock::System,
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Connects to PostgreSQL and applies migrations.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            backend: Backend::Postgres,
            clock: Clock::System,
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// Makes every committed transaction durable on disk, whatever the
    /// [`Durability`]: a bulk load calls it before it reports success.
    pub async fn sync_to_disk(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This store with record times taken from `clock` (clones made after
    /// this share it).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The time records made now carry (Unix milliseconds).
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction holding the store's write lock: the
    /// `store_meta` row, which every writer updates first. On SQLite this
    /// takes the database's write lock at once (no deadlock between two
    /// deferred transactions upgrading); on PostgreSQL it orders writers so
    /// that change sequence numbers become visible in commit order.
    pub(crate) async fn begin_write(&self) -> Result<Tx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE store_meta SET change_seq = change_seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// Takes the next change sequence number inside a write transaction.
pub(crate) async fn next_seq(tx: &mut Tx) -> Result<i64, StoreError> {
    use sqlx::Row;
    let row = sqlx::query(
        "UPDATE store_meta SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// The current time in Unix milliseconds.
/// The real time, for what is always recorded in real time (the audit
/// log, migrations); record times come from [`Store::now`].
pub(crate) fn now_ms() -> i64 {
    clock::system_now()
}

/// A database URL with any password replaced, for error messages and logs.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:***@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Store {
    /// Runs one SQL statement outside the store's rules (no audit, no
    /// change sequence). Only for tests that must damage the database on
    /// purpose, e.g. to check that the audit chain notices.
    #[doc(hidden)]
    pub async fn execute_unchecked(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }
}
