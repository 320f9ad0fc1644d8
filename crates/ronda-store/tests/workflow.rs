//! The referral unit's workflow after collection, run against both
//! backends: review claims under contention, decisions, referrals that are
//! never made twice (also under concurrent creation), delivery
//! bookkeeping, Annex II/III responses and the order clock, liveness
//! checks, group-run platforms' providers, and what a platform's
//! organisation sees.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::HashSet;

use ronda_hash::url::canonicalize;
use ronda_hash::{Sha256Digest, Signal, SignalType};
use ronda_store::{
    Actor, AttemptOutcome, Authority, AuthorityType, ChannelKind, Clock, ImpossibilityReason,
    ItemMatch, ItemStatus, ItemViewer, Labels, LivenessState, Measure, NewAssessment, NewBank,
    NewCampaign, NewDeliveryAttempt, NewEntry, NewItem, NewLivenessCheck, NewReferral, NewResponse,
    PlatformKind, PlatformSpec, ProviderRole, ReferralChannel, ReferralEvent, ReferralFilter,
    ReferralKind, ReferralStatus, ReferralViewer, RemovalOrderSpec, ResponseKind, ResponseSource,
    Store, StoreError, TcoReason, Verdict,
};

contract!(
    concurrent_reviewers_never_claim_the_same_item,
    the_queue_is_ordered_by_priority_and_claims_are_leases,
    decisions_move_items_and_are_counted,
    an_item_is_never_referred_twice_to_one_platform,
    concurrent_referrals_of_one_item_make_one,
    delivery_attempts_and_sending,
    responses_drive_the_state_machine_and_the_order_clock,
    liveness_checks_record_removal_and_bound_it,
    group_run_platforms_are_referred_to_their_providers,
    a_platform_organisation_sees_only_its_own_referrals,
);

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_800_000_000_000;

fn actor() -> Actor {
    Actor::local("test")
}

/// The same store with a hand-moved clock at `T0`.
fn manual(store: &Store) -> (Store, Clock) {
    let clock = Clock::manual(T0);
    (store.clone().with_clock(clock.clone()), clock)
}

async fn platform(store: &Store, name: &str, kind: PlatformKind, domain: &str) -> i64 {
    let mut spec = PlatformSpec::new(name, kind);
    spec.domains = vec![domain.into()];
    spec.channel = ReferralChannel {
        kind: ChannelKind::Api,
        target: Some(format!("https://api.{domain}/referrals")),
    };
    spec.tco_contact = Some(format!("tco@{domain}"));
    store.create_platform(&spec, &actor()).await.unwrap().id
}

async fn add(store: &Store, url: &str, org: Option<i64>, platform: Option<i64>) -> i64 {
    let mut new = NewItem::url(canonicalize(url).unwrap());
    new.org_id = org;
    new.platform_id = platform;
    new.note = Some("a private note".into());
    store.add_item(&new, &actor()).await.unwrap().item.id
}

fn terrorist() -> NewAssessment {
    NewAssessment {
        reason: Some(TcoReason::Incites),
        group: Some("Group X".into()),
        severity: Some(4),
        ..NewAssessment::new(Verdict::TerroristContent)
    }
}

