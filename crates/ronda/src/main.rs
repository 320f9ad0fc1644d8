//! The `ronda` binary: command-line parsing, logging and exit codes. Each
//! subcommand lives in its own module under `commands`; this file only
//! dispatches.

use std::process::ExitCode;

use clap::Parser;

mod commands;
mod output;

use output::Outcome;

/// Ronda finds, matches, refers and tracks the removal of terrorist and
/// violent extremist content.
#[derive(Debug, Parser)]
#[command(name = "ronda", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print the signals (PDQ, MD5, SHA-256, text, URL) of files, texts and URLs.
    Hash(commands::hash::Args),
    /// Match files and signals against a bank file (`<signal_type> <value>` lines).
    Match(commands::matches::Args),
    /// Serve the HTTP API (HMA-compatible routes and /api/v1).
    Serve(commands::serve::Args),
    /// Replay a two-day action day across 52 simulated platforms and report on it.
    Demo(commands::demo::Args),
    /// Reports: a campaign's removal figures as JSON, CSV and HTML.
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// List, create, import and export banks of known content.
    #[command(subcommand)]
    Bank(commands::bank::BankCommand),
    /// The platform directory: list, add, seed the starter examples.
    #[command(subcommand)]
    Platform(commands::platform::PlatformCommand),
    /// Submit items (URLs and captured files), list them; campaigns.
    #[command(subcommand)]
    Item(commands::item::ItemCommand),
    /// The review queue: claim the next item, decide on one.
    #[command(subcommand)]
    Review(commands::review::ReviewCommand),
    /// Referrals and removal orders: list, create, move, record answers.
    #[command(subcommand)]
    Referral(commands::referral::ReferralCommand),
    /// Users, organisations, tokens and the audit log.
    #[command(subcommand)]
    Admin(commands::admin::AdminCommand),
    /// Benchmarks that print JSON lines comparable with ../shared/bench.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Hash(args) => commands::hash::run(args),
        Command::Match(args) => commands::matches::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Report(cmd) => commands::report::run(cmd),
        Command::Bank(cmd) => commands::bank::run(cmd),
        Command::Platform(cmd) => commands::platform::run(cmd),
        Command::Item(cmd) => commands::item::run(cmd),
        Command::Review(cmd) => commands::review::run(cmd),
        Command::Referral(cmd) => commands::referral::run(cmd),
        Command::Admin(cmd) => commands::admin::run(cmd),
        Command::Bench(cmd) => commands::bench::run(cmd).map(|()| Outcome::Found),
    };
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Outcome::Failed.exit_code())
        }
    }
}

/// Logs go to stderr, filtered by `RONDA_LOG` (default `warn`). sqlx's own
/// warnings are off by default: its slow-statement warning prints the whole
/// statement, bound values aside, which is noise for a bulk import.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RONDA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// A reader that stopped reading (`ronda hash ... | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
