//! `ronda review`: the review queue from the command line, on the store
//! directly: claim the next item, decide on an item. Decisions are
//! recorded as the local user (`local:$USER` in the audit log).

use anyhow::Context as _;
use ronda_store::{ItemViewer, NewAssessment, Store, TcoReason, Verdict, parse_tco_reason};
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum ReviewCommand {
    /// Claim the next item to review (the highest priority first) and
    /// print it; exit 1 when the queue is empty.
    Next(NextArgs),
    /// Decide on an item: a verdict, and for terrorist content its TCO
    /// Art. 2(7) reason.
    Decide(DecideArgs),
}

#[derive(Debug, clap::Args)]
pub struct NextArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this organisation's items (default: every item).
    #[arg(long)]
    org: Option<String>,
    /// How long the claim lasts, in seconds.
    #[arg(long, default_value_t = 900)]
    lease: i64,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The item's id.
    item: i64,
    /// terrorist_content, not_terrorist_content or escalate.
    #[arg(long, value_parser = |s: &str| s.parse::<Verdict>())]
    verdict: Verdict,
    /// incites, solicits_to_commit, solicits_to_participate, instruction
    /// or threat (required for terrorist_content).
    #[arg(long, value_parser = |s: &str| parse_tco_reason(s))]
    reason: Option<TcoReason>,
    #[arg(long)]
    group: Option<String>,
    #[arg(long)]
    outlet: Option<String>,
    /// 1 (lowest) to 5 (highest).
    #[arg(long)]
    severity: Option<u8>,
    /// The content's language (e.g. ar, de).
    #[arg(long)]
    language: Option<String>,
    /// Notes, private to the organisation.
    #[arg(long)]
    notes: Option<String>,
    /// Only if the item is this organisation's.
    #[arg(long)]
    org: Option<String>,
}

pub fn run(cmd: ReviewCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            ReviewCommand::Next(args) => next(args).await,
            ReviewCommand::Decide(args) => decide(args).await,
        }
    })
}

/// The viewer for `--org`: that organisation's items, or all of them.
pub(crate) async fn viewer(store: &Store, org: Option<&str>) -> anyhow::Result<ItemViewer> {
    Ok(match org {
        None => ItemViewer::Everyone,
        Some(name) => ItemViewer::Org(Some(
            store
                .organisation_by_name(name)
                .await?
                .with_context(|| format!("no organisation {name:?}"))?
                .id,
        )),
    })
}

async fn next(args: NextArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let viewer = viewer(&store, args.org.as_deref()).await?;
    let task = store
        .claim_next_review(viewer, args.lease.saturating_mul(1000), &local_actor())
        .await
        .context("could not claim an item")?;
    let mut out = Printer::stdout();
    let outcome = match task {
        Some(t) => {
            out.line(&json!(t))?;
            Outcome::Found
        }
        None => {
            eprintln!("ronda: the review queue is empty");
            Outcome::NothingMatched
        }
    };
    out.flush()?;
    Ok(outcome)
}

async fn decide(args: DecideArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let viewer = viewer(&store, args.org.as_deref()).await?;
    let decision = NewAssessment {
        verdict: Some(args.verdict),
        reason: args.reason,
        group: args.group,
        outlet: args.outlet,
        severity: args.severity,
        language: args.language,
        notes: args.notes,
    };
    let a = store
        .decide_review(args.item, &decision, viewer, &local_actor())
        .await
        .with_context(|| format!("could not decide on item {}", args.item))?;
    let mut out = Printer::stdout();
    out.line(&json!(a))?;
    out.flush()?;
    Ok(Outcome::Found)
}
