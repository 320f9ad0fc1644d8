//! The store's contract, run against both backends: the embedded SQLite
//! database and PostgreSQL (`RONDA_TEST_POSTGRES_URL`, each test in a schema
//! of its own).

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use ronda_hash::{PdqHash, Signal};
use ronda_store::{
    Actor, BankUpdate, Cursor, EntryUpdate, ImportCheckpoint, Labels, NewBank, NewEntry, NewUser,
    Role, Store, StoreError, UserRef,
};

contract!(
    banks_round_trip,
    entries_and_change_feed,
    imports_are_idempotent,
    tokens_authenticate_until_revoked,
    users_are_created_listed_and_disabled,
    user_tokens_act_for_their_user_until_disabled,
    audit_chain_detects_tampering,
    concurrent_writers_keep_the_feed_ordered,
);

fn actor() -> Actor {
    Actor::local("test")
}

fn pdq(i: u64) -> Signal {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[31] = 0xa5;
    Signal::Pdq(PdqHash(bytes))
}

async fn banks_round_trip(store: &Store) {
    let a = store
        .create_bank(&NewBank::named("TERROR_A"), &actor())
        .await
        .unwrap();
    assert!(a.enabled);
    let dup = store
        .create_bank(&NewBank::named("TERROR_A"), &actor())
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    store
        .create_bank(&NewBank::named("B"), &actor())
        .await
        .unwrap();
    let names: Vec<_> = store
        .list_banks()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["B", "TERROR_A"]);

    let labels = Labels {
        group: Some("group-x".into()),
        severity: Some(4),
        ..Labels::default()
    };
    let update = BankUpdate {
        enabled: Some(false),
        labels: Some(labels.clone()),
        matching_enabled_ratio: Some(0.5),
        ..BankUpdate::default()
    };
    let updated = store
        .update_bank("TERROR_A", &update, &actor())
        .await
        .unwrap();
    assert!(!updated.enabled);
    let again = store.require_bank("TERROR_A").await.unwrap();
    assert_eq!(again.labels, labels);
    assert_eq!(again.matching_enabled_ratio, 0.5);

    let bad = BankUpdate {
        matching_enabled_ratio: Some(1.5),
        ..BankUpdate::default()
    };
    assert!(matches!(
        store.update_bank("TERROR_A", &bad, &actor()).await,
        Err(StoreError::InvalidInput(_))
    ));
    let rename = BankUpdate {
        name: Some("B".into()),
        ..BankUpdate::default()
    };
    assert!(matches!(
        store.update_bank("TERROR_A", &rename, &actor()).await,
        Err(StoreError::Conflict { .. })
    ));

    store
        .add_entry(&again, &NewEntry::from_signal(pdq(1)), &actor())
        .await
        .unwrap();
    store.delete_bank("TERROR_A", &actor()).await.unwrap();
    assert!(store.bank("TERROR_A").await.unwrap().is_none());
    assert!(matches!(
        store.delete_bank("TERROR_A", &actor()).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn entries_and_change_feed(store: &Store) {
    let bank = store
        .create_bank(&NewBank::named("BANK"), &actor())
        .await
        .unwrap();
    let start = Cursor::default();
    let (e1, new) = store
        .add_entry(&bank, &NewEntry::from_signal(pdq(1)), &actor())
        .await
        .unwrap();
    assert!(new);
    assert_eq!(e1.signals, vec![pdq(1)]);
    assert_eq!(e1.external_id, format!("pdq:{}", pdq(1).value()));
    let (same, new) = store
        .add_entry(&bank, &NewEntry::from_signal(pdq(1)), &actor())
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(same.id, e1.id);

    let mut two = NewEntry::from_signal(pdq(2));
    two.signals
        .push(Signal::parse_line("md5 d41d8cd98f00b204e9800998ecf8427e").unwrap());
    two.external_id = Some("source-id-2".into());
    let (e2, _) = store.add_entry(&bank, &two, &actor()).await.unwrap();
    assert_eq!(e2.signals.len(), 2);

    let feed = store.changes_since(start, 100).await.unwrap();
    assert_eq!(
        feed.iter().map(|c| c.entry_id).collect::<Vec<_>>(),
        [e1.id, e2.id]
    );
    let after = feed.last().unwrap().cursor;
    assert!(store.changes_since(after, 100).await.unwrap().is_empty());

    let update = EntryUpdate {
        enabled: Some(false),
        disable_until: Some(Some(4_102_444_800_000)),
        ..EntryUpdate::default()
    };
    let updated = store.update_entry(e1.id, &update, &actor()).await.unwrap();
    assert!(!updated.enabled);
    assert!(!updated.is_active(0));
    store.delete_entry(e2.id, &actor()).await.unwrap();
    assert!(store.entry(e2.id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_entry(e2.id, &actor()).await,
        Err(StoreError::NotFound { .. })
    ));

    let feed = store.changes_since(after, 100).await.unwrap();
    assert_eq!(feed.len(), 2);
    assert_eq!((feed[0].entry_id, feed[0].enabled), (e1.id, false));
    assert_eq!((feed[1].entry_id, feed[1].deleted), (e2.id, true));
    assert_eq!(feed[1].signals.len(), 2, "tombstones keep their signals");
    assert!(feed[0].cursor < feed[1].cursor);

    // Paging through the feed one entry at a time sees the same changes.
    let mut cursor = start;
    let mut paged = Vec::new();
    loop {
        let page = store.changes_since(cursor, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.cursor;
        paged.extend(page.into_iter().map(|c| c.entry_id));
    }
    assert_eq!(paged, [e1.id, e2.id]);

    // The bulk first load sees the live entries and ends where the feed is.
    let mut live = Vec::new();
    let at = store.load_live_entries(|c| live.push(c)).await.unwrap();
    assert_eq!(at, cursor);
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].entry_id, live[0].enabled), (e1.id, false));
    assert_eq!(live[0].signals, vec![pdq(1)]);
    assert_eq!(store.count_entries(bank.id).await.unwrap(), 1);
    assert_eq!(store.entries_with_signal(&pdq(1)).await.unwrap(), [e1.id]);
}

