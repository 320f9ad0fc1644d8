//! The platform directory: platforms and infrastructure providers, the
//! domains and URL patterns that assign an item to one, where referrals go,
//! and how a removal shows. [`resolve_platform`] is the one rule that
//! decides which platform a URL belongs to; a shipped starter directory of
//! example entries (reserved example domains only) is
//! [`starter_directory`].

use std::fmt;
use std::str::FromStr;

use ronda_hash::url::CanonicalUrl;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, What};
use crate::{Actor, Millis, Store, StoreError, now_ms};

/// What sort of service a platform is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    Social,
    Video,
    FileHost,
    Chat,
    Forum,
    Archive,
    Paste,
    Hosting,
    Registrar,
    Cdn,
    /// A site or instance run by a group itself (C15).
    GroupRun,
}

impl PlatformKind {
    pub const ALL: [PlatformKind; 11] = [
        PlatformKind::Social,
        PlatformKind::Video,
        PlatformKind::FileHost,
        PlatformKind::Chat,
        PlatformKind::Forum,
        PlatformKind::Archive,
        PlatformKind::Paste,
        PlatformKind::Hosting,
        PlatformKind::Registrar,
        PlatformKind::Cdn,
        PlatformKind::GroupRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::Social => "social",
            PlatformKind::Video => "video",
            PlatformKind::FileHost => "file_host",
            PlatformKind::Chat => "chat",
            PlatformKind::Forum => "forum",
            PlatformKind::Archive => "archive",
            PlatformKind::Paste => "paste",
            PlatformKind::Hosting => "hosting",
            PlatformKind::Registrar => "registrar",
            PlatformKind::Cdn => "cdn",
            PlatformKind::GroupRun => "group_run",
        }
    }
}

impl fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlatformKind {
    type Err = String;

    fn from_str(s: &str) -> Result<PlatformKind, String> {
        PlatformKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PlatformKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown platform kind {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How referrals reach a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// An HTTP API endpoint (`target`: its URL).
    Api,
    /// E-mail (`target`: the address).
    Email,
    /// A web form filled in by hand (`target`: its URL).
    WebForm,
    /// By hand, some other way (`target`: optional instructions).
    Manual,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Api,
        ChannelKind::Email,
        ChannelKind::WebForm,
        ChannelKind::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Api => "api",
            ChannelKind::Email => "email",
            ChannelKind::WebForm => "web_form",
            ChannelKind::Manual => "manual",
        }
    }
}

impl FromStr for ChannelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ChannelKind, String> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown referral channel {s:?}: expected api, email, web_form or manual")
            })
    }
}

/// Where a platform's referrals go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralChannel {
    pub kind: ChannelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Default for ReferralChannel {
    fn default() -> ReferralChannel {
        ReferralChannel {
            kind: ChannelKind::Manual,
            target: None,
        }
    }
}

/// How a liveness check tells that a platform removed an item: any of
/// these status codes, or a page containing any of these texts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalRules {
    #[serde(default)]
    pub status_codes: Vec<u16>,
    #[serde(default)]
    pub page_patterns: Vec<String>,
}

/// A platform as given by a caller: to create one, or to replace one whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    pub name: String,
    pub kind: PlatformKind,
    /// Host names: each covers the host and its subdomains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// `host/path-prefix` patterns, e.g. `example.com/groups/`.
    #[serde(default)]
    pub url_patterns: Vec<String>,
    #[serde(default)]
    pub channel: ReferralChannel,
    /// The platform's contact point for TCO removal orders (Art. 15).
    #[serde(default)]
    pub tco_contact: Option<String>,
    /// The language referrals are written in (a BCP 47 tag, e.g. `de`).
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub removal: RemovalRules,
}

impl PlatformSpec {
    pub fn new(name: impl Into<String>, kind: PlatformKind) -> PlatformSpec {
        PlatformSpec {
            name: name.into(),
            kind,
            domains: Vec::new(),
            url_patterns: Vec::new(),
            channel: ReferralChannel::default(),
            tco_contact: None,
            language: None,
            removal: RemovalRules::default(),
        }
    }

