//! `ronda item`: submit items (one, or a CSV of them), list them, and
//! manage campaigns, on the store directly. Capture is the server's own
//! (`ronda_server::collect`): fetched SSRF-safely unless a file is given,
//! archived in the data directory's `blobs/`, hashed, matched against the
//! banks (from the node's index snapshot when there is one, then the
//! store's changes), assigned to its platform and deconflicted.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ronda_fetch::{FetchPolicy, Fetcher, IpCidr};
use ronda_server::collect::{Capturer, Submission};
use ronda_server::{Matcher, SnapshotPolicy};
use ronda_store::{BlobStore, ItemFilter, ItemViewer, NewCampaign, Store};
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

/// Largest file `--file` or an import line may name.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Longest CSV line accepted.
const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum ItemCommand {
    /// Submit one item: a URL, and the file found there if you have it.
    Add(AddArgs),
    /// Submit the items of a CSV file with columns url,file,note,campaign
    /// (a header line is optional); bad lines are reported as FILE:LINE.
    Import(ImportArgs),
    /// List items (JSON lines).
    List(ListArgs),
    /// Create or list campaigns (action days).
    #[command(subcommand)]
    Campaign(CampaignCommand),
}

#[derive(Debug, clap::Args)]
pub struct CaptureArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The submitting organisation (must exist: `ronda admin org create`).
    #[arg(long)]
    org: Option<String>,
    /// Address blocks fetches may reach although they are not public (e.g.
    /// 127.0.0.1/32 for a local test server). Repeatable.
    #[arg(long = "allow-fetch", value_name = "CIDR")]
    allow_fetch: Vec<IpCidr>,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    capture: CaptureArgs,
    url: String,
    /// The file captured at the URL (otherwise the URL is fetched).
    #[arg(long)]
    file: Option<PathBuf>,
    /// A note, private to the organisation.
    #[arg(long)]
    note: Option<String>,
    /// The campaign (must exist: `ronda item campaign create`).
    #[arg(long)]
    campaign: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    capture: CaptureArgs,
    /// The CSV file; `file` paths in it are relative to its directory.
    csv: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    campaign: Option<String>,
    /// Only this organisation's items.
    #[arg(long)]
    org: Option<String>,
    /// Leave out submissions recorded as duplicates.
    #[arg(long)]
    first_only: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        /// When it starts (RFC 3339).
        #[arg(long)]
        starts: Option<jiff::Timestamp>,
        /// When it ends (RFC 3339).
        #[arg(long)]
        ends: Option<jiff::Timestamp>,
    },
    /// List campaigns (JSON lines).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(cmd: ItemCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            ItemCommand::Add(args) => add(args).await,
            ItemCommand::Import(args) => import(args).await,
            ItemCommand::List(args) => list(args).await,
            ItemCommand::Campaign(c) => campaign(c).await,
        }
    })
}

/// What a capture from the command line needs, set up once.
struct Setup {
    store: Store,
    blobs: BlobStore,
    fetcher: Fetcher,
    matcher: Matcher,
    org_id: Option<i64>,
}

impl Setup {
    async fn new(args: &CaptureArgs) -> anyhow::Result<Setup> {
        let store = args.store.open().await?;
        let org_id = match &args.org {
            None => None,
            Some(name) => Some(
                store
                    .organisation_by_name(name)
                    .await?
                    .with_context(|| format!("no organisation {name:?}"))?
                    .id,
            ),
        };
        let blobs = BlobStore::open(&args.store.data_dir.join("blobs"))?;
        let mut policy = FetchPolicy::default();
        for block in &args.allow_fetch {
            policy = policy.allow(*block);
        }
        let fetcher = Fetcher::new(policy).context("could not set up fetching")?;
        let matcher = Matcher::with_snapshot(Some(SnapshotPolicy::in_dir(&args.store.data_dir)));
        matcher
            .sync(&store)
            .await
            .context("could not load the banks")?;
        Ok(Setup {
            store,
            blobs,
            fetcher,
            matcher,
            org_id,
        })
    }

    fn capturer(&self) -> Capturer<'_> {
        Capturer {
            store: &self.store,
            blobs: Some(&self.blobs),
            fetcher: &self.fetcher,
            matcher: &self.matcher,
            hash: ronda_media::signals::HashOptions::default(),
            pdq_radius: 31,
        }
    }

    async fn campaign_id(&self, name: Option<&str>) -> anyhow::Result<Option<i64>> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(n) => Ok(Some(
                self.store
                    .campaign(n)
                    .await?
                    .with_context(|| {
                        format!("no campaign {n:?} (create it with `ronda item campaign create`)")
                    })?
                    .id,
            )),
        }
    }

    /// Captures one item and prints it.
    async fn submit(
        &self,
        out: &mut Printer,
        url: &str,
        file: Option<&Path>,
        note: Option<String>,
        campaign: Option<&str>,
    ) -> anyhow::Result<()> {
        let campaign_id = self.campaign_id(campaign).await?;
        let bytes = file.map(read_file).transpose()?;
        let submission = Submission {
            url: url.to_owned(),
            bytes,
            campaign_id,
            note,
            org_id: self.org_id,
            user_id: None,
        };
        let captured = self
            .capturer()
            .capture(submission, &local_actor())
            .await
            .map_err(anyhow::Error::from)?;
        out.line(&ronda_server::added_json(
            &captured.added,
            captured.capture_error.as_deref(),
        ))?;
        Ok(())
    }
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!(
            "{}: over the limit of {MAX_FILE_BYTES} bytes",
            path.display()
        );
    }
    Ok(bytes)
}

