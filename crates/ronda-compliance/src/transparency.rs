//! The annual transparency report of a hosting service provider under
//! Art. 7 TCO (Regulation (EU) 2021/784): for one organisation and one
//! calendar year, the figures Art. 7(2) lists, computed from plain records.
//!
//! # The figures
//!
//! Every record is counted in the year (UTC, 1 January 00:00 to
//! 31 December 24:00) of its defining time, given below. An outcome counts
//! only if it came about by the end of the year; later outcomes show as
//! pending, so a report for a past year never changes.
//!
//! 1. **Measures to identify and remove** (Art. 7(2)(a)): every
//!    [`MeasureRecord`] with purpose [`MeasurePurpose::IdentifyAndRemove`]
//!    in use at some time in the year, with the number of removals in the
//!    year attributed to it ([`Removal::measure`]); and all removals in the
//!    year (time: [`Removal::at`]) by what led to them.
//! 2. **Measures against re-upload** (Art. 7(2)(b)): the same for
//!    [`MeasurePurpose::PreventReupload`]; and the removals in the year of
//!    content that had been removed before ([`Removal::reupload`]), with
//!    how many of those were detected by automated tools.
//! 3. **Items removed after removal orders or specific measures**
//!    (Art. 7(2)(c), first half): distinct items ([`Removal::item`])
//!    removed or disabled in the year on a removal order, and on a
//!    specific measure (Art. 5 TCO).
//! 4. **Removal orders not executed, with the grounds** (Art. 7(2)(c),
//!    second half; Art. 3(7) and 3(8)): orders received in the year
//!    ([`OrderRecord::received_at`]) that were not executed, by ground,
//!    with each order's explanation.
//! 5. **Complaints and their outcomes** (Art. 7(2)(d), Art. 10): complaints
//!    received in the year, by outcome at the end of the year, and how
//!    many were decided within two weeks of receipt.
//! 6. **Reviews and their outcomes** (Art. 7(2)(e), Art. 9): administrative
//!    or judicial review proceedings the provider brought in the year, by
//!    kind and by outcome at the end of the year.
//! 7. **Reinstatements required by reviews** (Art. 7(2)(f)):
//!    reinstatements in the year ([`Reinstatement::at`]) caused by a
//!    review.
//! 8. **Reinstatements after complaints** (Art. 7(2)(g)): reinstatements
//!    in the year caused by a complaint.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::date::{Date, Millis};

const TWO_WEEKS_MS: Millis = 14 * 24 * 3_600_000;

/// What a measure is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasurePurpose {
    /// Identifying and removing (or disabling access to) terrorist content.
    IdentifyAndRemove,
    /// Stopping content that was removed from appearing again.
    PreventReupload,
}

/// A measure the provider took (hash matching against a list, a review
/// queue, a URL rule, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureRecord {
    /// The provider's id for it; what [`Removal::measure`] names.
    pub id: String,
    pub purpose: MeasurePurpose,
    /// What it is and how it works, for the public report.
    pub description: String,
    /// Whether it uses automated tools.
    pub automated: bool,
    /// When it started (`None`: before any year reported on).
    #[serde(default)]
    pub from: Option<Millis>,
    /// When it stopped (`None`: still in use).
    #[serde(default)]
    pub until: Option<Millis>,
}

/// What led to a removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalBasis {
    /// A removal order (Art. 3 TCO).
    RemovalOrder,
    /// A specific measure (Art. 5 TCO).
    SpecificMeasure,
    /// A referral (by a referral unit or authority).
    Referral,
    /// A notice from someone else.
    Notice,
    /// The provider's own initiative under its terms and conditions.
    OwnInitiative,
}

impl RemovalBasis {
    pub const ALL: [RemovalBasis; 5] = [
        RemovalBasis::RemovalOrder,
        RemovalBasis::SpecificMeasure,
        RemovalBasis::Referral,
        RemovalBasis::Notice,
        RemovalBasis::OwnInitiative,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RemovalBasis::RemovalOrder => "removal_order",
            RemovalBasis::SpecificMeasure => "specific_measure",
            RemovalBasis::Referral => "referral",
            RemovalBasis::Notice => "notice",
            RemovalBasis::OwnInitiative => "own_initiative",
        }
    }
}

