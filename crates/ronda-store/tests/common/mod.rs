//! The fixture both store test suites share: a store on a fresh SQLite
//! database, or in a schema of its own on PostgreSQL
//! (`RONDA_TEST_POSTGRES_URL`), and the macro that runs a test on both.

use ronda_store::Store;

/// A store on a fresh database of the given backend, and what keeps it alive.
pub struct Fixture {
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(None, dir.path()).await.unwrap();
    Fixture { store, _dir: dir }
}

/// `None` when `RONDA_TEST_POSTGRES_URL` is unset (`.ci/run` sets it).
pub async fn postgres() -> Option<Fixture> {
    let Ok(base) = std::env::var("RONDA_TEST_POSTGRES_URL") else {
        eprintln!("RONDA_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run");
        return None;
    };
    let schema = format!("t_{}", random_suffix());
    {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        admin
            .execute(&*format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(&url), dir.path()).await.unwrap();
    Some(Fixture { store, _dir: dir })
}

fn random_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{:x}{:x}{}",
        nanos,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs each named test (an `async fn(&Store)` beside the macro call) on
/// both backends.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = crate::common::sqlite().await;
                    super::$name(&f.store).await;
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(f) = crate::common::postgres().await {
                        super::$name(&f.store).await;
                    }
                }
            )*
        }
    };
}
