//! Read-only summaries for people: the dashboard's counts, items found by
//! a piece of their URL, and the organisations to filter by. Each applies
//! [`ItemViewer`]'s rule in its SQL and, where it returns items, again
//! through [`Store::item`], so that a viewer never sees more here than in
//! a listing.

use sqlx::Row;

use crate::{ItemFilter, ItemStatus, ItemView, ItemViewer, Organisation, Store, StoreError};

/// The SQL condition on `items i` for `viewer`, with `$n` numbered after
/// the `ints` already bound, and its parameter pushed there.
fn viewer_condition(viewer: ItemViewer, ints: &mut Vec<i64>) -> Option<String> {
    match viewer {
        ItemViewer::Everyone => None,
        ItemViewer::Org(Some(id)) => {
            ints.push(id);
            Some(format!("i.org_id = ${}", ints.len()))
        }
        ItemViewer::Org(None) => Some("i.org_id IS NULL".into()),
    }
}

/// `s` as a `LIKE` pattern that matches it anywhere, lower-cased, with
/// `\` escaping the wildcards.
fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// How many items `viewer` sees, per status (statuses with none left
    /// out), and how many of them are first reports (not duplicates).
    pub async fn item_counts(
        &self,
        viewer: ItemViewer,
    ) -> Result<Vec<(ItemStatus, i64, i64)>, StoreError> {
        let mut ints = Vec::new();
        let cond = viewer_condition(viewer, &mut ints)
            .map(|c| format!("WHERE {c}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT i.status, COUNT(*), SUM(CASE WHEN i.duplicate_of IS NULL THEN 1 ELSE 0 END) \
             FROM items i {cond} GROUP BY i.status ORDER BY i.status"
        );
        let mut q = sqlx::query(&sql);
        for v in &ints {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(0)?;
                let status = status.parse::<ItemStatus>().map_err(StoreError::corrupt)?;
                Ok((status, r.try_get(1)?, r.try_get::<i64, _>(2)?))
            })
            .collect()
    }

    /// Items matching `filter` whose URL (as given, or canonical) contains
    /// `url_contains` (ignoring case), as `viewer` sees them, by id.
    pub async fn search_items(
        &self,
        filter: &ItemFilter,
        url_contains: &str,
        viewer: ItemViewer,
    ) -> Result<Vec<ItemView>, StoreError> {
        let mut ints: Vec<i64> = vec![filter.after];
        let mut conditions: Vec<String> = vec!["i.id > $1".into()];
        if let Some(c) = viewer_condition(viewer, &mut ints) {
            conditions.push(c);
        }
        let mut push = |sql: &str, v: Option<i64>| {
            if let Some(v) = v {
                ints.push(v);
                conditions.push(format!("{sql}${}", ints.len()));
            }
        };
        push("i.campaign_id = ", filter.campaign_id);
        push("i.platform_id = ", filter.platform_id);
        push("i.org_id = ", filter.org_id);
        if filter.first_reports_only {
            conditions.push("i.duplicate_of IS NULL".into());
        }
        // Statuses are a closed set of fixed names: safe to inline.
        if let Some(s) = filter.status {
            conditions.push(format!("i.status = '{}'", s.as_str()));
        }
        let needle = url_contains.trim();
        if !needle.is_empty() {
            let n = ints.len() + 1;
            conditions.push(format!(
                "(LOWER(i.url) LIKE ${n} ESCAPE '\\' OR LOWER(i.canonical_url) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let limit = if filter.limit <= 0 {
            100
        } else {
            filter.limit.min(1000)
        };
        let sql = format!(
            "SELECT i.id FROM items i WHERE {} ORDER BY i.id LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for v in &ints {
            q = q.bind(*v);
        }
        if !needle.is_empty() {
            q = q.bind(contains_pattern(needle));
        }
        let ids: Vec<i64> = q
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = self.item(id, viewer).await? {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Every organisation, by name.
    pub async fn list_organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query("SELECT id, name, created_at FROM organisations ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Ab"), "%ab%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
