//! Organisations and API tokens: service tokens, and tokens that act for a
//! user (see `users.rs`). A token's secret is shown once, at creation; the
//! store keeps only its SHA-256 (secrets are 256 random bits, so a fast
//! hash is enough and lookups stay one index probe).

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, What};
use crate::{
    Actor, Organisation, Principal, Role, Store, StoreError, TokenInfo, Tx, UserRef, now_ms, users,
};

/// Every secret starts with this, so that leaked tokens are easy to find
/// with secret scanners.
pub const TOKEN_PREFIX: &str = "ronda_";

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    s.parse().map_err(StoreError::corrupt)
}

/// Inserts a token and its audit event inside a write transaction.
async fn insert_token(
    tx: &mut Tx,
    label: &str,
    role: Role,
    org_id: Option<i64>,
    user_id: Option<i64>,
    actor: &Actor,
) -> Result<(TokenInfo, String), StoreError> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random));
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO tokens (secret_hash, label, role, org_id, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(secret_hash(&secret))
    .bind(label)
    .bind(role.as_str())
    .bind(org_id)
    .bind(user_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let what = What {
        action: "token.create",
        record_kind: "token",
        record_id: &id.to_string(),
    };
    let mut detail = json!({ "label": label, "role": role.as_str(), "org_id": org_id });
    if let Some(user_id) = user_id {
        detail["user_id"] = json!(user_id);
    }
    audit::append(tx, actor, what, detail).await?;
    let info = TokenInfo {
        id,
        label: label.to_owned(),
        role,
        org_id,
        user_id,
        created_at: now,
        revoked_at: None,
    };
    Ok((info, secret))
}

impl Store {
    pub async fn create_organisation(
        &self,
        name: &str,
        actor: &Actor,
    ) -> Result<Organisation, StoreError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(StoreError::InvalidInput(
                "an organisation name must have 1 to 200 characters".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO organisations (name, created_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict {
                kind: "organisation",
                key: name.to_owned(),
            });
        };
        let id: i64 = row.try_get(0)?;
        let what = What {
            action: "organisation.create",
            record_kind: "organisation",
            record_id: &id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "name": name })).await?;
        tx.commit().await?;
        Ok(Organisation {
            id,
            name: name.to_owned(),
            created_at: now,
        })
    }

    pub async fn organisation_by_name(
        &self,
        name: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(Organisation {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created_at: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Creates a service token (one that belongs to no user) and returns it
    /// with its secret, which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        label: &str,
        role: Role,
        org_id: Option<i64>,
        actor: &Actor,
    ) -> Result<(TokenInfo, String), StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(id) = org_id {
            sqlx::query("SELECT id FROM organisations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("organisation", id))?;
        }
        let created = insert_token(&mut tx, label, role, org_id, None, actor).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Creates a token that acts for the user named `user`, with the
    /// user's role and organisation, and returns it with its secret. A
    /// `role`, when given, must be the user's: a token never has more or
    /// less than its user. A disabled user gets no token.
    pub async fn create_user_token(
        &self,
        label: &str,
        user: &str,
        role: Option<Role>,
        actor: &Actor,
    ) -> Result<(TokenInfo, String), StoreError> {
        let mut tx = self.begin_write().await?;
        let u = users::user_named(&mut *tx, user)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user))?;
        if !u.is_active() {
            return Err(StoreError::InvalidInput(format!(
                "user {user:?} is disabled"
            )));
        }
        if let Some(role) = role
            && role != u.role
        {
            return Err(StoreError::InvalidInput(format!(
                "user {user:?} has role {}, not {role}: a user's tokens have the user's role",
                u.role
            )));
        }
        let created = insert_token(&mut tx, label, u.role, u.org_id, Some(u.id), actor).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The principal a secret belongs to, if it is a live token whose user,
    /// if it has one, is not disabled.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        // Disabling a user revokes its tokens too; the user check keeps a
        // disabled user out whatever happens to its tokens.
        let row = sqlx::query(
            "SELECT t.id, t.label, t.role, t.org_id, u.id, u.name \
             FROM tokens t LEFT JOIN users u ON u.id = t.user_id \
             WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
        )
        .bind(secret_hash(secret))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            let user_id: Option<i64> = r.try_get(4)?;
            let user_name: Option<String> = r.try_get(5)?;
            Ok(Principal {
                token_id: r.try_get(0)?,
                label: r.try_get(1)?,
                role: parse_role(r.try_get::<String, _>(2)?.as_str())?,
                org_id: r.try_get(3)?,
                user: user_id
                    .zip(user_name)
                    .map(|(id, name)| UserRef { id, name }),
            })
        })
        .transpose()
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, role, org_id, user_id, created_at, revoked_at FROM tokens \
             ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get(0)?,
                    label: r.try_get(1)?,
                    role: parse_role(r.try_get::<String, _>(2)?.as_str())?,
                    org_id: r.try_get(3)?,
                    user_id: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    revoked_at: r.try_get(6)?,
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: i64, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if done == 0 {
            return Err(StoreError::not_found("live token", id));
        }
        let what = What {
            action: "token.revoke",
            record_kind: "token",
            record_id: &id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}
