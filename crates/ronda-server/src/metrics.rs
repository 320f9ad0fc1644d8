//! Prometheus metrics: requests and latencies per route, index sizes, and
//! the progress of imports writing to the store (from any process).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ronda_store::ImportProgress;

use crate::AppState;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → requests.
    requests: BTreeMap<(String, String, u16), u64>,
    /// (route, method) → latency.
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn record(&self, route: String, method: String, status: u16, seconds: f64) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *m.requests
            .entry((route.clone(), method.clone(), status))
            .or_default() += 1;
        let h = m.latency.entry((route, method)).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
    }

    /// The exposition text.
    pub fn render(&self, state: &AppState, imports: &[ImportProgress]) -> String {
        let mut out = String::new();
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP ronda_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE ronda_http_requests_total counter\n");
        for ((route, method, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "ronda_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP ronda_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE ronda_http_request_duration_seconds histogram\n");
        for ((route, method), h) in &m.latency {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            for (b, c) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "ronda_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {c}"
                );
            }
            let _ = writeln!(
                out,
                "ronda_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "ronda_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ronda_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        drop(m);
        let s = state.matcher.status();
        out.push_str("# HELP ronda_index_signals Signals in this node's in-memory indexes.\n");
        out.push_str("# TYPE ronda_index_signals gauge\n");
        let mut sizes: Vec<_> = s.sizes.iter().collect();
        sizes.sort();
        for (t, n) in sizes {
            let _ = writeln!(out, "ronda_index_signals{{signal_type=\"{t}\"}} {n}");
        }
        out.push_str("# HELP ronda_index_entries Live bank entries known to this node.\n");
        out.push_str("# TYPE ronda_index_entries gauge\n");
        let _ = writeln!(out, "ronda_index_entries {}", s.entries);
        out.push_str("# HELP ronda_index_pdq_memory_bytes Memory held by the PDQ index.\n");
        out.push_str("# TYPE ronda_index_pdq_memory_bytes gauge\n");
        let _ = writeln!(out, "ronda_index_pdq_memory_bytes {}", s.pdq_memory_bytes);
        out.push_str("# HELP ronda_index_change_seq Change sequence applied by this node.\n");
        out.push_str("# TYPE ronda_index_change_seq gauge\n");
        let _ = writeln!(out, "ronda_index_change_seq {}", s.cursor.seq);
        out.push_str("# HELP ronda_index_ready Whether the index has caught up once.\n");
        out.push_str("# TYPE ronda_index_ready gauge\n");
        let _ = writeln!(out, "ronda_index_ready {}", u8::from(s.ready));
        out.push_str(
            "# HELP ronda_index_from_snapshot Whether the index started from this node's snapshot.\n",
        );
        out.push_str("# TYPE ronda_index_from_snapshot gauge\n");
        let _ = writeln!(
            out,
            "ronda_index_from_snapshot {}",
            u8::from(s.from_snapshot)
        );
        render_imports(&mut out, imports);
        out
    }
}

/// Imports that have committed a batch and not finished, by source.
fn render_imports(out: &mut String, imports: &[ImportProgress]) {
    out.push_str("# HELP ronda_imports_in_progress Imports that have not finished.\n");
    out.push_str("# TYPE ronda_imports_in_progress gauge\n");
    let _ = writeln!(out, "ronda_imports_in_progress {}", imports.len());
    out.push_str("# HELP ronda_import_records Records an unfinished import has committed.\n");
    out.push_str("# TYPE ronda_import_records gauge\n");
    for i in imports {
        let labels = import_labels(i);
        let _ = writeln!(out, "ronda_import_records{{{labels}}} {}", i.records);
    }
    out.push_str("# HELP ronda_import_bytes_done Bytes an unfinished import has read.\n");
    out.push_str("# TYPE ronda_import_bytes_done gauge\n");
    for i in imports {
        if let Some(b) = i.bytes_done {
            let _ = writeln!(out, "ronda_import_bytes_done{{{}}} {b}", import_labels(i));
        }
    }
    out.push_str("# HELP ronda_import_bytes_total Size of an unfinished import's source.\n");
    out.push_str("# TYPE ronda_import_bytes_total gauge\n");
    for i in imports {
        if let Some(b) = i.bytes_total {
            let _ = writeln!(out, "ronda_import_bytes_total{{{}}} {b}", import_labels(i));
        }
    }
    out.push_str(
        "# HELP ronda_import_updated_seconds When an unfinished import last committed (Unix time).\n",
    );
    out.push_str("# TYPE ronda_import_updated_seconds gauge\n");
    for i in imports {
        let _ = writeln!(
            out,
            "ronda_import_updated_seconds{{{}}} {}",
            import_labels(i),
            i.updated_at as f64 / 1000.0
        );
    }
}

fn import_labels(i: &ImportProgress) -> String {
    format!(
        "bank=\"{}\",source=\"{}\"",
        escape_label(&i.bank),
        escape_label(&i.source)
    )
}

/// A label value as the exposition format wants it.
fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// `GET /metrics`. A store that cannot be read leaves out the import
/// figures rather than failing the scrape.
pub async fn handler(State(state): State<AppState>) -> Response {
    let imports = match state.store.imports_in_progress().await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "could not read import progress for /metrics");
            Vec::new()
        }
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&state, &imports),
    )
        .into_response()
}

/// Middleware that records every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    state.metrics.record(
        route,
        method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}
