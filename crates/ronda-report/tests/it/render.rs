//! JSON, CSV and HTML renderings: the documented fields, proper quoting,
//! escaping of everything users typed, and the same bytes every time.

use ronda_report::render::{ITEM_COLUMNS, PLATFORM_COLUMNS};
use ronda_report::{
    PlatformKind, ReportInput, compute, items_csv, platforms_csv, to_html, to_json,
};

use crate::*;

#[test]
fn json_has_the_issue_fields() {
    let json: serde_json::Value = serde_json::from_str(&to_json(&compute(&small_input()))).unwrap();
    for field in [
        "platforms",
        "items",
        "organisations",
        "referrals",
        "removed_share",
        "time_to_removal_minutes",
        "within_1h_share",
        "within_24h_share",
        "within_36h_share",
        "reuploads",
        "orders_overdue",
        "per_platform",
        "survival",
        "spread",
    ] {
        assert!(json.get(field).is_some(), "report.json lacks {field}");
    }
    assert_eq!(json["platforms"], 3);
    assert_eq!(json["items"], 8);
    assert_eq!(json["removed_share"], 0.5);
    assert_eq!(json["time_to_removal_minutes"]["median"], 40.0);
    assert_eq!(json["orders_overdue"], 1);
    let vidz = &json["per_platform"][0];
    for field in [
        "name",
        "kind",
        "items",
        "referred",
        "removed",
        "removed_share",
        "time_to_removal_minutes",
        "within_1h_share",
    ] {
        assert!(vidz.get(field).is_some(), "per_platform row lacks {field}");
    }
    assert_eq!(vidz["name"], "Vidz");
    assert_eq!(vidz["kind"], "video");
    let p90 = vidz["time_to_removal_minutes"]["p90"].as_f64().unwrap();
    assert!((p90 - 1023.0).abs() < 1e-9);
    assert_eq!(json["spread"]["edges"][3]["kind"], "shared_content");
    assert!(
        json.get("item_rows").is_none(),
        "per-item rows are CSV only"
    );
}

#[test]
fn csv_tables_parse_back_with_every_row() {
    let mut input = small_input();
    input.platforms[0].name = "Vidz, \"the\" video site".into();
    input.items[0].url = "https://p1.example/a,b?q=\"x\"\nnext".into();
    input.items[1].organisation = Some("=cmd|' /C calc'!A0".into());
    let r = compute(&input);

    let text = platforms_csv(&r);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        PLATFORM_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][1], "Vidz, \"the\" video site");
    assert_eq!(&rows[0][6], "1");
    assert_eq!(&rows[0][7], "40");
    assert_eq!(&rows[2][7], "", "no median without removals");

    let text = items_csv(&r);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        ITEM_COLUMNS
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    assert_eq!(&rows[0][1], "https://p1.example/a,b?q=\"x\"\nnext");
    assert_eq!(&rows[1][2], "'=cmd|' /C calc'!A0", "formulas are defused");
    assert_eq!(&rows[0][7], "2026-11-28T08:00:00.000Z");
    assert_eq!(&rows[0][16], "30");
    assert_eq!(&rows[0][17], "10");
    let nine = rows.iter().find(|r| &r[0] == "9").unwrap();
    assert_eq!((&nine[18], &nine[19]), ("1", "1"));
}

#[test]
fn html_escapes_every_name() {
    let mut input = small_input();
    input.platforms[0].name = "<script>alert(1)</script>".into();
    input.campaign.name = "Day <b>one</b> & \"two\"".into();
    input.items[0].group = Some("<img src=x onerror=alert(1)>".into());
    let html = to_html(&compute(&input));
    assert!(
        !html.contains("<script"),
        "a platform name came out as markup"
    );
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>one"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Day &lt;b&gt;one&lt;/b&gt; &amp; &quot;two&quot;"));
}

#[test]
fn html_is_self_contained_with_the_charts() {
    let html = to_html(&compute(&small_input()));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "survival, bars, histogram, spread"
    );
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for outside in ["<script", "src=", "href=", "@import", "url(http"] {
        assert!(
            !html.contains(outside),
            "the page reaches out with {outside}"
        );
    }
    assert!(html.contains("Vidz") && html.contains("file_host"));
    assert!(html.contains("50.0%"), "the removed share");
}

#[test]
fn empty_campaign_renders() {
    let r = compute(&ReportInput {
        campaign: campaign(),
        as_of: T0,
        ..ReportInput::default()
    });
    let (json, html) = (to_json(&r), to_html(&r));
    for text in [&json, &html] {
        assert!(!text.contains("NaN") && !text.contains("inf"));
    }
    assert!(html.contains("no platforms"));
    assert_eq!(items_csv(&r).lines().count(), 1);
    assert_eq!(platforms_csv(&r).lines().count(), 1);
}

#[test]
fn same_input_same_bytes() {
    let a = compute(&small_input());
    let b = compute(&small_input());
    assert_eq!(to_json(&a), to_json(&b));
    assert_eq!(to_html(&a), to_html(&b));
    assert_eq!(platforms_csv(&a), platforms_csv(&b));
    assert_eq!(items_csv(&a), items_csv(&b));
}

#[test]
fn many_platforms_keep_the_graph_readable() {
    let mut input = small_input();
    for i in 100..160 {
        input
            .platforms
            .push(platform(i, &format!("Site {i}"), PlatformKind::Forum));
        input.items.push(item(i, i, "IRU", T0));
    }
    let html = to_html(&compute(&input));
    let graph = html.split("<svg").nth(4).unwrap();
    assert_eq!(graph.matches("<circle").count(), 40);
}
