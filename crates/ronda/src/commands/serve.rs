//! `ronda serve`: the HTTP API on the embedded store or PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use ronda_fetch::{FetchPolicy, IpCidr};
use ronda_server::{AppState, ServerConfig, SnapshotPolicy};

use super::store_args::{StoreArgs, runtime};
use crate::output::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "RONDA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address blocks that `url=` fetches may reach although they are not
    /// public (e.g. 127.0.0.1/32 for a local test server). Repeatable.
    #[arg(long = "allow-fetch", value_name = "CIDR")]
    allow_fetch: Vec<IpCidr>,
    /// Largest request body, uploads included, in bytes.
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Time limit per request, in seconds.
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Requests handled at once; more wait.
    #[arg(long, default_value_t = 1024)]
    max_concurrency: usize,
    /// How often, in seconds, the node rewrites its index snapshot
    /// (`index.snapshot` in the data directory) while changes arrive; it
    /// also writes one when it stops, and starts from it next time. 0: no
    /// snapshot, every start loads all entries from the store.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    snapshot_every: u64,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let mut fetch = FetchPolicy::default();
    for block in &args.allow_fetch {
        fetch = fetch.allow(*block);
    }
    let config = ServerConfig {
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.request_timeout),
        max_concurrency: args.max_concurrency,
        fetch,
        blob_dir: Some(args.store.data_dir.join("blobs")),
        snapshot: (args.snapshot_every > 0).then(|| SnapshotPolicy {
            every: Duration::from_secs(args.snapshot_every),
            ..SnapshotPolicy::in_dir(&args.store.data_dir)
        }),
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), config).context("could not set up the server")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "ronda: serving on http://{addr} ({} store); stop with Ctrl-C",
        store.backend().as_str()
    );
    if store.list_tokens().await?.is_empty() {
        eprintln!(
            "ronda: no API tokens yet; create one with `ronda admin token create --role admin --data-dir {}`",
            args.store.data_dir.display()
        );
    }
    ronda_server::serve(state, listener, shutdown_signal())
        .await
        .context("server failed")?;
    store.close().await;
    eprintln!("ronda: stopped");
    Ok(Outcome::Found)
}

/// Ctrl-C or SIGTERM: stop accepting, finish requests in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("ronda: shutting down, finishing requests in flight");
}