async fn imports_are_idempotent(store: &Store) {
    let bank = store
        .create_bank(&NewBank::named("IMPORT"), &actor())
        .await
        .unwrap();
    let batch: Vec<NewEntry> = (0..1500).map(|i| NewEntry::from_signal(pdq(i))).collect();
    let first = store
        .import_batch(
            &bank,
            &batch,
            &[],
            Some(ImportCheckpoint::new("file:x", "1500")),
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!((first.added, first.unchanged), (1500, 0));
    let second = store
        .import_batch(
            &bank,
            &batch,
            &[],
            Some(ImportCheckpoint::new("file:x", "1500")),
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!((second.added, second.unchanged), (0, 1500));
    assert_eq!(
        store.checkpoint("file:x").await.unwrap().as_deref(),
        Some("1500")
    );
    assert_eq!(store.checkpoint("file:y").await.unwrap(), None);
    // Progress adds up across batches, until the import clears it.
    let progress = store.imports_in_progress().await.unwrap();
    assert_eq!(progress.len(), 1);
    assert_eq!(
        (progress[0].source.as_str(), progress[0].bank.as_str()),
        ("file:x", "IMPORT")
    );
    assert_eq!(progress[0].records, 3000);
    // A finished incremental import keeps its checkpoint but is not in
    // progress; its next run counts afresh.
    store.finish_checkpoint("file:x").await.unwrap();
    assert!(store.imports_in_progress().await.unwrap().is_empty());
    assert_eq!(
        store.checkpoint("file:x").await.unwrap().as_deref(),
        Some("1500")
    );
    store
        .import_batch(
            &bank,
            &batch[..10],
            &[],
            Some(ImportCheckpoint::new("file:x", "1510")),
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(store.imports_in_progress().await.unwrap()[0].records, 10);
    store.clear_checkpoint("file:x").await.unwrap();
    assert!(store.imports_in_progress().await.unwrap().is_empty());

    // Repeats inside one batch count once.
    let repeated = vec![
        NewEntry::from_signal(pdq(5000)),
        NewEntry::from_signal(pdq(5000)),
    ];
    let stats = store
        .import_batch(&bank, &repeated, &[], None, &actor())
        .await
        .unwrap();
    assert_eq!((stats.added, stats.unchanged), (1, 1));

    // A source's deletions tombstone; a later re-import brings the entry back.
    let gone = vec![format!("pdq:{}", pdq(7).value())];
    let stats = store
        .import_batch(&bank, &[], &gone, None, &actor())
        .await
        .unwrap();
    assert_eq!(stats.removed, 1);
    assert_eq!(store.count_entries(bank.id).await.unwrap(), 1500);
    let stats = store
        .import_batch(&bank, &batch[7..8], &[], None, &actor())
        .await
        .unwrap();
    assert_eq!(stats.added, 1);
    assert_eq!(store.count_entries(bank.id).await.unwrap(), 1501);

    // Export pages see every live entry once.
    let mut after = 0;
    let mut seen = 0;
    loop {
        let page = store.entries_page(bank.id, after, 400).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        assert!(page.iter().all(|e| e.signals.len() == 1));
        seen += page.len();
    }
    assert_eq!(seen, 1501);

    let empty = NewEntry {
        signals: vec![],
        ..NewEntry::from_signal(pdq(0))
    };
    assert!(matches!(
        store
            .import_batch(&bank, &[empty], &[], None, &actor())
            .await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn tokens_authenticate_until_revoked(store: &Store) {
    let org = store
        .create_organisation("Platform One", &actor())
        .await
        .unwrap();
    assert!(matches!(
        store.create_organisation("Platform One", &actor()).await,
        Err(StoreError::Conflict { .. })
    ));
    let (info, secret) = store
        .create_token("uploads", Role::Platform, Some(org.id), &actor())
        .await
        .unwrap();
    assert!(secret.starts_with("ronda_"));
    let who = store.authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(
        (who.token_id, who.role, who.org_id),
        (info.id, Role::Platform, Some(org.id))
    );
    assert!(store.authenticate("ronda_wrong").await.unwrap().is_none());
    assert!(store.authenticate("").await.unwrap().is_none());
    store.revoke_token(info.id, &actor()).await.unwrap();
    assert!(store.authenticate(&secret).await.unwrap().is_none());
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());
}

async fn users_are_created_listed_and_disabled(store: &Store) {
    let org = store
        .create_organisation("Referral Unit", &actor())
        .await
        .unwrap();
    let new = NewUser {
        display_name: Some("  Ana Lyst ".into()),
        org_id: Some(org.id),
        ..NewUser::new("ana.lyst", Role::Analyst)
    };
    let ana = store.create_user(&new, &actor()).await.unwrap();
    assert_eq!(
        (
            ana.name.as_str(),
            ana.display_name.as_deref(),
            ana.role,
            ana.org_id,
            ana.org_name.as_deref()
        ),
        (
            "ana.lyst",
            Some("Ana Lyst"),
            Role::Analyst,
            Some(org.id),
            Some("Referral Unit")
        )
    );
    assert!(ana.is_active());

    let dup = store
        .create_user(&NewUser::new("ana.lyst", Role::Admin), &actor())
        .await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict { kind: "user", key }) if key == "ana.lyst"),
        "{dup:?}"
    );
    let long = "a".repeat(65);
    for bad in ["", "Ana", "ana lyst", "ana/x", "ana:x", long.as_str()] {
        let r = store
            .create_user(&NewUser::new(bad, Role::Analyst), &actor())
            .await;
        assert!(
            matches!(r, Err(StoreError::InvalidInput(_))),
            "{bad:?}: {r:?}"
        );
    }
    let orphan = NewUser {
        org_id: Some(org.id + 1000),
        ..NewUser::new("orphan", Role::Reviewer)
    };
    let r = store.create_user(&orphan, &actor()).await;
    assert!(
        matches!(
            r,
            Err(StoreError::NotFound {
                kind: "organisation",
                ..
            })
        ),
        "{r:?}"
    );

    let admin = store
        .create_user(&NewUser::new("admin", Role::Admin), &actor())
        .await
        .unwrap();
    assert_eq!((admin.org_id, admin.org_name), (None, None));
    let listed = store.list_users().await.unwrap();
    assert_eq!(
        listed.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["admin", "ana.lyst"]
    );
    assert_eq!(listed[1], ana);
    assert_eq!(store.user("ana.lyst").await.unwrap(), Some(ana.clone()));
    assert_eq!(store.user("nobody").await.unwrap(), None);

    let (disabled, revoked) = store.disable_user("ana.lyst", &actor()).await.unwrap();
    assert!(!disabled.is_active());
    assert!(revoked.is_empty());
    assert_eq!(store.user("ana.lyst").await.unwrap(), Some(disabled));
    assert!(matches!(
        store.disable_user("ana.lyst", &actor()).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        store.disable_user("nobody", &actor()).await,
        Err(StoreError::NotFound { kind: "user", .. })
    ));
    // Only the changes that happened are in the log, and it still verifies.
    let events = store.audit_events(0, 100).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        [
            "organisation.create",
            "user.create",
            "user.create",
            "user.disable"
        ]
    );
    assert_eq!(events[1].record_id, ana.id.to_string());
    assert!(
        !events[1].detail.contains("Ana Lyst"),
        "{}",
        events[1].detail
    );
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn user_tokens_act_for_their_user_until_disabled(store: &Store) {
    let org = store
        .create_organisation("Platform Two", &actor())
        .await
        .unwrap();
    let rev = NewUser {
        org_id: Some(org.id),
        ..NewUser::new("rev", Role::Reviewer)
    };
    let rev = store.create_user(&rev, &actor()).await.unwrap();

    let (laptop, laptop_secret) = store
        .create_user_token("laptop", "rev", None, &actor())
        .await
        .unwrap();
    assert_eq!(
        (laptop.role, laptop.org_id, laptop.user_id),
        (Role::Reviewer, Some(org.id), Some(rev.id))
    );
    let (phone, _) = store
        .create_user_token("phone", "rev", Some(Role::Reviewer), &actor())
        .await
        .unwrap();
    assert_eq!(phone.user_id, Some(rev.id));
    // A token never has another role than its user's.
    let r = store
        .create_user_token("root", "rev", Some(Role::Admin), &actor())
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let r = store
        .create_user_token("ghost", "nobody", None, &actor())
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound { kind: "user", .. })),
        "{r:?}"
    );

    let who = store.authenticate(&laptop_secret).await.unwrap().unwrap();
    assert_eq!(
        (who.token_id, who.role, who.org_id),
        (laptop.id, Role::Reviewer, Some(org.id))
    );
    assert_eq!(
        who.user,
        Some(UserRef {
            id: rev.id,
            name: "rev".into()
        })
    );
    assert_eq!(who.actor(), Actor("user:rev".into()));
    // What the user's token does is audited under the user's name.
    store
        .create_bank(&NewBank::named("BY_REV"), &who.actor())
        .await
        .unwrap();

    // Service tokens keep naming the token.
    let (svc, svc_secret) = store
        .create_token("svc", Role::Platform, None, &actor())
        .await
        .unwrap();
    assert_eq!(svc.user_id, None);
    let svc_who = store.authenticate(&svc_secret).await.unwrap().unwrap();
    assert_eq!(svc_who.user, None);
    assert_eq!(svc_who.actor(), Actor(format!("token:{}", svc.id)));
    let r = store
        .create_token("lost", Role::Platform, Some(org.id + 1000), &actor())
        .await;
    assert!(
        matches!(
            r,
            Err(StoreError::NotFound {
                kind: "organisation",
                ..
            })
        ),
        "{r:?}"
    );

    // Disabling revokes the live tokens (the phone's is already revoked).
    store.revoke_token(phone.id, &actor()).await.unwrap();
    let (_, revoked) = store.disable_user("rev", &actor()).await.unwrap();
    assert_eq!(revoked, [laptop.id]);
    assert!(store.authenticate(&laptop_secret).await.unwrap().is_none());
    assert!(store.authenticate(&svc_secret).await.unwrap().is_some());
    let tokens = store.list_tokens().await.unwrap();
    let listed = tokens.iter().find(|t| t.id == laptop.id).unwrap();
    assert!(listed.revoked_at.is_some());
    assert_eq!(listed.user_id, Some(rev.id));
    // A disabled user's token is refused even if it were live again.
    store
        .execute_unchecked(&format!(
            "UPDATE tokens SET revoked_at = NULL WHERE id = {}",
            laptop.id
        ))
        .await
        .unwrap();
    assert!(store.authenticate(&laptop_secret).await.unwrap().is_none());
    // And a disabled user gets no new token.
    let r = store
        .create_user_token("again", "rev", None, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");

    let events = store.audit_events(0, 100).await.unwrap();
    let bank_event = events.iter().find(|e| e.action == "bank.create").unwrap();
    assert_eq!(bank_event.actor, "user:rev");
    let token_event = events
        .iter()
        .find(|e| e.action == "token.create" && e.record_id == laptop.id.to_string())
        .unwrap();
    assert!(
        token_event
            .detail
            .contains(&format!("\"user_id\":{}", rev.id)),
        "{}",
        token_event.detail
    );
    let tail: Vec<(&str, &str)> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| (e.action.as_str(), e.record_id.as_str()))
        .collect();
    let laptop_id = laptop.id.to_string();
    let rev_id = rev.id.to_string();
    assert_eq!(
        tail,
        [
            ("user.disable", rev_id.as_str()),
            ("token.revoke", laptop_id.as_str())
        ]
    );
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn audit_chain_detects_tampering(store: &Store) {
    let bank = store
        .create_bank(&NewBank::named("AUDITED"), &actor())
        .await
        .unwrap();
    for i in 0..5 {
        store
            .add_entry(&bank, &NewEntry::from_signal(pdq(i)), &actor())
            .await
            .unwrap();
    }
    let ok = store.verify_audit().await.unwrap();
    assert_eq!((ok.events, ok.first_bad_seq), (6, None));
    let events = store.audit_events(0, 100).await.unwrap();
    assert_eq!(events[0].action, "bank.create");
    assert_eq!(events[0].actor, "local:test");

    store
        .execute_unchecked("UPDATE audit_events SET actor = 'local:someone-else' WHERE seq = 3")
        .await
        .unwrap();
    let bad = store.verify_audit().await.unwrap();
    assert_eq!(bad.first_bad_seq, Some(3), "{bad:?}");

    store
        .execute_unchecked("UPDATE audit_events SET actor = 'local:test' WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
    store
        .execute_unchecked("DELETE FROM audit_events WHERE seq = 6")
        .await
        .unwrap();
    let truncated = store.verify_audit().await.unwrap();
    assert_eq!(truncated.first_bad_seq, Some(6), "{truncated:?}");
}

async fn concurrent_writers_keep_the_feed_ordered(store: &Store) {
    let bank = store
        .create_bank(&NewBank::named("BUSY"), &actor())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..4u64 {
        let store = store.clone();
        let bank = bank.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..10u64 {
                let batch: Vec<_> = (0..20)
                    .map(|i| NewEntry::from_signal(pdq(w * 1_000_000 + b * 100 + i)))
                    .collect();
                store
                    .import_batch(&bank, &batch, &[], None, &actor())
                    .await
                    .unwrap();
            }
        }));
    }
    // A follower polling while the writers run must end up with every
    // entry exactly once.
    let mut cursor = Cursor::default();
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = store.changes_since(cursor, 37).await.unwrap();
        for c in &page {
            assert!(c.cursor > cursor, "feed went backwards");
            cursor = c.cursor;
            assert!(seen.insert(c.entry_id), "entry {} seen twice", c.entry_id);
        }
        if tasks.iter().all(|t| t.is_finished()) && page.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(seen.len(), 800);
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}
