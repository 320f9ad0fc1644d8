//! Where the store lives, for every command that opens it.

use std::path::PathBuf;

use anyhow::Context as _;
use ronda_store::{Actor, Store, redact_url};

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Data directory: the embedded SQLite database and captured files.
    #[arg(long, env = "RONDA_DATA_DIR", default_value = "ronda-data")]
    pub data_dir: PathBuf,
    /// Use this PostgreSQL database instead of the embedded one
    /// (`postgres://user@host/db`).
    #[arg(long, env = "RONDA_DATABASE_URL")]
    pub database: Option<String>,
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        self.open_with(ronda_store::Durability::EveryCommit).await
    }

    pub async fn open_with(&self, durability: ronda_store::Durability) -> anyhow::Result<Store> {
        let what = match &self.database {
            Some(url) => redact_url(url),
            None => self.data_dir.display().to_string(),
        };
        Store::open_with(self.database.as_deref(), &self.data_dir, durability)
            .await
            .with_context(|| format!("could not open the store at {what}"))
    }
}

/// The audit log's name for a person running the CLI on this machine.
pub fn local_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    Actor::local(&user)
}

/// A runtime for commands that talk to the store or the network.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
}
