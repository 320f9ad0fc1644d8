//! The figures of a small campaign, worked out by hand (see
//! `small_input`), and the properties every report keeps.

use proptest::prelude::*;
use ronda_report::compute::{ClockFrom, EdgeKind, ItemState};
use ronda_report::{
    Item, Liveness, PlatformKind, ReferralKind, ReferralStatus, ReportInput, compute,
};

use crate::*;

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn counts_of_the_small_campaign() {
    let r = compute(&small_input());
    assert_eq!(
        r.outcomes.items, 8,
        "the duplicate is a report, not an item"
    );
    assert_eq!(r.reports, 9);
    assert_eq!(r.organisations, 3, "the duplicate's organisation took part");
    assert_eq!(r.platforms, 3);
    assert_eq!(r.referrals, 5, "the draft is not a referral");
    assert_eq!(r.removal_orders, 2);
    assert_eq!(r.outcomes.referred, 5);
    assert_eq!(r.outcomes.removed, 4);
    assert_eq!(r.outcomes.removed_share, Some(0.5));
}

#[test]
fn time_to_removal_of_the_small_campaign() {
    let r = compute(&small_input());
    let o = &r.outcomes;
    // 30 (item 1, from its referral), 30 (item 4, unreferred, from its
    // report), 50 (item 3), 1440 (item 2).
    assert!(close(o.time_to_removal_minutes.median, 40.0));
    assert!(close(o.time_to_removal_minutes.p90, 50.0 + 0.7 * 1390.0));
    assert_eq!(o.within_1h_share, Some(3.0 / 8.0));
    assert_eq!(o.within_24h_share, Some(0.5), "24 h exactly counts");
    assert_eq!(o.within_36h_share, Some(0.5));
    let bins: Vec<u64> = r
        .time_to_removal_histogram
        .iter()
        .map(|b| b.items)
        .collect();
    assert_eq!(bins, [0, 3, 0, 0, 1, 0, 0]);
}

#[test]
fn per_platform_kind_and_group_rows() {
    let r = compute(&small_input());
    let names: Vec<&str> = r
        .per_platform
        .iter()
        .map(|p| p.name.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Vidz", "Chatz", "Filez"],
        "most items first, then by name"
    );
    let vidz = &r.per_platform[0];
    assert_eq!(vidz.kind, Some(PlatformKind::Video));
    assert_eq!(
        (
            vidz.outcomes.items,
            vidz.outcomes.referred,
            vidz.outcomes.removed
        ),
        (4, 3, 4)
    );
    assert_eq!(vidz.outcomes.removed_share, Some(1.0));
    assert!(close(vidz.outcomes.time_to_removal_minutes.median, 40.0));
    assert_eq!(vidz.outcomes.within_1h_share, Some(0.75));
    assert_eq!((vidz.orders.orders, vidz.orders.on_time), (1, 1));
    let filez = &r.per_platform[2];
    assert_eq!(filez.outcomes.removed_share, Some(0.0));
    assert_eq!(filez.outcomes.time_to_removal_minutes.median, None);
    assert_eq!((filez.orders.orders, filez.orders.overdue), (1, 1));
    let chatz = &r.per_platform[1];
    assert_eq!(chatz.outcomes.reuploads, 1);

    let kinds: Vec<_> = r.per_kind.iter().map(|k| k.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(PlatformKind::Video),
            Some(PlatformKind::FileHost),
            Some(PlatformKind::Chat)
        ]
    );
    let groups: Vec<(Option<&str>, u64, u64)> = r
        .per_group
        .iter()
        .map(|g| (g.group.as_deref(), g.outcomes.items, g.outcomes.removed))
        .collect();
    assert_eq!(
        groups,
        [
            (Some("Group one"), 2, 2),
            (Some("Group two"), 1, 0),
            (None, 5, 2)
        ]
    );
}

