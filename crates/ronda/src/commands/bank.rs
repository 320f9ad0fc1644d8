//! `ronda bank`: list, create, import and export banks.
//!
//! Imports are idempotent (an entry already in the bank is left alone),
//! transactional per batch, and resumable: each batch commits together with
//! a checkpoint (the last line, or the API's checkpoint), so a run killed at
//! any point loses nothing it reported and the next run starts after the
//! last committed batch.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use ronda_exchange::{CsvReader, CsvWriter, LocalFileReader, LocalFileWriter, Record, TatClient};
use ronda_store::{
    Bank, ImportCheckpoint, ImportStats, Labels, MAX_BATCH, NewBank, NewEntry, Store,
};
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer, progress};

#[derive(Debug, clap::Subcommand)]
pub enum BankCommand {
    /// List banks with their entry counts (JSON lines).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create a bank.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        /// Create it disabled (lookups ignore it until enabled).
        #[arg(long)]
        disabled: bool,
    },
    /// Import a hash list into a bank: a ThreatExchange local_file, a
    /// python-threatexchange CSV, or the Tech Against Terrorism API.
    Import(ImportArgs),
    /// Export a bank as local_file lines or the python-threatexchange CSV.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Decide from the extension (.csv) or the first line.
    Auto,
    LocalFile,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The bank to import into.
    #[arg(long)]
    bank: String,
    /// Create the bank if it does not exist.
    #[arg(long)]
    create: bool,
    #[arg(long, value_enum, default_value = "auto")]
    format: Format,
    /// Read the Tech Against Terrorism hash-list API at this base URL
    /// instead of a file (credentials from RONDA_TAT_USERNAME and
    /// RONDA_TAT_PASSWORD).
    #[arg(long, value_name = "URL", conflicts_with = "file")]
    tat: Option<String>,
    /// Entries per transaction.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH as u64))]
    batch: u64,
    /// The file to import, or `-` for standard input.
    #[arg(required_unless_present = "tat")]
    file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long)]
    bank: String,
    #[arg(long, value_enum, default_value = "local-file")]
    format: Format,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(cmd: BankCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            BankCommand::List { store } => list(store).await,
            BankCommand::Create {
                store,
                name,
                disabled,
            } => {
                let store = store.open().await?;
                let mut bank = NewBank::named(name);
                bank.enabled = !disabled;
                let b = store.create_bank(&bank, &local_actor()).await?;
                eprintln!("ronda: created bank {} (id {})", b.name, b.id);
                Ok(Outcome::Found)
            }
            BankCommand::Import(args) => import(args).await,
            BankCommand::Export(args) => export(args).await,
        }
    })
}

async fn list(store: StoreArgs) -> anyhow::Result<Outcome> {
    let store = store.open().await?;
    let mut out = Printer::stdout();
    for b in store.list_banks().await? {
        let n = store.count_entries(b.id).await?;
        out.line(&json!({
            "name": b.name,
            "id": b.id,
            "enabled": b.enabled,
            "matching_enabled_ratio": b.matching_enabled_ratio,
            "entries": n,
            "labels": b.labels,
        }))?;
    }
    out.flush()?;
    Ok(Outcome::Found)
}

async fn bank_for_import(store: &Store, name: &str, create: bool) -> anyhow::Result<Bank> {
    match store.bank(name).await? {
        Some(b) => Ok(b),
        None if create => Ok(store
            .create_bank(&NewBank::named(name), &local_actor())
            .await?),
        None => bail!("bank {name:?} does not exist (pass --create to create it)"),
    }
}