async fn add(args: AddArgs) -> anyhow::Result<Outcome> {
    let setup = Setup::new(&args.capture).await?;
    let mut out = Printer::stdout();
    setup
        .submit(
            &mut out,
            &args.url,
            args.file.as_deref(),
            args.note,
            args.campaign.as_deref(),
        )
        .await?;
    out.flush()?;
    Ok(Outcome::Found)
}

/// One line of an import.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    url: String,
    file: Option<String>,
    note: Option<String>,
    campaign: Option<String>,
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else {
            match c {
                '"' if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                '"' => return Err("a quote inside an unquoted field".into()),
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                c if was_quoted => return Err(format!("{c:?} after a closing quote")),
                c => field.push(c),
            }
        }
    }
    if quoted {
        return Err("an unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

fn parse_row(line: &str) -> Result<Row, String> {
    if line.len() > MAX_LINE_BYTES {
        return Err(format!("line over {MAX_LINE_BYTES} bytes"));
    }
    let fields = split_csv(line)?;
    if fields.len() > 4 {
        return Err(format!(
            "{} columns; expected url,file,note,campaign",
            fields.len()
        ));
    }
    let get = |i: usize| {
        fields
            .get(i)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let url = get(0).ok_or("no url")?;
    Ok(Row {
        url,
        file: get(1),
        note: get(2),
        campaign: get(3),
    })
}

async fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    let setup = Setup::new(&args.capture).await?;
    let name = args.csv.display().to_string();
    let reader = BufReader::new(File::open(&args.csv).with_context(|| name.clone())?);
    let base = args.csv.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut out = Printer::stdout();
    let (mut good, mut bad) = (0u64, 0u64);
    for (n, line) in reader.split(b'\n').enumerate() {
        let n = n + 1;
        let line = line.with_context(|| format!("{name}:{n}"))?;
        let Ok(line) = String::from_utf8(line) else {
            eprintln!("{name}:{n}: not UTF-8");
            bad += 1;
            continue;
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let row = match parse_row(line) {
            Ok(r) if n == 1 && r.url == "url" => continue,
            Ok(r) => r,
            Err(e) => {
                eprintln!("{name}:{n}: {e}");
                bad += 1;
                continue;
            }
        };
        let file = row.file.as_ref().map(|f| base.join(f));
        match setup
            .submit(
                &mut out,
                &row.url,
                file.as_deref(),
                row.note,
                row.campaign.as_deref(),
            )
            .await
        {
            Ok(()) => good += 1,
            Err(e) => {
                eprintln!("{name}:{n}: {e:#}");
                bad += 1;
            }
        }
    }
    out.flush()?;
    eprintln!("ronda: {good} items submitted, {bad} bad lines");
    Ok(if bad > 0 {
        Outcome::Failed
    } else {
        Outcome::Found
    })
}

async fn list(args: ListArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let mut filter = ItemFilter {
        first_reports_only: args.first_only,
        limit: 1000,
        ..ItemFilter::default()
    };
    if let Some(c) = &args.campaign {
        filter.campaign_id = Some(
            store
                .campaign(c)
                .await?
                .with_context(|| format!("no campaign {c:?}"))?
                .id,
        );
    }
    if let Some(o) = &args.org {
        filter.org_id = Some(
            store
                .organisation_by_name(o)
                .await?
                .with_context(|| format!("no organisation {o:?}"))?
                .id,
        );
    }
    let mut out = Printer::stdout();
    // The command runs on the store's own machine: it sees everything, as
    // an administrator does.
    loop {
        let page = store.list_items(&filter, ItemViewer::Everyone).await?;
        for v in &page {
            out.line(&ronda_server::item_json(v))?;
        }
        match page.last() {
            Some(v) if page.len() as i64 == filter.limit => filter.after = v.item.id,
            _ => break,
        }
    }
    out.flush()?;
    Ok(Outcome::Found)
}

async fn campaign(cmd: CampaignCommand) -> anyhow::Result<Outcome> {
    let mut out = Printer::stdout();
    match cmd {
        CampaignCommand::Create {
            store,
            name,
            starts,
            ends,
        } => {
            let store = store.open().await?;
            let c = store
                .create_campaign(
                    &NewCampaign {
                        name,
                        starts_at: starts.map(|t| t.as_millisecond()),
                        ends_at: ends.map(|t| t.as_millisecond()),
                    },
                    &local_actor(),
                )
                .await?;
            out.line(&json!(c))?;
        }
        CampaignCommand::List { store } => {
            let store = store.open().await?;
            for c in store.list_campaigns().await? {
                out.line(&json!(c))?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_split_with_quotes() {
        assert_eq!(
            parse_row(r#"https://a.example/1,,"a note, with a comma and ""quotes""",Day"#),
            Ok(Row {
                url: "https://a.example/1".into(),
                file: None,
                note: Some(r#"a note, with a comma and "quotes""#.into()),
                campaign: Some("Day".into()),
            })
        );
        assert_eq!(
            parse_row("https://a.example/2").map(|r| r.url),
            Ok("https://a.example/2".into())
        );
        assert!(parse_row(",x.jpg").is_err());
        assert!(parse_row("a,b,c,d,e").is_err());
        assert!(parse_row(r#"a,"unterminated"#).is_err());
        assert!(parse_row(r#"a,"x"y"#).is_err());
        assert!(parse_row(r#"a,x"y"#).is_err());
    }
}
