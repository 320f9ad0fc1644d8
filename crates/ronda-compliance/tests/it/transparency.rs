//! The Art. 7 TCO report on records whose figures were counted by hand
//! (the comments say which record counts where), an empty year, and the
//! renderings.

use ronda_compliance::transparency::{
    CSV_COLUMNS, Complaint, ComplaintOutcome, MeasurePurpose, MeasureRecord, NotExecutedGround,
    OrderOutcome, OrderRecord, Reinstatement, ReinstatementCause, Removal, RemovalBasis, Review,
    ReviewKind, ReviewOutcome, TransparencyInput, compute, to_csv, to_html, to_json,
};
use ronda_compliance::{Date, Millis};

/// `YYYY-MM-DD` at `hh:mm` UTC, in Unix milliseconds.
fn at(day: &str, hh: i64, mm: i64) -> Millis {
    Date::parse(day).unwrap().start_unix_millis() + (hh * 60 + mm) * 60_000
}

const LAST_MS_OF_2025: Millis = 1_767_225_599_999;

fn measure(
    id: &str,
    purpose: MeasurePurpose,
    from: Option<Millis>,
    until: Option<Millis>,
) -> MeasureRecord {
    MeasureRecord {
        id: id.into(),
        purpose,
        description: format!("measure {id}"),
        automated: id != "m-queue",
        from,
        until,
    }
}

fn removal(
    item: &str,
    at: Millis,
    basis: RemovalBasis,
    measure: Option<&str>,
    reupload: bool,
    automated: bool,
) -> Removal {
    Removal {
        item: item.into(),
        at,
        basis,
        measure: measure.map(str::to_owned),
        reupload,
        automated_detection: automated,
    }
}

fn not_executed(id: &str, at: Millis, ground: NotExecutedGround, why: Option<&str>) -> OrderRecord {
    OrderRecord {
        id: id.into(),
        received_at: at,
        outcome: OrderOutcome::NotExecuted {
            ground,
            explanation: why.map(str::to_owned),
        },
    }
}