/// A bank entry from an exchange record; `prefix` namespaces the source's
/// ids (`tat:123`).
fn to_entry(r: Record, prefix: &str, source: &str) -> NewEntry {
    let mut tags = r.tags;
    if let Some(i) = r.ideology {
        tags.push(format!("ideology:{i}"));
    }
    if let Some(t) = r.file_type {
        tags.push(format!("file_type:{t}"));
    }
    let mut entry = NewEntry::from_signal(r.signal);
    entry.external_id = r.external_id.map(|id| format!("{prefix}{id}"));
    entry.collab = r.collab;
    entry.source = Some(source.to_owned());
    entry.labels = Labels {
        category: r.category,
        tags,
        ..Labels::default()
    };
    entry
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn detect_format(path: Option<&Path>, first_line: &[u8]) -> Format {
    if path.is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))) {
        return Format::Csv;
    }
    let header = ronda_exchange::csv::HEADER.join(",");
    if first_line.trim_ascii().starts_with(header.as_bytes()) {
        Format::Csv
    } else {
        Format::LocalFile
    }
}

async fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    // Batches commit atomically; the whole import is synced to disk once,
    // before the summary is printed.
    let store = args
        .store
        .open_with(ronda_store::Durability::OnSync)
        .await?;
    let bank = bank_for_import(&store, &args.bank, args.create).await?;
    if let Some(url) = &args.tat {
        return import_tat(&store, &bank, url, args.batch as usize).await;
    }
    let Some(path) = args.file.as_deref() else {
        bail!("give a file to import, or --tat URL");
    };
    let start = Instant::now();
    let read = Arc::new(AtomicU64::new(0));
    let (reader, len, label, checkpoint_key): (Box<dyn Read + Send>, u64, String, Option<String>) =
        if path == Path::new("-") {
            (Box::new(io::stdin()), 0, "<stdin>".to_owned(), None)
        } else {
            let file =
                File::open(path).with_context(|| format!("could not open {}", path.display()))?;
            let meta = file.metadata()?;
            let canonical = std::fs::canonicalize(path)?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            // The checkpoint is valid only for the same file, unchanged.
            let key = format!(
                "file:{}:{}:{}:{}",
                bank.id,
                canonical.display(),
                meta.len(),
                modified
            );
            (
                Box::new(file),
                meta.len(),
                path.display().to_string(),
                Some(key),
            )
        };
    let mut reader = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: reader,
            read: read.clone(),
        },
    );
    let first = reader.fill_buf()?.to_vec();
    let first_line = first.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let format = match args.format {
        Format::Auto => detect_format(Some(path), first_line),
        f => f,
    };
    let resume_after: u64 = match &checkpoint_key {
        Some(k) => store
            .checkpoint(k)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        None => 0,
    };
    if resume_after > 0 {
        eprintln!("ronda: resuming {label} after line {resume_after}");
    }
    let bar = progress(len, "importing");
    let records: Box<dyn LineReader> = match format {
        Format::Csv => Box::new(CsvReader::new(reader)),
        _ => Box::new(LocalFileReader::new(reader)),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let batch_size = args.batch as usize;
    let label2 = label.clone();
    // Parsing is synchronous; it runs on its own thread and hands batches
    // to the writer, so reading and committing overlap.
    let parser =
        tokio::task::spawn_blocking(move || parse(records, batch_size, resume_after, &label2, tx));
    let mut stats = ImportStats::default();
    let actor = local_actor();
    while let Some(batch) = rx.recv().await {
        let checkpoint = batch.last_line.to_string();
        let cp = checkpoint_key.as_deref().map(|k| ImportCheckpoint {
            source: k,
            value: &checkpoint,
            bytes_done: Some(read.load(Ordering::Relaxed)),
            bytes_total: Some(len),
        });
        stats += store
            .import_batch(&bank, &batch.entries, &batch.removed, cp, &actor)
            .await
            .with_context(|| {
                format!(
                    "{label}: could not store the batch ending at line {}",
                    batch.last_line
                )
            })?;
        bar.set_position(read.load(Ordering::Relaxed));
    }
    let bad = parser.await.context("the parser thread failed")??;
    bar.finish_and_clear();
    if let Some(k) = &checkpoint_key {
        store.clear_checkpoint(k).await?;
    }
    store.sync_to_disk().await?;
    let seconds = start.elapsed().as_secs_f64();
    let mut out = Printer::stdout();
    out.line(&json!({
        "bank": bank.name,
        "file": label,
        "format": match format { Format::Csv => "csv", _ => "local_file" },
        "added": stats.added,
        "unchanged": stats.unchanged,
        "removed": stats.removed,
        "bad_lines": bad,
        "resumed_after_line": resume_after,
        "seconds": (seconds * 1000.0).round() / 1000.0,
    }))?;
    out.flush()?;
    if bad > 0 {
        eprintln!("ronda: {label}: {bad} bad lines skipped; the good ones were imported");
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Found)
}