/// An item on `platform`, assessed as terrorist content.
async fn assessed(store: &Store, url: &str, org: Option<i64>, platform: Option<i64>) -> i64 {
    let id = add(store, url, org, platform).await;
    store
        .decide_review(id, &terrorist(), ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    id
}

fn order_spec(reference: &str) -> RemovalOrderSpec {
    RemovalOrderSpec {
        issuing_state: "BE".into(),
        authority: Authority {
            kind: AuthorityType::LawEnforcement,
            name: "Example Federal Police".into(),
            representative: "Inspector Example".into(),
            file_number: "FP-2026-1".into(),
            contact: "tco@police.example".into(),
        },
        addressee: None,
        addressee_contact: None,
        issued_at: T0,
        reference_number: reference.into(),
        urls: Vec::new(),
        identifiers: Vec::new(),
        reasons: vec![TcoReason::Incites],
        grounds: "The video incites to commit terrorist offences.".into(),
        non_disclosure: false,
        non_disclosure_until: None,
        cross_border: false,
        host_member_state: None,
        redress: "Court of first instance, within two months.".into(),
    }
}

async fn concurrent_reviewers_never_claim_the_same_item(store: &Store) {
    let org = store
        .create_organisation("Unit", &actor())
        .await
        .unwrap()
        .id;
    let mut ids = HashSet::new();
    for i in 0..24 {
        ids.insert(add(store, &format!("https://v.example/{i}"), Some(org), None).await);
    }
    let mut tasks = Vec::new();
    for r in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let me = Actor(format!("user:reviewer{r}"));
            let mut mine = Vec::new();
            // Claim, then decide, until the queue is empty: a reviewer's
            // next claim is always a new item.
            while let Some(task) = store
                .claim_next_review(ItemViewer::Org(Some(org)), 60_000, &me)
                .await
                .unwrap()
            {
                mine.push(task.item.id);
                store
                    .decide_review(
                        task.item.id,
                        &NewAssessment::new(Verdict::NotTerroristContent),
                        ItemViewer::Org(Some(org)),
                        &me,
                    )
                    .await
                    .unwrap();
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "an item was claimed twice");
    assert_eq!(unique, ids, "every item was claimed once");
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn the_queue_is_ordered_by_priority_and_claims_are_leases(store: &Store) {
    let (store, clock) = manual(store);
    let labels = Labels {
        severity: Some(5),
        ..Labels::default()
    };
    let bank = store
        .create_bank(
            &NewBank {
                labels,
                ..NewBank::named("SEVERE")
            },
            &actor(),
        )
        .await
        .unwrap();
    let signal = Signal::Sha256(Sha256Digest([7; 32]));
    let (entry, _) = store
        .add_entry(&bank, &NewEntry::from_signal(signal.clone()), &actor())
        .await
        .unwrap();
    let plain = add(&store, "https://v.example/plain", None, None).await;
    clock.advance(10);
    let mut matched = NewItem::url(canonicalize("https://v.example/matched").unwrap());
    matched.signals = vec![signal];
    matched.matches = vec![ItemMatch {
        entry_id: entry.id,
        bank_id: bank.id,
        signal_type: SignalType::Sha256,
        distance: None,
    }];
    let matched = store.add_item(&matched, &actor()).await.unwrap().item.id;
    // A duplicate never enters the queue.
    add(&store, "https://v.example/plain", None, None).await;

    let queue = store
        .review_queue(ItemViewer::Everyone, 0, 10)
        .await
        .unwrap();
    let order: Vec<(i64, u8)> = queue.iter().map(|t| (t.item.id, t.priority)).collect();
    assert_eq!(order, [(matched, 10), (plain, 2)]);

    let alice = Actor::local("alice");
    let bob = Actor::local("bob");
    let a = store
        .claim_next_review(ItemViewer::Everyone, 1000, &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.item.id, matched, "the highest priority first");
    assert_eq!(
        a.item.matches.len(),
        1,
        "the task carries the item's matches"
    );
    // Asking again gives back the same claim, renewed.
    let again = store
        .claim_next_review(ItemViewer::Everyone, 1000, &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.item.id, matched);
    let b = store
        .claim_next_review(ItemViewer::Everyone, 1000, &bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.item.id, plain);
    let carol = Actor::local("carol");
    assert!(
        store
            .claim_next_review(ItemViewer::Everyone, 1000, &carol)
            .await
            .unwrap()
            .is_none()
    );
    // Bob may not decide Alice's item while her lease runs.
    let r = store
        .decide_review(matched, &terrorist(), ItemViewer::Everyone, &bob)
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    // The lease runs out: Carol gets the item.
    clock.advance(1001);
    let c = store
        .claim_next_review(ItemViewer::Everyone, 1000, &carol)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.item.id, matched);
    // Release: only one's own claim.
    let r = store.release_review(matched, &alice).await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    store.release_review(matched, &carol).await.unwrap();
    let r = store
        .claim_next_review(ItemViewer::Everyone, 0, &carol)
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
}

async fn decisions_move_items_and_are_counted(store: &Store) {
    let (store, clock) = manual(store);
    let (a, b) = (
        store.create_organisation("A", &actor()).await.unwrap().id,
        store.create_organisation("B", &actor()).await.unwrap().id,
    );
    let x = add(&store, "https://v.example/x", Some(a), None).await;
    let y = add(&store, "https://v.example/y", Some(a), None).await;
    let z = add(&store, "https://v.example/z", Some(a), None).await;
    let dup = add(&store, "https://v.example/x", Some(b), None).await;
    let me = Actor::local("reviewer");

    // Bad decisions are refused with a reason.
    let r = store
        .decide_review(
            x,
            &NewAssessment::new(Verdict::TerroristContent),
            ItemViewer::Everyone,
            &me,
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("reason")),
        "{r:?}"
    );
    let r = store
        .decide_review(x, &NewAssessment::default(), ItemViewer::Everyone, &me)
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let mut bad = terrorist();
    bad.severity = Some(9);
    let r = store
        .decide_review(x, &bad, ItemViewer::Everyone, &me)
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let r = store
        .decide_review(dup, &terrorist(), ItemViewer::Everyone, &me)
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("duplicate")),
        "{r:?}"
    );
    // Another organisation does not see the item.
    let r = store
        .decide_review(x, &terrorist(), ItemViewer::Org(Some(b)), &me)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");

    let decided = store
        .decide_review(x, &terrorist(), ItemViewer::Org(Some(a)), &me)
        .await
        .unwrap();
    assert_eq!(decided.verdict, Verdict::TerroristContent);
    assert_eq!(decided.reason, Some(TcoReason::Incites));
    assert_eq!(decided.decided_at, T0);
    store
        .decide_review(
            y,
            &NewAssessment::new(Verdict::NotTerroristContent),
            ItemViewer::Everyone,
            &me,
        )
        .await
        .unwrap();
    store
        .decide_review(
            z,
            &NewAssessment::new(Verdict::Escalate),
            ItemViewer::Everyone,
            &me,
        )
        .await
        .unwrap();
    let status = async |id| {
        store
            .item(id, ItemViewer::Everyone)
            .await
            .unwrap()
            .unwrap()
            .item
            .status
    };
    assert_eq!(status(x).await, ItemStatus::Assessed);
    assert_eq!(status(y).await, ItemStatus::Dismissed);
    assert_eq!(status(z).await, ItemStatus::Escalated);
    // A decided item left the queue; an escalated one is on top.
    let queue = store
        .review_queue(ItemViewer::Everyone, 0, 10)
        .await
        .unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].item.id, queue[0].priority), (z, 10));
    let r = store
        .decide_review(x, &terrorist(), ItemViewer::Everyone, &me)
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("not waiting")),
        "{r:?}"
    );
    // Escalated, then decided by a second reviewer.
    store
        .decide_review(
            z,
            &terrorist(),
            ItemViewer::Everyone,
            &Actor::local("senior"),
        )
        .await
        .unwrap();
    assert_eq!(status(z).await, ItemStatus::Assessed);
    assert_eq!(
        store
            .assessments(z, ItemViewer::Everyone)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.reviews_since(&me, T0).await.unwrap(), 3);
    clock.advance(HOUR);
    assert_eq!(store.reviews_since(&me, T0 + 1).await.unwrap(), 0);
}