    /// Checks every field and puts domains and patterns in their canonical
    /// (lower-case, deduplicated) form.
    pub fn normalized(&self) -> Result<PlatformSpec, StoreError> {
        let bad = |m: String| StoreError::InvalidInput(m);
        let name = self.name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control() || c == '/') {
            return Err(bad(format!(
                "invalid platform name {:?}: 1 to 100 characters, no '/' or control characters",
                self.name
            )));
        }
        if self.domains.len() > 100 || self.url_patterns.len() > 100 {
            return Err(bad(
                "a platform has at most 100 domains and 100 url patterns".into(),
            ));
        }
        let mut domains = Vec::new();
        for d in &self.domains {
            let d = normalize_host(d)?;
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let mut url_patterns = Vec::new();
        for p in &self.url_patterns {
            let p = normalize_pattern(p)?;
            if !url_patterns.contains(&p) {
                url_patterns.push(p);
            }
        }
        let channel = normalize_channel(&self.channel)?;
        let tco_contact = clean_text("tco_contact", self.tco_contact.as_deref(), 500)?;
        let language = clean_text("language", self.language.as_deref(), 35)?;
        if let Some(l) = &language
            && !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(bad(format!(
                "invalid language {l:?}: expected a language tag such as de or pt-BR"
            )));
        }
        let rules = &self.removal;
        if rules.status_codes.len() > 50 || rules.page_patterns.len() > 50 {
            return Err(bad(
                "removal rules hold at most 50 status codes and 50 page patterns".into(),
            ));
        }
        if let Some(c) = rules
            .status_codes
            .iter()
            .find(|c| !(100..=599).contains(*c))
        {
            return Err(bad(format!(
                "removal status code {c} is not an HTTP status"
            )));
        }
        if rules
            .page_patterns
            .iter()
            .any(|p| p.trim().is_empty() || p.len() > 500)
        {
            return Err(bad(
                "a removal page pattern must have 1 to 500 characters".into()
            ));
        }
        Ok(PlatformSpec {
            name: name.to_owned(),
            kind: self.kind,
            domains,
            url_patterns,
            channel,
            tco_contact,
            language,
            removal: rules.clone(),
        })
    }
}

/// A host name in canonical form: trimmed, lower-case, no trailing dot, no
/// leading `*.` (a domain always covers its subdomains).
fn normalize_host(host: &str) -> Result<String, StoreError> {
    let h = host.trim().to_ascii_lowercase();
    let h = h.strip_prefix("*.").unwrap_or(&h);
    let h = h.strip_suffix('.').unwrap_or(h);
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if h.is_empty() || h.len() > 253 || !h.chars().all(ok) || h.starts_with('.') || h.contains("..")
    {
        return Err(StoreError::InvalidInput(format!(
            "invalid domain {host:?}: expected a host name such as video.example.com (punycode for international names)"
        )));
    }
    Ok(h.to_owned())
}

/// A `host/path-prefix` pattern in canonical form.
fn normalize_pattern(pattern: &str) -> Result<String, StoreError> {
    let p = pattern.trim();
    let p = p
        .strip_prefix("https://")
        .or_else(|| p.strip_prefix("http://"))
        .unwrap_or(p);
    let Some((host, path)) = p.split_once('/') else {
        return Err(StoreError::InvalidInput(format!(
            "invalid url pattern {pattern:?}: expected host/path-prefix, e.g. example.com/groups/"
        )));
    };
    let host = normalize_host(host)?;
    if path.len() > 500 || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::InvalidInput(format!(
            "invalid url pattern {pattern:?}: the path has at most 500 characters and no spaces"
        )));
    }
    Ok(format!("{host}/{path}"))
}

fn normalize_channel(c: &ReferralChannel) -> Result<ReferralChannel, StoreError> {
    let target = clean_text("channel target", c.target.as_deref(), 2000)?;
    let bad = |what: &str| {
        StoreError::InvalidInput(format!(
            "a referral channel of kind {} needs {what} as its target",
            c.kind.as_str()
        ))
    };
    match (c.kind, &target) {
        (ChannelKind::Api | ChannelKind::WebForm, Some(t))
            if t.starts_with("https://") || t.starts_with("http://") => {}
        (ChannelKind::Api | ChannelKind::WebForm, _) => return Err(bad("an http(s) URL")),
        (ChannelKind::Email, Some(t))
            if t.split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
                && !t.contains(char::is_whitespace) => {}
        (ChannelKind::Email, _) => return Err(bad("an e-mail address")),
        (ChannelKind::Manual, _) => {}
    }
    Ok(ReferralChannel {
        kind: c.kind,
        target,
    })
}