/// What both file readers are.
trait LineReader: Iterator<Item = Result<Record, ronda_exchange::Error>> + Send {
    fn line(&self) -> u64;
}

impl<R: BufRead + Send> LineReader for LocalFileReader<R> {
    fn line(&self) -> u64 {
        LocalFileReader::line(self)
    }
}

impl<R: BufRead + Send> LineReader for CsvReader<R> {
    fn line(&self) -> u64 {
        CsvReader::line(self)
    }
}

struct Batch {
    entries: Vec<NewEntry>,
    removed: Vec<String>,
    last_line: u64,
}

/// Reads records into batches; reports bad lines on stderr; returns how
/// many were bad.
fn parse(
    mut records: Box<dyn LineReader>,
    batch_size: usize,
    resume_after: u64,
    label: &str,
    tx: tokio::sync::mpsc::Sender<Batch>,
) -> anyhow::Result<u64> {
    let mut bad = 0u64;
    let mut batch = Vec::with_capacity(batch_size);
    let stderr = io::stderr();
    loop {
        let next = records.next();
        let line = records.line();
        match next {
            None => break,
            Some(_) if line <= resume_after => continue,
            Some(Ok(r)) => batch.push(to_entry(r, "", "file")),
            Some(Err(ronda_exchange::Error::Line(e))) => {
                bad += 1;
                let _ = writeln!(stderr.lock(), "{label}:{}: {}", e.line, e.message);
            }
            Some(Err(e)) => {
                return Err(anyhow::Error::new(e).context(format!("{label}: import stopped")));
            }
        }
        if batch.len() >= batch_size {
            let entries = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            let b = Batch {
                entries,
                removed: Vec::new(),
                last_line: line,
            };
            if tx.blocking_send(b).is_err() {
                return Ok(bad);
            }
        }
    }
    let last_line = records.line();
    if !batch.is_empty() || last_line > resume_after {
        let _ = tx.blocking_send(Batch {
            entries: batch,
            removed: Vec::new(),
            last_line,
        });
    }
    Ok(bad)
}

