//! `ronda demo`: a two-day action day across 52 simulated platforms,
//! replayed in about a minute against a real Ronda, then its report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use ronda_demo::driver::{self, CAMPAIGN, Options, Progress};
use ronda_demo::world::{DURATION, HOUR, START};

use super::report::{headline, write_report};
use super::store_args::runtime;
use crate::output::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fixes every random choice: the same seed gives the same run and the
    /// same report.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the report and exit instead of serving the UI.
    #[arg(long)]
    headless: bool,
    /// Where to write report.json, report.html, report.csv and items.csv
    /// (default: `report/` in the data directory).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Keep the demo's store here (an empty or new directory); `ronda serve
    /// --data-dir DIR` shows it later. Default: a temporary directory,
    /// removed at the end.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Where the UI and API listen after the run (without --headless).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    runtime()?.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<Outcome> {
    let temp;
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().context("could not create a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let out = args.out.clone().unwrap_or_else(|| data_dir.join("report"));
    let listen = if args.headless {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        args.listen
    };
    eprintln!(
        "ronda demo: seed {}; 52 simulated platforms on loopback; replaying a two-day action day",
        args.seed
    );
    let started = Instant::now();
    let options = Options {
        seed: args.seed,
        data_dir: data_dir.clone(),
        listen,
        posts: ronda_demo::world::TARGET_POSTS,
    };
    let finished = driver::run(&options, |p: &Progress| {
        if p.simulated % (6 * HOUR) == 0 && p.simulated > 0 {
            eprintln!(
                "  {:>2} h: {} submitted, {} reviewed, {} referred, {} orders, {} checks",
                p.simulated / HOUR,
                p.counts.submissions,
                p.counts.reviews,
                p.counts.referrals,
                p.counts.orders,
                p.counts.checks
            );
        }
    })
    .await?;
    let campaign = finished
        .store
        .campaign(CAMPAIGN)
        .await?
        .context("the demo's campaign is missing")?;
    let report =
        ronda_server::report::campaign_report(&finished.store, &campaign, START + DURATION).await?;
    write_report(&report, &out)?;
    let line = headline(&report);
    eprintln!(
        "ronda demo: done in {:.1} s; report in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    println!("{line}");
    if args.headless {
        finished.shutdown().await?;
        return Ok(Outcome::Found);
    }
    eprintln!(
        "ronda demo: the UI is at http://{api}/ui/reports (log in as `demo`, password {}); \
         the API at http://{api}/api/v1 (admin token {}); stop with Ctrl-C",
        finished.ui_password,
        finished.admin_token,
        api = finished.api,
    );
    let _ = tokio::signal::ctrl_c().await;
    finished.shutdown().await?;
    Ok(Outcome::Found)
}
