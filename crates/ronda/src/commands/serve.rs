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
    /// Re-check a referred item's URL when its last check is older than
    /// this; 0 turns liveness checks off on this node.
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    recheck_after: u64,
    /// Deliver queued referrals from this node (API and e-mail channels).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    deliver: bool,
    /// SMTP server for referrals by e-mail (`host` or `host:port`, port
    /// 587 by default; STARTTLS is required unless the host is loopback).
    #[arg(long, env = "RONDA_SMTP", value_name = "HOST[:PORT]")]
    smtp: Option<String>,
    /// Sender address of referral e-mails.
    #[arg(long, env = "RONDA_SMTP_FROM", default_value = "ronda@localhost")]
    smtp_from: String,
    /// SMTP user name; the password is read from --smtp-password-file.
    #[arg(long, env = "RONDA_SMTP_USER")]
    smtp_user: Option<String>,
    #[arg(long, env = "RONDA_SMTP_PASSWORD_FILE", value_name = "FILE")]
    smtp_password_file: Option<std::path::PathBuf>,
}

/// The SMTP settings from the flags.
fn smtp_settings(args: &Args) -> anyhow::Result<Option<ronda_server::delivery::SmtpSettings>> {
    let Some(spec) = &args.smtp else {
        return Ok(None);
    };
    let (host, port) = match spec.rsplit_once(':') {
        Some((h, p)) => (
            h.to_owned(),
            p.parse::<u16>()
                .with_context(|| format!("invalid SMTP port in {spec:?}"))?,
        ),
        None => (spec.clone(), 587),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let password = match &args.smtp_password_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("could not read {}", f.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        ),
        None => None,
    };
    Ok(Some(ronda_server::delivery::SmtpSettings {
        host,
        port,
        starttls: !loopback,
        username: args.smtp_user.clone(),
        password,
        from: args.smtp_from.clone(),
    }))
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
    let smtp = smtp_settings(&args)?;
    let fetcher =
        ronda_fetch::Fetcher::new(config.fetch.clone()).context("could not set up fetching")?;
    let state = AppState::new(store.clone(), config).context("could not set up the server")?;
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let workers = (args.deliver || args.recheck_after > 0).then(|| {
        let settings = ronda_server::workers::WorkerSettings {
            recheck_after: i64::try_from(args.recheck_after)
                .unwrap_or(i64::MAX / 60_000)
                .saturating_mul(60_000),
            ..Default::default()
        };
        let workers = ronda_server::workers::Workers::new(
            store.clone(),
            ronda_server::delivery::Sender::new(fetcher.clone(), smtp),
            fetcher,
            settings,
        )
        .with_rounds(args.deliver, args.recheck_after > 0);
        tokio::spawn(workers.run(workers_stopped))
    });
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
    let _ = stop_workers.send(true);
    if let Some(w) = workers {
        let _ = w.await;
    }
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
