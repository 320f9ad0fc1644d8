//! Two nodes on one store: what one node writes, the other looks up within a
//! second (each follows the store's change feed every 200 ms).

use std::time::Duration;

use axum::http::StatusCode;
use ronda_server::ServerConfig;
use ronda_store::{Role, Store};
use serde_json::json;

use crate::support::{BRIDGE, OTHER, Server, make_tokens};

/// The freshness requirement is 1 s; the margin is for a loaded machine.
const FRESH: Duration = Duration::from_millis(1500);

async fn two_nodes_share_one_store(a: Store, b: Store) {
    let tokens = make_tokens(&a).await;
    let node_a = Server::on_store(a, tokens.clone(), ServerConfig::default(), None).await;
    let node_b = Server::on_store(b, tokens, ServerConfig::default(), None).await;

    // A bank made on A is there on B at once (read from the store).
    node_a.create_bank("SHARED").await;
    let r = node_b.get("/c/bank/SHARED", Some(Role::Auditor)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // An entry added through A: visible to lookups on B within a second.
    let id = node_a.add_pdq("SHARED", BRIDGE).await;
    let want = json!({ "SHARED": [{ "bank_content_id": id, "distance": "0" }] });
    let took = eventually!(
        FRESH * 2,
        node_b.hma_lookup(BRIDGE, "").await == want && node_b.raw_ids(BRIDGE).await == [id]
    );
    let took = took.expect("node B never saw the entry added through node A");
    assert!(took < FRESH, "node B saw the new entry after {took:?}");

    // Added through B, seen on A.
    let id2 = node_b.add_pdq("SHARED", OTHER).await;
    let took = eventually!(FRESH * 2, node_a.raw_ids(OTHER).await == [id2])
        .expect("node A never saw the entry added through node B");
    assert!(took < FRESH, "node A saw the new entry after {took:?}");

    // Disabled through A: gone from B's lookups.
    let r = node_a
        .put_json(
            &format!("/c/bank/SHARED/content/{id}"),
            Role::Analyst,
            &json!({ "disable_until_ts": 0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let took = eventually!(FRESH * 2, {
        node_b.hma_lookup(BRIDGE, "").await == json!({})
    })
    .expect("node B still matches an entry disabled through node A");
    assert!(took < FRESH, "{took:?}");

    // Deleted through B: gone from A's raw lookups.
    let r = node_b
        .delete(&format!("/c/bank/SHARED/content/{id}"), Some(Role::Analyst))
        .await;
    assert_eq!(r.json(), json!({ "deleted": 1 }));
    let took = eventually!(FRESH * 2, node_a.raw_ids(BRIDGE).await.is_empty())
        .expect("node A still has an entry deleted through node B");
    assert!(took < FRESH, "{took:?}");

    // A bank disabled on A stops matching on B.
    node_a
        .put_json(
            "/c/bank/SHARED",
            Role::Analyst,
            &json!({ "enabled": false }),
        )
        .await;
    let took = eventually!(FRESH * 2, {
        node_b.hma_lookup(OTHER, "").await == json!({})
    })
    .expect("node B still matches in a bank disabled on node A");
    assert!(took < FRESH, "{took:?}");

    // A bank deleted on B: its entries leave A's index.
    node_b.delete("/c/bank/SHARED", Some(Role::Analyst)).await;
    let took = eventually!(FRESH * 2, node_a.raw_ids(OTHER).await.is_empty())
        .expect("node A still has the entries of a bank deleted on node B");
    assert!(took < FRESH, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_nodes_stay_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(None, dir.path()).await.unwrap();
    let b = Store::open(None, dir.path()).await.unwrap();
    two_nodes_share_one_store(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_stay_in_step() {
    let Ok(base) = std::env::var("RONDA_TEST_POSTGRES_URL") else {
        eprintln!("RONDA_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run");
        return;
    };
    let schema = format!("t_server_{}", random_suffix());
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
    let a = Store::open(Some(&url), dir.path()).await.unwrap();
    let b = Store::open(Some(&url), dir.path()).await.unwrap();
    two_nodes_share_one_store(a, b).await;
}

fn random_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

/// A follower applies a page of entry changes, then reloads the bank list:
/// in between, lookups see entries whose bank they do not know, and
/// `/m/lookup` and `/api/v1/lookup` drop them (while `/m/raw_lookup` shows
/// them). A thread watches a node's matcher while it syncs new banks with
/// new entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_never_visible_without_their_bank() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use ronda_hash::{Signal, SignalType};
    use ronda_store::{Actor, NewBank, NewEntry};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(None, dir.path()).await.unwrap();
    let state = ronda_server::AppState::new(store.clone(), ServerConfig::default()).unwrap();
    let matcher = state.matcher.clone();
    matcher.sync(&store).await.unwrap();

    let current: Arc<Mutex<Option<Signal>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let orphans = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (matcher, current, stop, orphans) = (
            matcher.clone(),
            current.clone(),
            stop.clone(),
            orphans.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Some(signal) = current.lock().unwrap().clone() else {
                    continue;
                };
                for hit in matcher.lookup(&signal, 0) {
                    if matcher.bank(hit.meta.bank_id).is_none() {
                        orphans.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    };
    let actor = Actor::local("test");
    for i in 0..30 {
        let bank = store
            .create_bank(&NewBank::named(format!("RACE_{i}")), &actor)
            .await
            .unwrap();
        let signal = Signal::parse(SignalType::Pdq, &crate::support::flip_bits(BRIDGE, i)).unwrap();
        store
            .add_entry(&bank, &NewEntry::from_signal(signal.clone()), &actor)
            .await
            .unwrap();
        *current.lock().unwrap() = Some(signal);
        matcher.sync(&store).await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(
        orphans.load(Ordering::Relaxed),
        0,
        "lookups saw entries whose bank the node did not know yet"
    );
}

/// A node that stops writes its index snapshot; the next start loads it
/// and reads only the changes made since, whatever they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_the_snapshot_and_catches_up() {
    use ronda_server::SnapshotPolicy;
    use ronda_store::{Actor, NewEntry};

    const GONE_WITH_ENTRY: &str =
        "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
    const ADDED_WHILE_DOWN: &str =
        "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        snapshot: Some(SnapshotPolicy::in_dir(dir.path())),
        ..ServerConfig::default()
    };
    let store = Store::open(None, dir.path()).await.unwrap();
    let tokens = make_tokens(&store).await;
    let metric = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("ronda_index_from_snapshot "))
            .map(str::to_owned)
    };

    // First start: no snapshot, everything from the store.
    let mut first = Server::on_store(store.clone(), tokens.clone(), config.clone(), None).await;
    let text = first.get("/metrics", None).await.text;
    assert_eq!(metric(&text).as_deref(), Some("0"), "{text}");
    first.create_bank("KEEP").await;
    first.create_bank("GONE").await;
    let kept = first.add_pdq("KEEP", BRIDGE).await;
    first.add_pdq("GONE", OTHER).await;
    let deleted = first.add_pdq("KEEP", GONE_WITH_ENTRY).await;
    let seen = eventually!(FRESH * 2, first.raw_ids(GONE_WITH_ENTRY).await == [deleted]);
    assert!(seen.is_some());
    first.stop().await.unwrap();
    let snapshot = dir.path().join("index.snapshot");
    assert!(snapshot.exists(), "no snapshot after a clean stop");

    // While no node runs: an entry deleted, a bank deleted, one added.
    let actor = Actor::local("test");
    store.delete_entry(deleted, &actor).await.unwrap();
    store.delete_bank("GONE", &actor).await.unwrap();
    let keep = store.bank("KEEP").await.unwrap().unwrap();
    let signal = ronda_hash::Signal::parse(ronda_hash::SignalType::Pdq, ADDED_WHILE_DOWN).unwrap();
    let (added, _) = store
        .add_entry(&keep, &NewEntry::from_signal(signal), &actor)
        .await
        .unwrap();

    async fn check(s: &Server, kept: i64, added: i64) {
        assert_eq!(s.raw_ids(BRIDGE).await, [kept]);
        assert_eq!(s.raw_ids(OTHER).await, Vec::<i64>::new());
        assert_eq!(s.raw_ids(GONE_WITH_ENTRY).await, Vec::<i64>::new());
        assert_eq!(s.raw_ids(ADDED_WHILE_DOWN).await, [added]);
    }

    // Second start: from the snapshot, then the changes after it.
    let mut second = Server::on_store(store.clone(), tokens.clone(), config.clone(), None).await;
    let text = second.get("/metrics", None).await.text;
    assert_eq!(metric(&text).as_deref(), Some("1"), "{text}");
    check(&second, kept, added.id).await;
    second.stop().await.unwrap();

    // A damaged snapshot is not used: the node loads from the store and
    // answers the same.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&snapshot, &bytes).unwrap();
    let mut third = Server::on_store(store.clone(), tokens, config, None).await;
    let text = third.get("/metrics", None).await.text;
    assert_eq!(metric(&text).as_deref(), Some("0"), "{text}");
    check(&third, kept, added.id).await;
    third.stop().await.unwrap();
}
