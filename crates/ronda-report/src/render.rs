//! Rendering a [`CampaignReport`] as text: JSON, two CSV tables, and one
//! self-contained HTML page ([`to_html`]). Every renderer is a pure function
//! of the report, so the same report gives the same bytes.

mod html;
mod svg;

pub use html::to_html;

use crate::compute::{CampaignReport, ClockFrom, ItemRow, Outcomes, PlatformRow};
use crate::input::Millis;

/// The report as pretty-printed JSON (`report.json`), the field names of
/// [`CampaignReport`]; times are Unix milliseconds, durations minutes,
/// shares fractions in 0..1, and a figure that has no value (a median of
/// nothing) is `null`, never NaN.
pub fn to_json(report: &CampaignReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("the report has string keys only, so it always serialises");
    text.push('\n');
    text
}

/// The per-platform table as CSV, one row per [`PlatformRow`] with the
/// header [`PLATFORM_COLUMNS`]; empty cells for figures without a value.
pub fn platforms_csv(report: &CampaignReport) -> String {
    let mut w = Csv::new(&PLATFORM_COLUMNS);
    for row in &report.per_platform {
        w.row(platform_fields(row));
    }
    w.finish()
}

pub const PLATFORM_COLUMNS: [&str; 18] = [
    "platform_id",
    "platform",
    "kind",
    "items",
    "referred",
    "removed",
    "removed_share",
    "median_minutes",
    "p90_minutes",
    "within_1h_share",
    "within_24h_share",
    "within_36h_share",
    "reuploads",
    "orders",
    "orders_on_time",
    "orders_late",
    "orders_overdue",
    "orders_impossible",
];

fn platform_fields(row: &PlatformRow) -> Vec<String> {
    let o: &Outcomes = &row.outcomes;
    vec![
        opt_int(row.platform_id),
        text(row.name.as_deref().unwrap_or("")),
        row.kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        o.items.to_string(),
        o.referred.to_string(),
        o.removed.to_string(),
        num(o.removed_share),
        num(o.time_to_removal_minutes.median),
        num(o.time_to_removal_minutes.p90),
        num(o.within_1h_share),
        num(o.within_24h_share),
        num(o.within_36h_share),
        o.reuploads.to_string(),
        row.orders.orders.to_string(),
        row.orders.on_time.to_string(),
        row.orders.late.to_string(),
        row.orders.overdue.to_string(),
        row.orders.impossible.to_string(),
    ]
}

/// One row per item as CSV, with the header [`ITEM_COLUMNS`]; times in
/// RFC 3339 UTC.
pub fn items_csv(report: &CampaignReport) -> String {
    let mut w = Csv::new(&ITEM_COLUMNS);
    for row in &report.item_rows {
        w.row(item_fields(row));
    }
    w.finish()
}

pub const ITEM_COLUMNS: [&str; 20] = [
    "item_id",
    "url",
    "organisation",
    "platform",
    "kind",
    "group",
    "content_key",
    "submitted_at",
    "duplicate_reports",
    "referrals",
    "first_referral_at",
    "order_deadline",
    "state",
    "removed_at",
    "last_live_at",
    "clock_from",
    "minutes_to_removal",
    "minutes_to_removal_lower",
    "reupload_of",
    "reupload",
];

fn item_fields(r: &ItemRow) -> Vec<String> {
    vec![
        r.item_id.to_string(),
        text(&r.url),
        text(r.organisation.as_deref().unwrap_or("")),
        text(r.platform.as_deref().unwrap_or("")),
        r.kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        text(r.group.as_deref().unwrap_or("")),
        text(r.content_key.as_deref().unwrap_or("")),
        rfc3339(r.submitted_at),
        r.duplicate_reports.to_string(),
        r.referrals.to_string(),
        r.first_referral_at.map(rfc3339).unwrap_or_default(),
        r.order_deadline.map(rfc3339).unwrap_or_default(),
        r.state.as_str().to_owned(),
        r.removed_at.map(rfc3339).unwrap_or_default(),
        r.last_live_at.map(rfc3339).unwrap_or_default(),
        match r.clock_from {
            ClockFrom::Referral => "referral",
            ClockFrom::Report => "report",
        }
        .to_owned(),
        num(r.minutes_to_removal),
        num(r.minutes_to_removal_lower),
        opt_int(r.reupload_of),
        if r.reupload_of.is_some() { "1" } else { "0" }.to_owned(),
    ]
}

/// A CSV table in memory, quoted by the `csv` crate (RFC 4180: a field
/// with a comma, quote or line break is quoted, quotes doubled).
struct Csv {
    writer: csv::Writer<Vec<u8>>,
}

impl Csv {
    fn new(header: &[&str]) -> Csv {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        writer
            .write_record(header)
            .expect("writing to memory cannot fail");
        Csv { writer }
    }

    fn row(&mut self, fields: Vec<String>) {
        self.writer
            .write_record(&fields)
            .expect("writing to memory cannot fail and every row has the header's length");
    }

    fn finish(self) -> String {
        let bytes = self
            .writer
            .into_inner()
            .expect("flushing to memory cannot fail");
        String::from_utf8(bytes).expect("every field is a String, so UTF-8")
    }
}

/// A user-provided text cell. One that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading `'`, the usual defence against CSV injection.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn opt_int(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A figure for a table: the shortest text that reads back as the same
/// number (Rust's `Display` for `f64`), empty for none.
fn num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Unix milliseconds as RFC 3339 in UTC with milliseconds, e.g.
/// `2026-11-29T11:40:28.000Z` (proleptic Gregorian calendar; Howard
/// Hinnant's days-to-civil algorithm).
pub fn rfc3339(ms: Millis) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (s, milli) = (in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_952_428_123), "2026-11-29T11:40:28.123Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(4_102_444_800_000), "2100-01-01T00:00:00.000Z");
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks() {
        let mut w = Csv::new(&["a", "b"]);
        w.row(vec!["x,y".into(), "say \"hi\"".into()]);
        w.row(vec!["two\nlines".into(), "plain".into()]);
        assert_eq!(
            w.finish(),
            "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",plain\r\n"
        );
    }

    #[test]
    fn formula_like_text_is_defused() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("@x"), "'@x");
        assert_eq!(text("https://example.com/a"), "https://example.com/a");
    }

    #[test]
    fn numbers_without_a_value_are_empty() {
        assert_eq!(num(None), "");
        assert_eq!(num(Some(f64::NAN)), "");
        assert_eq!(num(Some(0.5)), "0.5");
        assert_eq!(num(Some(3.0)), "3");
    }
}
