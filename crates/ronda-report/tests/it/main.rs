//! The campaign report end to end: records in, figures and rendered text
//! out.

#![allow(clippy::unwrap_used)]

mod campaign;
mod render;

use ronda_report::{
    Campaign, Item, Liveness, Millis, Platform, PlatformKind, Referral, ReferralKind,
    ReferralStatus, ReportInput,
};

pub const MIN: Millis = 60_000;
pub const HOUR: Millis = 60 * MIN;
/// 2026-11-28T08:00:00Z, the start of the made-up action day.
pub const T0: Millis = 1_795_852_800_000;

pub fn platform(id: i64, name: &str, kind: PlatformKind) -> Platform {
    Platform {
        id,
        name: name.to_owned(),
        kind,
    }
}

pub fn item(id: i64, platform_id: i64, org: &str, at: Millis) -> Item {
    Item {
        id,
        url: format!("https://p{platform_id}.example/post/{id}"),
        organisation: Some(org.to_owned()),
        platform_id: Some(platform_id),
        group: None,
        content_key: None,
        submitted_at: at,
        duplicate_of: None,
        outlinks: Vec::new(),
    }
}

pub fn referral(id: i64, item_id: i64, kind: ReferralKind, sent_at: Millis) -> Referral {
    Referral {
        id,
        item_id,
        platform_id: None,
        kind,
        status: ReferralStatus::Sent,
        sent_at: Some(sent_at),
        deadline: None,
        responded_at: None,
        measure_at: None,
    }
}

pub fn removed(item_id: i64, last_live: Option<Millis>, gone: Millis) -> Liveness {
    Liveness {
        item_id,
        last_live_at: last_live,
        first_removed_at: Some(gone),
        last_checked_at: Some(gone),
    }
}

pub fn live(item_id: i64, last: Millis) -> Liveness {
    Liveness {
        item_id,
        last_live_at: Some(last),
        first_removed_at: None,
        last_checked_at: Some(last),
    }
}

pub fn campaign() -> Campaign {
    Campaign {
        id: 7,
        name: "Action day, November".to_owned(),
        starts_at: Some(T0),
        ends_at: Some(T0 + 48 * HOUR),
    }
}

/// A small action day whose figures are worked out by hand in
/// `campaign.rs`:
///
/// - platforms 1 `Vidz` (video), 2 `Filez` (file host), 3 `Chatz` (chat);
/// - items 1–4 on Vidz, 5–6 on Filez, 7 on Chatz; 8 a duplicate of 1 by
///   another organisation;
/// - items 1, 2, 5 referred at T0+1h; item 3 by a removal order at T0+1h;
///   item 6 by an order at T0+2h; item 4 never referred; 7 a draft only;
/// - removals: 1 at +1h30 (live at +1h10), 2 at +25h, 3 at +1h50 (deadline
///   +2h: on time), 4 on its own at +0h30, 5 live at +30h (censored);
///   6 never removed, deadline +3h passed (overdue); 7 never checked;
/// - content: 1 and 5 share key `A` (spread over 2 platforms), 7 has key
///   `B`; item 9 on Chatz with key `A` submitted at +2h, after 1 was
///   removed: a re-upload;
/// - item 2 links to Filez and Chatz, item 5 to Vidz.
pub fn small_input() -> ReportInput {
    let mut items = vec![
        item(1, 1, "IRU", T0),
        item(2, 1, "IRU", T0),
        item(3, 1, "NGO", T0),
        item(4, 1, "NGO", T0),
        item(5, 2, "IRU", T0),
        item(6, 2, "IRU", T0),
        item(7, 3, "NGO", T0),
        item(9, 3, "IRU", T0 + 2 * HOUR),
    ];
    items[0].content_key = Some("A".into());
    items[4].content_key = Some("A".into());
    items[6].content_key = Some("B".into());
    items[7].content_key = Some("A".into());
    items[1].outlinks = vec![2, 3, 3, 1, 99];
    items[4].outlinks = vec![1];
    items[0].group = Some("Group one".into());
    items[1].group = Some("Group one".into());
    items[4].group = Some("Group two".into());
    let mut dup = item(8, 1, "Police", T0 + MIN);
    dup.url = items[0].url.clone();
    dup.duplicate_of = Some(1);
    items.push(dup);

    let mut r3 = referral(4, 3, ReferralKind::RemovalOrder, T0 + HOUR);
    r3.deadline = Some(T0 + 2 * HOUR);
    let r6 = referral(5, 6, ReferralKind::RemovalOrder, T0 + 2 * HOUR);
    let mut draft = referral(6, 7, ReferralKind::Referral, T0 + HOUR);
    draft.status = ReferralStatus::Draft;
    draft.sent_at = None;
    ReportInput {
        campaign: campaign(),
        as_of: T0 + 48 * HOUR,
        platforms: vec![
            platform(1, "Vidz", PlatformKind::Video),
            platform(2, "Filez", PlatformKind::FileHost),
            platform(3, "Chatz", PlatformKind::Chat),
        ],
        items,
        referrals: vec![
            referral(1, 1, ReferralKind::Referral, T0 + HOUR),
            referral(2, 2, ReferralKind::Referral, T0 + HOUR),
            referral(3, 5, ReferralKind::Referral, T0 + HOUR),
            r3,
            r6,
            draft,
        ],
        liveness: vec![
            removed(1, Some(T0 + 70 * MIN), T0 + 90 * MIN),
            removed(2, None, T0 + 25 * HOUR),
            removed(3, Some(T0 + HOUR), T0 + 110 * MIN),
            removed(4, None, T0 + 30 * MIN),
            live(5, T0 + 30 * HOUR),
            live(6, T0 + 40 * HOUR),
        ],
    }
}