fn input() -> TransparencyInput {
    use RemovalBasis::*;
    let start = at("2026-01-01", 0, 0);
    TransparencyInput {
        organisation: "Video Platform <b>&</b> Co".into(),
        year: 2026,
        measures: vec![
            measure("m-hash", MeasurePurpose::IdentifyAndRemove, None, None),
            measure(
                "m-queue",
                MeasurePurpose::IdentifyAndRemove,
                Some(at("2026-06-01", 0, 0)),
                None,
            ),
            // Stopped before 2026: not listed.
            measure(
                "m-old",
                MeasurePurpose::IdentifyAndRemove,
                None,
                Some(LAST_MS_OF_2025),
            ),
            measure(
                "m-reupload",
                MeasurePurpose::PreventReupload,
                Some(at("2025-02-01", 0, 0)),
                None,
            ),
            // Starts in 2027: not listed.
            measure(
                "m-future",
                MeasurePurpose::PreventReupload,
                Some(at("2027-01-01", 0, 0)),
                None,
            ),
        ],
        removals: vec![
            removal("a", start, RemovalOrder, None, false, false),
            removal(
                "a",
                at("2026-02-01", 9, 0),
                RemovalOrder,
                None,
                false,
                false,
            ),
            removal(
                "b",
                at("2026-03-01", 9, 0),
                RemovalOrder,
                None,
                false,
                false,
            ),
            removal(
                "c",
                at("2026-04-01", 9, 0),
                SpecificMeasure,
                Some("m-hash"),
                false,
                true,
            ),
            removal(
                "d",
                at("2026-05-01", 9, 0),
                OwnInitiative,
                Some("m-hash"),
                true,
                true,
            ),
            removal(
                "e",
                at("2026-07-01", 9, 0),
                Referral,
                Some("m-queue"),
                false,
                false,
            ),
            removal(
                "f",
                at("2026-08-01", 9, 0),
                OwnInitiative,
                Some("m-reupload"),
                true,
                true,
            ),
            removal("g", at("2026-09-01", 9, 0), Notice, None, true, false),
            // Outside 2026.
            removal(
                "h",
                LAST_MS_OF_2025,
                RemovalOrder,
                Some("m-hash"),
                true,
                true,
            ),
            removal(
                "i",
                at("2027-01-01", 0, 0),
                SpecificMeasure,
                Some("m-hash"),
                true,
                true,
            ),
            // The same item again.
            removal(
                "c",
                at("2026-10-01", 9, 0),
                SpecificMeasure,
                None,
                false,
                false,
            ),
        ],
        orders: vec![
            OrderRecord {
                id: "o1".into(),
                received_at: at("2026-01-05", 8, 0),
                outcome: OrderOutcome::Executed,
            },
            not_executed(
                "o2",
                at("2026-02-05", 8, 0),
                NotExecutedGround::ForceMajeureOrDeFactoImpossibility,
                Some("data centre outage"),
            ),
            not_executed(
                "o3",
                at("2026-03-05", 8, 0),
                NotExecutedGround::ManifestErrors,
                None,
            ),
            not_executed(
                "o4",
                at("2026-12-31", 23, 0),
                NotExecutedGround::InsufficientInformation,
                Some("no URL, no \"id\" <b>"),
            ),
            not_executed(
                "o5",
                at("2025-12-30", 8, 0),
                NotExecutedGround::ManifestErrors,
                None,
            ),
            OrderRecord {
                id: "o6".into(),
                received_at: at("2026-06-01", 8, 0),
                outcome: OrderOutcome::Pending,
            },
        ],
        complaints: vec![
            Complaint {
                id: "c1".into(),
                received_at: at("2026-03-01", 10, 0),
                decided: Some((at("2026-03-10", 10, 0), ComplaintOutcome::Upheld)),
            },
            Complaint {
                id: "c2".into(),
                received_at: at("2026-03-01", 10, 0),
                decided: Some((at("2026-03-20", 10, 0), ComplaintOutcome::Rejected)),
            },
            // Decided after the year: pending in the 2026 report.
            Complaint {
                id: "c3".into(),
                received_at: at("2026-12-20", 10, 0),
                decided: Some((at("2027-01-02", 10, 0), ComplaintOutcome::Upheld)),
            },
            Complaint {
                id: "c4".into(),
                received_at: at("2026-05-01", 10, 0),
                decided: None,
            },
            // Exactly two weeks: within.
            Complaint {
                id: "c5".into(),
                received_at: at("2026-06-01", 0, 0),
                decided: Some((at("2026-06-15", 0, 0), ComplaintOutcome::Withdrawn)),
            },
            // Received in 2025.
            Complaint {
                id: "c6".into(),
                received_at: at("2025-12-01", 0, 0),
                decided: Some((at("2026-01-01", 0, 0), ComplaintOutcome::Upheld)),
            },
        ],
        reviews: vec![
            Review {
                id: "r1".into(),
                kind: ReviewKind::Judicial,
                brought_at: at("2026-02-01", 0, 0),
                concluded: Some((at("2026-09-01", 0, 0), ReviewOutcome::InFavour)),
            },
            Review {
                id: "r2".into(),
                kind: ReviewKind::Administrative,
                brought_at: at("2026-04-01", 0, 0),
                concluded: Some((at("2026-05-01", 0, 0), ReviewOutcome::Against)),
            },
            Review {
                id: "r3".into(),
                kind: ReviewKind::Judicial,
                brought_at: at("2026-11-01", 0, 0),
                concluded: None,
            },
            Review {
                id: "r4".into(),
                kind: ReviewKind::Judicial,
                brought_at: at("2026-11-15", 0, 0),
                concluded: Some((at("2027-02-01", 0, 0), ReviewOutcome::Discontinued)),
            },
            Review {
                id: "r5".into(),
                kind: ReviewKind::Administrative,
                brought_at: at("2027-01-01", 0, 0),
                concluded: None,
            },
        ],
        reinstatements: vec![
            Reinstatement {
                item: "a".into(),
                at: at("2026-09-02", 0, 0),
                cause: ReinstatementCause::Review {
                    review: "r1".into(),
                },
            },
            Reinstatement {
                item: "x".into(),
                at: at("2026-03-11", 0, 0),
                cause: ReinstatementCause::Complaint {
                    complaint: "c1".into(),
                },
            },
            Reinstatement {
                item: "y".into(),
                at: at("2027-01-03", 0, 0),
                cause: ReinstatementCause::Complaint {
                    complaint: "c3".into(),
                },
            },
            Reinstatement {
                item: "z".into(),
                at: at("2026-06-01", 0, 0),
                cause: ReinstatementCause::Other,
            },
            Reinstatement {
                item: "w".into(),
                at: at("2026-12-31", 23, 59) + 59_999,
                cause: ReinstatementCause::Review {
                    review: "r2".into(),
                },
            },
        ],
    }
}