/// Trimmed text, `None` when blank, at most `max` bytes.
pub(crate) fn clean_text(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, StoreError> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.len() > max || t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(StoreError::InvalidInput(format!(
            "{field} must have at most {max} bytes and no control characters"
        )));
    }
    Ok(Some(t.to_owned()))
}

/// A platform in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub id: i64,
    #[serde(flatten)]
    pub spec: PlatformSpec,
    /// The organisation that runs the platform: its `platform` callers see
    /// the referrals addressed here ([`Store::set_platform_org`]).
    pub org_id: Option<i64>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Platform {
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

/// How specifically a platform claims a URL; larger is more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Claim {
    /// The URL's registrable domain is a listed domain's.
    RegistrableDomain,
    /// The URL's host is a subdomain of a listed domain (longer wins).
    Subdomain(usize),
    /// The URL's host is a listed domain.
    Host,
    /// A `host/path-prefix` pattern matches (longer prefix wins).
    Pattern(usize),
}

fn host_covers(domain: &str, host: &str) -> bool {
    host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

fn claim(platform: &PlatformSpec, url: &CanonicalUrl) -> Option<Claim> {
    let host = url.host();
    let path = url.path();
    let mut best: Option<Claim> = None;
    let mut consider = |c: Claim| {
        if best.is_none_or(|b| c > b) {
            best = Some(c);
        }
    };
    for p in &platform.url_patterns {
        let Some((phost, prefix)) = p.split_once('/') else {
            continue;
        };
        let prefix_with_slash = &p[phost.len()..];
        if (phost == host || host_covers(phost, host)) && path.starts_with(prefix_with_slash) {
            consider(Claim::Pattern(prefix.len()));
        }
    }
    let url_domain = url.registrable_domain();
    for d in &platform.domains {
        if d == host {
            consider(Claim::Host);
        } else if host_covers(d, host) {
            consider(Claim::Subdomain(d.len()));
        } else if url_domain.is_some()
            && ronda_hash::url::registrable_domain(d).as_deref() == url_domain
        {
            consider(Claim::RegistrableDomain);
        }
    }
    best
}

/// The platform a URL belongs to: the most specific claim wins (a URL
/// pattern on the host, then the host itself, then the closest parent
/// domain, then the same registrable domain); ties go to the first name in
/// alphabetical order, so the answer never depends on insertion order.
pub fn resolve_platform<'a>(platforms: &'a [Platform], url: &CanonicalUrl) -> Option<&'a Platform> {
    platforms
        .iter()
        .filter_map(|p| claim(&p.spec, url).map(|c| (c, p)))
        .max_by(|(ca, pa), (cb, pb)| ca.cmp(cb).then_with(|| pb.spec.name.cmp(&pa.spec.name)))
        .map(|(_, p)| p)
}

/// The shipped example directory: one or more platforms of each kind, on
/// reserved example domains only (RFC 2606), for trying Ronda out.
pub fn starter_directory() -> Result<Vec<PlatformSpec>, StoreError> {
    const STARTER: &str = include_str!("starter_platforms.json");
    let specs: Vec<PlatformSpec> = serde_json::from_str(STARTER)
        .map_err(|e| StoreError::corrupt(format!("the starter directory: {e}")))?;
    specs.iter().map(PlatformSpec::normalized).collect()
}

const PLATFORM_COLUMNS: &str = "id, name, kind, domains, url_patterns, channel_kind, \
     channel_target, tco_contact, language, removal_rules, created_at, updated_at, org_id";

fn json_list(field: &str, s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(format!("platform {field}: {e}")))
}

