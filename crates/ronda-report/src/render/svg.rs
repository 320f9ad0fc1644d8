//! The report's charts as inline SVG, drawn from the figures alone: the
//! Kaplan–Meier step curves, per-platform removed-share bars, the
//! time-to-removal histogram, and the spread graph on a circle. Text from
//! users (platform names) goes through [`esc`]; coordinates are printed with
//! one decimal, so a report always draws the same bytes.

use std::collections::HashMap;
use std::fmt::Write;

use crate::compute::{EdgeKind, HistogramBin, Spread};
use crate::stats::SurvivalCurve;

/// HTML/XML escaping for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Colours for series, in order (the overall curve is drawn in ink).
pub const PALETTE: [&str; 11] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f", "#393b79",
];
const INK: &str = "#222";

fn open(w: f64, h: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"{l}\"><title>{l}</title>",
        l = esc(label)
    )
}

/// A tick step for an axis from 0 to `max` hours with at most ~8 ticks.
fn hour_step(max: f64) -> f64 {
    const STEPS: [f64; 14] = [
        0.25, 0.5, 1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 48.0, 72.0, 168.0, 336.0, 720.0, 2160.0,
    ];
    STEPS
        .into_iter()
        .find(|s| max / s <= 8.0)
        .unwrap_or_else(|| (max / 8.0).ceil())
}

/// A tick label: days when the ticks are whole days, else hours.
fn hours_label(h: f64, step: f64) -> String {
    if step >= 24.0 && (h / 24.0).fract() == 0.0 {
        format!("{}d", h / 24.0)
    } else {
        format!("{h}h")
    }
}

