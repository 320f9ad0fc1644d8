//! The platform directory, campaigns and items with deconfliction, run
//! against both backends: the embedded SQLite database and PostgreSQL
//! (`RONDA_TEST_POSTGRES_URL`, each test in a schema of its own).

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use ronda_hash::url::canonicalize;
use ronda_hash::{Md5Digest, PdqHash, Sha256Digest, Signal, SignalType};
use ronda_store::{
    Actor, ChannelKind, DedupReason, ItemFilter, ItemMatch, ItemViewer, NewCampaign, NewItem,
    PlatformKind, PlatformSpec, ReferralChannel, Store, StoreError, starter_directory,
};

contract!(
    platforms_round_trip_and_resolve_urls,
    the_starter_directory_seeds_idempotently,
    the_same_url_is_one_item_per_campaign_across_organisations,
    the_same_content_elsewhere_is_a_new_item_with_a_hint,
    near_same_pictures_in_a_campaign_are_the_same_content,
    an_organisation_sees_its_own_items_and_only_hints_of_others,
    concurrent_submitters_make_one_first_report,
    listings_filter_and_page,
);

fn actor() -> Actor {
    Actor::local("test")
}

fn item(url: &str) -> NewItem {
    NewItem::url(canonicalize(url).unwrap())
}

fn sha(byte: u8) -> Signal {
    Signal::Sha256(Sha256Digest([byte; 32]))
}