/// One removal of, or disabling of access to, an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// The item (the platform's content id).
    pub item: String,
    pub at: Millis,
    pub basis: RemovalBasis,
    /// The [`MeasureRecord::id`] that found it, if a measure did.
    #[serde(default)]
    pub measure: Option<String>,
    /// Whether it is content that had been removed before, uploaded again.
    #[serde(default)]
    pub reupload: bool,
    /// Whether automated tools detected it.
    #[serde(default)]
    pub automated_detection: bool,
}

/// Why a removal order was not executed (the reasons of Annex III TCO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotExecutedGround {
    /// Art. 3(7): force majeure or de facto impossibility not attributable
    /// to the provider.
    ForceMajeureOrDeFactoImpossibility,
    /// Art. 3(8): the order contains manifest errors.
    ManifestErrors,
    /// Art. 3(8): the order does not contain sufficient information.
    InsufficientInformation,
}

impl NotExecutedGround {
    pub const ALL: [NotExecutedGround; 3] = [
        NotExecutedGround::ForceMajeureOrDeFactoImpossibility,
        NotExecutedGround::ManifestErrors,
        NotExecutedGround::InsufficientInformation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotExecutedGround::ForceMajeureOrDeFactoImpossibility => {
                "force_majeure_or_de_facto_impossibility"
            }
            NotExecutedGround::ManifestErrors => "manifest_errors",
            NotExecutedGround::InsufficientInformation => "insufficient_information",
        }
    }

    fn label(self) -> &'static str {
        match self {
            NotExecutedGround::ForceMajeureOrDeFactoImpossibility => {
                "force majeure or de facto impossibility (Art. 3(7))"
            }
            NotExecutedGround::ManifestErrors => "manifest errors (Art. 3(8))",
            NotExecutedGround::InsufficientInformation => "insufficient information (Art. 3(8))",
        }
    }
}

/// What became of a removal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OrderOutcome {
    /// The content was removed or disabled.
    Executed,
    /// Not executed, and why (as told to the authority with Annex III).
    NotExecuted {
        ground: NotExecutedGround,
        #[serde(default)]
        explanation: Option<String>,
    },
    /// Not yet acted on.
    Pending,
}

/// A removal order the provider received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The order's reference (the authority's file number, or Ronda's id).
    pub id: String,
    pub received_at: Millis,
    pub outcome: OrderOutcome,
}

/// How a complaint (Art. 10 TCO) was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintOutcome {
    /// The complaint was upheld: the content is to be reinstated.
    Upheld,
    /// The complaint was rejected.
    Rejected,
    /// The content provider withdrew it.
    Withdrawn,
}

/// A content provider's complaint about a removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub id: String,
    pub received_at: Millis,
    /// When and how it was decided; `None` while pending.
    #[serde(default)]
    pub decided: Option<(Millis, ComplaintOutcome)>,
}

/// Administrative or judicial review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Administrative,
    Judicial,
}

/// How review proceedings ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The order was annulled or amended in the provider's favour.
    InFavour,
    /// The order was upheld.
    Against,
    /// The proceedings were withdrawn or ended without a decision.
    Discontinued,
}

/// Review proceedings the provider brought against a removal order (or a
/// decision on specific measures or a penalty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    pub kind: ReviewKind,
    pub brought_at: Millis,
    /// When and how it ended; `None` while pending.
    #[serde(default)]
    pub concluded: Option<(Millis, ReviewOutcome)>,
}

/// Why content was reinstated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReinstatementCause {
    /// A review's outcome required it ([`Review::id`]).
    Review { review: String },
    /// A complaint was upheld ([`Complaint::id`]).
    Complaint { complaint: String },
    /// Anything else (a cross-border scrutiny decision, the provider's own
    /// correction).
    Other,
}

/// Content put back, or access to it restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reinstatement {
    pub item: String,
    pub at: Millis,
    pub cause: ReinstatementCause,
}

