//! What the web UI needs of the store: passwords, sessions, login locks,
//! wellness preferences, and the dashboard's counts and URL search; run
//! against both backends: the embedded SQLite database and PostgreSQL
//! (`RONDA_TEST_POSTGRES_URL`, each test in a schema of its own).

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use ronda_hash::url::canonicalize;
use ronda_store::{
    Actor, ItemFilter, ItemStatus, ItemViewer, LOCKOUT_MS, Login, MAX_FAILED_LOGINS, NewItem,
    NewSession, NewUser, Role, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, Store, StoreError,
    WellnessPrefs,
};

contract!(
    a_password_logs_in_and_the_session_lasts_until_logout,
    wrong_unknown_and_disabled_users_are_refused_alike,
    repeated_failures_lock_the_account_for_a_while,
    sessions_end_when_idle_and_at_their_absolute_limit,
    setting_a_password_ends_the_users_sessions,
    wellness_preferences_default_to_safe_and_are_per_user,
    counts_and_url_search_keep_to_what_the_viewer_sees,
);

const PASSWORD: &str = "a long enough passphrase";

fn admin() -> Actor {
    Actor::local("test")
}

async fn user_with_password(store: &Store, name: &str) -> i64 {
    let u = store
        .create_user(&NewUser::new(name, Role::Analyst), &admin())
        .await
        .unwrap();
    store.set_password(name, PASSWORD, &admin()).await.unwrap();
    u.id
}

fn success(login: Login) -> NewSession {
    match login {
        Login::Success(s) => *s,
        other => panic!("expected a session, got {other:?}"),
    }
}

async fn actions(store: &Store) -> Vec<String> {
    store
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn a_password_logs_in_and_the_session_lasts_until_logout(store: &Store) {
    let id = user_with_password(store, "alice").await;
    let s = success(store.login("alice", PASSWORD).await.unwrap());
    assert_eq!(s.session.user.id, id);
    assert_eq!(s.secret.len(), 64, "256 bits in hex");
    assert_eq!(s.session.csrf_token.len(), 64);
    assert_ne!(s.secret, s.session.csrf_token);

    let found = store.session(&s.secret).await.unwrap().unwrap();
    assert_eq!(found.id, s.session.id);
    assert_eq!(found.user.name, "alice");
    assert_eq!(found.csrf_token, s.session.csrf_token);
    assert_eq!(found.actor(), Actor("user:alice".into()));

    let other = success(store.login("alice", PASSWORD).await.unwrap());
    assert_ne!(other.secret, s.secret);
    assert_ne!(other.session.csrf_token, s.session.csrf_token);

    // Near misses of the secret find nothing.
    let mut near = s.secret.clone();
    near.replace_range(0..1, if near.starts_with('0') { "1" } else { "0" });
    assert!(store.session(&near).await.unwrap().is_none());
    assert!(store.session("").await.unwrap().is_none());

    assert!(store.logout(&s.secret).await.unwrap());
    assert!(store.session(&s.secret).await.unwrap().is_none());
    assert!(!store.logout(&s.secret).await.unwrap(), "already ended");
    assert!(store.session(&other.secret).await.unwrap().is_some());

    let acts = actions(store).await;
    for a in ["user.password.set", "session.create", "session.delete"] {
        assert!(acts.iter().any(|x| x == a), "{a} not in {acts:?}");
    }
    let v = store.verify_audit().await.unwrap();
    assert_eq!(v.first_bad_seq, None);
    // The audit log never holds the password or the secrets.
    for e in store.audit_events(0, 1000).await.unwrap() {
        assert!(!e.detail.contains(PASSWORD) && !e.detail.contains(&s.secret));
        assert!(!e.detail.contains("argon2"));
    }
}

async fn wrong_unknown_and_disabled_users_are_refused_alike(store: &Store) {
    user_with_password(store, "bob").await;
    let short = store.set_password("bob", "short", &admin()).await;
    assert!(
        matches!(short, Err(StoreError::InvalidInput(_))),
        "{short:?}"
    );
    let nobody = store.set_password("nobody", PASSWORD, &admin()).await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound { .. })),
        "{nobody:?}"
    );

    assert!(matches!(
        store.login("bob", "a wrong passphrase").await.unwrap(),
        Login::Refused
    ));
    assert!(matches!(
        store.login("nobody", PASSWORD).await.unwrap(),
        Login::Refused
    ));
    // A user without a password cannot log in.
    store
        .create_user(&NewUser::new("carol", Role::Reviewer), &admin())
        .await
        .unwrap();
    assert!(matches!(
        store.login("carol", PASSWORD).await.unwrap(),
        Login::Refused
    ));

    // Disabling a user ends its sessions and refuses its password.
    let s = success(store.login("bob", PASSWORD).await.unwrap());
    store.disable_user("bob", &admin()).await.unwrap();
    assert!(store.session(&s.secret).await.unwrap().is_none());
    assert!(matches!(
        store.login("bob", PASSWORD).await.unwrap(),
        Login::Refused
    ));
    let again = store.set_password("bob", PASSWORD, &admin()).await;
    assert!(
        matches!(again, Err(StoreError::InvalidInput(_))),
        "{again:?}"
    );
}