#[test]
fn the_eight_figures_match_a_hand_count() {
    let r = compute(&input());
    assert_eq!(
        (r.period_start.as_str(), r.period_end.as_str()),
        ("2026-01-01", "2026-12-31")
    );

    // 1. Nine removals in 2026 (a twice, b, c twice, d, e, f, g).
    let f1 = &r.identify_and_remove;
    assert_eq!(f1.removals, 9);
    let by_basis: Vec<(&str, u64)> = f1
        .removals_by_basis
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        by_basis,
        [
            ("notice", 1),
            ("own_initiative", 2),
            ("referral", 1),
            ("removal_order", 3),
            ("specific_measure", 2),
        ]
    );
    assert_eq!(f1.removals_automated_detection, 3);
    let measures: Vec<(&str, u64)> = f1
        .measures
        .iter()
        .map(|m| (m.id.as_str(), m.removals))
        .collect();
    assert_eq!(measures, [("m-hash", 2), ("m-queue", 1)]);
    assert!(!f1.measures[1].automated);

    // 2. Re-uploads d, f, g; d and f detected automatically.
    let f2 = &r.prevent_reupload;
    assert_eq!(
        (f2.reuploads_removed, f2.reuploads_automated_detection),
        (3, 2)
    );
    let measures: Vec<(&str, u64)> = f2
        .measures
        .iter()
        .map(|m| (m.id.as_str(), m.removals))
        .collect();
    assert_eq!(measures, [("m-reupload", 1)]);

    // 3. Distinct items: a and b on orders, c on specific measures.
    let f3 = &r.removed_after_orders_or_measures;
    assert_eq!(
        (f3.after_removal_orders, f3.after_specific_measures),
        (2, 1)
    );

    // 4. Five orders received in 2026, three not executed, one per ground.
    let f4 = &r.orders_not_executed;
    assert_eq!((f4.orders_received, f4.not_executed), (5, 3));
    assert!(f4.by_ground.values().all(|n| *n == 1));
    assert_eq!(f4.by_ground.len(), 3);
    let ids: Vec<&str> = f4.orders.iter().map(|o| o.order.as_str()).collect();
    assert_eq!(ids, ["o2", "o3", "o4"]);
    assert_eq!(
        f4.orders[0].explanation.as_deref(),
        Some("data centre outage")
    );

    // 5. c1..c5: upheld c1, rejected c2, withdrawn c5, pending c3 and c4;
    //    c1 and c5 within two weeks.
    let f5 = &r.complaints;
    assert_eq!(
        (
            f5.received,
            f5.upheld,
            f5.rejected,
            f5.withdrawn,
            f5.pending,
            f5.decided_within_two_weeks
        ),
        (5, 1, 1, 1, 2, 2)
    );

    // 6. r1..r4: one administrative, three judicial; r1 in favour, r2
    //    against, r3 and r4 pending at the end of 2026.
    let f6 = &r.reviews;
    assert_eq!(
        (
            f6.brought,
            f6.administrative,
            f6.judicial,
            f6.in_favour,
            f6.against,
            f6.discontinued,
            f6.pending
        ),
        (4, 1, 3, 1, 1, 0, 2)
    );

    // 7 and 8.
    assert_eq!(r.reinstatements_after_review, 2);
    assert_eq!(r.reinstatements_after_complaint, 1);

    // The year after sees only its own records.
    let mut next = input();
    next.year = 2027;
    let r27 = compute(&next);
    assert_eq!(r27.identify_and_remove.removals, 1);
    assert_eq!(r27.reviews.brought, 1);
    assert_eq!(r27.reinstatements_after_complaint, 1);
    let ids: Vec<&str> = r27
        .identify_and_remove
        .measures
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, ["m-hash", "m-queue"]);
}