#[test]
fn removal_orders_on_time_and_overdue() {
    let r = compute(&small_input());
    let o = r.orders;
    assert_eq!(
        (o.orders, o.on_time, o.late, o.overdue, o.pending),
        (2, 1, 0, 1, 0)
    );
    assert_eq!(r.orders_overdue, 1);
    assert_eq!(o.on_time_share, Some(0.5));

    // Before the second order's deadline it is pending, not overdue.
    let mut input = small_input();
    input.as_of = T0 + 150 * MIN;
    let o = compute(&input).orders;
    assert_eq!((o.overdue, o.pending), (0, 1));

    // A removal after the deadline is late; an Annex III answer without a
    // removal is impossible, not overdue.
    let mut input = small_input();
    input.liveness.push(removed(6, None, T0 + 4 * HOUR));
    input
        .liveness
        .retain(|l| !(l.item_id == 6 && l.first_removed_at.is_none()));
    input.referrals[3].deadline = Some(T0 + 100 * MIN);
    let o = compute(&input).orders;
    assert_eq!((o.on_time, o.late, o.overdue), (0, 2, 0));
    let mut input = small_input();
    input.referrals[4].status = ReferralStatus::Impossible;
    let o = compute(&input).orders;
    assert_eq!((o.impossible, o.overdue), (1, 0));
}

#[test]
fn an_annex_ii_time_counts_unless_a_later_check_saw_the_item_live() {
    let mut input = small_input();
    // Item 5: Filez says it removed it at +3h, but a check saw it live at
    // +30h: not believed.
    input.referrals[2].measure_at = Some(T0 + 3 * HOUR);
    input.referrals[2].status = ReferralStatus::Removed;
    assert_eq!(compute(&input).outcomes.removed, 4);
    // Item 6, never seen live after +40h... make its last live check
    // earlier than the declared time: believed.
    input.referrals[4].measure_at = Some(T0 + 41 * HOUR);
    let r = compute(&input);
    assert_eq!(r.outcomes.removed, 5);
    let row = r.item_rows.iter().find(|i| i.item_id == 6).unwrap();
    assert_eq!(row.removed_at, Some(T0 + 41 * HOUR));
    assert_eq!(r.orders.late, 1);
}

#[test]
fn item_rows_carry_bounds_clock_and_reuploads() {
    let r = compute(&small_input());
    let row = |id| r.item_rows.iter().find(|i| i.item_id == id).unwrap();
    let one = row(1);
    assert_eq!(one.clock_from, ClockFrom::Referral);
    assert_eq!(one.minutes_to_removal, Some(30.0));
    assert_eq!(one.minutes_to_removal_lower, Some(10.0));
    assert_eq!(one.duplicate_reports, 1);
    assert_eq!(one.state, ItemState::Removed);
    let four = row(4);
    assert_eq!(four.clock_from, ClockFrom::Report);
    assert_eq!(four.minutes_to_removal, Some(30.0));
    assert_eq!(row(5).state, ItemState::Online);
    assert_eq!(row(7).state, ItemState::Unchecked);
    assert_eq!(row(9).reupload_of, Some(1));
    assert_eq!(row(5).reupload_of, None, "found before the removal");
    assert_eq!(row(1).reupload_of, None, "never a re-upload of itself");
    assert_eq!(row(3).order_deadline, Some(T0 + 2 * HOUR));
    assert_eq!(
        row(6).order_deadline,
        Some(T0 + 3 * HOUR),
        "one hour from sending"
    );
    assert_eq!(r.outcomes.reuploads, 1);
    assert_eq!(r.item_rows.len(), 8);
}

#[test]
fn an_item_removed_before_its_referral_is_timed_from_its_report() {
    let mut input = small_input();
    input
        .referrals
        .push(referral(10, 4, ReferralKind::Referral, T0 + HOUR));
    let r = compute(&input);
    let row = r.item_rows.iter().find(|i| i.item_id == 4).unwrap();
    assert_eq!(row.clock_from, ClockFrom::Report);
    assert_eq!(row.minutes_to_removal, Some(30.0));
}