async fn an_item_is_never_referred_twice_to_one_platform(store: &Store) {
    let p = platform(store, "Video", PlatformKind::Video, "video.example").await;
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
    let mut new = NewItem::url(canonicalize("https://video.example/1").unwrap());
    new.platform_id = Some(p);
    new.campaign_id = Some(day.id);
    let first = store.add_item(&new, &actor()).await.unwrap().item.id;
    let dup = store.add_item(&new, &actor()).await.unwrap().item;
    assert_eq!(dup.duplicate_of, Some(first));

    // Not yet assessed; duplicates never.
    let r = store
        .create_referrals(
            &NewReferral::referral(first),
            ItemViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("assessed")),
        "{r:?}"
    );
    store
        .decide_review(first, &terrorist(), ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    let r = store
        .create_referrals(
            &NewReferral::referral(dup.id),
            ItemViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("duplicate")),
        "{r:?}"
    );

    // The whole campaign: the first report once.
    let made = store
        .refer_campaign(day.id, None, true, ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    assert_eq!(made.created.len(), 1);
    let referral = &made.created[0];
    assert_eq!(referral.item_id, first);
    assert_eq!(referral.status, ReferralStatus::Draft);
    assert_eq!(referral.platform, "Video");
    assert_eq!(referral.channel.kind, ChannelKind::Api);
    assert_eq!(referral.idempotency_key.len(), 32);
    assert_eq!(referral.package["item"]["url"], "https://video.example/1");
    assert_eq!(referral.package["assessment"]["tco_reason"], "incites");
    assert!(
        !referral.package.to_string().contains("private note"),
        "notes never go into a package"
    );
    let again = store
        .refer_campaign(day.id, None, true, ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    assert!(again.created.is_empty(), "{again:?}");
    let r = store
        .create_referrals(
            &NewReferral::referral(first),
            ItemViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");

    // The platform did not act: a removal order may follow, but not a
    // second referral.
    store
        .mark_referral_sent(referral.id, None, &actor())
        .await
        .unwrap();
    store
        .transition_referral(
            referral.id,
            ReferralEvent::NotRemoved,
            Some("still online"),
            ReferralViewer::Everyone,
            &actor(),
        )
        .await
        .unwrap();
    let r = store
        .create_referrals(
            &NewReferral::referral(first),
            ItemViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    let order = NewReferral {
        kind: ReferralKind::RemovalOrder,
        order: Some(order_spec("RO-1")),
        ..NewReferral::referral(first)
    };
    let made = store
        .create_referrals(&order, ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    assert_eq!(made[0].kind, ReferralKind::RemovalOrder);
    let annex = &made[0].order.as_ref().unwrap().annex_i;
    assert_eq!(annex.addressee.as_deref(), Some("Video"));
    assert_eq!(
        annex.addressee_contact.as_deref(),
        Some("tco@video.example")
    );
    assert_eq!(annex.urls, ["https://video.example/1"]);
    // A withdrawn order frees the place for another.
    store
        .transition_referral(
            made[0].id,
            ReferralEvent::Withdraw,
            None,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await
        .unwrap();
    store
        .create_referrals(&order, ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    let listed = store
        .list_referrals(
            &ReferralFilter {
                item_id: Some(first),
                ..ReferralFilter::default()
            },
            ReferralViewer::Everyone,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    // Ill-formed requests.
    let r = store
        .create_referrals(
            &NewReferral {
                kind: ReferralKind::RemovalOrder,
                ..NewReferral::referral(first)
            },
            ItemViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let r = store
        .create_referrals(&NewReferral::referral(9999), ItemViewer::Everyone, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}

async fn concurrent_referrals_of_one_item_make_one(store: &Store) {
    let p = platform(store, "Files", PlatformKind::FileHost, "files.example").await;
    let item = assessed(store, "https://files.example/f/1", None, Some(p)).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_referrals(
                    &NewReferral::referral(item),
                    ItemViewer::Everyone,
                    &Actor::local(&format!("racer{i}")),
                )
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(made) => ok += made.len(),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one referral");
    let all = store
        .list_referrals(&ReferralFilter::default(), ReferralViewer::Everyone)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

async fn delivery_attempts_and_sending(store: &Store) {
    let (store, clock) = manual(store);
    let p = platform(&store, "Chat", PlatformKind::Chat, "chat.example").await;
    let mut manual_spec = PlatformSpec::new("Forum", PlatformKind::Forum);
    manual_spec.domains = vec!["forum.example".into()];
    let f = store
        .create_platform(&manual_spec, &actor())
        .await
        .unwrap()
        .id;
    let a = assessed(&store, "https://chat.example/m/1", None, Some(p)).await;
    let b = assessed(&store, "https://forum.example/t/1", None, Some(f)).await;
    let c = assessed(&store, "https://chat.example/m/2", None, Some(p)).await;
    let queued = |id| NewReferral {
        queue: true,
        ..NewReferral::referral(id)
    };
    let ra = store
        .create_referrals(&queued(a), ItemViewer::Everyone, &actor())
        .await
        .unwrap()
        .remove(0);
    // A manual channel is not delivered automatically; an unqueued draft
    // waits.
    store
        .create_referrals(&queued(b), ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    let rc = store
        .create_referrals(&NewReferral::referral(c), ItemViewer::Everyone, &actor())
        .await
        .unwrap()
        .remove(0);
    let due: Vec<i64> = store
        .referrals_to_deliver(10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(due, [ra.id]);

    let r = store
        .record_delivery_attempt(
            &NewDeliveryAttempt {
                referral_id: ra.id,
                outcome: AttemptOutcome::Retry,
                http_status: Some(503),
                error: Some("service unavailable".into()),
                next_retry_at: None,
            },
            &actor(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    store
        .record_delivery_attempt(
            &NewDeliveryAttempt {
                referral_id: ra.id,
                outcome: AttemptOutcome::Retry,
                http_status: Some(503),
                error: Some("service unavailable".into()),
                next_retry_at: Some(T0 + 60_000),
            },
            &actor(),
        )
        .await
        .unwrap();
    assert!(store.referrals_to_deliver(10).await.unwrap().is_empty());
    clock.advance(60_000);
    let due = store.referrals_to_deliver(10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].idempotency_key, ra.idempotency_key,
        "stable per referral"
    );
    store
        .record_delivery_attempt(
            &NewDeliveryAttempt {
                referral_id: ra.id,
                outcome: AttemptOutcome::Delivered,
                http_status: Some(201),
                error: None,
                next_retry_at: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    let sent_package = serde_json::json!({ "as": "sent" });
    let sent = store
        .mark_referral_sent(ra.id, Some(&sent_package), &actor())
        .await
        .unwrap();
    assert_eq!(sent.status, ReferralStatus::Sent);
    assert_eq!(sent.sent_at, Some(T0 + 60_000));
    assert_eq!(sent.package, sent_package);
    assert!(store.referrals_to_deliver(10).await.unwrap().is_empty());
    let detail = store
        .referral(ra.id, ReferralViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.attempts.len(), 2);
    assert_eq!(detail.attempts[0].http_status, Some(503));
    let events: Vec<&str> = detail.history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(events, ["create", "send"]);
    // Sent twice, or an attempt after sending: refused.
    let r = store.mark_referral_sent(ra.id, None, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    // A failure takes a queued draft out of delivery; queueing again
    // brings it back.
    store.queue_referral(rc.id, &actor()).await.unwrap();
    store
        .record_delivery_attempt(
            &NewDeliveryAttempt {
                referral_id: rc.id,
                outcome: AttemptOutcome::Failed,
                http_status: Some(400),
                error: Some("rejected".into()),
                next_retry_at: None,
            },
            &actor(),
        )
        .await
        .unwrap();
    assert!(store.referrals_to_deliver(10).await.unwrap().is_empty());
    store.queue_referral(rc.id, &actor()).await.unwrap();
    assert_eq!(store.referrals_to_deliver(10).await.unwrap().len(), 1);
    let r = store.queue_referral(ra.id, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
}

async fn responses_drive_the_state_machine_and_the_order_clock(store: &Store) {
    let (store, clock) = manual(store);
    let p = platform(&store, "Host", PlatformKind::Hosting, "host.example").await;
    let x = assessed(&store, "https://host.example/x", None, Some(p)).await;
    let y = assessed(&store, "https://host.example/y", None, Some(p)).await;
    let order = |id, reference: &str, emergency| NewReferral {
        kind: ReferralKind::RemovalOrder,
        order: Some(order_spec(reference)),
        emergency,
        ..NewReferral::referral(id)
    };
    let first = store
        .create_referrals(&order(x, "RO-X", false), ItemViewer::Everyone, &actor())
        .await
        .unwrap()
        .remove(0);
    assert!(
        first.order.as_ref().unwrap().notice_first,
        "the host's first order"
    );
    assert_eq!(
        first.order.as_ref().unwrap().clock,
        None,
        "not received yet"
    );
    let second = store
        .create_referrals(&order(y, "RO-Y", false), ItemViewer::Everyone, &actor())
        .await
        .unwrap()
        .remove(0);
    assert!(!second.order.as_ref().unwrap().notice_first);

    // Sent at T0: the first order's deadline counts the 12 hours' notice.
    let sent = store
        .mark_referral_sent(first.id, None, &actor())
        .await
        .unwrap();
    let o = sent.order.unwrap();
    assert_eq!(o.received_at, Some(T0));
    assert_eq!(o.clock.unwrap().deadline, Some(T0 + 13 * HOUR));
    let sent = store
        .mark_referral_sent(second.id, None, &actor())
        .await
        .unwrap();
    assert_eq!(sent.order.unwrap().clock.unwrap().deadline, Some(T0 + HOUR));

    // Past the hour without an answer: overdue.
    clock.advance(HOUR + 1);
    let overdue = store
        .overdue_orders(ReferralViewer::Everyone, 10)
        .await
        .unwrap();
    assert_eq!(
        overdue.iter().map(|r| r.id).collect::<Vec<_>>(),
        [second.id]
    );

    // Annex III for the second: paused, no longer overdue.
    let r = store
        .record_response(
            second.id,
            &NewResponse {
                kind: ResponseKind::AnnexIII,
                measure: None,
                measure_at: None,
                reason: None,
                explanation: None,
                authority_file_ref: None,
                platform_file_ref: None,
                received_at: None,
            },
            ResponseSource::Platform,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let annex_iii = NewResponse {
        kind: ResponseKind::AnnexIII,
        measure: None,
        measure_at: None,
        reason: Some(ImpossibilityReason::InsufficientInformation),
        explanation: Some("The URL list is truncated.".into()),
        authority_file_ref: Some("FP-2026-1".into()),
        platform_file_ref: Some("HOST-77".into()),
        received_at: Some(T0),
    };
    let resp = store
        .record_response(
            second.id,
            &annex_iii,
            ResponseSource::Platform,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.reason,
        Some(ImpossibilityReason::InsufficientInformation)
    );
    let detail = store
        .referral(second.id, ReferralViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.referral.status, ReferralStatus::Impossible);
    let c = detail.referral.order.as_ref().unwrap().clock.unwrap();
    assert_eq!(c.deadline, None);
    assert!(c.paused_since.is_some());
    assert!(
        store
            .overdue_orders(ReferralViewer::Everyone, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The clarification arrives two hours later: a new hour from then.
    clock.advance(2 * HOUR);
    let back = store
        .transition_referral(
            second.id,
            ReferralEvent::ClarificationReceived,
            None,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await
        .unwrap();
    assert_eq!(back.status, ReferralStatus::Sent);
    let restarted_at = T0 + 3 * HOUR + 1;
    assert_eq!(
        back.order.as_ref().unwrap().clock.unwrap().deadline,
        Some(restarted_at + HOUR)
    );
    // Annex II within the hour: removed on time, the item too.
    clock.advance(HOUR / 2);
    let annex_ii = NewResponse {
        kind: ResponseKind::AnnexII,
        measure: Some(Measure::Disabled),
        measure_at: Some(restarted_at + HOUR / 4),
        reason: None,
        explanation: None,
        authority_file_ref: Some("FP-2026-1".into()),
        platform_file_ref: Some("HOST-77".into()),
        received_at: None,
    };
    store
        .record_response(
            second.id,
            &annex_ii,
            ResponseSource::Manual,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await
        .unwrap();
    let done = store
        .referral(second.id, ReferralViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.referral.status, ReferralStatus::Removed);
    assert_eq!(done.referral.outcome_at, Some(restarted_at + HOUR / 4));
    let c = done.referral.order.as_ref().unwrap().clock.unwrap();
    assert!(!c.answered_late);
    assert_eq!(done.responses.len(), 2);
    let events: Vec<&str> = done.history.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "create",
            "send",
            "report_impossible",
            "clarification_received",
            "report_removed"
        ]
    );
    let item = store.item(y, ItemViewer::Everyone).await.unwrap().unwrap();
    assert_eq!(item.item.status, ItemStatus::Removed);
    // A final status takes no more events.
    let r = store
        .transition_referral(
            second.id,
            ReferralEvent::Dispute,
            None,
            ReferralViewer::Everyone,
            &actor(),
        )
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("removed")),
        "{r:?}"
    );
    // An emergency order to the same host has no notice either.
    let z = assessed(&store, "https://host.example/z", None, Some(p)).await;
    let e = store
        .create_referrals(&order(z, "RO-Z", true), ItemViewer::Everyone, &actor())
        .await
        .unwrap()
        .remove(0);
    assert!(!e.order.unwrap().notice_first);
}

async fn liveness_checks_record_removal_and_bound_it(store: &Store) {
    let (store, clock) = manual(store);
    let p = platform(&store, "Paste", PlatformKind::Paste, "paste.example").await;
    let a = assessed(&store, "https://paste.example/a", None, Some(p)).await;
    let b = assessed(&store, "https://paste.example/b", None, Some(p)).await;
    let unreferred = assessed(&store, "https://paste.example/c", None, Some(p)).await;
    let mut referrals = Vec::new();
    for id in [a, b] {
        let r = store
            .create_referrals(&NewReferral::referral(id), ItemViewer::Everyone, &actor())
            .await
            .unwrap()
            .remove(0);
        referrals.push(r.id);
    }
    // Drafts are not checked; sent ones are, never-checked first.
    assert!(
        store
            .items_due_for_liveness_check(T0 + 1, 10)
            .await
            .unwrap()
            .is_empty()
    );
    for id in &referrals {
        store.mark_referral_sent(*id, None, &actor()).await.unwrap();
    }
    let due: Vec<i64> = store
        .items_due_for_liveness_check(T0 + 1, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.item_id)
        .collect();
    assert_eq!(due, [a, b]);
    assert!(!due.contains(&unreferred));

    let check = |item, state, status: u16| NewLivenessCheck {
        item_id: item,
        referral_id: None,
        checked_at: None,
        http_status: Some(status),
        state,
        evidence_sha256: Some(Sha256Digest([1; 32])),
        detail: Some("status".into()),
    };
    clock.advance(10 * 60_000);
    store
        .record_liveness_check(&check(a, LivenessState::Live, 200), &actor())
        .await
        .unwrap();
    clock.advance(10 * 60_000);
    store
        .record_liveness_check(&check(b, LivenessState::Unavailable, 503), &actor())
        .await
        .unwrap();
    let due: Vec<i64> = store
        .items_due_for_liveness_check(T0 + 30 * 60_000, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.item_id)
        .collect();
    assert_eq!(due, [a, b], "the oldest check first");
    let due = store
        .items_due_for_liveness_check(T0 + 15 * 60_000, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "b was checked since");
    assert_eq!(due[0].last_state, Some(LivenessState::Live));

    clock.advance(10 * 60_000);
    store
        .record_liveness_check(&check(a, LivenessState::Removed, 404), &actor())
        .await
        .unwrap();
    clock.advance(10 * 60_000);
    store
        .record_liveness_check(&check(a, LivenessState::Removed, 404), &actor())
        .await
        .unwrap();
    let l = store
        .item_liveness(a, ItemViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.checks, 3);
    assert_eq!(l.last_seen_live_at, Some(T0 + 10 * 60_000));
    assert_eq!(
        l.first_seen_removed_at,
        Some(T0 + 30 * 60_000),
        "the first check that saw it gone"
    );
    assert_eq!(l.last_checked_at, T0 + 40 * 60_000);
    let r = store
        .referral(referrals[0], ReferralViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.referral.status, ReferralStatus::Removed);
    assert_eq!(r.referral.outcome_at, Some(T0 + 30 * 60_000));
    let item = store.item(a, ItemViewer::Everyone).await.unwrap().unwrap();
    assert_eq!(item.item.status, ItemStatus::Removed);
    let due: Vec<i64> = store
        .items_due_for_liveness_check(T0 + HOUR, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.item_id)
        .collect();
    assert_eq!(due, [b], "a removed item is not checked again");
    let checks = store
        .liveness_checks(a, ItemViewer::Everyone, 0, 10)
        .await
        .unwrap();
    assert_eq!(checks.len(), 3);
    assert_eq!(checks[1].http_status, Some(404));
    assert_eq!(
        checks[1].evidence_sha256.as_deref(),
        Some(&*"01".repeat(32))
    );
    // Bad input.
    let mut bad = check(a, LivenessState::Live, 200);
    bad.http_status = Some(1000);
    let r = store.record_liveness_check(&bad, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let mut bad = check(a, LivenessState::Live, 200);
    bad.referral_id = Some(referrals[1]);
    let r = store.record_liveness_check(&bad, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
}

async fn group_run_platforms_are_referred_to_their_providers(store: &Store) {
    let site = platform(store, "Group Site", PlatformKind::GroupRun, "group.example").await;
    let host = platform(store, "Host Co", PlatformKind::Hosting, "hostco.example").await;
    platform(store, "Names Co", PlatformKind::Registrar, "names.example").await;
    platform(store, "Social", PlatformKind::Social, "social.example").await;
    let item = assessed(store, "https://group.example/post/1", None, Some(site)).await;
    let r = store
        .create_referrals(&NewReferral::referral(item), ItemViewer::Everyone, &actor())
        .await;
    assert!(
        matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains("providers")),
        "{r:?}"
    );

    store
        .add_platform_provider("Group Site", "Host Co", ProviderRole::Hosting, &actor())
        .await
        .unwrap();
    store
        .add_platform_provider("Group Site", "Names Co", ProviderRole::Registrar, &actor())
        .await
        .unwrap();
    let r = store
        .add_platform_provider("Group Site", "Host Co", ProviderRole::Hosting, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    let r = store
        .add_platform_provider("Group Site", "Social", ProviderRole::Cdn, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let r = store
        .add_platform_provider("Host Co", "Names Co", ProviderRole::Registrar, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    let providers = store.platform_providers(site).await.unwrap();
    let names: Vec<(&str, ProviderRole)> = providers
        .iter()
        .map(|p| (p.provider.name(), p.role))
        .collect();
    assert_eq!(
        names,
        [
            ("Host Co", ProviderRole::Hosting),
            ("Names Co", ProviderRole::Registrar)
        ]
    );

    // A removal order needs one named addressee.
    let order = NewReferral {
        kind: ReferralKind::RemovalOrder,
        order: Some(order_spec("RO-G")),
        ..NewReferral::referral(item)
    };
    let r = store
        .create_referrals(&order, ItemViewer::Everyone, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");

    let made = store
        .create_referrals(&NewReferral::referral(item), ItemViewer::Everyone, &actor())
        .await
        .unwrap();
    let mut to: Vec<&str> = made.iter().map(|r| r.platform.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["Host Co", "Names Co"]);
    assert!(
        made.iter()
            .all(|r| r.package["via_platform"] == "Group Site")
    );
    let r = store
        .create_referrals(&NewReferral::referral(item), ItemViewer::Everyone, &actor())
        .await;
    assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
    let order = NewReferral {
        platform_id: Some(host),
        ..order
    };
    let r = store
        .create_referrals(&order, ItemViewer::Everyone, &actor())
        .await;
    assert!(
        matches!(r, Err(StoreError::Conflict { .. })),
        "an open referral to the host: {r:?}"
    );

    // Mirrors: items elsewhere linked to the site.
    let mirror = add(store, "https://mirror.example/group", None, None).await;
    store.link_mirror(site, mirror, &actor()).await.unwrap();
    store.link_mirror(site, mirror, &actor()).await.unwrap();
    assert_eq!(store.platform_mirrors(site, 0, 10).await.unwrap(), [mirror]);
    let r = store.link_mirror(host, mirror, &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
    store
        .remove_platform_provider("Group Site", "Names Co", ProviderRole::Registrar, &actor())
        .await
        .unwrap();
    assert_eq!(store.platform_providers(site).await.unwrap().len(), 1);
    // Platforms with referrals are not deleted.
    let r = store.delete_platform("Host Co", &actor()).await;
    assert!(matches!(r, Err(StoreError::InvalidInput(_))), "{r:?}");
}

async fn a_platform_organisation_sees_only_its_own_referrals(store: &Store) {
    let unit = store
        .create_organisation("Unit", &actor())
        .await
        .unwrap()
        .id;
    let video_co = store
        .create_organisation("Video Co", &actor())
        .await
        .unwrap()
        .id;
    let files_co = store
        .create_organisation("Files Co", &actor())
        .await
        .unwrap()
        .id;
    let v = platform(store, "Video", PlatformKind::Video, "video.example").await;
    let f = platform(store, "Files", PlatformKind::FileHost, "files.example").await;
    store
        .set_platform_org("Video", Some(video_co), &actor())
        .await
        .unwrap();
    let p = store
        .set_platform_org("Files", Some(files_co), &actor())
        .await
        .unwrap();
    assert_eq!(p.org_id, Some(files_co));
    let r = store.set_platform_org("Files", Some(9999), &actor()).await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    let iv = assessed(store, "https://video.example/1", Some(unit), Some(v)).await;
    let iff = assessed(store, "https://files.example/1", Some(unit), Some(f)).await;
    let mut ids = Vec::new();
    for item in [iv, iff] {
        let r = store
            .create_referrals(
                &NewReferral::referral(item),
                ItemViewer::Org(Some(unit)),
                &actor(),
            )
            .await
            .unwrap()
            .remove(0);
        store
            .mark_referral_sent(r.id, None, &actor())
            .await
            .unwrap();
        ids.push(r.id);
    }
    let (rv, rf) = (ids[0], ids[1]);
    let seen = async |viewer| -> Vec<i64> {
        store
            .list_referrals(&ReferralFilter::default(), viewer)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(seen(ReferralViewer::Platform(Some(video_co))).await, [rv]);
    assert_eq!(seen(ReferralViewer::Platform(Some(files_co))).await, [rf]);
    assert!(seen(ReferralViewer::Platform(None)).await.is_empty());
    assert!(seen(ReferralViewer::Platform(Some(unit))).await.is_empty());
    assert_eq!(seen(ReferralViewer::Org(Some(unit))).await, [rv, rf]);
    assert!(seen(ReferralViewer::Org(Some(video_co))).await.is_empty());
    assert!(
        store
            .referral(rf, ReferralViewer::Platform(Some(video_co)))
            .await
            .unwrap()
            .is_none()
    );

    // Video Co answers its own referral, not Files Co's.
    let annex_ii = NewResponse {
        kind: ResponseKind::AnnexII,
        measure: Some(Measure::Removed),
        measure_at: None,
        reason: None,
        explanation: None,
        authority_file_ref: None,
        platform_file_ref: Some("V-1".into()),
        received_at: None,
    };
    let platform_actor = Actor("user:video-bot".into());
    let r = store
        .record_response(
            rf,
            &annex_ii,
            ResponseSource::Platform,
            ReferralViewer::Platform(Some(video_co)),
            &platform_actor,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    let r = store
        .transition_referral(
            rf,
            ReferralEvent::Acknowledge,
            None,
            ReferralViewer::Platform(Some(video_co)),
            &platform_actor,
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    store
        .transition_referral(
            rv,
            ReferralEvent::Acknowledge,
            None,
            ReferralViewer::Platform(Some(video_co)),
            &platform_actor,
        )
        .await
        .unwrap();
    let resp = store
        .record_response(
            rv,
            &annex_ii,
            ResponseSource::Platform,
            ReferralViewer::Platform(Some(video_co)),
            &platform_actor,
        )
        .await
        .unwrap();
    assert_eq!(resp.source, ResponseSource::Platform);
    let d = store
        .referral(rv, ReferralViewer::Platform(Some(video_co)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.referral.status, ReferralStatus::Removed);
    assert!(d.referral.acknowledged_at.is_some());
    let untouched = store
        .referral(rf, ReferralViewer::Everyone)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.referral.status, ReferralStatus::Sent);
    assert_eq!(store.verify_audit().await.unwrap().first_bad_seq, None);
}
