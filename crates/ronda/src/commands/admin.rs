//! `ronda admin`: users, tokens and the audit log, run on the server's
//! machine.

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use ronda_store::{Millis, NewUser, Role, Store, User};
use serde_json::json;

use super::store_args::{StoreArgs, local_actor, runtime};
use crate::output::{Outcome, Printer};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Users: the people behind tokens, each with a role and an organisation.
    #[command(subcommand)]
    User(UserCommand),
    /// Organisations, which users and tokens belong to.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The login name: lowercase letters, digits, '.', '_', '-', '@'.
        name: String,
        /// admin, analyst, reviewer, platform or auditor.
        #[arg(long)]
        role: Role,
        /// The user's organisation; it must exist (`ronda admin org create`).
        #[arg(long)]
        org: Option<String>,
        /// The name people see.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List users, disabled ones included: a table, or JSON lines.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user and revoke all its tokens.
    Disable {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
    /// Set a user's web UI password (ends the user's sessions and clears a
    /// login lock). The password is read from the first line of standard
    /// input, or of --password-file; never from the command line.
    Password {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
        /// A file whose first line is the password.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        name: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown this once only).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// admin, analyst, reviewer, platform or auditor; with --user, the
        /// user's role (which it must then equal) when left out.
        #[arg(long, required_unless_present = "user")]
        role: Option<Role>,
        /// Organisation the token belongs to (created if new).
        #[arg(long, conflicts_with = "user")]
        org: Option<String>,
        /// The user the token acts for: it takes the user's role and
        /// organisation, and the audit log names the user.
        #[arg(long)]
        user: Option<String>,
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
            AdminCommand::User(u) => user(u).await,
            AdminCommand::Org(OrgCommand::Create { store, name }) => {
                let store = store.open().await?;
                let org = store
                    .create_organisation(&name, &local_actor())
                    .await
                    .context("could not create the organisation")?;
                eprintln!("ronda: created organisation {:?} (id {})", org.name, org.id);
                Ok(Outcome::Found)
            }
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
            user,
            label,
        } => {
            let store = store.open().await?;
            let actor = local_actor();
            let created = match (user, role) {
                (Some(user), role) => store.create_user_token(&label, &user, role, &actor).await,
                (None, Some(role)) => {
                    let org_id = match org {
                        None => None,
                        Some(name) => Some(match store.organisation_by_name(&name).await? {
                            Some(o) => o.id,
                            None => store.create_organisation(&name, &actor).await?.id,
                        }),
                    };
                    store.create_token(&label, role, org_id, &actor).await
                }
                (None, None) => bail!("a token needs --role or --user"),
            };
            let (info, secret) = created.context("could not create the token")?;
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

async fn user(cmd: UserCommand) -> anyhow::Result<Outcome> {
    match cmd {
        UserCommand::Create {
            store,
            name,
            role,
            org,
            display_name,
        } => {
            let store = store.open().await?;
            let org_id = match org {
                None => None,
                Some(org) => Some(org_id(&store, &org).await?),
            };
            let new = NewUser {
                name,
                display_name,
                role,
                org_id,
            };
            let u = store
                .create_user(&new, &local_actor())
                .await
                .with_context(|| format!("could not create user {:?}", new.name))?;
            eprintln!("ronda: created user {:?} (role {})", u.name, u.role);
            Ok(Outcome::Found)
        }
        UserCommand::List { store, json } => {
            let store = store.open().await?;
            let users = store.list_users().await?;
            if json {
                let mut out = Printer::stdout();
                for u in &users {
                    out.line(&json!(u))?;
                }
                out.flush()?;
            } else {
                print_users(&users)?;
            }
            Ok(Outcome::Found)
        }
        UserCommand::Disable { store, name } => {
            let store = store.open().await?;
            let (u, revoked) = store
                .disable_user(&name, &local_actor())
                .await
                .with_context(|| format!("could not disable user {name:?}"))?;
            eprintln!(
                "ronda: disabled user {:?} and revoked {} token(s)",
                u.name,
                revoked.len()
            );
            Ok(Outcome::Found)
        }
        UserCommand::Password {
            store,
            name,
            password_file,
        } => {
            let password = read_password(password_file.as_deref())?;
            let store = store.open().await?;
            store
                .set_password(&name, &password, &local_actor())
                .await
                .with_context(|| format!("could not set the password of user {name:?}"))?;
            eprintln!("ronda: set the password of user {name:?}; its sessions have ended");
            Ok(Outcome::Found)
        }
    }
}

/// The first line of `file`, or of standard input: a password, without
/// its line ending (other spaces are kept: they are part of it).
fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let mut line = String::new();
    match file {
        Some(path) => {
            let f = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            std::io::BufReader::new(f)
                .read_line(&mut line)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        None => {
            use std::io::IsTerminal as _;
            if std::io::stdin().is_terminal() {
                eprint!("password (the characters are shown as typed): ");
            }
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
        }
    }
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password given: write it on standard input or in --password-file");
    }
    Ok(password)
}

/// An existing organisation's id; unlike `token create --org`, a user's
/// organisation is not created on the fly, so that a typo is caught.
async fn org_id(store: &Store, name: &str) -> anyhow::Result<i64> {
    match store.organisation_by_name(name).await? {
        Some(o) => Ok(o.id),
        None => bail!(
            "organisation {name:?} not found; create it with `ronda admin org create {name:?}`"
        ),
    }
}

/// Users as an aligned table on stdout, for people.
fn print_users(users: &[User]) -> std::io::Result<()> {
    use std::io::Write as _;

    let date = |ms: Millis| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    let header = [
        "NAME",
        "ROLE",
        "ORGANISATION",
        "DISPLAY NAME",
        "CREATED",
        "STATUS",
    ];
    let rows: Vec<[String; 6]> = users
        .iter()
        .map(|u| {
            [
                u.name.clone(),
                u.role.to_string(),
                u.org_name.clone().unwrap_or_else(|| "-".into()),
                u.display_name.clone().unwrap_or_else(|| "-".into()),
                date(u.created_at),
                match u.disabled_at {
                    None => "active".into(),
                    Some(t) => format!("disabled {}", date(t)),
                },
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{line}")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_gives_its_first_line_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, " spaced  pass phrase \r\nsecond line\n").unwrap();
        assert_eq!(read_password(Some(&path)).unwrap(), " spaced  pass phrase ");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_password(Some(&path)).is_err());
        assert!(read_password(Some(&dir.path().join("missing"))).is_err());
    }
}
