//! `ronda report campaign`: the campaign report from the store, as
//! `report.json`, `report.html`, `report.csv` (per platform) and
//! `items.csv` (per item).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ronda_report::CampaignReport;

use super::store_args::{StoreArgs, runtime};
use crate::output::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Write the report of one campaign (action day).
    Campaign(CampaignArgs),
}

#[derive(Debug, clap::Args)]
pub struct CampaignArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The campaign, by id or name.
    campaign: String,
    /// Where to write the files (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The report's moment (RFC 3339); default: now. Orders whose deadline
    /// passed before it without an answer count as overdue.
    #[arg(long, value_name = "TIME")]
    as_of: Option<jiff::Timestamp>,
}

pub fn run(cmd: ReportCommand) -> anyhow::Result<Outcome> {
    match cmd {
        ReportCommand::Campaign(args) => runtime()?.block_on(campaign(args)),
    }
}

async fn campaign(args: CampaignArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let campaigns = store.list_campaigns().await?;
    let campaign = campaigns
        .iter()
        .find(|c| c.id.to_string() == args.campaign || c.name == args.campaign)
        .with_context(|| format!("no campaign {:?} in this store", args.campaign))?;
    let as_of = args
        .as_of
        .map_or_else(|| store.now(), |t| t.as_millisecond());
    let report = ronda_server::report::campaign_report(&store, campaign, as_of).await?;
    write_report(&report, &args.out)?;
    println!("{}", headline(&report));
    store.close().await;
    Ok(Outcome::Found)
}

/// Writes the four report files into `dir`, each atomically.
pub fn write_report(report: &CampaignReport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    for (name, body) in [
        ("report.json", ronda_report::to_json(report)),
        ("report.html", ronda_report::to_html(report)),
        ("report.csv", ronda_report::platforms_csv(report)),
        ("items.csv", ronda_report::items_csv(report)),
    ] {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, body).with_context(|| format!("could not write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(())
}

/// The headline figures as one JSON line.
pub fn headline(r: &CampaignReport) -> serde_json::Value {
    serde_json::json!({
        "campaign": r.campaign.name,
        "platforms": r.platforms,
        "items": r.outcomes.items,
        "organisations": r.organisations,
        "referrals": r.referrals,
        "removal_orders": r.removal_orders,
        "removed_share": r.outcomes.removed_share,
        "time_to_removal_minutes": {
            "median": r.outcomes.time_to_removal_minutes.median,
            "p90": r.outcomes.time_to_removal_minutes.p90,
        },
        "within_1h_share": r.outcomes.within_1h_share,
        "within_24h_share": r.outcomes.within_24h_share,
        "reuploads": r.outcomes.reuploads,
        "orders_overdue": r.orders_overdue,
    })
}
