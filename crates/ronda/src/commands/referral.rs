//! `ronda referral`: referrals and removal orders from the command line,
//! on the store directly: list, create (for an item or a whole campaign),
//! move by hand (e.g. `send` for a web form), and record a platform's
//! Annex II/III answer received by e-mail or phone.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use ronda_store::{
    ImpossibilityReason, Measure, NewReferral, NewResponse, ReferralEvent, ReferralFilter,
    ReferralKind, ReferralStatus, ReferralViewer, RemovalOrderSpec, ResponseKind, ResponseSource,
    Store,
};
use serde_json::{Value, json};

use super::review::viewer;
use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum ReferralCommand {
    /// List referrals and removal orders (JSON lines).
    List(ListArgs),
    /// Refer an item (to its platform, or a group-run platform's
    /// providers) or every assessed item of a campaign.
    Create(CreateArgs),
    /// Move a referral by hand: send, acknowledge, not_removed, dispute,
    /// clarification_received, force_majeure_ended, withdraw, ...
    Event(EventArgs),
    /// Record a platform's answer: Annex II (removed or disabled) or
    /// Annex III (impossible, with a reason).
    Respond(RespondArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    item: Option<i64>,
    #[arg(long)]
    platform: Option<String>,
    #[arg(long)]
    campaign: Option<String>,
    #[arg(long, value_parser = |s: &str| s.parse::<ReferralStatus>())]
    status: Option<ReferralStatus>,
    #[arg(long, value_parser = |s: &str| s.parse::<ReferralKind>())]
    kind: Option<ReferralKind>,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The item's id (or give --campaign).
    #[arg(required_unless_present = "campaign", conflicts_with = "campaign")]
    item: Option<i64>,
    /// Every assessed item of this campaign.
    #[arg(long)]
    campaign: Option<String>,
    /// The addressee (for a campaign: only its items on this platform).
    #[arg(long)]
    platform: Option<String>,
    /// A removal order: a JSON file with its Annex I fields (times in
    /// RFC 3339).
    #[arg(long, conflicts_with = "campaign")]
    order: Option<PathBuf>,
    /// An emergency removal order (no 12 hours' notice).
    #[arg(long, requires = "order")]
    emergency: bool,
    /// Queue for delivery through the platform's channel at once.
    #[arg(long)]
    queue: bool,
    /// Only this organisation's items.
    #[arg(long)]
    org: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct EventArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The referral's id.
    id: i64,
    #[arg(value_parser = |s: &str| s.parse::<ReferralEvent>())]
    event: ReferralEvent,
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RespondArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The referral's id.
    id: i64,
    /// ii (feedback) or iii (impossibility).
    #[arg(long, value_parser = ["ii", "iii"])]
    annex: String,
    /// Annex II: removed or disabled.
    #[arg(long, value_parser = |s: &str| s.parse::<Measure>())]
    measure: Option<Measure>,
    /// Annex II: when (RFC 3339; default now).
    #[arg(long)]
    measure_at: Option<jiff::Timestamp>,
    /// Annex III: force_majeure_or_de_facto_impossibility,
    /// manifest_errors or insufficient_information.
    #[arg(long, value_parser = |s: &str| s.parse::<ImpossibilityReason>())]
    reason: Option<ImpossibilityReason>,
    /// Annex III: why.
    #[arg(long)]
    explanation: Option<String>,
    #[arg(long)]
    authority_ref: Option<String>,
    #[arg(long)]
    platform_ref: Option<String>,
}

pub fn run(cmd: ReferralCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            ReferralCommand::List(args) => list(args).await,
            ReferralCommand::Create(args) => create(args).await,
            ReferralCommand::Event(args) => event(args).await,
            ReferralCommand::Respond(args) => respond(args).await,
        }
    })
}

async fn platform_id(store: &Store, name: Option<&str>) -> anyhow::Result<Option<i64>> {
    match name {
        None => Ok(None),
        Some(n) => Ok(Some(
            store
                .platform(n)
                .await?
                .with_context(|| format!("no platform {n:?}"))?
                .id,
        )),
    }
}

async fn campaign_id(store: &Store, name: &str) -> anyhow::Result<i64> {
    Ok(store
        .campaign(name)
        .await?
        .with_context(|| format!("no campaign {name:?}"))?
        .id)
}