#[test]
fn spread_across_platforms() {
    let s = compute(&small_input()).spread;
    assert_eq!(
        (s.contents, s.multi_platform_contents, s.max_platforms),
        (2, 1, 3)
    );
    let bins: Vec<(u64, u64)> = s
        .platforms_per_content
        .iter()
        .map(|b| (b.platforms, b.contents))
        .collect();
    assert_eq!(bins, [(1, 1), (3, 1)]);
    let edges: Vec<(i64, i64, EdgeKind, u64)> = s
        .edges
        .iter()
        .map(|e| (e.from, e.to, e.kind, e.weight))
        .collect();
    assert_eq!(
        edges,
        [
            (1, 2, EdgeKind::Outlink, 1),
            (1, 3, EdgeKind::Outlink, 1),
            (2, 1, EdgeKind::Outlink, 1),
            (1, 2, EdgeKind::SharedContent, 1),
            (1, 3, EdgeKind::SharedContent, 1),
            (2, 3, EdgeKind::SharedContent, 1),
        ],
        "self-links, repeated links and unknown platforms left out"
    );
    let nodes: Vec<(i64, u64)> = s.nodes.iter().map(|n| (n.platform_id, n.items)).collect();
    assert_eq!(nodes, [(1, 4), (2, 2), (3, 2)]);
}

#[test]
fn survival_of_the_small_campaign() {
    let km = compute(&small_input()).survival.overall;
    // Removed at 30, 30, 50, 1440; censored at 1740 (item 5) and 2280
    // (item 6); items 7 and 9 never checked.
    assert_eq!((km.n, km.removed, km.censored), (6, 4, 2));
    let s: Vec<(f64, f64, u64)> = km
        .points
        .iter()
        .map(|p| (p.minutes, p.survival, p.at_risk))
        .collect();
    assert_eq!(s.len(), 4);
    assert!((s[1].1 - 2.0 / 3.0).abs() < 1e-12 && s[1].2 == 6);
    assert!((s[2].1 - 0.5).abs() < 1e-12 && s[2].2 == 4);
    assert!((s[3].1 - 1.0 / 3.0).abs() < 1e-12 && s[3].2 == 3 && s[3].0 == 1440.0);
    assert_eq!(km.median_minutes, Some(50.0));
    assert_eq!(km.max_minutes, 2280.0);
    let at_1h = km.at.iter().find(|a| a.minutes == 60.0).unwrap();
    assert_eq!((at_1h.survival, at_1h.at_risk), (Some(0.5), 3));
    let at_72h = km.at.last().unwrap();
    assert_eq!(
        (at_72h.minutes, at_72h.survival),
        (4320.0, None),
        "past the last check"
    );
    let kinds = compute(&small_input()).survival.per_kind;
    assert_eq!(kinds.len(), 2, "chat items were never observed");
    assert_eq!(kinds[1].kind, Some(PlatformKind::FileHost));
    assert_eq!(kinds[1].curve.median_minutes, None);
}

#[test]
fn empty_campaign_gives_zeros_and_nulls() {
    let input = ReportInput {
        campaign: campaign(),
        as_of: T0,
        ..ReportInput::default()
    };
    let r = compute(&input);
    assert_eq!(
        (r.outcomes.items, r.platforms, r.referrals, r.organisations),
        (0, 0, 0, 0)
    );
    assert_eq!(r.outcomes.removed_share, None);
    assert_eq!(r.outcomes.time_to_removal_minutes.median, None);
    assert_eq!(r.orders.on_time_share, None);
    assert!(r.per_platform.is_empty());
    let json: serde_json::Value = serde_json::from_str(&ronda_report::to_json(&r)).unwrap();
    assert_eq!(json["items"], 0);
    assert!(json["removed_share"].is_null());
    assert!(json["time_to_removal_minutes"]["median"].is_null());
}

#[test]
fn items_without_a_known_platform_get_their_own_row() {
    let mut input = small_input();
    input.items.push(Item {
        platform_id: None,
        ..item(20, 0, "IRU", T0)
    });
    input.items.push(item(21, 42, "IRU", T0));
    let r = compute(&input);
    let last = r.per_platform.last().unwrap();
    assert_eq!((last.platform_id, last.outcomes.items), (None, 2));
    assert_eq!(r.platforms, 3, "the unassigned row is not a platform");
    assert_eq!(r.per_kind[0].kind, None);
}

