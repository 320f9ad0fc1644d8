//! `ronda platform`: the platform directory on the store directly: list,
//! add, and seed the shipped starter directory (idempotent: platforms that
//! exist, edited or not, are left alone).

use anyhow::Context as _;
use ronda_store::{ChannelKind, PlatformKind, PlatformSpec, ReferralChannel, starter_directory};
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum PlatformCommand {
    /// List the platform directory (JSON lines).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Add a platform.
    Add(AddArgs),
    /// Add the starter directory's example platforms (reserved example
    /// domains only) that are not there yet.
    Seed {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    store: StoreArgs,
    name: String,
    /// social, video, file_host, chat, forum, archive, paste, hosting,
    /// registrar, cdn or group_run.
    #[arg(long, value_parser = parse_kind)]
    kind: PlatformKind,
    /// A host name the platform serves (and its subdomains). Repeatable.
    #[arg(long = "domain", value_name = "HOST")]
    domains: Vec<String>,
    /// A `host/path-prefix` pattern, more specific than a domain. Repeatable.
    #[arg(long = "pattern", value_name = "HOST/PATH")]
    patterns: Vec<String>,
    /// How referrals reach it: api, email, web_form or manual.
    #[arg(long, value_parser = parse_channel, default_value = "manual")]
    channel: ChannelKind,
    /// The channel's URL or e-mail address.
    #[arg(long)]
    target: Option<String>,
    /// Contact point for TCO removal orders.
    #[arg(long)]
    tco_contact: Option<String>,
    /// Language of referrals (e.g. de).
    #[arg(long)]
    language: Option<String>,
    /// An HTTP status that means "removed". Repeatable.
    #[arg(long = "removed-status", value_name = "CODE")]
    removed_status: Vec<u16>,
    /// Text on a page that means "removed". Repeatable.
    #[arg(long = "removed-text", value_name = "TEXT")]
    removed_text: Vec<String>,
}

fn parse_kind(s: &str) -> Result<PlatformKind, String> {
    s.parse()
}

fn parse_channel(s: &str) -> Result<ChannelKind, String> {
    s.parse()
}

pub fn run(cmd: PlatformCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            PlatformCommand::List { store } => {
                let store = store.open().await?;
                let mut out = Printer::stdout();
                for p in store.list_platforms().await? {
                    out.line(&ronda_server::platform_json(&p))?;
                }
                out.flush()?;
                Ok(Outcome::Found)
            }
            PlatformCommand::Add(args) => add(args).await,
            PlatformCommand::Seed { store } => {
                let store = store.open().await?;
                let specs = starter_directory()?;
                let mut added = 0;
                for spec in &specs {
                    if store
                        .create_platform_if_absent(spec, &local_actor())
                        .await
                        .with_context(|| format!("could not add platform {}", spec.name))?
                        .is_some()
                    {
                        added += 1;
                    }
                }
                let mut out = Printer::stdout();
                out.line(&json!({ "added": added, "existing": specs.len() - added }))?;
                out.flush()?;
                Ok(Outcome::Found)
            }
        }
    })
}

async fn add(args: AddArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let mut spec = PlatformSpec::new(args.name, args.kind);
    spec.domains = args.domains;
    spec.url_patterns = args.patterns;
    spec.channel = ReferralChannel {
        kind: args.channel,
        target: args.target,
    };
    spec.tco_contact = args.tco_contact;
    spec.language = args.language;
    spec.removal.status_codes = args.removed_status;
    spec.removal.page_patterns = args.removed_text;
    let p = store.create_platform(&spec, &local_actor()).await?;
    let mut out = Printer::stdout();
    out.line(&ronda_server::platform_json(&p))?;
    out.flush()?;
    Ok(Outcome::Found)
}