async fn list(args: ListArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let mut filter = ReferralFilter {
        item_id: args.item,
        platform_id: platform_id(&store, args.platform.as_deref()).await?,
        status: args.status,
        kind: args.kind,
        limit: 1000,
        ..ReferralFilter::default()
    };
    if let Some(c) = &args.campaign {
        filter.campaign_id = Some(campaign_id(&store, c).await?);
    }
    let mut out = Printer::stdout();
    let mut count = 0;
    loop {
        let page = store
            .list_referrals(&filter, ReferralViewer::Everyone)
            .await?;
        let Some(last) = page.last() else { break };
        filter.after = last.id;
        for r in &page {
            out.line(&json!(r))?;
            count += 1;
        }
    }
    out.flush()?;
    Ok(if count > 0 {
        Outcome::Found
    } else {
        Outcome::NothingMatched
    })
}

/// An order file's times (RFC 3339) as the store's Unix ms.
fn read_order(path: &PathBuf) -> anyhow::Result<RemovalOrderSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let mut v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if let Some(obj) = v.as_object_mut() {
        for field in ["issued_at", "non_disclosure_until"] {
            if let Some(Value::String(s)) = obj.get(field) {
                let t: jiff::Timestamp = s.parse().with_context(|| {
                    format!("{}: {field} is not an RFC 3339 time", path.display())
                })?;
                obj.insert(field.to_owned(), json!(t.as_millisecond()));
            }
        }
    }
    serde_json::from_value(v)
        .with_context(|| format!("{}: not a removal order's Annex I fields", path.display()))
}

async fn create(args: CreateArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let viewer = viewer(&store, args.org.as_deref()).await?;
    let platform = platform_id(&store, args.platform.as_deref()).await?;
    let mut out = Printer::stdout();
    match (args.item, &args.campaign) {
        (Some(item), None) => {
            let order = args.order.as_ref().map(read_order).transpose()?;
            let new = NewReferral {
                item_id: item,
                platform_id: platform,
                kind: if order.is_some() {
                    ReferralKind::RemovalOrder
                } else {
                    ReferralKind::Referral
                },
                order,
                emergency: args.emergency,
                queue: args.queue,
            };
            let made = store
                .create_referrals(&new, viewer, &local_actor())
                .await
                .with_context(|| format!("could not refer item {item}"))?;
            for r in &made {
                out.line(&json!(r))?;
            }
        }
        (None, Some(c)) => {
            let id = campaign_id(&store, c).await?;
            let made = store
                .refer_campaign(id, platform, args.queue, viewer, &local_actor())
                .await
                .with_context(|| format!("could not refer campaign {c:?}"))?;
            for r in &made.created {
                out.line(&json!(r))?;
            }
            for (item, why) in &made.skipped {
                eprintln!("ronda: item {item} not referred: {why}");
            }
        }
        _ => bail!("give an item id or --campaign"),
    }
    out.flush()?;
    Ok(Outcome::Found)
}

async fn event(args: EventArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let r = store
        .transition_referral(
            args.id,
            args.event,
            args.note.as_deref(),
            ReferralViewer::Everyone,
            &local_actor(),
        )
        .await
        .with_context(|| format!("could not apply {} to referral {}", args.event, args.id))?;
    let mut out = Printer::stdout();
    out.line(&json!(r))?;
    out.flush()?;
    Ok(Outcome::Found)
}

async fn respond(args: RespondArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let response = NewResponse {
        kind: if args.annex == "ii" {
            ResponseKind::AnnexII
        } else {
            ResponseKind::AnnexIII
        },
        measure: args.measure,
        measure_at: args.measure_at.map(|t| t.as_millisecond()),
        reason: args.reason,
        explanation: args.explanation,
        authority_file_ref: args.authority_ref,
        platform_file_ref: args.platform_ref,
        received_at: None,
    };
    let r = store
        .record_response(
            args.id,
            &response,
            ResponseSource::Manual,
            ReferralViewer::Everyone,
            &local_actor(),
        )
        .await
        .with_context(|| format!("could not record the answer to referral {}", args.id))?;
    let mut out = Printer::stdout();
    out.line(&json!(r))?;
    out.flush()?;
    Ok(Outcome::Found)
}
