//! From records to figures: [`compute`] and the report's types, whose field
//! names are the JSON's.
//!
//! The definitions, in one place:
//!
//! - **Item**: a submission that is not a duplicate (`duplicate_of` unset).
//!   Duplicates count as *reports*, and their organisations as
//!   participants.
//! - **Referred**: an item with at least one *sent* referral or removal
//!   order (drafts do not count).
//! - **Time of removal**: the first liveness check that saw the item gone
//!   (the last that saw it live is the lower bound, in the per-item rows).
//!   An item never seen gone by a check but declared removed by its
//!   platform (an Annex II measure time, or a referral in state `removed`
//!   with its response time) is removed at that declared time, unless a
//!   check saw it live after that time, in which case the declaration is
//!   not believed.
//! - **Clock start**: the item's first sent referral, when the item was
//!   referred at or before its removal (or not removed); otherwise its
//!   submission (an item removed before anyone referred it, or never
//!   referred). Every duration is from that start, in minutes, and never
//!   negative (a removal before the start counts as at the start).
//! - **Time to removal**: median and p90 over removed items (quantiles by
//!   linear interpolation); **within 1 h / 24 h / 36 h**: items removed
//!   within that long, as a share of *all* items in the row, so that a
//!   platform that removes little cannot look fast.
//! - **Survival**: Kaplan–Meier over items with an observation (removed,
//!   or checked at least once), from the clock start; an item not removed
//!   is censored at its last check.
//! - **Re-upload**: an item submitted after another item with the same
//!   content key had been removed, on any platform.
//! - **Removal orders**: *on time* when the item's removal came at or
//!   before the order's deadline, *late* after it; otherwise *impossible*
//!   after an Annex III response, *overdue* when the deadline has passed
//!   (`as_of`), else *pending*.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::input::{
    Campaign, Item, MINUTE_MS, Millis, Platform, PlatformKind, Referral, ReferralKind,
    ReferralStatus, ReportInput,
};
use crate::stats::{
    Observation, SurvivalCurve, kaplan_meier, quantile_sorted, share, sorted_finite,
};

/// The version of the report's JSON shape; raised when a field changes
/// meaning or goes away (new fields do not raise it).
pub const REPORT_VERSION: u32 = 1;

/// A campaign report: every figure, computed once, rendered by
/// [`crate::render`]. Serialises as `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReport {
    pub report_version: u32,
    pub campaign: Campaign,
    pub as_of: Millis,
    /// Distinct platforms with at least one item.
    pub platforms: u64,
    /// Distinct organisation names among all reports (duplicates included).
    pub organisations: u64,
    /// Every submission, duplicates included.
    pub reports: u64,
    /// Sent referrals and removal orders.
    pub referrals: u64,
    /// Sent removal orders (also counted in `referrals`).
    pub removal_orders: u64,
    /// The headline figures over all items (`items`, `referred`,
    /// `removed`, `removed_share`, `time_to_removal_minutes`,
    /// `within_1h_share`, ...), at the top level of the JSON.
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Overdue removal orders (also in `orders.overdue`).
    pub orders_overdue: u64,
    pub orders: OrderCompliance,
    /// One row per platform with items (or orders), most items first;
    /// items without a platform in a row whose `platform_id` is null.
    pub per_platform: Vec<PlatformRow>,
    /// One row per platform kind with items.
    pub per_kind: Vec<KindRow>,
    /// One row per assessed group, then one with `group` null for items
    /// without one.
    pub per_group: Vec<GroupRow>,
    /// Removed items by time to removal.
    pub time_to_removal_histogram: Vec<HistogramBin>,
    pub spread: Spread,
    pub survival: Survival,
    /// Figures from the public record to compare this campaign with.
    pub benchmarks: Vec<Benchmark>,
    /// One row per item, for the per-item CSV; not in the JSON.
    #[serde(skip)]
    pub item_rows: Vec<ItemRow>,
}

/// Removal figures over a set of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcomes {
    pub items: u64,
    /// Items with a sent referral or order.
    pub referred: u64,
    pub removed: u64,
    /// `removed / items`; null without items.
    pub removed_share: Option<f64>,
    pub time_to_removal_minutes: Quantiles,
    /// Removed within 1 h of the clock start, as a share of all items.
    pub within_1h_share: Option<f64>,
    pub within_24h_share: Option<f64>,
    pub within_36h_share: Option<f64>,
    /// Items that are re-uploads of removed content.
    pub reuploads: u64,
}

