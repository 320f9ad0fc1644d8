//! Schema migrations: numbered SQL files per backend, applied in order at
//! start-up, each in its own transaction, recorded in `schema_migrations`.

use sqlx::{Executor, Row};

use crate::{Backend, Store, StoreError, now_ms};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "node",
        sqlite: include_str!("../migrations/sqlite/0002_node.sql"),
        postgres: include_str!("../migrations/postgres/0002_node.sql"),
    },
    Migration {
        version: 3,
        name: "users",
        sqlite: include_str!("../migrations/sqlite/0003_users.sql"),
        postgres: include_str!("../migrations/postgres/0003_users.sql"),
    },
    Migration {
        version: 4,
        name: "referral",
        sqlite: include_str!("../migrations/sqlite/0004_referral.sql"),
        postgres: include_str!("../migrations/postgres/0004_referral.sql"),
    },
    Migration {
        version: 5,
        name: "sessions",
        sqlite: include_str!("../migrations/sqlite/0005_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0005_sessions.sql"),
    },
    Migration {
        version: 6,
        name: "workflow",
        sqlite: include_str!("../migrations/sqlite/0006_workflow.sql"),
        postgres: include_str!("../migrations/postgres/0006_workflow.sql"),
    },
];

pub(crate) async fn run(store: &Store) -> Result<(), StoreError> {
    // Two nodes starting at once against one PostgreSQL database must not
    // both apply a migration: an advisory lock serialises them.
    let mut conn = store.pool().acquire().await?;
    if store.backend() == Backend::Postgres {
        conn.execute("SELECT pg_advisory_lock(727100)").await?;
    }
    let result = apply_pending(store, &mut conn).await;
    if store.backend() == Backend::Postgres {
        conn.execute("SELECT pg_advisory_unlock(727100)").await?;
    }
    result
}

async fn apply_pending(
    store: &Store,
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<(), StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        .fetch_one(&mut **conn)
        .await?
        .try_get(0)?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if current > known {
        return Err(StoreError::SchemaTooNew {
            found: current,
            known,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let sql = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let fail = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        let mut tx = sqlx::Connection::begin(&mut **conn).await.map_err(fail)?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}