/// Everything one organisation's report is computed from. Records outside
/// the year are allowed and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransparencyInput {
    pub organisation: String,
    pub year: i32,
    #[serde(default)]
    pub measures: Vec<MeasureRecord>,
    #[serde(default)]
    pub removals: Vec<Removal>,
    #[serde(default)]
    pub orders: Vec<OrderRecord>,
    #[serde(default)]
    pub complaints: Vec<Complaint>,
    #[serde(default)]
    pub reviews: Vec<Review>,
    #[serde(default)]
    pub reinstatements: Vec<Reinstatement>,
}

/// A measure in the report, with the removals it led to in the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureRow {
    pub id: String,
    pub description: String,
    pub automated: bool,
    pub removals: u64,
}

/// Figure 1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifyAndRemove {
    pub measures: Vec<MeasureRow>,
    /// All removals in the year.
    pub removals: u64,
    /// Of those, by what led to them (`removal_order`, `specific_measure`,
    /// `referral`, `notice`, `own_initiative`; every key present).
    pub removals_by_basis: BTreeMap<String, u64>,
    /// Of those, detected by automated tools.
    pub removals_automated_detection: u64,
}

/// Figure 2.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreventReupload {
    pub measures: Vec<MeasureRow>,
    /// Removals in the year of content removed before.
    pub reuploads_removed: u64,
    /// Of those, detected by automated tools.
    pub reuploads_automated_detection: u64,
}

/// Figure 3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedAfterOrdersOrMeasures {
    /// Distinct items removed or disabled on a removal order.
    pub after_removal_orders: u64,
    /// Distinct items removed or disabled on a specific measure.
    pub after_specific_measures: u64,
}

/// One order in figure 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotExecutedRow {
    pub order: String,
    pub ground: NotExecutedGround,
    pub explanation: Option<String>,
}

/// Figure 4.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersNotExecuted {
    /// Orders received in the year (for scale).
    pub orders_received: u64,
    pub not_executed: u64,
    /// By ground (every ground present).
    pub by_ground: BTreeMap<String, u64>,
    pub orders: Vec<NotExecutedRow>,
}

/// Figure 5.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaints {
    pub received: u64,
    pub upheld: u64,
    pub rejected: u64,
    pub withdrawn: u64,
    /// Not decided by the end of the year.
    pub pending: u64,
    /// Decided within two weeks of receipt (Art. 10(2)).
    pub decided_within_two_weeks: u64,
}

/// Figure 6.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviews {
    pub brought: u64,
    pub administrative: u64,
    pub judicial: u64,
    pub in_favour: u64,
    pub against: u64,
    pub discontinued: u64,
    /// Not concluded by the end of the year.
    pub pending: u64,
}

/// The report: the eight figures of Art. 7(2) TCO for one year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransparencyReport {
    pub organisation: String,
    pub year: i32,
    /// `YYYY-01-01`.
    pub period_start: String,
    /// `YYYY-12-31`.
    pub period_end: String,
    pub identify_and_remove: IdentifyAndRemove,
    pub prevent_reupload: PreventReupload,
    pub removed_after_orders_or_measures: RemovedAfterOrdersOrMeasures,
    pub orders_not_executed: OrdersNotExecuted,
    pub complaints: Complaints,
    pub reviews: Reviews,
    pub reinstatements_after_review: u64,
    pub reinstatements_after_complaint: u64,
}