#[test]
fn large_campaign_is_computed_and_rendered() {
    // 100k items on 50 platforms: the algorithms are O(n log n), so this
    // is quick even in a debug build.
    let platforms: Vec<_> = (1..=50)
        .map(|i| {
            platform(
                i,
                &format!("Platform {i}"),
                PlatformKind::ALL[i as usize % 11],
            )
        })
        .collect();
    let mut items = Vec::new();
    let mut referrals = Vec::new();
    let mut liveness = Vec::new();
    for i in 0..100_000i64 {
        let mut it = item(i, i % 50 + 1, &format!("org{}", i % 7), T0 + i * 10);
        it.content_key = Some(format!("c{}", i % 20_000));
        it.outlinks = vec![(i * 7) % 50 + 1];
        items.push(it);
        referrals.push(referral(i, i, ReferralKind::Referral, T0 + HOUR + i * 10));
        liveness.push(if i % 5 == 0 {
            live(i, T0 + 40 * HOUR)
        } else {
            removed(i, Some(T0 + HOUR), T0 + HOUR + (i % 3000) * MIN)
        });
    }
    let input = ReportInput {
        campaign: campaign(),
        as_of: T0 + 48 * HOUR,
        platforms,
        items,
        referrals,
        liveness,
    };
    let r = compute(&input);
    assert_eq!(r.outcomes.items, 100_000);
    assert_eq!(r.outcomes.removed, 80_000);
    assert_eq!(r.per_platform.len(), 50);
    assert!(ronda_report::to_html(&r).len() > 10_000);
    assert_eq!(ronda_report::items_csv(&r).lines().count(), 100_001);
}

/// Random campaigns: small ids so that items, referrals and checks
/// collide often.
fn arb_input() -> impl Strategy<Value = ReportInput> {
    let an_item = (
        0i64..40,
        proptest::option::of(1i64..6),
        proptest::option::of(0u8..4),
        0i64..3000,
        proptest::option::of(0i64..40),
        proptest::collection::vec(0i64..7, 0..3),
        proptest::option::of(0u8..3),
    );
    let a_referral = (
        0i64..40,
        proptest::bool::ANY,
        proptest::option::of(0i64..3000),
        proptest::option::of(0i64..3000),
        proptest::option::of(0i64..3000),
        0usize..7,
    );
    let a_check = (
        0i64..40,
        proptest::option::of(0i64..3000),
        proptest::option::of(0i64..3000),
        proptest::option::of(0i64..3000),
    );
    (
        proptest::collection::vec(an_item, 0..40),
        proptest::collection::vec(a_referral, 0..30),
        proptest::collection::vec(a_check, 0..30),
        0i64..4000,
    )
        .prop_map(|(items, refs, checks, as_of)| {
            let statuses = [
                ReferralStatus::Draft,
                ReferralStatus::Sent,
                ReferralStatus::Acknowledged,
                ReferralStatus::Removed,
                ReferralStatus::NotRemoved,
                ReferralStatus::Disputed,
                ReferralStatus::Impossible,
            ];
            ReportInput {
                campaign: campaign(),
                as_of: T0 + as_of * MIN,
                platforms: (1..=5)
                    .map(|i| platform(i, &format!("p{i}"), PlatformKind::ALL[i as usize]))
                    .collect(),
                items: items
                    .into_iter()
                    .map(|(id, p, key, at, dup, links, group)| Item {
                        platform_id: p,
                        content_key: key.map(|k| k.to_string()),
                        duplicate_of: dup,
                        outlinks: links,
                        group: group.map(|g| format!("g{g}")),
                        ..item(id, 0, &format!("o{}", id % 3), T0 + at * MIN)
                    })
                    .collect(),
                referrals: refs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (item_id, order, sent, deadline, measure, status))| {
                        let mut r = referral(
                            i as i64,
                            item_id,
                            if order {
                                ReferralKind::RemovalOrder
                            } else {
                                ReferralKind::Referral
                            },
                            0,
                        );
                        r.sent_at = sent.map(|s| T0 + s * MIN);
                        r.deadline = deadline.map(|d| T0 + d * MIN);
                        r.measure_at = measure.map(|m| T0 + m * MIN);
                        r.status = statuses[status];
                        r
                    })
                    .collect(),
                liveness: checks
                    .into_iter()
                    .map(|(item_id, a, b, c)| Liveness {
                        item_id,
                        last_live_at: a.map(|a| T0 + a * MIN),
                        first_removed_at: b.map(|b| T0 + b * MIN),
                        last_checked_at: c.map(|c| T0 + c * MIN),
                    })
                    .collect(),
            }
        })
}