async fn platforms_round_trip_and_resolve_urls(store: &Store) {
    let mut video = PlatformSpec::new("Video", PlatformKind::Video);
    video.domains = vec!["video.example".into()];
    video.channel = ReferralChannel {
        kind: ChannelKind::Email,
        target: Some("abuse@video.example".into()),
    };
    video.removal.status_codes = vec![404, 410];
    let created = store.create_platform(&video, &actor()).await.unwrap();
    assert_eq!(created.spec.kind, PlatformKind::Video);
    assert_eq!(created.spec.removal.status_codes, [404, 410]);
    let dup = store.create_platform(&video, &actor()).await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");

    let mut groups = PlatformSpec::new("Video groups", PlatformKind::Social);
    groups.url_patterns = vec!["video.example/groups/".into()];
    store.create_platform(&groups, &actor()).await.unwrap();
    let mut umbrella = PlatformSpec::new("Umbrella", PlatformKind::Hosting);
    umbrella.domains = vec!["example.com".into()];
    store.create_platform(&umbrella, &actor()).await.unwrap();

    let resolve = async |url: &str| {
        store
            .platform_for_url(&canonicalize(url).unwrap())
            .await
            .unwrap()
            .map(|p| p.spec.name)
    };
    assert_eq!(
        resolve("https://video.example/groups/1").await.as_deref(),
        Some("Video groups")
    );
    assert_eq!(
        resolve("https://www.video.example/watch?v=1")
            .await
            .as_deref(),
        Some("Video")
    );
    assert_eq!(
        resolve("https://a.b.example.com/x").await.as_deref(),
        Some("Umbrella")
    );
    assert_eq!(resolve("https://example.org/").await, None);

    // A whole replacement, renaming it; a clash with another name is a
    // conflict.
    let mut renamed = video.clone();
    renamed.name = "Video 2".into();
    renamed.language = Some("de".into());
    let updated = store
        .update_platform("Video", &renamed, &actor())
        .await
        .unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.spec.language.as_deref(), Some("de"));
    assert!(store.platform("Video").await.unwrap().is_none());
    let mut clash = renamed.clone();
    clash.name = "Umbrella".into();
    let r = store.update_platform("Video 2", &clash, &actor()).await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    let r = store.update_platform("nope", &renamed, &actor()).await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");

    // Bad input is refused with a reason.
    let mut bad = PlatformSpec::new("Bad", PlatformKind::Chat);
    bad.channel.kind = ChannelKind::Api;
    let r = store.create_platform(&bad, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");

    // Deleting a platform unlinks its items.
    let mut i = item("https://video.example/watch?v=9");
    i.platform_id = Some(created.id);
    let added = store.add_item(&i, &actor()).await.unwrap();
    assert_eq!(added.item.platform.as_deref(), Some("Video 2"));
    store.delete_platform("Video 2", &actor()).await.unwrap();
    let view = store
        .item(added.item.id, ItemViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.item.platform_id, None);
    let names: Vec<String> = store
        .list_platforms()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.spec.name)
        .collect();
    assert_eq!(names, ["Umbrella", "Video groups"]);
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn the_starter_directory_seeds_idempotently(store: &Store) {
    let specs = starter_directory().unwrap();
    let mut added = 0;
    for s in &specs {
        added += usize::from(
            store
                .create_platform_if_absent(s, &actor())
                .await
                .unwrap()
                .is_some(),
        );
    }
    assert_eq!(added, specs.len());
    for s in &specs {
        assert!(
            store
                .create_platform_if_absent(s, &actor())
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(store.list_platforms().await.unwrap().len(), specs.len());
}

async fn two_orgs(store: &Store) -> (i64, i64) {
    let a = store.create_organisation("Org A", &actor()).await.unwrap();
    let b = store.create_organisation("Org B", &actor()).await.unwrap();
    (a.id, b.id)
}

async fn the_same_url_is_one_item_per_campaign_across_organisations(store: &Store) {
    let (a, b) = two_orgs(store).await;
    let day = store
        .create_campaign(
            &NewCampaign {
                name: "Action day".into(),
                starts_at: Some(1_000),
                ends_at: Some(2_000),
            },
            &actor(),
        )
        .await
        .unwrap();
    let mut first = item("https://social.example/post/1");
    first.org_id = Some(a);
    first.campaign_id = Some(day.id);
    first.note = Some("seen in channel X".into());
    let one = store.add_item(&first, &actor()).await.unwrap();
    assert!(!one.duplicate);
    assert!(one.already_reported_by.is_empty());
    assert_eq!(one.item.duplicate_of, None);
    assert_eq!(one.item.campaign.as_deref(), Some("Action day"));

    // The same URL written differently (host case, fragment) by another
    // organisation.
    let mut again = item("https://SOCIAL.example/post/1#top");
    again.org_id = Some(b);
    again.campaign_id = Some(day.id);
    let two = store
        .add_item(&again, &Actor::local("other"))
        .await
        .unwrap();
    assert!(two.duplicate);
    assert_eq!(two.item.duplicate_of, Some(one.item.id));
    assert_eq!(two.already_reported_by.len(), 1);
    let hint = &two.already_reported_by[0];
    assert_eq!(hint.item_id, one.item.id);
    assert_eq!(hint.org.as_deref(), Some("Org A"));
    assert_eq!(hint.reported_at, one.item.created_at);
    assert_eq!(hint.reason, DedupReason::Url);

    // A third report points at the first, not at the second.
    let mut third = item("https://social.example/post/1");
    third.campaign_id = Some(day.id);
    let three = store.add_item(&third, &actor()).await.unwrap();
    assert_eq!(three.item.duplicate_of, Some(one.item.id));
    assert_eq!(three.already_reported_by.len(), 2);

    // Another campaign (or none) is another action day: a new item.
    let mut outside = item("https://social.example/post/1");
    outside.org_id = Some(b);
    let four = store.add_item(&outside, &actor()).await.unwrap();
    assert!(!four.duplicate);

    // An unknown campaign is refused.
    let mut lost = item("https://social.example/post/2");
    lost.campaign_id = Some(999_999);
    let r = store.add_item(&lost, &actor()).await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn the_same_content_elsewhere_is_a_new_item_with_a_hint(store: &Store) {
    let (a, b) = two_orgs(store).await;
    let pdq = Signal::Pdq(PdqHash([7; 32]));
    let mut first = item("https://files.example.org/f/1");
    first.org_id = Some(a);
    first.signals = vec![sha(1), Signal::Md5(Md5Digest([1; 16])), pdq.clone()];
    first.matches = vec![ItemMatch {
        entry_id: 42,
        bank_id: 3,
        signal_type: SignalType::Pdq,
        distance: Some(4),
    }];
    let one = store.add_item(&first, &actor()).await.unwrap();
    assert_eq!(one.item.signals.len(), 3);
    assert_eq!(one.item.matches, first.matches);

    // The same picture (same PDQ, other bytes) at another URL.
    let mut mirror = item("https://paste.example.com/m/1");
    mirror.org_id = Some(b);
    mirror.signals = vec![sha(2), pdq];
    let two = store.add_item(&mirror, &actor()).await.unwrap();
    assert!(!two.duplicate, "another location is its own item");
    assert_eq!(two.item.duplicate_of, None);
    assert_eq!(two.already_reported_by.len(), 1);
    assert_eq!(two.already_reported_by[0].item_id, one.item.id);
    assert_eq!(two.already_reported_by[0].org.as_deref(), Some("Org A"));
    assert_eq!(two.already_reported_by[0].reason, DedupReason::Content);

    // Unrelated content: no hint.
    let mut other = item("https://paste.example.com/m/2");
    other.signals = vec![sha(3)];
    let three = store.add_item(&other, &actor()).await.unwrap();
    assert!(three.already_reported_by.is_empty());

    // URL signals are not content: refused.
    let mut wrong = item("https://paste.example.com/m/3");
    wrong.signals = vec![Signal::Url(canonicalize("https://example.com/").unwrap())];
    let r = store.add_item(&wrong, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
}

/// A PDQ with the first `n` bits of `base` flipped.
fn flipped(base: [u8; 32], n: usize) -> Signal {
    let mut h = base;
    for bit in 0..n {
        h[bit / 8] ^= 1 << (bit % 8);
    }
    Signal::Pdq(PdqHash(h))
}

async fn near_same_pictures_in_a_campaign_are_the_same_content(store: &Store) {
    let (a, b) = two_orgs(store).await;
    let day = store
        .create_campaign(
            &NewCampaign {
                name: "Near day".into(),
                starts_at: None,
                ends_at: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    let base = [0x5a; 32];
    let add = |url: &str, org: i64, signal: Signal, campaign: Option<i64>| {
        let mut n = item(url);
        n.org_id = Some(org);
        n.campaign_id = campaign;
        n.signals = vec![signal];
        n
    };
    let one = store
        .add_item(
            &add("https://v.example/1", a, flipped(base, 0), Some(day.id)),
            &actor(),
        )
        .await
        .unwrap();
    // 31 bits away, another organisation: the same content, a hint.
    let two = store
        .add_item(
            &add("https://w.example/2", b, flipped(base, 31), Some(day.id)),
            &actor(),
        )
        .await
        .unwrap();
    assert!(!two.duplicate);
    assert_eq!(
        two.already_reported_by.len(),
        1,
        "{:?}",
        two.already_reported_by
    );
    assert_eq!(two.already_reported_by[0].item_id, one.item.id);
    assert_eq!(two.already_reported_by[0].reason, DedupReason::Content);
    // 32 bits away: other content.
    let three = store
        .add_item(
            &add("https://w.example/3", b, flipped(base, 32), Some(day.id)),
            &actor(),
        )
        .await
        .unwrap();
    assert!(
        three
            .already_reported_by
            .iter()
            .all(|r| r.item_id != one.item.id),
        "{:?}",
        three.already_reported_by
    );
    // Near-same in another campaign (none): no hint; identical would be.
    let four = store
        .add_item(
            &add("https://w.example/4", b, flipped(base, 5), None),
            &actor(),
        )
        .await
        .unwrap();
    assert!(
        four.already_reported_by.is_empty(),
        "{:?}",
        four.already_reported_by
    );
    // The hint is also on the item as viewed later.
    let view = store
        .item(two.item.id, ItemViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert!(view.other_reports.iter().any(|r| r.item_id == one.item.id));
}

async fn an_organisation_sees_its_own_items_and_only_hints_of_others(store: &Store) {
    let (a, b) = two_orgs(store).await;
    let mut mine = item("https://chat.example/channel/9");
    mine.org_id = Some(a);
    mine.note = Some("A's private note".into());
    let a_item = store.add_item(&mine, &actor()).await.unwrap().item;
    let mut theirs = item("https://chat.example/channel/9");
    theirs.org_id = Some(b);
    theirs.note = Some("B's private note".into());
    let b_item = store.add_item(&theirs, &actor()).await.unwrap().item;

    // B lists its own item only, with its note and A's report as a hint.
    let seen = store
        .list_items(&ItemFilter::default(), ItemViewer::Org(Some(b)))
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].item.id, b_item.id);
    assert_eq!(seen[0].item.note.as_deref(), Some("B's private note"));
    assert_eq!(seen[0].other_reports.len(), 1);
    assert_eq!(seen[0].other_reports[0].org.as_deref(), Some("Org A"));
    let json = serde_json::to_string(&seen).unwrap();
    assert!(!json.contains("A's private note"), "{json}");

    // A sees B's report on its own item, never B's note or item.
    let seen = store
        .list_items(&ItemFilter::default(), ItemViewer::Org(Some(a)))
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].other_reports[0].item_id, b_item.id);
    assert_eq!(seen[0].other_reports[0].org.as_deref(), Some("Org B"));
    let json = serde_json::to_string(&seen).unwrap();
    assert!(!json.contains("B's private note"), "{json}");
    assert!(
        store
            .item(b_item.id, ItemViewer::Org(Some(a)))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .item(a_item.id, ItemViewer::Org(Some(a)))
            .await
            .unwrap()
            .is_some()
    );
    // A caller without an organisation sees neither.
    assert!(
        store
            .list_items(&ItemFilter::default(), ItemViewer::Org(None))
            .await
            .unwrap()
            .is_empty()
    );
    // Administrators and auditors see both, notes included.
    let all = store
        .list_items(&ItemFilter::default(), ItemViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|v| v.item.note.is_some()));
}

async fn concurrent_submitters_make_one_first_report(store: &Store) {
    let (a, b) = two_orgs(store).await;
    let day = store
        .create_campaign(
            &NewCampaign {
                name: "Rush".into(),
                starts_at: None,
                ends_at: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        let mut new = item("https://video.example/v/race");
        new.org_id = Some(if i % 2 == 0 { a } else { b });
        new.campaign_id = Some(day.id);
        new.signals = vec![sha(9)];
        tasks.push(tokio::spawn(async move {
            store
                .add_item(&new, &Actor::local(&format!("racer{i}")))
                .await
                .unwrap()
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let firsts: Vec<_> = results.iter().filter(|r| !r.duplicate).collect();
    assert_eq!(firsts.len(), 1, "exactly one first report");
    let first = firsts[0].item.id;
    assert!(
        results
            .iter()
            .filter(|r| r.duplicate)
            .all(|r| r.item.duplicate_of == Some(first))
    );
    let filter = ItemFilter {
        campaign_id: Some(day.id),
        first_reports_only: true,
        ..ItemFilter::default()
    };
    let listed = store
        .list_items(&filter, ItemViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].other_reports.len(), 11);
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn listings_filter_and_page(store: &Store) {
    let mut chat = PlatformSpec::new("Chat", PlatformKind::Chat);
    chat.domains = vec!["chat.example".into()];
    let chat = store.create_platform(&chat, &actor()).await.unwrap();
    let day = store
        .create_campaign(
            &NewCampaign {
                name: "Day".into(),
                starts_at: None,
                ends_at: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    let dup = store
        .create_campaign(
            &NewCampaign {
                name: "Day".into(),
                starts_at: None,
                ends_at: None,
            },
            &actor(),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    for n in 0..5 {
        let mut i = item(&format!("https://chat.example/m/{n}"));
        i.platform_id = Some(chat.id);
        i.campaign_id = (n % 2 == 0).then_some(day.id);
        store.add_item(&i, &actor()).await.unwrap();
    }
    store
        .add_item(&item("https://elsewhere.example/"), &actor())
        .await
        .unwrap();
    let ids = |v: &[ronda_store::ItemView]| v.iter().map(|i| i.item.id).collect::<Vec<_>>();
    let everyone = ItemViewer::Everyone;
    let by_platform = ItemFilter {
        platform_id: Some(chat.id),
        ..ItemFilter::default()
    };
    assert_eq!(
        store
            .list_items(&by_platform, everyone)
            .await
            .unwrap()
            .len(),
        5
    );
    let by_campaign = ItemFilter {
        campaign_id: Some(day.id),
        ..ItemFilter::default()
    };
    assert_eq!(
        store
            .list_items(&by_campaign, everyone)
            .await
            .unwrap()
            .len(),
        3
    );
    let page1 = store
        .list_items(
            &ItemFilter {
                limit: 4,
                ..ItemFilter::default()
            },
            everyone,
        )
        .await
        .unwrap();
    assert_eq!(page1.len(), 4);
    let page2 = store
        .list_items(
            &ItemFilter {
                limit: 4,
                after: page1[3].item.id,
                ..ItemFilter::default()
            },
            everyone,
        )
        .await
        .unwrap();
    assert_eq!(page2.len(), 2);
    let mut all = ids(&page1);
    all.extend(ids(&page2));
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(all, sorted);
    assert_eq!(
        store.list_campaigns().await.unwrap()[0].name,
        "Day".to_owned()
    );
}
