//! Users: the people behind tokens. A user has one role and at most one
//! organisation; the tokens made for a user carry both, and the audit log
//! names the user (`user:<name>`) for whatever those tokens do. Users are
//! disabled, never deleted: disabling one revokes its tokens in the same
//! transaction, and keeps the name attributable in the audit log.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::auth::parse_role;
use crate::{Actor, NewUser, Store, StoreError, User, now_ms};

const USER_SELECT: &str = "SELECT u.id, u.name, u.display_name, u.role, u.org_id, o.name, \
     u.created_at, u.disabled_at FROM users u LEFT JOIN organisations o ON o.id = u.org_id";

fn row_to_user(r: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        display_name: r.try_get(2)?,
        role: parse_role(r.try_get::<String, _>(3)?.as_str())?,
        org_id: r.try_get(4)?,
        org_name: r.try_get(5)?,
        created_at: r.try_get(6)?,
        disabled_at: r.try_get(7)?,
    })
}

/// The user named `name`, read through `executor` (the pool, or a write
/// transaction that must see the user as it commits).
pub(crate) async fn user_named<'e, E>(executor: E, name: &str) -> Result<Option<User>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("{USER_SELECT} WHERE u.name = $1"))
        .bind(name)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(row_to_user).transpose()
}

/// Names go into URLs and the audit log's `user:<name>`: a small alphabet
/// keeps them unambiguous there (and `Alice` from shadowing `alice`).
fn validate_name(name: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
    };
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        return Err(StoreError::InvalidInput(format!(
            "invalid user name {name:?}: use 1 to 64 lowercase letters, digits, '.', '_', '-' or '@'"
        )));
    }
    Ok(())
}

/// A display name trimmed, or `None` when blank.
fn clean_display_name(display_name: Option<&str>) -> Result<Option<String>, StoreError> {
    let Some(d) = display_name.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(
            "a display name must have at most 200 characters and no control characters".into(),
        ));
    }
    Ok(Some(d.to_owned()))
}

impl Store {
    /// Creates a user. Its organisation, if any, must exist.
    pub async fn create_user(&self, new: &NewUser, actor: &Actor) -> Result<User, StoreError> {
        validate_name(&new.name)?;
        let display_name = clean_display_name(new.display_name.as_deref())?;
        let mut tx = self.begin_write().await?;
        let org_name: Option<String> = match new.org_id {
            None => None,
            Some(id) => Some(
                sqlx::query("SELECT name FROM organisations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found("organisation", id))?
                    .try_get(0)?,
            ),
        };
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO users (name, display_name, role, org_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(&new.name)
        .bind(display_name.as_deref())
        .bind(new.role.as_str())
        .bind(new.org_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict {
                kind: "user",
                key: new.name.clone(),
            });
        };
        let id: i64 = row.try_get(0)?;
        let what = What {
            action: "user.create",
            record_kind: "user",
            record_id: &id.to_string(),
        };
        // The display name is personal data the log does not need.
        let detail = json!({ "name": new.name, "role": new.role.as_str(), "org_id": new.org_id });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(User {
            id,
            name: new.name.clone(),
            display_name,
            role: new.role,
            org_id: new.org_id,
            org_name,
            created_at: now,
            disabled_at: None,
        })
    }

    /// Every user, disabled ones included, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!("{USER_SELECT} ORDER BY u.name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_user).collect()
    }

    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        user_named(self.pool(), name).await
    }

    /// Disables a user and revokes its live tokens, in one transaction
    /// with one audit event for the user and one per token. Returns the
    /// user as it now is and the ids of the tokens revoked.
    pub async fn disable_user(
        &self,
        name: &str,
        actor: &Actor,
    ) -> Result<(User, Vec<i64>), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut user = user_named(&mut *tx, name)
            .await?
            .ok_or_else(|| StoreError::not_found("user", name))?;
        if !user.is_active() {
            return Err(StoreError::InvalidInput(format!(
                "user {name:?} is already disabled"
            )));
        }
        let now = now_ms();
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let mut revoked: Vec<i64> = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
             RETURNING id",
        )
        .bind(now)
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        revoked.sort_unstable();
        // Its people are logged out at once, not at their next request.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let user_id = user.id.to_string();
        let what = What {
            action: "user.disable",
            record_kind: "user",
            record_id: &user_id,
        };
        let detail = json!({ "name": name, "revoked_tokens": revoked.len() });
        audit::append(&mut tx, actor, what, detail).await?;
        for token in &revoked {
            let what = What {
                action: "token.revoke",
                record_kind: "token",
                record_id: &token.to_string(),
            };
            audit::append(&mut tx, actor, what, json!({ "user_id": user.id })).await?;
        }
        tx.commit().await?;
        user.disabled_at = Some(now);
        Ok((user, revoked))
    }
}