async fn import_tat(
    store: &Store,
    bank: &Bank,
    url: &str,
    batch: usize,
) -> anyhow::Result<Outcome> {
    let username = std::env::var("RONDA_TAT_USERNAME")
        .context("set RONDA_TAT_USERNAME (and RONDA_TAT_PASSWORD) for --tat")?;
    let password =
        std::env::var("RONDA_TAT_PASSWORD").context("set RONDA_TAT_PASSWORD for --tat")?;
    let mut client = TatClient::new(url, ronda_exchange::Credentials::new(username, password))?;
    let key = format!("tat:{}:{}", bank.id, client.base_url());
    let checkpoint = store.checkpoint(&key).await?;
    if let Some(c) = &checkpoint {
        eprintln!("ronda: resuming the TAT hash list from checkpoint {c}");
    }
    let start = Instant::now();
    let actor = local_actor();
    let mut stats = ImportStats::default();
    let mut bad = 0u64;
    let mut pages = client.pages(checkpoint.as_deref());
    let bar = progress(0, "importing TAT pages");
    while let Some(page) = pages.next_page().await? {
        let mut entries = Vec::new();
        let mut removed = Vec::new();
        for r in page.records {
            match r {
                Ok(r) if r.deleted => {
                    if let Some(id) = &r.external_id {
                        removed.push(format!("tat:{id}"));
                    }
                }
                Ok(r) => entries.push(to_entry(r, "tat:", "tat")),
                Err(e) => {
                    bad += 1;
                    eprintln!(
                        "{}: entry {}: {}",
                        page.url,
                        e.id.as_deref().unwrap_or("?"),
                        e.message
                    );
                }
            }
        }
        // A page commits in chunks; the checkpoint goes with the last, so a
        // resumed run re-reads at most this page (and adds nothing twice).
        let mut chunks: Vec<(Vec<NewEntry>, Vec<String>)> = Vec::new();
        let mut entries = entries.into_iter().peekable();
        while entries.peek().is_some() {
            chunks.push((entries.by_ref().take(batch).collect(), Vec::new()));
        }
        for rm in removed.chunks(batch) {
            chunks.push((Vec::new(), rm.to_vec()));
        }
        if chunks.is_empty() {
            chunks.push((Vec::new(), Vec::new()));
        }
        let n = chunks.len();
        for (i, (chunk, rm)) in chunks.into_iter().enumerate() {
            let cp = match (&page.checkpoint, i + 1 == n) {
                (Some(c), true) => Some(ImportCheckpoint::new(&key, c)),
                _ => None,
            };
            stats += store.import_batch(bank, &chunk, &rm, cp, &actor).await?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    store.finish_checkpoint(&key).await?;
    store.sync_to_disk().await?;
    let mut out = Printer::stdout();
    out.line(&json!({
        "bank": bank.name,
        "source": client.base_url().as_str(),
        "added": stats.added,
        "unchanged": stats.unchanged,
        "removed": stats.removed,
        "bad_entries": bad,
        "seconds": start.elapsed().as_secs_f64(),
    }))?;
    out.flush()?;
    Ok(if bad > 0 {
        Outcome::Failed
    } else {
        Outcome::Found
    })
}

async fn export(args: ExportArgs) -> anyhow::Result<Outcome> {
    let store = args.store.open().await?;
    let bank = store.require_bank(&args.bank).await?;
    let (sink, tmp): (Box<dyn Write>, Option<(tempfile::NamedTempFile, PathBuf)>) =
        match &args.output {
            None => (Box::new(io::BufWriter::new(io::stdout())), None),
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let tmp = tempfile::NamedTempFile::new_in(dir)
                    .with_context(|| format!("could not write in {}", dir.display()))?;
                let file = tmp.reopen()?;
                (
                    Box::new(io::BufWriter::new(file)),
                    Some((tmp, path.clone())),
                )
            }
        };
    let mut written = 0u64;
    let sink = match args.format {
        Format::Csv => {
            let mut w = CsvWriter::new(sink)?;
            each_record(&store, &bank, |r| {
                written += 1;
                w.write(&r).map_err(anyhow::Error::from)
            })
            .await?;
            w.into_inner()?
        }
        _ => {
            let mut w = LocalFileWriter::new(sink);
            each_record(&store, &bank, |r| {
                written += 1;
                w.write(&r).map_err(anyhow::Error::from)
            })
            .await?;
            w.into_inner()?
        }
    };
    drop(sink);
    if let Some((tmp, path)) = tmp {
        tmp.as_file().sync_all()?;
        tmp.persist(&path)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    eprintln!("ronda: exported {written} signals from bank {}", bank.name);
    Ok(Outcome::Found)
}

/// Every signal of every live entry of `bank`, as exchange records.
async fn each_record(
    store: &Store,
    bank: &Bank,
    mut f: impl FnMut(Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let page = store.entries_page(bank.id, after, 5000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for e in page {
            for s in e.signals {
                let mut r = Record::new(s);
                r.collab = e.collab.clone();
                r.category = e.labels.category.clone();
                r.tags = e.labels.tags.clone();
                f(r)?;
            }
        }
    }
    Ok(())
}