/// Median and 90th percentile; null without removed items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Deadline compliance of sent removal orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OrderCompliance {
    pub orders: u64,
    pub on_time: u64,
    pub late: u64,
    /// Deadline passed, not removed, no Annex III response.
    pub overdue: u64,
    /// Deadline still ahead, not removed.
    pub pending: u64,
    /// Annex III response, not removed.
    pub impossible: u64,
    /// `on_time / orders`; null without orders.
    pub on_time_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformRow {
    /// Null for items that no platform claimed.
    pub platform_id: Option<i64>,
    pub name: Option<String>,
    pub kind: Option<PlatformKind>,
    #[serde(flatten)]
    pub outcomes: Outcomes,
    /// Orders addressed to this platform.
    pub orders: OrderCompliance,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindRow {
    /// Null for items without a platform.
    pub kind: Option<PlatformKind>,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub group: Option<String>,
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// Removed items whose time to removal is in `[from_minutes, to_minutes)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistogramBin {
    pub from_minutes: f64,
    /// Null for the last, open-ended bin.
    pub to_minutes: Option<f64>,
    pub items: u64,
}

/// The histogram's bin edges, in minutes.
pub const HISTOGRAM_EDGES: [f64; 7] = [0.0, 15.0, 60.0, 360.0, 1440.0, 2160.0, 4320.0];

/// How the same content spread across platforms, and where items link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    /// Distinct content keys among items.
    pub contents: u64,
    /// Content keys found on two or more platforms.
    pub multi_platform_contents: u64,
    /// The most platforms one content was found on.
    pub max_platforms: u64,
    /// Content keys by the number of platforms they were found on.
    pub platforms_per_content: Vec<SpreadBin>,
    /// The spread graph: platforms with items or links, and edges.
    pub nodes: Vec<SpreadNode>,
    pub edges: Vec<SpreadEdge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpreadBin {
    pub platforms: u64,
    pub contents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpreadNode {
    pub platform_id: i64,
    pub name: String,
    pub kind: PlatformKind,
    pub items: u64,
}

/// An edge of the spread graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpreadEdge {
    pub from: i64,
    pub to: i64,
    pub kind: EdgeKind,
    /// `outlink`: items on `from` whose text links to `to`;
    /// `shared_content`: content keys found on both (`from < to`).
    pub weight: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    Outlink,
    SharedContent,
}

/// Survival curves: overall and per platform kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survival {
    pub overall: SurvivalCurve,
    pub per_kind: Vec<KindCurve>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindCurve {
    pub kind: Option<PlatformKind>,
    pub curve: SurvivalCurve,
}

/// A published figure to compare with (PRODUCT.md, "Measurement
/// benchmarks from the public record").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmark {
    pub source: &'static str,
    pub figure: &'static str,
    /// A share (0..1), or hours for lifespans; see `unit`.
    pub value: f64,
    pub unit: &'static str,
    /// This campaign's comparable figure, when it has one.
    pub this_campaign: Option<f64>,
}

/// Where an item's clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockFrom {
    Referral,
    Report,
}

/// An item's state at `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Removed,
    /// Checked, never seen removed.
    Online,
    /// Never checked, not declared removed.
    Unchecked,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Removed => "removed",
            ItemState::Online => "online",
            ItemState::Unchecked => "unchecked",
        }
    }
}

/// One item's figures (a row of the per-item CSV).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub item_id: i64,
    pub url: String,
    pub organisation: Option<String>,
    pub platform: Option<String>,
    pub kind: Option<PlatformKind>,
    pub group: Option<String>,
    pub content_key: Option<String>,
    pub submitted_at: Millis,
    /// Duplicate submissions of this item.
    pub duplicate_reports: u64,
    /// Sent referrals and orders of this item.
    pub referrals: u64,
    pub first_referral_at: Option<Millis>,
    /// The earliest deadline among its sent orders.
    pub order_deadline: Option<Millis>,
    pub state: ItemState,
    pub removed_at: Option<Millis>,
    /// The last check that saw it live before removal.
    pub last_live_at: Option<Millis>,
    pub clock_from: ClockFrom,
    pub minutes_to_removal: Option<f64>,
    /// Minutes from the clock start to `last_live_at`: the removal came
    /// after this.
    pub minutes_to_removal_lower: Option<f64>,
    /// The removed item with the same content that this one re-uploads.
    pub reupload_of: Option<i64>,
}

