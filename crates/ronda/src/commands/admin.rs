//! `ronda admin`: tokens and the audit log, run on the server's machine.

use anyhow::{Context as _, bail};
use ronda_store::Role;
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown this once only).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// admin, analyst, reviewer, platform or auditor.
        #[arg(long)]
        role: Role,
        /// Organisation the token belongs to (created if new).
        #[arg(long)]
        org: Option<String>,
        /// A name to tell the token apart in listings and the audit log.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List tokens (never their secrets), as JSON lines.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        id: i64,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check every event's hash and link; exit 2 if the chain is broken.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(cmd: AdminCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            AdminCommand::Token(t) => token(t).await,
            AdminCommand::Audit(AuditCommand::Verify { store }) => {
                let store = store.open().await?;
                let v = store.verify_audit().await?;
                let mut out = Printer::stdout();
                out.line(&json!(v))?;
                out.flush()?;
                if v.first_bad_seq.is_some() {
                    eprintln!(
                        "error: the audit chain is broken at event {}: {}",
                        v.first_bad_seq.unwrap_or_default(),
                        v.reason.as_deref().unwrap_or("")
                    );
                    return Ok(Outcome::Failed);
                }
                eprintln!("ronda: audit chain intact ({} events)", v.events);
                Ok(Outcome::Found)
            }
        }
    })
}

async fn token(cmd: TokenCommand) -> anyhow::Result<Outcome> {
    match cmd {
        TokenCommand::Create {
            store,
            role,
            org,
            label,
        } => {
            let store = store.open().await?;
            let actor = local_actor();
            let org_id = match org {
                None => None,
                Some(name) => Some(match store.organisation_by_name(&name).await? {
                    Some(o) => o.id,
                    None => store.create_organisation(&name, &actor).await?.id,
                }),
            };
            let (info, secret) = store
                .create_token(&label, role, org_id, &actor)
                .await
                .context("could not create the token")?;
            eprintln!(
                "ronda: created token {} (role {}); the secret below is not stored and cannot be shown again",
                info.id, info.role
            );
            println!("{secret}");
            Ok(Outcome::Found)
        }
        TokenCommand::List { store } => {
            let store = store.open().await?;
            let mut out = Printer::stdout();
            for t in store.list_tokens().await? {
                out.line(&json!(t))?;
            }
            out.flush()?;
            Ok(Outcome::Found)
        }
        TokenCommand::Revoke { store, id } => {
            let store = store.open().await?;
            if id <= 0 {
                bail!("token ids are positive");
            }
            store.revoke_token(id, &local_actor()).await?;
            eprintln!("ronda: revoked token {id}");
            Ok(Outcome::Found)
        }
    }
}