fn row_to_platform(r: &AnyRow) -> Result<Platform, StoreError> {
    let kind: String = r.try_get(2)?;
    let channel_kind: String = r.try_get(5)?;
    let rules: String = r.try_get(9)?;
    Ok(Platform {
        id: r.try_get(0)?,
        spec: PlatformSpec {
            name: r.try_get(1)?,
            kind: kind.parse().map_err(StoreError::corrupt)?,
            domains: json_list("domains", &r.try_get::<String, _>(3)?)?,
            url_patterns: json_list("url_patterns", &r.try_get::<String, _>(4)?)?,
            channel: ReferralChannel {
                kind: channel_kind.parse().map_err(StoreError::corrupt)?,
                target: r.try_get(6)?,
            },
            tco_contact: r.try_get(7)?,
            language: r.try_get(8)?,
            removal: serde_json::from_str(&rules)
                .map_err(|e| StoreError::corrupt(format!("platform removal rules: {e}")))?,
        },
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
        org_id: r.try_get(12)?,
    })
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// What the audit log keeps of a platform: its shape, no contact details.
fn audit_detail(spec: &PlatformSpec) -> serde_json::Value {
    json!({
        "name": spec.name,
        "kind": spec.kind.as_str(),
        "domains": spec.domains.len(),
        "url_patterns": spec.url_patterns.len(),
        "channel": spec.channel.kind.as_str(),
    })
}

impl Store {
    /// Adds a platform; a name already taken is a conflict.
    pub async fn create_platform(
        &self,
        spec: &PlatformSpec,
        actor: &Actor,
    ) -> Result<Platform, StoreError> {
        self.insert_platform(spec, actor)
            .await?
            .ok_or_else(|| StoreError::Conflict {
                kind: "platform",
                key: spec.name.trim().to_owned(),
            })
    }

    /// Adds a platform unless one of that name exists (which is left as it
    /// is): `None` then. For seeding, which must be idempotent and must not
    /// undo edits.
    pub async fn create_platform_if_absent(
        &self,
        spec: &PlatformSpec,
        actor: &Actor,
    ) -> Result<Option<Platform>, StoreError> {
        self.insert_platform(spec, actor).await
    }

    async fn insert_platform(
        &self,
        spec: &PlatformSpec,
        actor: &Actor,
    ) -> Result<Option<Platform>, StoreError> {
        let spec = spec.normalized()?;
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let row = sqlx::query(&format!(
            "INSERT INTO platforms (name, kind, domains, url_patterns, channel_kind, \
             channel_target, tco_contact, language, removal_rules, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (name) DO NOTHING RETURNING {PLATFORM_COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(spec.kind.as_str())
        .bind(to_json(&spec.domains))
        .bind(to_json(&spec.url_patterns))
        .bind(spec.channel.kind.as_str())
        .bind(spec.channel.target.as_deref())
        .bind(spec.tco_contact.as_deref())
        .bind(spec.language.as_deref())
        .bind(to_json(&spec.removal))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let created = row_to_platform(&row)?;
        let what = What {
            action: "platform.create",
            record_kind: "platform",
            record_id: &created.id.to_string(),
        };
        audit::append(&mut tx, actor, what, audit_detail(&spec)).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    /// Every platform, by name.
    pub async fn list_platforms(&self) -> Result<Vec<Platform>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PLATFORM_COLUMNS} FROM platforms ORDER BY name"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_platform).collect()
    }

    pub async fn platform(&self, name: &str) -> Result<Option<Platform>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PLATFORM_COLUMNS} FROM platforms WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_platform).transpose()
    }

    /// The platform a URL belongs to (see [`resolve_platform`]).
    pub async fn platform_for_url(
        &self,
        url: &CanonicalUrl,
    ) -> Result<Option<Platform>, StoreError> {
        // The directory is small (hundreds of entries): the rule runs in
        // Rust, the same for both backends.
        let all = self.list_platforms().await?;
        Ok(resolve_platform(&all, url).cloned())
    }

    /// Replaces the platform called `name` with `spec` (which may rename it).
    pub async fn update_platform(
        &self,
        name: &str,
        spec: &PlatformSpec,
        actor: &Actor,
    ) -> Result<Platform, StoreError> {
        let spec = spec.normalized()?;
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let result = sqlx::query(&format!(
            "UPDATE platforms SET name = $1, kind = $2, domains = $3, url_patterns = $4, \
             channel_kind = $5, channel_target = $6, tco_contact = $7, language = $8, \
             removal_rules = $9, updated_at = $10 WHERE name = $11 RETURNING {PLATFORM_COLUMNS}"
        ))
        .bind(&spec.name)
        .bind(spec.kind.as_str())
        .bind(to_json(&spec.domains))
        .bind(to_json(&spec.url_patterns))
        .bind(spec.channel.kind.as_str())
        .bind(spec.channel.target.as_deref())
        .bind(spec.tco_contact.as_deref())
        .bind(spec.language.as_deref())
        .bind(to_json(&spec.removal))
        .bind(now)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await;
        let row = match result {
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                return Err(StoreError::Conflict {
                    kind: "platform",
                    key: spec.name,
                });
            }
            other => other?,
        };
        let Some(row) = row else {
            return Err(StoreError::not_found("platform", name));
        };
        let updated = row_to_platform(&row)?;
        let what = What {
            action: "platform.update",
            record_kind: "platform",
            record_id: &updated.id.to_string(),
        };
        audit::append(&mut tx, actor, what, audit_detail(&spec)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a platform; its items keep their URLs and lose the link.
    pub async fn delete_platform(&self, name: &str, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id FROM platforms WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("platform", name))?;
        let id: i64 = row.try_get(0)?;
        // Referrals are records of what was sent where: they keep their
        // platform.
        if sqlx::query("SELECT 1 FROM referrals WHERE platform_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            return Err(StoreError::InvalidInput(format!(
                "platform {name:?} has referrals and cannot be deleted"
            )));
        }
        // Explicit, rather than trusting ON DELETE SET NULL, which SQLite
        // applies only with foreign keys on.
        sqlx::query("UPDATE items SET platform_id = NULL WHERE platform_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM platforms WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let what = What {
            action: "platform.delete",
            record_kind: "platform",
            record_id: &id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "name": name })).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What an infrastructure provider does for a group-run platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderRole {
    Hosting,
    Registrar,
    Cdn,
}