/// What the per-item pass derives for aggregation.
struct Derived {
    platform_id: Option<i64>,
    kind: Option<PlatformKind>,
    referred: bool,
    minutes: Option<f64>,
    reupload: bool,
    observation: Option<Observation>,
}

fn minutes_between(from: Millis, to: Millis) -> f64 {
    (to.saturating_sub(from)).max(0) as f64 / MINUTE_MS as f64
}

/// Accumulates [`Outcomes`] for one row.
#[derive(Default)]
struct Acc {
    items: u64,
    referred: u64,
    removed: u64,
    minutes: Vec<f64>,
    within: [u64; 3],
    reuploads: u64,
}

impl Acc {
    fn add(&mut self, d: &Derived) {
        self.items += 1;
        self.referred += u64::from(d.referred);
        self.reuploads += u64::from(d.reupload);
        if let Some(m) = d.minutes {
            self.removed += 1;
            self.minutes.push(m);
            for (count, hours) in self.within.iter_mut().zip([1.0, 24.0, 36.0]) {
                if m <= hours * 60.0 {
                    *count += 1;
                }
            }
        }
    }

    fn finish(self) -> Outcomes {
        let sorted = sorted_finite(self.minutes);
        Outcomes {
            items: self.items,
            referred: self.referred,
            removed: self.removed,
            removed_share: share(self.removed, self.items),
            time_to_removal_minutes: Quantiles {
                median: quantile_sorted(&sorted, 0.5),
                p90: quantile_sorted(&sorted, 0.9),
            },
            within_1h_share: share(self.within[0], self.items),
            within_24h_share: share(self.within[1], self.items),
            within_36h_share: share(self.within[2], self.items),
            reuploads: self.reuploads,
        }
    }
}

impl OrderCompliance {
    fn finish(mut self) -> OrderCompliance {
        self.on_time_share = share(self.on_time, self.orders);
        self
    }
}