async fn repeated_failures_lock_the_account_for_a_while(store: &Store) {
    user_with_password(store, "dave").await;
    let t0 = 1_900_000_000_000;
    for _ in 0..MAX_FAILED_LOGINS {
        let r = store
            .login_at("dave", "not the passphrase", t0)
            .await
            .unwrap();
        assert!(matches!(r, Login::Refused), "{r:?}");
    }
    // Locked: the right password is refused too, and says until when.
    match store.login_at("dave", PASSWORD, t0 + 1).await.unwrap() {
        Login::Locked { until } => assert_eq!(until, t0 + LOCKOUT_MS),
        other => panic!("expected a lock, got {other:?}"),
    }
    assert!(matches!(
        store
            .login_at("dave", PASSWORD, t0 + LOCKOUT_MS - 1)
            .await
            .unwrap(),
        Login::Locked { .. }
    ));
    // After the lock, the right password works and resets the count.
    success(
        store
            .login_at("dave", PASSWORD, t0 + LOCKOUT_MS)
            .await
            .unwrap(),
    );
    for _ in 0..MAX_FAILED_LOGINS - 1 {
        store
            .login_at("dave", "not the passphrase", t0 + LOCKOUT_MS + 1)
            .await
            .unwrap();
    }
    success(
        store
            .login_at("dave", PASSWORD, t0 + LOCKOUT_MS + 2)
            .await
            .unwrap(),
    );
    let acts = actions(store).await;
    assert_eq!(acts.iter().filter(|a| *a == "user.lock").count(), 1);
    assert_eq!(
        acts.iter().filter(|a| *a == "user.login.fail").count() as i64,
        2 * MAX_FAILED_LOGINS - 1
    );
    // Setting the password clears a lock.
    for _ in 0..MAX_FAILED_LOGINS {
        store.login_at("dave", "nope nope nope", t0).await.unwrap();
    }
    assert!(matches!(
        store.login_at("dave", PASSWORD, t0 + 1).await.unwrap(),
        Login::Locked { .. }
    ));
    store
        .set_password("dave", PASSWORD, &admin())
        .await
        .unwrap();
    success(store.login_at("dave", PASSWORD, t0 + 1).await.unwrap());
}

async fn sessions_end_when_idle_and_at_their_absolute_limit(store: &Store) {
    user_with_password(store, "erin").await;
    let t0 = 1_900_000_000_000;
    let s = success(store.login_at("erin", PASSWORD, t0).await.unwrap());
    // Used every 20 minutes, it lives until its absolute end.
    let step = SESSION_IDLE_MS * 2 / 3;
    let mut t = t0;
    while t + step < t0 + SESSION_ABSOLUTE_MS {
        t += step;
        let found = store.session_at(&s.secret, t).await.unwrap();
        assert!(found.is_some(), "ended early at {}", t - t0);
        assert_eq!(found.unwrap().last_seen_at, t);
    }
    assert!(
        store
            .session_at(&s.secret, t0 + SESSION_ABSOLUTE_MS)
            .await
            .unwrap()
            .is_none()
    );

    // Idle: one request just inside the limit, then a gap just over it.
    let s = success(store.login_at("erin", PASSWORD, t0).await.unwrap());
    let t1 = t0 + SESSION_IDLE_MS - 1;
    assert!(store.session_at(&s.secret, t1).await.unwrap().is_some());
    assert!(
        store
            .session_at(&s.secret, t1 + SESSION_IDLE_MS)
            .await
            .unwrap()
            .is_none()
    );
    // Once ended it stays ended, even at an earlier time.
    assert!(store.session_at(&s.secret, t0).await.unwrap().is_none());
}