/// The year as `[start, end)` in Unix milliseconds, or `None` for a year
/// outside 1 to 9998.
fn year_bounds(year: i32) -> Option<(Millis, Millis)> {
    let start = Date::new(year, 1, 1)?;
    let end = Date::new(year.checked_add(1)?, 1, 1)?;
    Some((start.start_unix_millis(), end.start_unix_millis()))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Computes the report for `input.year` (see the module docs for every
/// definition). A year out of range (before 1 or after 9998) counts nothing.
pub fn compute(input: &TransparencyInput) -> TransparencyReport {
    let (start, end) = year_bounds(input.year).unwrap_or((0, 0));
    let in_year = |t: Millis| t >= start && t < end;
    let by_end = |t: Millis| t < end;

    let removals: Vec<&Removal> = input.removals.iter().filter(|r| in_year(r.at)).collect();

    let measure_rows = |purpose: MeasurePurpose| -> Vec<MeasureRow> {
        let mut rows: Vec<MeasureRow> = input
            .measures
            .iter()
            .filter(|m| m.purpose == purpose)
            .filter(|m| m.from.is_none_or(|f| f < end) && m.until.is_none_or(|u| u >= start))
            .map(|m| MeasureRow {
                id: m.id.clone(),
                description: m.description.clone(),
                automated: m.automated,
                removals: count(
                    removals
                        .iter()
                        .filter(|r| r.measure.as_deref() == Some(m.id.as_str()))
                        .count(),
                ),
            })
            .collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    };

    let identify_and_remove = IdentifyAndRemove {
        measures: measure_rows(MeasurePurpose::IdentifyAndRemove),
        removals: count(removals.len()),
        removals_by_basis: RemovalBasis::ALL
            .iter()
            .map(|b| {
                (
                    b.as_str().to_owned(),
                    count(removals.iter().filter(|r| r.basis == *b).count()),
                )
            })
            .collect(),
        removals_automated_detection: count(
            removals.iter().filter(|r| r.automated_detection).count(),
        ),
    };

    let prevent_reupload = PreventReupload {
        measures: measure_rows(MeasurePurpose::PreventReupload),
        reuploads_removed: count(removals.iter().filter(|r| r.reupload).count()),
        reuploads_automated_detection: count(
            removals
                .iter()
                .filter(|r| r.reupload && r.automated_detection)
                .count(),
        ),
    };

    let distinct = |basis: RemovalBasis| -> u64 {
        count(
            removals
                .iter()
                .filter(|r| r.basis == basis)
                .map(|r| r.item.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
        )
    };
    let removed_after_orders_or_measures = RemovedAfterOrdersOrMeasures {
        after_removal_orders: distinct(RemovalBasis::RemovalOrder),
        after_specific_measures: distinct(RemovalBasis::SpecificMeasure),
    };

    let orders: Vec<&OrderRecord> = input
        .orders
        .iter()
        .filter(|o| in_year(o.received_at))
        .collect();
    let mut not_executed: Vec<NotExecutedRow> = orders
        .iter()
        .filter_map(|o| match &o.outcome {
            OrderOutcome::NotExecuted {
                ground,
                explanation,
            } => Some(NotExecutedRow {
                order: o.id.clone(),
                ground: *ground,
                explanation: explanation.clone(),
            }),
            _ => None,
        })
        .collect();
    not_executed.sort_by(|a, b| a.order.cmp(&b.order));
    let orders_not_executed = OrdersNotExecuted {
        orders_received: count(orders.len()),
        not_executed: count(not_executed.len()),
        by_ground: NotExecutedGround::ALL
            .iter()
            .map(|g| {
                (
                    g.as_str().to_owned(),
                    count(not_executed.iter().filter(|r| r.ground == *g).count()),
                )
            })
            .collect(),
        orders: not_executed,
    };

    let mut complaints = Complaints::default();
    for c in input.complaints.iter().filter(|c| in_year(c.received_at)) {
        complaints.received += 1;
        match c.decided.filter(|(t, _)| by_end(*t)) {
            None => complaints.pending += 1,
            Some((t, outcome)) => {
                match outcome {
                    ComplaintOutcome::Upheld => complaints.upheld += 1,
                    ComplaintOutcome::Rejected => complaints.rejected += 1,
                    ComplaintOutcome::Withdrawn => complaints.withdrawn += 1,
                }
                if t.saturating_sub(c.received_at) <= TWO_WEEKS_MS {
                    complaints.decided_within_two_weeks += 1;
                }
            }
        }
    }

    let mut reviews = Reviews::default();
    for r in input.reviews.iter().filter(|r| in_year(r.brought_at)) {
        reviews.brought += 1;
        match r.kind {
            ReviewKind::Administrative => reviews.administrative += 1,
            ReviewKind::Judicial => reviews.judicial += 1,
        }
        match r.concluded.filter(|(t, _)| by_end(*t)) {
            None => reviews.pending += 1,
            Some((_, ReviewOutcome::InFavour)) => reviews.in_favour += 1,
            Some((_, ReviewOutcome::Against)) => reviews.against += 1,
            Some((_, ReviewOutcome::Discontinued)) => reviews.discontinued += 1,
        }
    }

    let reinstated = |pred: fn(&ReinstatementCause) -> bool| -> u64 {
        count(
            input
                .reinstatements
                .iter()
                .filter(|r| in_year(r.at) && pred(&r.cause))
                .count(),
        )
    };

    TransparencyReport {
        organisation: input.organisation.clone(),
        year: input.year,
        period_start: format!("{:04}-01-01", input.year),
        period_end: format!("{:04}-12-31", input.year),
        identify_and_remove,
        prevent_reupload,
        removed_after_orders_or_measures,
        orders_not_executed,
        complaints,
        reviews,
        reinstatements_after_review: reinstated(|c| matches!(c, ReinstatementCause::Review { .. })),
        reinstatements_after_complaint: reinstated(|c| {
            matches!(c, ReinstatementCause::Complaint { .. })
        }),
    }
}

/// The report as pretty-printed JSON (`transparency.json`), with a
/// trailing newline.
pub fn to_json(report: &TransparencyReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("the report has string keys only, so it always serialises");
    text.push('\n');
    text
}

/// The CSV header of [`to_csv`].
pub const CSV_COLUMNS: [&str; 4] = ["figure", "article", "key", "value"];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with([' ', '=', '+', '-', '@']) {
        // Quote, and defuse spreadsheet formulas with a leading apostrophe.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The report as CSV (`transparency.csv`) in long form: one row per figure
/// and breakdown, columns [`CSV_COLUMNS`]; `key` names the breakdown
/// (`total`, `basis:referral`, `measure:<id>`, `order:<id>`, ...), `value`
/// is a count, or a ground or explanation for an order not executed.
pub fn to_csv(report: &TransparencyReport) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    let mut row = |figure: &str, article: &str, key: &str, value: &str| {
        let _ = write!(
            out,
            "{},{},{},{}\r\n",
            csv_field(figure),
            csv_field(article),
            csv_field(key),
            csv_field(value)
        );
    };
    let f1 = &report.identify_and_remove;
    let (a, b, c1, c2, d, e, f, g) = (
        "7(2)(a)", "7(2)(b)", "7(2)(c)", "7(2)(c)", "7(2)(d)", "7(2)(e)", "7(2)(f)", "7(2)(g)",
    );
    row(
        "1_identify_and_remove",
        a,
        "removals",
        &f1.removals.to_string(),
    );
    for (basis, n) in &f1.removals_by_basis {
        row(
            "1_identify_and_remove",
            a,
            &format!("basis:{basis}"),
            &n.to_string(),
        );
    }
    row(
        "1_identify_and_remove",
        a,
        "automated_detection",
        &f1.removals_automated_detection.to_string(),
    );
    for m in &f1.measures {
        row(
            "1_identify_and_remove",
            a,
            &format!("measure:{}", m.id),
            &m.removals.to_string(),
        );
    }
    let f2 = &report.prevent_reupload;
    row(
        "2_prevent_reupload",
        b,
        "reuploads_removed",
        &f2.reuploads_removed.to_string(),
    );
    row(
        "2_prevent_reupload",
        b,
        "automated_detection",
        &f2.reuploads_automated_detection.to_string(),
    );
    for m in &f2.measures {
        row(
            "2_prevent_reupload",
            b,
            &format!("measure:{}", m.id),
            &m.removals.to_string(),
        );
    }
    let f3 = &report.removed_after_orders_or_measures;
    row(
        "3_removed_after_orders_or_measures",
        c1,
        "removal_orders",
        &f3.after_removal_orders.to_string(),
    );
    row(
        "3_removed_after_orders_or_measures",
        c1,
        "specific_measures",
        &f3.after_specific_measures.to_string(),
    );
    let f4 = &report.orders_not_executed;
    row(
        "4_orders_not_executed",
        c2,
        "orders_received",
        &f4.orders_received.to_string(),
    );
    row(
        "4_orders_not_executed",
        c2,
        "not_executed",
        &f4.not_executed.to_string(),
    );
    for (ground, n) in &f4.by_ground {
        row(
            "4_orders_not_executed",
            c2,
            &format!("ground:{ground}"),
            &n.to_string(),
        );
    }
    for o in &f4.orders {
        let value = match &o.explanation {
            Some(x) => format!("{}: {x}", o.ground.as_str()),
            None => o.ground.as_str().to_owned(),
        };
        row(
            "4_orders_not_executed",
            c2,
            &format!("order:{}", o.order),
            &value,
        );
    }
    let f5 = &report.complaints;
    for (key, n) in [
        ("received", f5.received),
        ("upheld", f5.upheld),
        ("rejected", f5.rejected),
        ("withdrawn", f5.withdrawn),
        ("pending", f5.pending),
        ("decided_within_two_weeks", f5.decided_within_two_weeks),
    ] {
        row("5_complaints", d, key, &n.to_string());
    }
    let f6 = &report.reviews;
    for (key, n) in [
        ("brought", f6.brought),
        ("administrative", f6.administrative),
        ("judicial", f6.judicial),
        ("in_favour", f6.in_favour),
        ("against", f6.against),
        ("discontinued", f6.discontinued),
        ("pending", f6.pending),
    ] {
        row("6_reviews", e, key, &n.to_string());
    }
    row(
        "7_reinstatements_after_review",
        f,
        "total",
        &report.reinstatements_after_review.to_string(),
    );
    row(
        "8_reinstatements_after_complaint",
        g,
        "total",
        &report.reinstatements_after_complaint.to_string(),
    );
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:0 auto;max-width:900px;padding:16px 24px}\
h1{font-size:24px;margin:8px 0 4px}h2{font-size:17px;margin:26px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.meta,.note{color:#555}.note{font-size:12px}\
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border-bottom:1px solid #e5e5e5;padding:3px 10px;text-align:left;vertical-align:top}\
th{background:#f5f5f5}td.n{text-align:right;white-space:nowrap}";

fn table(out: &mut String, rows: &[(&str, String)]) {
    out.push_str("<table>");
    for (label, value) in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(label),
            esc(value)
        );
    }
    out.push_str("</table>");
}

fn measures_table(out: &mut String, rows: &[MeasureRow]) {
    if rows.is_empty() {
        out.push_str("<p class=\"note\">No such measure was in use in this year.</p>");
        return;
    }
    out.push_str("<table><tr><th>measure</th><th>automated</th><th>removals</th></tr>");
    for m in rows {
        let _ = write!(
            out,
            "<tr><td><b>{}</b><br>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&m.id),
            esc(&m.description),
            if m.automated { "yes" } else { "no" },
            m.removals
        );
    }
    out.push_str("</table>");
}

/// The report as one self-contained HTML page (`transparency.html`): inline
/// CSS, no scripts, no external assets; every string from the records
/// (organisation, measure descriptions, order ids and explanations) is
/// escaped.
pub fn to_html(report: &TransparencyReport) -> String {
    let mut out = String::new();
    let title = format!(
        "Transparency report {} — {}",
        report.year, report.organisation
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <h1>{}</h1><p class=\"meta\">Report under Article 7 of Regulation (EU) 2021/784 \
         on addressing the dissemination of terrorist content online, for {} to {}.</p>",
        esc(&title),
        esc(&title),
        esc(&report.period_start),
        esc(&report.period_end)
    );

    let f1 = &report.identify_and_remove;
    out.push_str("<h2>1. Measures to identify and remove terrorist content (Art. 7(2)(a))</h2>");
    measures_table(&mut out, &f1.measures);
    let mut rows = vec![(
        "Items removed or disabled in the year",
        f1.removals.to_string(),
    )];
    for (basis, n) in &f1.removals_by_basis {
        rows.push((basis_label(basis), n.to_string()));
    }
    rows.push((
        "of which detected by automated tools",
        f1.removals_automated_detection.to_string(),
    ));
    table(&mut out, &rows);

    let f2 = &report.prevent_reupload;
    out.push_str("<h2>2. Measures against the reappearance of removed content (Art. 7(2)(b))</h2>");
    measures_table(&mut out, &f2.measures);
    table(
        &mut out,
        &[
            (
                "Re-uploads removed or disabled",
                f2.reuploads_removed.to_string(),
            ),
            (
                "of which detected by automated tools",
                f2.reuploads_automated_detection.to_string(),
            ),
        ],
    );

    let f3 = &report.removed_after_orders_or_measures;
    out.push_str("<h2>3. Items removed or disabled after removal orders or specific measures (Art. 7(2)(c))</h2>");
    table(
        &mut out,
        &[
            ("After removal orders", f3.after_removal_orders.to_string()),
            (
                "After specific measures",
                f3.after_specific_measures.to_string(),
            ),
        ],
    );

    let f4 = &report.orders_not_executed;
    out.push_str(
        "<h2>4. Removal orders not executed, and why (Art. 7(2)(c), Art. 3(7) and 3(8))</h2>",
    );
    let mut rows = vec![
        ("Removal orders received", f4.orders_received.to_string()),
        ("Not executed", f4.not_executed.to_string()),
    ];
    for g in NotExecutedGround::ALL {
        rows.push((
            g.label(),
            f4.by_ground
                .get(g.as_str())
                .copied()
                .unwrap_or(0)
                .to_string(),
        ));
    }
    table(&mut out, &rows);
    if !f4.orders.is_empty() {
        out.push_str("<table><tr><th>order</th><th>ground</th><th>explanation</th></tr>");
        for o in &f4.orders {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.order),
                esc(o.ground.label()),
                esc(o.explanation.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }

    let f5 = &report.complaints;
    out.push_str("<h2>5. Complaints and their outcomes (Art. 7(2)(d), Art. 10)</h2>");
    table(
        &mut out,
        &[
            ("Complaints received", f5.received.to_string()),
            ("Upheld", f5.upheld.to_string()),
            ("Rejected", f5.rejected.to_string()),
            ("Withdrawn", f5.withdrawn.to_string()),
            ("Pending at the end of the year", f5.pending.to_string()),
            (
                "Decided within two weeks",
                f5.decided_within_two_weeks.to_string(),
            ),
        ],
    );

    let f6 = &report.reviews;
    out.push_str("<h2>6. Administrative or judicial review proceedings and their outcomes (Art. 7(2)(e))</h2>");
    table(
        &mut out,
        &[
            ("Proceedings brought", f6.brought.to_string()),
            ("Administrative", f6.administrative.to_string()),
            ("Judicial", f6.judicial.to_string()),
            ("Decided in the provider's favour", f6.in_favour.to_string()),
            ("Decided against the provider", f6.against.to_string()),
            ("Discontinued", f6.discontinued.to_string()),
            ("Pending at the end of the year", f6.pending.to_string()),
        ],
    );

    out.push_str("<h2>7. Reinstatements required by review proceedings (Art. 7(2)(f))</h2>");
    table(
        &mut out,
        &[("Cases", report.reinstatements_after_review.to_string())],
    );
    out.push_str("<h2>8. Reinstatements after complaints (Art. 7(2)(g))</h2>");
    table(
        &mut out,
        &[("Cases", report.reinstatements_after_complaint.to_string())],
    );
    out.push_str(
        "<p class=\"note\">Counts are of records dated in the year (UTC); outcomes are as \
         at the end of the year.</p></body></html>\n",
    );
    out
}

fn basis_label(basis: &str) -> &'static str {
    match basis {
        "removal_order" => "on removal orders",
        "specific_measure" => "on specific measures",
        "referral" => "on referrals",
        "notice" => "on notices",
        "own_initiative" => "on the provider's own initiative",
        _ => "other",
    }
}
