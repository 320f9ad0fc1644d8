//! Organisations and API tokens. A token's secret is shown once, at
//! creation; the store keeps only its SHA-256 (secrets are 256 random bits,
//! so a fast hash is enough and lookups stay one index probe).

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{self, What};
use crate::{Actor, Organisation, Principal, Role, Store, StoreError, TokenInfo, now_ms};

/// Every secret starts with this, so that leaked tokens are easy to find
/// with secret scanners.
pub const TOKEN_PREFIX: &str = "ronda_";

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn parse_role(s: &str) -> Result<Role, StoreError> {
    s.parse().map_err(StoreError::corrupt)
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

    /// Creates a token and returns it with its secret, which is not stored
    /// and cannot be shown again.
    pub async fn create_token(
        &self,
        label: &str,
        role: Role,
        org_id: Option<i64>,
        actor: &Actor,
    ) -> Result<(TokenInfo, String), StoreError> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random));
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let id: i64 = sqlx::query(
            "INSERT INTO tokens (secret_hash, label, role, org_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(secret_hash(&secret))
        .bind(label)
        .bind(role.as_str())
        .bind(org_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let what = What {
            action: "token.create",
            record_kind: "token",
            record_id: &id.to_string(),
        };
        let detail = json!({ "label": label, "role": role.as_str(), "org_id": org_id });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        let info = TokenInfo {
            id,
            label: label.to_owned(),
            role,
            org_id,
            created_at: now,
            revoked_at: None,
        };
        Ok((info, secret))
    }

    /// The principal a secret belongs to, if it is a live token.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, label, role, org_id FROM tokens \
             WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(secret))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Principal {
                token_id: r.try_get(0)?,
                label: r.try_get(1)?,
                role: parse_role(r.try_get::<String, _>(2)?.as_str())?,
                org_id: r.try_get(3)?,
            })
        })
        .transpose()
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, label, role, org_id, created_at, revoked_at FROM tokens ORDER BY id",
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
                    created_at: r.try_get(4)?,
                    revoked_at: r.try_get(5)?,
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
