//! The report as one self-contained HTML page: inline CSS, inline SVG
//! charts, no scripts and no external assets, so that it can be mailed,
//! archived or opened offline. Every user-provided string (campaign,
//! platform, organisation and group names) is escaped.

use std::fmt::Write;

use super::rfc3339;
use super::svg::{self, esc};
use crate::compute::{CampaignReport, OrderCompliance, Outcomes};

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:0 auto;max-width:1100px;padding:16px 24px}\
h1{font-size:24px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
.meta{color:#555;margin:0 0 12px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}\
.card{border:1px solid #ddd;border-radius:6px;padding:8px 10px}.card b{display:block;font-size:22px}.card span{color:#555;font-size:12px}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border-bottom:1px solid #e5e5e5;padding:3px 8px;text-align:right;white-space:nowrap}\
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}\
.bad{color:#b00020;font-weight:600}svg{max-width:100%;height:auto;display:block;margin:8px 0}\
.note{color:#555;font-size:12px}td.l,th.l{text-align:left}";

/// A time for people: `2026-11-28 08:00 UTC`.
fn when(ms: crate::input::Millis) -> String {
    let t = rfc3339(ms);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{:.1}%", v * 100.0),
        _ => "–".to_owned(),
    }
}

/// Minutes for people: `42 min`, `5.3 h`, `2.1 d`.
fn duration(v: Option<f64>) -> String {
    match v {
        Some(m) if m.is_finite() && m < 120.0 => format!("{m:.0} min"),
        Some(m) if m.is_finite() && m < 2880.0 => format!("{:.1} h", m / 60.0),
        Some(m) if m.is_finite() => format!("{:.1} d", m / 1440.0),
        _ => "–".to_owned(),
    }
}

fn card(out: &mut String, value: &str, label: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><b>{}</b><span>{}</span></div>",
        esc(value),
        esc(label)
    );
}

const OUTCOME_HEADERS: &str = "<th>items</th><th>referred</th><th>removed</th><th>removed share</th><th>median</th><th>p90</th><th>within 1 h</th><th>within 24 h</th><th>within 36 h</th><th>re-uploads</th>";

fn outcome_cells(out: &mut String, o: &Outcomes) {
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        o.items,
        o.referred,
        o.removed,
        pct(o.removed_share),
        duration(o.time_to_removal_minutes.median),
        duration(o.time_to_removal_minutes.p90),
        pct(o.within_1h_share),
        pct(o.within_24h_share),
        pct(o.within_36h_share),
        o.reuploads
    );
}

fn order_cells(out: &mut String, o: &OrderCompliance) {
    let overdue = if o.overdue > 0 {
        format!("<span class=\"bad\">{}</span>", o.overdue)
    } else {
        "0".to_owned()
    };
    let _ = write!(
        out,
        "<td>{}</td><td>{}</td><td>{}</td><td>{overdue}</td><td>{}</td><td>{}</td><td>{}</td>",
        o.orders,
        o.on_time,
        o.late,
        o.pending,
        o.impossible,
        pct(o.on_time_share)
    );
}

const ORDER_HEADERS: &str = "<th>orders</th><th>on time</th><th>late</th><th>overdue</th><th>pending</th><th>impossible</th><th>on-time share</th>";

/// The report as a self-contained HTML page.
pub fn to_html(r: &CampaignReport) -> String {
    let o = &r.outcomes;
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("Campaign report: {}", r.campaign.name);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let window = match (r.campaign.starts_at, r.campaign.ends_at) {
        (Some(a), Some(b)) => format!(" · window {} to {}", when(a), when(b)),
        (Some(a), None) => format!(" · from {}", when(a)),
        (None, Some(b)) => format!(" · until {}", when(b)),
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "<p class=\"meta\">Campaign {}{} · as of {} · report version {}</p>",
        r.campaign.id,
        esc(&window),
        when(r.as_of),
        r.report_version
    );

    out.push_str("<h2>Headline</h2><div class=\"cards\">");
    card(&mut out, &o.items.to_string(), "items");
    card(&mut out, &r.platforms.to_string(), "platforms");
    card(&mut out, &r.organisations.to_string(), "organisations");
    card(
        &mut out,
        &r.referrals.to_string(),
        &format!("referrals ({} removal orders)", r.removal_orders),
    );
    card(&mut out, &pct(o.removed_share), "removed");
    card(
        &mut out,
        &duration(o.time_to_removal_minutes.median),
        "median time to removal",
    );
    card(
        &mut out,
        &duration(o.time_to_removal_minutes.p90),
        "p90 time to removal",
    );
    card(&mut out, &pct(o.within_1h_share), "removed within 1 h");
    card(&mut out, &pct(o.within_24h_share), "removed within 24 h");
    card(&mut out, &pct(o.within_36h_share), "removed within 36 h");
    card(&mut out, &o.reuploads.to_string(), "re-uploads");
    card(&mut out, &r.orders_overdue.to_string(), "orders overdue");
    out.push_str("</div>\n");

    // Survival.
    out.push_str("<h2>Still online over time</h2>");
    let mut curves = vec![("all items".to_owned(), &r.survival.overall)];
    for k in &r.survival.per_kind {
        let label = k.kind.map_or("no platform", |k| k.as_str()).to_owned();
        curves.push((label, &k.curve));
    }
    out.push_str(&svg::survival_chart(&curves));
    out.push_str("<table><tr><th>curve</th><th>median</th>");
    for a in &r.survival.overall.at {
        let _ = write!(out, "<th>{} h</th>", a.minutes / 60.0);
    }
    out.push_str("</tr>");
    for (label, c) in &curves {
        let _ = write!(
            out,
            "<tr><td>{} (n={})</td><td>{}</td>",
            esc(label),
            c.n,
            duration(c.median_minutes)
        );
        for a in &c.at {
            let _ = write!(
                out,
                "<td>{}<br><span class=\"note\">{} at risk</span></td>",
                pct(a.survival),
                a.at_risk
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</table><p class=\"note\">Kaplan–Meier estimate from the referral (or the first report when an item was not referred before it came down); items not seen removed are censored at their last liveness check; items never checked are left out. Past an item set's longest observation the estimate says nothing (–).</p>\n");

    // Platforms.
    out.push_str("<h2>Platforms</h2>");
    let bars: Vec<(String, Option<f64>, u64)> = r
        .per_platform
        .iter()
        .filter(|p| p.outcomes.items > 0)
        .map(|p| {
            (
                p.name.clone().unwrap_or_else(|| "(no platform)".to_owned()),
                p.outcomes.removed_share,
                p.outcomes.items,
            )
        })
        .collect();
    out.push_str(&svg::share_bars(&bars));
    let _ = write!(
        out,
        "<table><tr><th>platform</th><th>kind</th>{OUTCOME_HEADERS}{ORDER_HEADERS}</tr>"
    );
    for p in &r.per_platform {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>",
            esc(p.name.as_deref().unwrap_or("(no platform)")),
            p.kind.map_or("", |k| k.as_str())
        );
        outcome_cells(&mut out, &p.outcomes);
        order_cells(&mut out, &p.orders);
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");

    out.push_str("<h2>Time to removal</h2>");
    out.push_str(&svg::histogram(&r.time_to_removal_histogram));

    let _ = write!(
        out,
        "<h2>Platform kinds</h2><table><tr><th>kind</th>{OUTCOME_HEADERS}</tr>"
    );
    for k in &r.per_kind {
        let _ = write!(
            out,
            "<tr><td>{}</td>",
            k.kind.map_or("(no platform)", |k| k.as_str())
        );
        outcome_cells(&mut out, &k.outcomes);
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");

    let _ = write!(
        out,
        "<h2>Groups</h2><table><tr><th>group</th>{OUTCOME_HEADERS}</tr>"
    );
    for g in &r.per_group {
        let _ = write!(
            out,
            "<tr><td>{}</td>",
            esc(g.group.as_deref().unwrap_or("(not assessed)"))
        );
        outcome_cells(&mut out, &g.outcomes);
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");

    let _ = write!(
        out,
        "<h2>Removal orders</h2><table><tr><th></th>{ORDER_HEADERS}</tr><tr><td>all orders</td>"
    );
    order_cells(&mut out, &r.orders);
    out.push_str("</tr></table><p class=\"note\">On time: removed at or before the deadline (one hour from receipt unless restarted). Overdue: deadline passed, not removed, no Annex III response.</p>\n");

    let s = &r.spread;
    let _ = write!(
        out,
        "<h2>Cross-platform spread</h2><p>{} distinct contents; {} found on two or more platforms (at most {}).</p>",
        s.contents, s.multi_platform_contents, s.max_platforms
    );
    out.push_str(&svg::spread_graph(s));
    let _ = write!(
        out,
        "<p class=\"note\">Platforms on a circle (at most the {} with most items), size by items; arrows: items linking to another platform; dashed: the same content on both; width by count (at most the {} heaviest links drawn).</p><table><tr><th>platforms</th><th>contents</th></tr>",
        svg::GRAPH_MAX_NODES,
        svg::GRAPH_MAX_EDGES
    );
    for b in &s.platforms_per_content {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            b.platforms, b.contents
        );
    }
    out.push_str("</table>\n");

    out.push_str("<h2>The public record</h2><table><tr><th>source</th><th class=\"l\">figure</th><th>value</th><th>this campaign</th></tr>");
    for b in &r.benchmarks {
        let fmt = |v: f64| {
            if b.unit == "share" {
                pct(Some(v))
            } else {
                format!("{v} {}", b.unit)
            }
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(b.source),
            esc(b.figure),
            esc(&fmt(b.value)),
            esc(&b.this_campaign.map_or("–".to_owned(), fmt))
        );
    }
    out.push_str("</table>\n<p class=\"note\">Time to removal is from an item's first referral (or its first report when it came down unreferred) to the first liveness check that saw it gone; shares within 1 h, 24 h and 36 h are of all items.</p>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(Some(42.4)), "42 min");
        assert_eq!(duration(Some(318.0)), "5.3 h");
        assert_eq!(duration(Some(3024.0)), "2.1 d");
        assert_eq!(duration(None), "–");
        assert_eq!(pct(Some(0.8361)), "83.6%");
        assert_eq!(pct(None), "–");
        assert_eq!(when(1_795_852_800_000), "2026-11-28 08:00 UTC");
    }
}