/// Every number in a JSON value is finite (serde_json writes NaN as null,
/// so look at the figures themselves too).
fn shares_in_range(o: &ronda_report::compute::Outcomes) -> bool {
    let in01 = |v: Option<f64>| v.is_none_or(|v| (0.0..=1.0).contains(&v));
    let ordered = match (
        o.within_1h_share,
        o.within_24h_share,
        o.within_36h_share,
        o.removed_share,
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => a <= b && b <= c && c <= d,
        (None, None, None, None) => o.items == 0,
        _ => false,
    };
    let quantiles = match (
        o.time_to_removal_minutes.median,
        o.time_to_removal_minutes.p90,
    ) {
        (Some(m), Some(p)) => m.is_finite() && m >= 0.0 && m <= p && p.is_finite(),
        (None, None) => o.removed == 0,
        _ => false,
    };
    in01(o.removed_share) && ordered && quantiles && o.removed <= o.items && o.referred <= o.items
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_report_is_consistent(input in arb_input()) {
        let r = compute(&input);
        prop_assert!(shares_in_range(&r.outcomes));
        for p in &r.per_platform {
            prop_assert!(shares_in_range(&p.outcomes));
            let o = p.orders;
            prop_assert_eq!(o.on_time + o.late + o.overdue + o.pending + o.impossible, o.orders);
        }
        let sum: u64 = r.per_platform.iter().map(|p| p.outcomes.items).sum();
        prop_assert_eq!(sum, r.outcomes.items);
        let sum: u64 = r.per_kind.iter().map(|p| p.outcomes.removed).sum();
        prop_assert_eq!(sum, r.outcomes.removed);
        let sum: u64 = r.per_group.iter().map(|p| p.outcomes.items).sum();
        prop_assert_eq!(sum, r.outcomes.items);
        let orders: u64 = r.per_platform.iter().map(|p| p.orders.orders).sum();
        prop_assert_eq!(orders, r.orders.orders);
        let binned: u64 = r.time_to_removal_histogram.iter().map(|b| b.items).sum();
        prop_assert_eq!(binned, r.outcomes.removed);
        prop_assert!(r.outcomes.reuploads <= r.outcomes.items);
        let json = ronda_report::to_json(&r);
        prop_assert!(!json.contains("NaN") && !json.contains("inf"));
        let km = &r.survival.overall;
        prop_assert!(km.points.iter().all(|p| p.survival.is_finite() && p.minutes.is_finite()));
    }

    /// The order of the records does not change a byte of any output.
    #[test]
    fn output_does_not_depend_on_record_order(input in arb_input()) {
        let mut shuffled = input.clone();
        shuffled.items.reverse();
        shuffled.referrals.reverse();
        shuffled.platforms.reverse();
        // Liveness is one record per item: keep the first per item in both.
        let mut seen = std::collections::HashSet::new();
        let mut liveness: Vec<Liveness> = input.liveness.clone();
        liveness.retain(|l| seen.insert(l.item_id));
        let mut input = input;
        input.liveness = liveness.clone();
        liveness.reverse();
        shuffled.liveness = liveness;
        // Items are one record per id too.
        let mut seen = std::collections::HashSet::new();
        input.items.retain(|i| seen.insert(i.id));
        let mut seen = std::collections::HashSet::new();
        shuffled.items = input.items.iter().rev().filter(|i| seen.insert(i.id)).cloned().collect();
        let (a, b) = (compute(&input), compute(&shuffled));
        prop_assert_eq!(ronda_report::to_json(&a), ronda_report::to_json(&b));
        prop_assert_eq!(ronda_report::to_html(&a), ronda_report::to_html(&b));
        prop_assert_eq!(ronda_report::items_csv(&a), ronda_report::items_csv(&b));
    }
}
