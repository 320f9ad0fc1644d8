//! Ronda's HTTP server: the HMA-compatible routes (`/h`, `/m`, `/c`,
//! `/status`), the native API under `/api/v1` with its OpenAPI document,
//! and `/metrics`; all answered from one node's in-memory indexes, which
//! follow the store's change feed.

mod api;
mod auth;
pub mod collect;
pub mod delivery;
pub mod dsa;
mod error;
mod hashing;
mod hma;
mod items;
mod jobs;
pub mod liveness;
mod matcher;
mod metrics;
mod openapi;
pub mod report;
pub mod ui;
pub mod workers;
mod workflow;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware;
use axum::routing::MethodRouter;
use ronda_fetch::{FetchPolicy, Fetcher};
use ronda_media::signals::HashOptions;
use ronda_store::{Role, Store};
use tower_http::timeout::TimeoutLayer;

pub use items::{added_json, item_json, platform_json};
pub use matcher::{IndexStatus, Matcher, POLL_INTERVAL, SnapshotError, SnapshotPolicy};
pub use workflow::{referral_json, referral_viewer};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body (uploads included), in bytes.
    pub max_body_bytes: usize,
    /// Time limit for one request; past it the answer is 408.
    pub request_timeout: Duration,
    /// Requests handled at once; more wait their turn.
    pub max_concurrency: usize,
    /// Where `url=` parameters may be fetched from.
    pub fetch: FetchPolicy,
    /// Limits for decoding and hashing uploads.
    pub hash: HashOptions,
    /// PDQ match radius (HMA's threshold: 31).
    pub pdq_radius: u32,
    /// `/status` says `INDEX-STALE` when the last successful sync is older.
    pub max_index_staleness: Duration,
    /// Where the node keeps its index snapshot; `None`: it loads every
    /// entry from the store at start-up.
    pub snapshot: Option<SnapshotPolicy>,
    /// Where captured files are archived (the data directory's `blobs/`);
    /// `None`: items are hashed and recorded, their bytes not kept.
    pub blob_dir: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_body_bytes: 64 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_concurrency: 1024,
            fetch: FetchPolicy::default(),
            hash: HashOptions::default(),
            pdq_radius: 31,
            max_index_staleness: Duration::from_secs(65),
            snapshot: None,
            blob_dir: None,
        }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub matcher: Arc<Matcher>,
    pub config: Arc<ServerConfig>,
    tokens: Arc<auth::TokenCache>,
    metrics: Arc<metrics::Metrics>,
    jobs: Arc<jobs::Jobs>,
    fetcher: Fetcher,
    blobs: Option<ronda_store::BlobStore>,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> Result<AppState, ronda_fetch::FetchError> {
        let fetcher = Fetcher::new(config.fetch.clone())?;
        let blobs = match &config.blob_dir {
            None => None,
            Some(dir) => match ronda_store::BlobStore::open(dir) {
                Ok(b) => Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "the blob store cannot be opened; captures are not archived");
                    None
                }
            },
        };
        Ok(AppState {
            store,
            matcher: Arc::new(Matcher::with_snapshot(config.snapshot.clone())),
            config: Arc::new(config),
            tokens: Arc::default(),
            metrics: Arc::default(),
            jobs: Arc::default(),
            fetcher,
            blobs,
        })
    }

    /// Lookups answer 503 until the index has caught up with the store.
    pub(crate) fn ensure_ready(&self) -> error::ApiResult<()> {
        if self.matcher.is_ready() {
            Ok(())
        } else {
            Err(error::ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "index not yet ready",
            ))
        }
    }
}

/// One route: where, who may call it, and what it does (for the OpenAPI
/// document).
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    /// Empty: no token needed (health, metrics, the OpenAPI document).
    pub roles: &'static [Role],
    pub summary: &'static str,
}

/// Roles that read banks and everything else that is not secret.
pub const READ: &[Role] = &Role::ALL;
/// Roles that look content up.
pub const MATCH: &[Role] = &[Role::Admin, Role::Analyst, Role::Reviewer, Role::Platform];
/// Roles that change banks.
pub const CURATE: &[Role] = &[Role::Admin, Role::Analyst];
/// Roles that read the audit log.
pub const AUDIT: &[Role] = &[Role::Admin, Role::Auditor];
/// Roles that read items, campaigns and the platform directory.
pub const ITEMS: &[Role] = &[Role::Admin, Role::Analyst, Role::Reviewer, Role::Auditor];
/// The referral unit's staff, for POST routes that change nothing.
pub const WORK: &[Role] = &[Role::Admin, Role::Analyst, Role::Reviewer];
/// Roles that claim and decide review work.
pub const REVIEW: &[Role] = &[Role::Admin, Role::Analyst, Role::Reviewer];
/// Roles that answer referrals: the referral unit's staff by hand, and
/// platforms for their own.
pub const RESPOND: &[Role] = &[Role::Admin, Role::Analyst, Role::Platform];
/// Only administrators.
pub const ADMIN: &[Role] = &[Role::Admin];
/// No token needed.
pub const PUBLIC: &[Role] = &[];

type Route = (RouteSpec, MethodRouter<AppState>);

fn spec(
    method: Method,
    path: &'static str,
    roles: &'static [Role],
    summary: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        roles,
        summary,
    }
}

/// Every route the server answers, with its roles.
fn routes() -> Vec<Route> {
    let mut all = hma::routes();
    all.extend(api::routes());
    all.extend(items::routes());
    all.extend(jobs::routes());
    all.extend(workflow::routes());
    all
}

/// The table of routes (for tests and documentation).
pub fn route_specs() -> Vec<RouteSpec> {
    routes().into_iter().map(|(s, _)| s).collect()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (spec, handler) in routes() {
        let handler = if spec.roles.is_empty() {
            handler
        } else {
            let guard = auth::Guard {
                state: state.clone(),
                roles: spec.roles,
            };
            handler.route_layer(middleware::from_fn_with_state(guard, auth::guard))
        };
        router = router.route(spec.path, handler);
    }
    let config = state.config.clone();
    // One semaphore for the whole server (a tower layer on the router would
    // make one per route).
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_concurrency));
    // The web UI has its own error pages, so it joins outside json_errors.
    let ui = ui::router(state.clone(), permits.clone());
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(middleware::from_fn_with_state(permits, limit_concurrency))
        .layer(middleware::from_fn(error::json_errors))
        .with_state(state)
        .merge(ui)
}

/// Holds one of the server's permits while a request runs; health checks
/// go through even when the server is saturated.
async fn limit_concurrency(
    axum::extract::State(permits): axum::extract::State<Arc<tokio::sync::Semaphore>>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    if req.uri().path().starts_with("/status") {
        return next.run(req).await;
    }
    let _permit = permits.acquire().await;
    next.run(req).await
}

/// Serves on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. The index starts following the store at once;
/// `/status` answers 503 until it has caught up.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let follower = {
        let matcher = state.matcher.clone();
        let store = state.store.clone();
        tokio::spawn(async move { matcher.follow(store, stop_rx).await })
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = follower.await;
    result
}