#[test]
fn an_empty_year_has_every_figure_at_zero() {
    let input = TransparencyInput {
        organisation: "Quiet".into(),
        year: 2030,
        ..TransparencyInput::default()
    };
    let r = compute(&input);
    assert_eq!(r.identify_and_remove.removals, 0);
    assert_eq!(r.identify_and_remove.removals_by_basis.len(), 5);
    assert!(
        r.identify_and_remove
            .removals_by_basis
            .values()
            .all(|n| *n == 0)
    );
    assert_eq!(r.orders_not_executed.by_ground.len(), 3);
    assert!(r.orders_not_executed.orders.is_empty());
    assert_eq!(r.complaints.received + r.reviews.brought, 0);
    assert_eq!(
        r.reinstatements_after_review + r.reinstatements_after_complaint,
        0
    );
    let html = to_html(&r);
    assert!(html.contains("No such measure was in use in this year."));
    let csv = to_csv(&r);
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",0")), "{csv}");
    // Records from other years do not leak into it.
    let mut other = self::input();
    other.year = 2030;
    assert_eq!(compute(&other).identify_and_remove.removals, 0);
}

#[test]
fn renderings_are_complete_and_escaped() {
    let r = compute(&input());
    let json: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
    assert_eq!(json["year"], 2026);
    assert_eq!(json["complaints"]["pending"], 2);
    assert_eq!(
        json["orders_not_executed"]["orders"][2]["ground"],
        "insufficient_information"
    );

    let csv = to_csv(&r);
    let mut lines = csv.split("\r\n");
    assert_eq!(lines.next(), Some(CSV_COLUMNS.join(",").as_str()));
    assert!(csv.contains("1_identify_and_remove,7(2)(a),removals,9\r\n"));
    assert!(csv.contains("1_identify_and_remove,7(2)(a),measure:m-hash,2\r\n"));
    assert!(csv.contains("4_orders_not_executed,7(2)(c),ground:manifest_errors,1\r\n"));
    assert!(csv.contains(
        "4_orders_not_executed,7(2)(c),order:o4,\"insufficient_information: no URL, no \"\"id\"\" <b>\"\r\n"
    ));
    assert!(csv.contains("7_reinstatements_after_review,7(2)(f),total,2\r\n"));
    assert!(csv.contains("8_reinstatements_after_complaint,7(2)(g),total,1\r\n"));
    // Every row has four fields (quoted commas aside).
    assert!(
        csv.lines()
            .filter(|l| !l.contains('"'))
            .all(|l| l.split(',').count() == 4)
    );

    let html = to_html(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Video Platform &lt;b&gt;&amp;&lt;/b&gt; Co"));
    assert!(html.contains("no URL, no &quot;id&quot; &lt;b&gt;"));
    assert!(!html.contains("<b>&</b>"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    for n in 1..=8 {
        assert!(html.contains(&format!("<h2>{n}. ")), "figure {n} missing");
    }
}