/// Computes the report from the records alone. Deterministic: the output
/// does not depend on the order of the input records (ties are broken by
/// id). O(n log n) in the number of records.
pub fn compute(input: &ReportInput) -> CampaignReport {
    let platforms: HashMap<i64, &Platform> = input.platforms.iter().map(|p| (p.id, p)).collect();

    // Items in id order; duplicates apart.
    let mut items: Vec<&Item> = input
        .items
        .iter()
        .filter(|i| i.duplicate_of.is_none())
        .collect();
    items.sort_by_key(|i| i.id);
    items.dedup_by_key(|i| i.id);
    let mut duplicates: HashMap<i64, u64> = HashMap::new();
    for d in input.items.iter() {
        if let Some(of) = d.duplicate_of {
            *duplicates.entry(of).or_default() += 1;
        }
    }
    let organisations: BTreeSet<&str> = input
        .items
        .iter()
        .filter_map(|i| i.organisation.as_deref())
        .collect();

    // Sent referrals by item.
    let item_platform: HashMap<i64, Option<i64>> =
        items.iter().map(|i| (i.id, i.platform_id)).collect();
    let mut referrals: Vec<&Referral> = input
        .referrals
        .iter()
        .filter(|r| r.sent_at.is_some() && r.status != ReferralStatus::Draft)
        .collect();
    referrals.sort_by_key(|r| r.id);
    let mut by_item: HashMap<i64, Vec<&Referral>> = HashMap::new();
    for r in &referrals {
        by_item.entry(r.item_id).or_default().push(r);
    }
    let liveness: HashMap<i64, &crate::input::Liveness> =
        input.liveness.iter().map(|l| (l.item_id, l)).collect();

    // Per item: removal time, clock start.
    struct Base<'a> {
        item: &'a Item,
        removed_at: Option<Millis>,
        last_live_at: Option<Millis>,
        last_checked_at: Option<Millis>,
        first_referral_at: Option<Millis>,
    }
    let bases: Vec<Base<'_>> = items
        .iter()
        .map(|&item| {
            let live = liveness.get(&item.id);
            let last_live_at = live.and_then(|l| l.last_live_at);
            let refs = by_item.get(&item.id).map(Vec::as_slice).unwrap_or(&[]);
            let declared = refs
                .iter()
                .filter_map(|r| {
                    r.measure_at.or(if r.status == ReferralStatus::Removed {
                        r.responded_at
                    } else {
                        None
                    })
                })
                .min()
                .filter(|&t| last_live_at.is_none_or(|live| live <= t));
            let removed_at = live.and_then(|l| l.first_removed_at).or(declared);
            Base {
                item,
                removed_at,
                last_live_at,
                last_checked_at: live.and_then(|l| l.last_checked_at),
                first_referral_at: refs.iter().filter_map(|r| r.sent_at).min(),
            }
        })
        .collect();

    // Re-uploads: per content key, the two earliest removals (so that an
    // item is never a re-upload of itself).
    let mut earliest: HashMap<&str, [(Millis, i64); 2]> = HashMap::new();
    for b in &bases {
        if let (Some(key), Some(t)) = (b.item.content_key.as_deref(), b.removed_at) {
            let e = earliest
                .entry(key)
                .or_insert([(Millis::MAX, i64::MAX), (Millis::MAX, i64::MAX)]);
            let cand = (t, b.item.id);
            if cand < e[0] {
                e[1] = e[0];
                e[0] = cand;
            } else if cand < e[1] {
                e[1] = cand;
            }
        }
    }

    let mut rows = Vec::with_capacity(bases.len());
    let mut derived = Vec::with_capacity(bases.len());
    for b in &bases {
        let item = b.item;
        let platform = item.platform_id.and_then(|id| platforms.get(&id));
        let refs = by_item.get(&item.id).map(Vec::as_slice).unwrap_or(&[]);
        let (start, clock_from) = match (b.first_referral_at, b.removed_at) {
            (Some(sent), Some(removed)) if sent <= removed => (sent, ClockFrom::Referral),
            (Some(sent), None) => (sent, ClockFrom::Referral),
            _ => (item.submitted_at, ClockFrom::Report),
        };
        let minutes = b.removed_at.map(|t| minutes_between(start, t));
        let state = match (b.removed_at, b.last_checked_at) {
            (Some(_), _) => ItemState::Removed,
            (None, Some(_)) => ItemState::Online,
            (None, None) => ItemState::Unchecked,
        };
        let observation = match (minutes, b.last_checked_at) {
            (Some(m), _) => Some(Observation {
                minutes: m,
                removed: true,
            }),
            (None, Some(checked)) => Some(Observation {
                minutes: minutes_between(start, checked),
                removed: false,
            }),
            (None, None) => None,
        };
        let reupload_of = item.content_key.as_deref().and_then(|key| {
            let e = earliest.get(key)?;
            let (t, id) = if e[0].1 == item.id { e[1] } else { e[0] };
            (id != i64::MAX && t < item.submitted_at).then_some(id)
        });
        derived.push(Derived {
            platform_id: platform.map(|p| p.id),
            kind: platform.map(|p| p.kind),
            referred: !refs.is_empty(),
            minutes,
            reupload: reupload_of.is_some(),
            observation,
        });
        rows.push(ItemRow {
            item_id: item.id,
            url: item.url.clone(),
            organisation: item.organisation.clone(),
            platform: platform.map(|p| p.name.clone()),
            kind: platform.map(|p| p.kind),
            group: item.group.clone(),
            content_key: item.content_key.clone(),
            submitted_at: item.submitted_at,
            duplicate_reports: duplicates.get(&item.id).copied().unwrap_or(0),
            referrals: refs.len() as u64,
            first_referral_at: b.first_referral_at,
            order_deadline: refs.iter().filter_map(|r| r.effective_deadline()).min(),
            state,
            removed_at: b.removed_at,
            last_live_at: b
                .last_live_at
                .filter(|&l| b.removed_at.is_none_or(|r| l <= r)),
            clock_from,
            minutes_to_removal: minutes,
            minutes_to_removal_lower: b
                .removed_at
                .and(b.last_live_at)
                .filter(|&l| b.removed_at.is_some_and(|r| l <= r))
                .map(|l| minutes_between(start, l)),
            reupload_of,
        });
    }

    // Aggregates.
    let mut overall = Acc::default();
    let mut per_platform: BTreeMap<Option<i64>, Acc> = BTreeMap::new();
    let mut per_kind: BTreeMap<Option<PlatformKind>, Acc> = BTreeMap::new();
    let mut per_group: BTreeMap<Option<&str>, Acc> = BTreeMap::new();
    let mut kind_obs: BTreeMap<Option<PlatformKind>, Vec<Observation>> = BTreeMap::new();
    let mut all_obs = Vec::new();
    let mut histogram = [0u64; HISTOGRAM_EDGES.len()];
    for (d, b) in derived.iter().zip(&bases) {
        overall.add(d);
        per_platform.entry(d.platform_id).or_default().add(d);
        per_kind.entry(d.kind).or_default().add(d);
        per_group.entry(b.item.group.as_deref()).or_default().add(d);
        if let Some(o) = d.observation {
            all_obs.push(o);
            kind_obs.entry(d.kind).or_default().push(o);
        }
        if let Some(m) = d.minutes {
            let bin = HISTOGRAM_EDGES
                .partition_point(|&e| e <= m)
                .saturating_sub(1);
            histogram[bin] += 1;
        }
    }

    // Orders.
    let removed_at: HashMap<i64, Option<Millis>> =
        bases.iter().map(|b| (b.item.id, b.removed_at)).collect();
    let mut orders = OrderCompliance::default();
    let mut orders_by_platform: BTreeMap<Option<i64>, OrderCompliance> = BTreeMap::new();
    for r in referrals
        .iter()
        .filter(|r| r.kind == ReferralKind::RemovalOrder)
    {
        let removed = removed_at.get(&r.item_id).copied().flatten();
        let deadline = r.effective_deadline().unwrap_or(Millis::MAX);
        let addressee = r
            .platform_id
            .filter(|id| platforms.contains_key(id))
            .or_else(|| item_platform.get(&r.item_id).copied().flatten())
            .filter(|id| platforms.contains_key(id));
        let by_platform = orders_by_platform.entry(addressee).or_default();
        for c in [&mut orders, by_platform] {
            c.orders += 1;
            match removed {
                Some(t) if t <= deadline => c.on_time += 1,
                Some(_) => c.late += 1,
                None if r.status == ReferralStatus::Impossible => c.impossible += 1,
                None if deadline < input.as_of => c.overdue += 1,
                None => c.pending += 1,
            }
        }
    }

    let mut platform_rows: Vec<PlatformRow> = per_platform
        .into_iter()
        .map(|(id, acc)| {
            let p = id.and_then(|id| platforms.get(&id));
            PlatformRow {
                platform_id: id,
                name: p.map(|p| p.name.clone()),
                kind: p.map(|p| p.kind),
                outcomes: acc.finish(),
                orders: orders_by_platform.remove(&id).unwrap_or_default().finish(),
            }
        })
        .collect();
    // Platforms that received orders but hold no items (infrastructure
    // providers of group-run sites).
    for (id, o) in orders_by_platform {
        let p = id.and_then(|id| platforms.get(&id));
        platform_rows.push(PlatformRow {
            platform_id: id,
            name: p.map(|p| p.name.clone()),
            kind: p.map(|p| p.kind),
            outcomes: Acc::default().finish(),
            orders: o.finish(),
        });
    }
    platform_rows.sort_by(|a, b| {
        b.outcomes
            .items
            .cmp(&a.outcomes.items)
            .then(a.platform_id.is_none().cmp(&b.platform_id.is_none()))
            .then_with(|| a.name.cmp(&b.name))
            .then(a.platform_id.cmp(&b.platform_id))
    });

    let mut group_rows: Vec<GroupRow> = per_group
        .into_iter()
        .map(|(g, acc)| GroupRow {
            group: g.map(str::to_owned),
            outcomes: acc.finish(),
        })
        .collect();
    // Named groups first, alphabetically; the unassessed last.
    group_rows.sort_by(|a, b| {
        a.group
            .is_none()
            .cmp(&b.group.is_none())
            .then_with(|| a.group.cmp(&b.group))
    });

    let mut histogram_bins = Vec::with_capacity(HISTOGRAM_EDGES.len());
    for (i, &from) in HISTOGRAM_EDGES.iter().enumerate() {
        histogram_bins.push(HistogramBin {
            from_minutes: from,
            to_minutes: HISTOGRAM_EDGES.get(i + 1).copied(),
            items: histogram[i],
        });
    }

    let outcomes = overall.finish();
    let orders = orders.finish();
    let benchmarks = benchmarks(&outcomes);
    CampaignReport {
        report_version: REPORT_VERSION,
        campaign: input.campaign.clone(),
        as_of: input.as_of,
        platforms: platform_rows
            .iter()
            .filter(|r| r.platform_id.is_some() && r.outcomes.items > 0)
            .count() as u64,
        organisations: organisations.len() as u64,
        reports: input.items.len() as u64,
        referrals: referrals.len() as u64,
        removal_orders: orders.orders,
        outcomes,
        orders_overdue: orders.overdue,
        orders,
        per_platform: platform_rows,
        per_kind: per_kind
            .into_iter()
            .map(|(kind, acc)| KindRow {
                kind,
                outcomes: acc.finish(),
            })
            .collect(),
        per_group: group_rows,
        time_to_removal_histogram: histogram_bins,
        spread: spread(&items, &platforms),
        survival: Survival {
            overall: kaplan_meier(&all_obs),
            per_kind: kind_obs
                .into_iter()
                .map(|(kind, o)| KindCurve {
                    kind,
                    curve: kaplan_meier(&o),
                })
                .collect(),
        },
        benchmarks,
        item_rows: rows,
    }
}