async fn setting_a_password_ends_the_users_sessions(store: &Store) {
    user_with_password(store, "frank").await;
    user_with_password(store, "gina").await;
    let f = success(store.login("frank", PASSWORD).await.unwrap());
    let g = success(store.login("gina", PASSWORD).await.unwrap());
    store
        .set_password("frank", "another long passphrase", &admin())
        .await
        .unwrap();
    assert!(store.session(&f.secret).await.unwrap().is_none());
    assert!(store.session(&g.secret).await.unwrap().is_some());
    assert!(matches!(
        store.login("frank", PASSWORD).await.unwrap(),
        Login::Refused
    ));
    success(
        store
            .login("frank", "another long passphrase")
            .await
            .unwrap(),
    );
    assert_eq!(store.end_sessions("gina", &admin()).await.unwrap(), 1);
    assert!(store.session(&g.secret).await.unwrap().is_none());
}

async fn wellness_preferences_default_to_safe_and_are_per_user(store: &Store) {
    let h = user_with_password(store, "hana").await;
    let i = user_with_password(store, "ivan").await;
    let safe = WellnessPrefs::default();
    assert!(safe.blur_media && safe.greyscale && safe.mute_video && safe.pause_video);
    assert_eq!(store.preferences(h).await.unwrap(), safe);

    let mine = WellnessPrefs {
        blur_media: false,
        greyscale: true,
        mute_video: false,
        pause_video: true,
    };
    let actor = Actor("user:hana".into());
    store.set_preferences(h, &mine, &actor).await.unwrap();
    assert_eq!(store.preferences(h).await.unwrap(), mine);
    assert_eq!(store.preferences(i).await.unwrap(), safe, "per user");
    store.set_preferences(h, &safe, &actor).await.unwrap();
    assert_eq!(store.preferences(h).await.unwrap(), safe);
    let missing = store.set_preferences(9999, &safe, &actor).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    let acts = actions(store).await;
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "user.preferences.update")
            .count(),
        2
    );
}

async fn counts_and_url_search_keep_to_what_the_viewer_sees(store: &Store) {
    let a = store.create_organisation("Org A", &admin()).await.unwrap();
    let b = store.create_organisation("Org B", &admin()).await.unwrap();
    let add = |url: &'static str, org: i64| async move {
        let mut new = NewItem::url(canonicalize(url).unwrap());
        new.url = url.to_owned();
        new.org_id = Some(org);
        store.add_item(&new, &admin()).await.unwrap().item.id
    };
    let a1 = add("https://Video.example/watch/ABC", a.id).await;
    let a2 = add("https://files.example/50%_off", a.id).await;
    let b1 = add("https://video.example/watch/abc", b.id).await;
    // The same URL as b1 (and no campaign): recorded as its duplicate.
    add("https://video.example/watch/abc", a.id).await;

    let ids = |v: Vec<ronda_store::ItemView>| v.into_iter().map(|v| v.item.id).collect::<Vec<_>>();
    let all = ItemFilter::default();
    let everyone = ItemViewer::Everyone;
    assert_eq!(
        ids(store
            .search_items(&all, "WATCH/abc", everyone)
            .await
            .unwrap())
        .len(),
        3,
        "case is ignored"
    );
    let org_a = ItemViewer::Org(Some(a.id));
    let found = ids(store.search_items(&all, "watch", org_a).await.unwrap());
    assert!(found.contains(&a1) && !found.contains(&b1), "{found:?}");
    // Wildcards in the search are literal.
    assert_eq!(
        ids(store.search_items(&all, "50%_", everyone).await.unwrap()),
        [a2]
    );
    assert!(
        store
            .search_items(&all, "5_%", everyone)
            .await
            .unwrap()
            .is_empty()
    );
    // Filters and paging combine with the search.
    let first = ItemFilter {
        first_reports_only: true,
        org_id: Some(a.id),
        ..ItemFilter::default()
    };
    assert_eq!(
        ids(store.search_items(&first, "", everyone).await.unwrap()),
        [a1, a2]
    );
    let page = ItemFilter {
        after: a1,
        limit: 1,
        ..ItemFilter::default()
    };
    assert_eq!(
        ids(store.search_items(&page, "", everyone).await.unwrap()),
        [a2]
    );

    assert_eq!(
        store.item_counts(everyone).await.unwrap(),
        [(ItemStatus::New, 4, 3)]
    );
    assert_eq!(
        store.item_counts(org_a).await.unwrap(),
        [(ItemStatus::New, 3, 2)]
    );
    assert!(
        store
            .item_counts(ItemViewer::Org(None))
            .await
            .unwrap()
            .is_empty()
    );
    let names: Vec<String> = store
        .list_organisations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Org A", "Org B"]);
}