impl ProviderRole {
    pub const ALL: [ProviderRole; 3] = [
        ProviderRole::Hosting,
        ProviderRole::Registrar,
        ProviderRole::Cdn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderRole::Hosting => "hosting",
            ProviderRole::Registrar => "registrar",
            ProviderRole::Cdn => "cdn",
        }
    }
}

impl FromStr for ProviderRole {
    type Err = String;

    fn from_str(s: &str) -> Result<ProviderRole, String> {
        ProviderRole::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown provider role {s:?}: expected hosting, registrar or cdn")
            })
    }
}

/// An infrastructure provider of a group-run platform (C15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformProvider {
    pub role: ProviderRole,
    pub provider: Platform,
}

/// Most providers one group-run platform may have.
pub const MAX_PROVIDERS: i64 = 50;

impl Store {
    /// The platform with this id.
    pub async fn platform_by_id(&self, id: i64) -> Result<Option<Platform>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PLATFORM_COLUMNS} FROM platforms WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_to_platform).transpose()
    }

    /// Says which organisation runs a platform (`None`: none): that
    /// organisation's `platform` callers see the referrals addressed to it.
    pub async fn set_platform_org(
        &self,
        name: &str,
        org_id: Option<i64>,
        actor: &Actor,
    ) -> Result<Platform, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(org) = org_id
            && sqlx::query("SELECT 1 FROM organisations WHERE id = $1")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
        {
            return Err(StoreError::not_found("organisation", org));
        }
        let row = sqlx::query(&format!(
            "UPDATE platforms SET org_id = $1, updated_at = $2 WHERE name = $3 \
             RETURNING {PLATFORM_COLUMNS}"
        ))
        .bind(org_id)
        .bind(self.now())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("platform", name))?;
        let p = row_to_platform(&row)?;
        let what = What {
            action: "platform.set_org",
            record_kind: "platform",
            record_id: &p.id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({ "org_id": org_id })).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Links an infrastructure provider (a platform of kind hosting,
    /// registrar or cdn) to a group-run platform: the group-run
    /// platform's items are referred to its providers. Linking twice is a
    /// conflict.
    pub async fn add_platform_provider(
        &self,
        platform: &str,
        provider: &str,
        role: ProviderRole,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let site = self
            .platform(platform)
            .await?
            .ok_or_else(|| StoreError::not_found("platform", platform))?;
        let host = self
            .platform(provider)
            .await?
            .ok_or_else(|| StoreError::not_found("platform", provider))?;
        if site.spec.kind != PlatformKind::GroupRun {
            return Err(StoreError::InvalidInput(format!(
                "platform {platform:?} is {}, not group_run: only group-run platforms have providers",
                site.spec.kind
            )));
        }
        if !matches!(
            host.spec.kind,
            PlatformKind::Hosting | PlatformKind::Registrar | PlatformKind::Cdn
        ) {
            return Err(StoreError::InvalidInput(format!(
                "platform {provider:?} is {}: a provider is of kind hosting, registrar or cdn",
                host.spec.kind
            )));
        }
        let mut tx = self.begin_write().await?;
        let count: i64 =
            sqlx::query("SELECT COUNT(*) FROM platform_providers WHERE platform_id = $1")
                .bind(site.id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if count >= MAX_PROVIDERS {
            return Err(StoreError::InvalidInput(format!(
                "platform {platform:?} already has {MAX_PROVIDERS} providers, the most allowed"
            )));
        }
        let added = sqlx::query(
            "INSERT INTO platform_providers (platform_id, provider_id, role, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(site.id)
        .bind(host.id)
        .bind(role.as_str())
        .bind(self.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added == 0 {
            return Err(StoreError::Conflict {
                kind: "platform provider",
                key: format!("{provider} as {} of {platform}", role.as_str()),
            });
        }
        let what = What {
            action: "platform.add_provider",
            record_kind: "platform",
            record_id: &site.id.to_string(),
        };
        let detail = json!({ "provider_id": host.id, "role": role.as_str() });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unlinks a provider from a group-run platform.
    pub async fn remove_platform_provider(
        &self,
        platform: &str,
        provider: &str,
        role: ProviderRole,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT s.id, h.id FROM platform_providers pp \
             JOIN platforms s ON s.id = pp.platform_id JOIN platforms h ON h.id = pp.provider_id \
             WHERE s.name = $1 AND h.name = $2 AND pp.role = $3",
        )
        .bind(platform)
        .bind(provider)
        .bind(role.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::not_found(
                "platform provider",
                format!("{provider} as {} of {platform}", role.as_str()),
            )
        })?;
        let (site, host): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        sqlx::query(
            "DELETE FROM platform_providers WHERE platform_id = $1 AND provider_id = $2 \
             AND role = $3",
        )
        .bind(site)
        .bind(host)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        let what = What {
            action: "platform.remove_provider",
            record_kind: "platform",
            record_id: &site.to_string(),
        };
        let detail = json!({ "provider_id": host, "role": role.as_str() });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A platform's infrastructure providers, by role and name.
    pub async fn platform_providers(
        &self,
        platform_id: i64,
    ) -> Result<Vec<PlatformProvider>, StoreError> {
        let columns: Vec<String> = PLATFORM_COLUMNS
            .split(", ")
            .map(|c| format!("h.{c}"))
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {}, pp.role FROM platform_providers pp \
             JOIN platforms h ON h.id = pp.provider_id WHERE pp.platform_id = $1 \
             ORDER BY pp.role, h.name LIMIT {MAX_PROVIDERS}",
            columns.join(", ")
        ))
        .bind(platform_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(13)?;
                Ok(PlatformProvider {
                    role: role.parse().map_err(StoreError::corrupt)?,
                    provider: row_to_platform(r)?,
                })
            })
            .collect()
    }

    /// Records that an item mirrors a group-run platform (the same site
    /// on another domain). Idempotent.
    pub async fn link_mirror(
        &self,
        platform_id: i64,
        item_id: i64,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let site = self
            .platform_by_id(platform_id)
            .await?
            .ok_or_else(|| StoreError::not_found("platform", platform_id))?;
        if site.spec.kind != PlatformKind::GroupRun {
            return Err(StoreError::InvalidInput(format!(
                "platform {:?} is not group_run: only group-run platforms have mirrors",
                site.spec.name
            )));
        }
        let mut tx = self.begin_write().await?;
        if sqlx::query("SELECT 1 FROM items WHERE id = $1")
            .bind(item_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::not_found("item", item_id));
        }
        let added = sqlx::query(
            "INSERT INTO platform_mirrors (platform_id, item_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(platform_id)
        .bind(item_id)
        .bind(self.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            let what = What {
                action: "platform.link_mirror",
                record_kind: "platform",
                record_id: &platform_id.to_string(),
            };
            audit::append(&mut tx, actor, what, json!({ "item_id": item_id })).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ids of the items that mirror a group-run platform, after `after`,
    /// at most `limit` (1 to 1000; 0: 100).
    pub async fn platform_mirrors(
        &self,
        platform_id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT item_id FROM platform_mirrors WHERE platform_id = $1 AND item_id > $2 \
             ORDER BY item_id LIMIT $3",
        )
        .bind(platform_id)
        .bind(after)
        .bind(crate::workflow::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(name: &str, domains: &[&str], patterns: &[&str]) -> Platform {
        let mut spec = PlatformSpec::new(name, PlatformKind::Social);
        spec.domains = domains.iter().map(|s| (*s).to_owned()).collect();
        spec.url_patterns = patterns.iter().map(|s| (*s).to_owned()).collect();
        Platform {
            id: 0,
            spec: spec.normalized().expect("valid"),
            org_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn resolve(all: &[Platform], url: &str) -> Option<String> {
        let url = ronda_hash::url::canonicalize(url).expect("a valid url");
        resolve_platform(all, &url).map(|p| p.spec.name.clone())
    }

    #[test]
    fn the_most_specific_claim_wins() {
        let all = vec![
            platform("umbrella", &["example.com"], &[]),
            platform("video", &["video.example.com"], &[]),
            platform("groups", &[], &["video.example.com/groups/"]),
            platform("www-only", &["www.example.net"], &[]),
        ];
        assert_eq!(
            resolve(&all, "https://video.example.com/groups/x").as_deref(),
            Some("groups")
        );
        assert_eq!(
            resolve(&all, "https://video.example.com/watch/1").as_deref(),
            Some("video")
        );
        assert_eq!(
            resolve(&all, "https://cdn.video.example.com/a.jpg").as_deref(),
            Some("video")
        );
        assert_eq!(
            resolve(&all, "https://example.com/").as_deref(),
            Some("umbrella")
        );
        assert_eq!(
            resolve(&all, "https://files.example.com/1").as_deref(),
            Some("umbrella")
        );
        // Only the registrable domain in common.
        assert_eq!(
            resolve(&all, "https://m.example.net/p").as_deref(),
            Some("www-only")
        );
        assert_eq!(resolve(&all, "https://example.org/"), None);
        // `notexample.com` is not a subdomain of `example.com`.
        assert_eq!(resolve(&all, "https://notexample.com/"), None);
    }

    #[test]
    fn specs_are_checked_and_normalised() {
        let mut spec = PlatformSpec::new(" Forum ", PlatformKind::Forum);
        spec.domains = vec!["*.Forum.Example.".into(), "forum.example".into()];
        spec.url_patterns = vec!["https://Board.Example/t/".into()];
        let n = spec.normalized().expect("valid");
        assert_eq!(n.name, "Forum");
        assert_eq!(n.domains, ["forum.example"]);
        assert_eq!(n.url_patterns, ["board.example/t/"]);

        for bad in ["", "exa mple.com", "a..b", "x/y"] {
            let mut s = PlatformSpec::new("p", PlatformKind::Chat);
            s.domains = vec![bad.into()];
            assert!(s.normalized().is_err(), "{bad:?}");
        }
        let mut s = PlatformSpec::new("p", PlatformKind::Chat);
        s.channel = ReferralChannel {
            kind: ChannelKind::Email,
            target: Some("not-an-address".into()),
        };
        assert!(s.normalized().is_err());
        s.channel.kind = ChannelKind::Api;
        assert!(s.normalized().is_err());
        s.channel.target = Some("https://api.example.com/referrals".into());
        assert!(s.normalized().is_ok());
        s.removal.status_codes = vec![999];
        assert!(s.normalized().is_err());
    }

    #[test]
    fn the_starter_directory_covers_every_kind_on_example_domains_only() {
        let specs = starter_directory().expect("the starter directory parses");
        for kind in PlatformKind::ALL {
            assert!(specs.iter().any(|s| s.kind == kind), "no {kind} example");
        }
        let reserved = |h: &str| {
            let h = h.split('/').next().unwrap_or(h);
            ["example.com", "example.net", "example.org", "example"]
                .iter()
                .any(|r| h == *r || h.ends_with(&format!(".{r}")))
        };
        for s in &specs {
            for d in s.domains.iter().chain(&s.url_patterns) {
                assert!(
                    reserved(d),
                    "{}: {d} is not a reserved example domain",
                    s.name
                );
            }
            // A manual channel's target is instructions, not an address.
            if let Some(t) = &s.channel.target
                && s.channel.kind != ChannelKind::Manual
            {
                let host = t
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .rsplit('@')
                    .next()
                    .unwrap_or(t);
                assert!(
                    reserved(host),
                    "{}: {t} is not on an example domain",
                    s.name
                );
            }
        }
    }
}