/// Kaplan–Meier step curves: share still online (y, 0–100%) against hours
/// since the clock start (x). `curves` are (label, curve); the first is
/// drawn thick in ink.
pub fn survival_chart(curves: &[(String, &SurvivalCurve)]) -> String {
    let (w, h) = (760.0, 360.0);
    let (left, right, top, bottom) = (56.0, 180.0, 16.0, 44.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let max_min = curves
        .iter()
        .map(|(_, c)| c.max_minutes)
        .fold(0.0_f64, f64::max)
        .max(60.0);
    let step = hour_step(max_min / 60.0);
    let max_h = (max_min / 60.0 / step).ceil() * step;
    let x = |minutes: f64| left + pw * (minutes / 60.0 / max_h).clamp(0.0, 1.0);
    let y = |s: f64| top + ph * (1.0 - s.clamp(0.0, 1.0));
    let mut out = open(w, h, "Share of items still online over time (Kaplan-Meier)");
    // Grid and axes.
    for i in 0..=4 {
        let s = f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{yy:.1}\" x2=\"{x2:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\">{p}%</text>",
            yy = y(s),
            x2 = left + pw,
            tx = left - 6.0,
            ty = y(s) + 4.0,
            p = i * 25
        );
    }
    let mut t = 0.0;
    while t <= max_h + 1e-9 {
        let xx = x(t * 60.0);
        let _ = write!(
            out,
            "<line x1=\"{xx:.1}\" y1=\"{top:.1}\" x2=\"{xx:.1}\" y2=\"{yb:.1}\" stroke=\"#eee\"/><text x=\"{xx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" font-size=\"11\">{l}</text>",
            yb = top + ph,
            ty = top + ph + 16.0,
            l = hours_label(t, step)
        );
        t += step;
    }
    let _ = write!(
        out,
        "<path d=\"M{left:.1} {top:.1}V{yb:.1}H{xr:.1}\" fill=\"none\" stroke=\"{INK}\"/><text x=\"{cx:.1}\" y=\"{h2:.1}\" text-anchor=\"middle\" font-size=\"12\">hours since referral (or first report)</text><text transform=\"translate(14 {cy:.1}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">still online</text>",
        yb = top + ph,
        xr = left + pw,
        cx = left + pw / 2.0,
        h2 = h - 6.0,
        cy = top + ph / 2.0
    );
    for (i, (label, curve)) in curves.iter().enumerate() {
        let (colour, width) = if i == 0 {
            (INK, 2.5)
        } else {
            (PALETTE[(i - 1) % PALETTE.len()], 1.5)
        };
        let mut d = format!("M{:.1} {:.1}", x(0.0), y(1.0));
        // Steps that fall on the same tenth of a pixel are drawn as one,
        // so a curve of 100k removals stays a small path.
        let mut pending: Option<(i64, f64)> = None;
        for p in &curve.points {
            let tenths = (x(p.minutes) * 10.0).round() as i64;
            match pending {
                Some((t, _)) if t == tenths => pending = Some((t, y(p.survival))),
                _ => {
                    if let Some((t, yy)) = pending {
                        let _ = write!(d, "H{:.1}V{yy:.1}", t as f64 / 10.0);
                    }
                    pending = Some((tenths, y(p.survival)));
                }
            }
        }
        if let Some((t, yy)) = pending {
            let _ = write!(d, "H{:.1}V{yy:.1}", t as f64 / 10.0);
        }
        let _ = write!(d, "H{:.1}", x(curve.max_minutes));
        let _ = write!(
            out,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"/>"
        );
        let ly = top + 8.0 + 18.0 * i as f64;
        let lx = left + pw + 14.0;
        let _ = write!(
            out,
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{lx2:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"{width}\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"11\">{l} (n={n})</text>",
            lx2 = lx + 18.0,
            tx = lx + 24.0,
            ty = ly + 4.0,
            l = esc(&clip(label, 18)),
            n = curve.n
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars of removed share, one per (label, share, items).
pub fn share_bars(rows: &[(String, Option<f64>, u64)]) -> String {
    let (left, bar_w, row_h, top) = (190.0, 420.0, 20.0, 8.0);
    let w = left + bar_w + 110.0;
    let h = top * 2.0 + row_h * rows.len().max(1) as f64 + 20.0;
    let mut out = open(w, h, "Share of items removed, per platform");
    for (i, (label, share, items)) in rows.iter().enumerate() {
        let yy = top + row_h * i as f64;
        let s = share.unwrap_or(0.0).clamp(0.0, 1.0);
        let _ = write!(
            out,
            "<text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\">{l}</text><rect x=\"{left:.1}\" y=\"{ry:.1}\" width=\"{bar_w:.1}\" height=\"{bh:.1}\" fill=\"#eee\"/><rect x=\"{left:.1}\" y=\"{ry:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{c}\"/><text x=\"{vx:.1}\" y=\"{ty:.1}\" font-size=\"11\">{v} of {items}</text>",
            tx = left - 6.0,
            ty = yy + 13.0,
            l = esc(&clip(label, 28)),
            ry = yy + 3.0,
            bh = row_h - 6.0,
            bw = bar_w * s,
            c = PALETTE[0],
            vx = left + bar_w + 6.0,
            v = share.map_or("–".to_owned(), |s| format!("{:.0}%", s * 100.0)),
        );
    }
    let axis_y = top + row_h * rows.len().max(1) as f64 + 14.0;
    for i in 0..=4 {
        let xx = left + bar_w * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<text x=\"{xx:.1}\" y=\"{axis_y:.1}\" text-anchor=\"middle\" font-size=\"10\">{p}%</text>",
            p = i * 25
        );
    }
    out.push_str("</svg>");
    out
}

/// The label of a histogram bin, e.g. `1 h–6 h`.
pub fn bin_label(bin: &HistogramBin) -> String {
    let m = |v: f64| {
        if v < 60.0 {
            format!("{v} min")
        } else {
            format!("{} h", v / 60.0)
        }
    };
    match bin.to_minutes {
        Some(to) if bin.from_minutes == 0.0 => format!("< {}", m(to)),
        Some(to) => format!("{}–{}", m(bin.from_minutes), m(to)),
        None => format!("≥ {}", m(bin.from_minutes)),
    }
}

/// Vertical bars: removed items per time-to-removal bin.
pub fn histogram(bins: &[HistogramBin]) -> String {
    let (w, h) = (640.0, 260.0);
    let (left, top, bottom) = (48.0, 16.0, 40.0);
    let ph = h - top - bottom;
    let slot = (w - left - 8.0) / bins.len().max(1) as f64;
    let max = bins.iter().map(|b| b.items).max().unwrap_or(0).max(1) as f64;
    let mut out = open(w, h, "Removed items by time to removal");
    let _ = write!(
        out,
        "<path d=\"M{left:.1} {top:.1}V{yb:.1}H{xr:.1}\" fill=\"none\" stroke=\"{INK}\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\">{max}</text><text x=\"{tx:.1}\" y=\"{yb:.1}\" text-anchor=\"end\" font-size=\"11\">0</text>",
        yb = top + ph,
        xr = w - 8.0,
        tx = left - 6.0,
        ty = top + 4.0,
    );
    for (i, bin) in bins.iter().enumerate() {
        let bh = ph * bin.items as f64 / max;
        let xx = left + slot * i as f64 + 6.0;
        let _ = write!(
            out,
            "<rect x=\"{xx:.1}\" y=\"{ry:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{c}\"/><text x=\"{cx:.1}\" y=\"{vy:.1}\" text-anchor=\"middle\" font-size=\"11\">{n}</text><text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" font-size=\"11\">{l}</text>",
            ry = top + ph - bh,
            bw = slot - 12.0,
            c = PALETTE[2],
            cx = xx + (slot - 12.0) / 2.0,
            vy = top + ph - bh - 4.0,
            n = bin.items,
            ly = top + ph + 16.0,
            l = esc(&bin_label(bin)),
        );
    }
    out.push_str("</svg>");
    out
}

/// Most platforms the spread graph draws (those with the most items);
/// the tables list them all.
pub const GRAPH_MAX_NODES: usize = 40;
/// Most edges the spread graph draws (the heaviest, half of each kind).
pub const GRAPH_MAX_EDGES: usize = 150;

/// The spread graph: platforms on a circle (in id order, the largest
/// [`GRAPH_MAX_NODES`] only), node area by items, outlinks as arrows and
/// shared content as dashed lines, width by weight.
pub fn spread_graph(spread: &Spread) -> String {
    let (w, h) = (760.0, 720.0);
    let (cx, cy, r) = (w / 2.0, h / 2.0, 200.0);
    let mut nodes: Vec<_> = spread.nodes.iter().collect();
    nodes.sort_by(|a, b| {
        b.items
            .cmp(&a.items)
            .then(a.platform_id.cmp(&b.platform_id))
    });
    nodes.truncate(GRAPH_MAX_NODES);
    nodes.sort_by_key(|n| n.platform_id);
    let n = nodes.len().max(1) as f64;
    let pos: HashMap<i64, (f64, f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
            (node.platform_id, (cx + r * a.cos(), cy + r * a.sin(), a))
        })
        .collect();
    let max_items = nodes.iter().map(|n| n.items).max().unwrap_or(0).max(1) as f64;
    let max_weight = spread
        .edges
        .iter()
        .map(|e| e.weight)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut out = open(w, h, "Cross-platform spread: outlinks and shared content");
    let _ = write!(
        out,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{c}\"/></marker></defs>",
        c = PALETTE[0]
    );
    // The heaviest edges between drawn nodes only, so that a campaign
    // where everything links to everything still reads.
    let mut edges: Vec<_> = spread
        .edges
        .iter()
        .filter(|e| pos.contains_key(&e.from) && pos.contains_key(&e.to))
        .collect();
    edges.sort_by(|a, b| {
        b.weight
            .cmp(&a.weight)
            .then(a.kind.cmp(&b.kind))
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    // Half the budget for each kind, so shared content cannot crowd out
    // the outlinks.
    let mut drawn = [0usize; 2];
    edges.retain(|e| {
        let k = &mut drawn[usize::from(e.kind == EdgeKind::SharedContent)];
        *k += 1;
        *k <= GRAPH_MAX_EDGES / 2
    });
    for e in edges {
        let (Some(&(x1, y1, _)), Some(&(x2, y2, _))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let sw = 1.0 + 4.0 * e.weight as f64 / max_weight;
        match e.kind {
            EdgeKind::Outlink => {
                // Stop short of the target's centre so the arrow shows.
                let (dx, dy) = (x2 - x1, y2 - y1);
                let len = (dx * dx + dy * dy).sqrt().max(1.0);
                let k = (len - 14.0).max(0.0) / len;
                let _ = write!(
                    out,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" stroke=\"{c}\" stroke-opacity=\"0.55\" stroke-width=\"{sw:.1}\" marker-end=\"url(#arrow)\"><title>{w} outlinks</title></line>",
                    ex = x1 + dx * k,
                    ey = y1 + dy * k,
                    c = PALETTE[0],
                    w = e.weight
                );
            }
            EdgeKind::SharedContent => {
                let _ = write!(
                    out,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{c}\" stroke-opacity=\"0.55\" stroke-dasharray=\"5 4\" stroke-width=\"{sw:.1}\"><title>{w} shared contents</title></line>",
                    c = PALETTE[1],
                    w = e.weight
                );
            }
        }
    }
    for node in &nodes {
        let Some(&(x, y, a)) = pos.get(&node.platform_id) else {
            continue;
        };
        let radius = 3.0 + 9.0 * (node.items as f64 / max_items).sqrt();
        // Labels point away from the centre, turned so that none reads
        // upside down.
        let (lx, ly) = (x + (radius + 5.0) * a.cos(), y + (radius + 5.0) * a.sin());
        let (deg, anchor) = if a.cos() >= -1e-9 {
            (a.to_degrees(), "start")
        } else {
            (a.to_degrees() + 180.0, "end")
        };
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1.5\"><title>{full}: {items} items ({kind})</title></circle><text transform=\"translate({lx:.1} {ly:.1}) rotate({deg:.1})\" dy=\"0.35em\" text-anchor=\"{anchor}\" font-size=\"11\">{l}</text>",
            full = esc(&node.name),
            items = node.items,
            kind = node.kind.as_str(),
            l = esc(&clip(&node.name, 22)),
        );
    }
    if nodes.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" font-size=\"13\">no platforms</text>"
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("منصة الفيديو الكبيرة", 6), "منصة …");
        assert_eq!(clip("short", 6), "short");
    }

    #[test]
    fn tick_steps_stay_few() {
        for max in [0.5, 1.0, 5.0, 30.0, 48.0, 500.0, 10_000.0, 1e6] {
            let s = hour_step(max);
            assert!(max / s <= 8.0 + 1e-9, "{max}: {s}");
        }
    }

    #[test]
    fn bin_labels_read_as_ranges() {
        let b = |from, to| HistogramBin {
            from_minutes: from,
            to_minutes: to,
            items: 0,
        };
        assert_eq!(bin_label(&b(0.0, Some(15.0))), "< 15 min");
        assert_eq!(bin_label(&b(60.0, Some(360.0))), "1 h–6 h");
        assert_eq!(bin_label(&b(4320.0, None)), "≥ 72 h");
    }
}