fn spread(items: &[&Item], platforms: &HashMap<i64, &Platform>) -> Spread {
    let known = |id: Option<i64>| id.filter(|id| platforms.contains_key(id));
    // Content key → the platforms it was found on.
    let mut on: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let mut contents: BTreeSet<&str> = BTreeSet::new();
    let mut node_items: BTreeMap<i64, u64> = BTreeMap::new();
    let mut outlinks: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for item in items {
        let platform = known(item.platform_id);
        if let Some(key) = item.content_key.as_deref() {
            contents.insert(key);
            if let Some(p) = platform {
                on.entry(key).or_default().insert(p);
            }
        }
        if let Some(p) = platform {
            *node_items.entry(p).or_default() += 1;
            let targets: BTreeSet<i64> = item
                .outlinks
                .iter()
                .copied()
                .filter(|&t| t != p && platforms.contains_key(&t))
                .collect();
            for t in targets {
                *outlinks.entry((p, t)).or_default() += 1;
            }
        }
    }
    let mut per_count: BTreeMap<u64, u64> = BTreeMap::new();
    let mut shared: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for set in on.values() {
        *per_count.entry(set.len() as u64).or_default() += 1;
        let v: Vec<i64> = set.iter().copied().collect();
        for (i, &a) in v.iter().enumerate() {
            for &b in &v[i + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut node_ids: BTreeSet<i64> = node_items.keys().copied().collect();
    for &(a, b) in outlinks.keys().chain(shared.keys()) {
        node_ids.insert(a);
        node_ids.insert(b);
    }
    let nodes = node_ids
        .into_iter()
        .filter_map(|id| {
            let p = platforms.get(&id)?;
            Some(SpreadNode {
                platform_id: id,
                name: p.name.clone(),
                kind: p.kind,
                items: node_items.get(&id).copied().unwrap_or(0),
            })
        })
        .collect();
    let edges = outlinks
        .into_iter()
        .map(|((from, to), weight)| SpreadEdge {
            from,
            to,
            kind: EdgeKind::Outlink,
            weight,
        })
        .chain(shared.into_iter().map(|((from, to), weight)| SpreadEdge {
            from,
            to,
            kind: EdgeKind::SharedContent,
            weight,
        }))
        .collect();
    Spread {
        contents: contents.len() as u64,
        multi_platform_contents: on.values().filter(|s| s.len() >= 2).count() as u64,
        max_platforms: on.values().map(|s| s.len() as u64).max().unwrap_or(0),
        platforms_per_content: per_count
            .into_iter()
            .map(|(platforms, contents)| SpreadBin {
                platforms,
                contents,
            })
            .collect(),
        nodes,
        edges,
    }
}

fn benchmarks(o: &Outcomes) -> Vec<Benchmark> {
    vec![
        Benchmark {
            source: "Europol EU Internet Referral Unit, 2015-2018",
            figure: "share of 48,931 referrals removed",
            value: 0.836,
            unit: "share",
            this_campaign: o.removed_share,
        },
        Benchmark {
            source: "Tech Against Terrorism TCAP, second year",
            figure: "share of alerted content offline",
            value: 0.82,
            unit: "share",
            this_campaign: o.removed_share,
        },
        Benchmark {
            source: "UK government, 2017",
            figure: "average lifespan of IS propaganda online",
            value: 36.0,
            unit: "hours",
            this_campaign: None,
        },
    ]
}
