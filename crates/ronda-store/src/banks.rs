//! Banks: named collections of known content.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::{Actor, Bank, BankUpdate, Labels, NewBank, Store, StoreError, next_seq, now_ms};

const BANK_COLUMNS: &str =
    "id, name, enabled, matching_enabled_ratio, labels, org_id, created_at, updated_at";

fn row_to_bank(r: &AnyRow) -> Result<Bank, StoreError> {
    Ok(Bank {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        enabled: r.try_get::<i64, _>(2)? != 0,
        matching_enabled_ratio: r.try_get(3)?,
        labels: Labels::from_json(&r.try_get::<String, _>(4)?)?,
        org_id: r.try_get(5)?,
        created_at: r.try_get(6)?,
        updated_at: r.try_get(7)?,
    })
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::InvalidInput(
            "a bank name must have 1 to 100 characters".into(),
        ));
    }
    Ok(())
}

fn check_ratio(ratio: f64) -> Result<(), StoreError> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(StoreError::InvalidInput(format!(
            "matching_enabled_ratio {ratio} is outside 0.0..=1.0"
        )));
    }
    Ok(())
}

fn check_labels(labels: &Labels) -> Result<(), StoreError> {
    labels.validate().map_err(StoreError::InvalidInput)
}

impl Store {
    pub async fn create_bank(&self, bank: &NewBank, actor: &Actor) -> Result<Bank, StoreError> {
        check_name(&bank.name)?;
        check_ratio(bank.matching_enabled_ratio)?;
        check_labels(&bank.labels)?;
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO banks (name, enabled, matching_enabled_ratio, labels, org_id, \
             created_at, updated_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) \
             ON CONFLICT (name) DO NOTHING RETURNING {BANK_COLUMNS}"
        ))
        .bind(&bank.name)
        .bind(i64::from(bank.enabled))
        .bind(bank.matching_enabled_ratio)
        .bind(bank.labels.to_json())
        .bind(bank.org_id)
        .bind(now)
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict {
                kind: "bank",
                key: bank.name.clone(),
            });
        };
        let created = row_to_bank(&row)?;
        let what = What {
            action: "bank.create",
            record_kind: "bank",
            record_id: &created.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "name": bank.name })).await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn list_banks(&self) -> Result<Vec<Bank>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {BANK_COLUMNS} FROM banks ORDER BY name"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_bank).collect()
    }

    pub async fn bank(&self, name: &str) -> Result<Option<Bank>, StoreError> {
        let row = sqlx::query(&format!("SELECT {BANK_COLUMNS} FROM banks WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(row_to_bank).transpose()
    }

    /// The bank called `name`, or a not-found error.
    pub async fn require_bank(&self, name: &str) -> Result<Bank, StoreError> {
        self.bank(name)
            .await?
            .ok_or_else(|| StoreError::not_found("bank", name))
    }

    pub async fn update_bank(
        &self,
        name: &str,
        update: &BankUpdate,
        actor: &Actor,
    ) -> Result<Bank, StoreError> {
        if let Some(n) = &update.name {
            check_name(n)?;
        }
        if let Some(r) = update.matching_enabled_ratio {
            check_ratio(r)?;
        }
        if let Some(l) = &update.labels {
            check_labels(l)?;
        }
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        let row = sqlx::query(&format!("SELECT {BANK_COLUMNS} FROM banks WHERE name = $1"))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("bank", name));
        };
        let mut bank = row_to_bank(&row)?;
        if let Some(n) = &update.name {
            bank.name = n.clone();
        }
        if let Some(e) = update.enabled {
            bank.enabled = e;
        }
        if let Some(r) = update.matching_enabled_ratio {
            bank.matching_enabled_ratio = r;
        }
        if let Some(l) = &update.labels {
            bank.labels = l.clone();
        }
        bank.updated_at = now_ms();
        let result = sqlx::query(
            "UPDATE banks SET name = $1, enabled = $2, matching_enabled_ratio = $3, labels = $4, \
             updated_at = $5, seq = $6 WHERE id = $7",
        )
        .bind(&bank.name)
        .bind(i64::from(bank.enabled))
        .bind(bank.matching_enabled_ratio)
        .bind(bank.labels.to_json())
        .bind(bank.updated_at)
        .bind(seq)
        .bind(bank.id)
        .execute(&mut *tx)
        .await;
        if let Err(e) = &result
            && e.as_database_error()
                .is_some_and(|d| d.is_unique_violation())
        {
            return Err(StoreError::Conflict {
                kind: "bank",
                key: bank.name,
            });
        }
        result?;
        let what = What {
            action: "bank.update",
            record_kind: "bank",
            record_id: &bank.id.to_string(),
        };
        let detail = json!({
            "name": bank.name,
            "enabled": bank.enabled,
            "matching_enabled_ratio": bank.matching_enabled_ratio,
        });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(bank)
    }

    /// Deletes a bank and all its entries. Followers notice the bank is gone
    /// when they reload the bank list and drop its entries.
    pub async fn delete_bank(&self, name: &str, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        next_seq(&mut tx).await?;
        let row = sqlx::query("SELECT id FROM banks WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("bank", name));
        };
        let id: i64 = row.try_get(0)?;
        let entries = sqlx::query("DELETE FROM entries WHERE bank_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM banks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let what = What {
            action: "bank.delete",
            record_kind: "bank",
            record_id: &id.to_string(),
        };
        audit::append(
            &mut tx,
            actor,
            what,
            json!({ "name": name, "entries": entries }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
