//! Referrals and removal orders: creation (one item to its platform, or to
//! a group-run platform's providers), delivery bookkeeping (queue,
//! attempts, sent), status changes through the state machine, Annex I
//! orders with their clock, and Annex II/III responses.
//!
//! The never-twice rule, decided inside the store's write lock and backed
//! by two partial unique indexes: an item has at most one open referral
//! per platform, and never two of the same kind that were not withdrawn
//! (a removal order may follow a voluntary referral the platform did not
//! act on). Duplicates (`items.duplicate_of`) are never referred: their
//! first report is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::review::set_item_status;
use super::state::{
    ClockState, ImpossibilityReason, OrderClock, ReferralEvent, ReferralStatus, order_clock,
    transition,
};
use super::{ReferralViewer, page_limit};
use crate::audit::{self, What};
use crate::platforms::clean_text;
use crate::{
    Actor, ChannelKind, ItemStatus, ItemViewer, Millis, PlatformKind, ReferralChannel, Store,
    StoreError, TcoReason, Tx,
};

/// A voluntary referral (under the platform's terms) or a binding TCO
/// removal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralKind {
    Referral,
    RemovalOrder,
}

impl ReferralKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralKind::Referral => "referral",
            ReferralKind::RemovalOrder => "removal_order",
        }
    }
}

impl fmt::Display for ReferralKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReferralKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ReferralKind, String> {
        match s {
            "referral" => Ok(ReferralKind::Referral),
            "removal_order" => Ok(ReferralKind::RemovalOrder),
            _ => Err(format!(
                "unknown referral kind {s:?}: expected referral or removal_order"
            )),
        }
    }
}

/// The issuing authority's type (Annex I, section A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityType {
    Judicial,
    LawEnforcement,
    Other,
}

/// The competent authority that issues an order (Annex I, section A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    #[serde(rename = "type")]
    pub kind: AuthorityType,
    pub name: String,
    /// The representative who signs.
    pub representative: String,
    pub file_number: String,
    /// Contact details (address, telephone, e-mail).
    pub contact: String,
}

/// Every field of a TCO removal order (Annex I of Regulation (EU)
/// 2021/784). `addressee`, `addressee_contact` and `urls` default to the
/// platform's name and TCO contact point and the item's URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovalOrderSpec {
    /// The issuing Member State (ISO 3166-1 alpha-2, `EL` for Greece).
    pub issuing_state: String,
    pub authority: Authority,
    /// The hosting service provider, and its legal representative or
    /// contact point (Art. 15).
    #[serde(default)]
    pub addressee: Option<String>,
    #[serde(default)]
    pub addressee_contact: Option<String>,
    /// Time and date of issue.
    pub issued_at: Millis,
    pub reference_number: String,
    /// The exact URLs of the content.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Further identifiers, where the URLs are not enough.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// The Art. 2(7) reasons (at least one).
    pub reasons: Vec<TcoReason>,
    /// The free-text grounds: why the content is terrorist content.
    pub grounds: String,
    /// Art. 11(3): the host must not tell the content provider (until
    /// `non_disclosure_until`, when given).
    #[serde(default)]
    pub non_disclosure: bool,
    #[serde(default)]
    pub non_disclosure_until: Option<Millis>,
    /// Art. 4: the host's main establishment is in another Member State
    /// (`host_member_state`), whose authority gets a copy.
    #[serde(default)]
    pub cross_border: bool,
    #[serde(default)]
    pub host_member_state: Option<String>,
    /// How to seek redress: the competent court, deadlines, procedure.
    pub redress: String,
}

/// The Member States (ISO 3166-1 alpha-2; `EL` for Greece, as the EU
/// writes it, and `GR` too).
const MEMBER_STATES: [&str; 28] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Limits on an order's fields.
pub const MAX_ORDER_URLS: usize = 100;
pub const MAX_ORDER_TEXT: usize = 5_000;
pub const MAX_ORDER_FIELD: usize = 500;

fn required(field: &str, text: &str, max: usize) -> Result<String, StoreError> {
    clean_text(field, Some(text), max)?
        .ok_or_else(|| StoreError::InvalidInput(format!("{field} is required in a removal order")))
}

fn member_state(field: &str, code: &str) -> Result<String, StoreError> {
    let c = code.trim().to_ascii_uppercase();
    if MEMBER_STATES.contains(&c.as_str()) {
        Ok(c)
    } else {
        Err(StoreError::InvalidInput(format!(
            "{field} {code:?} is not an EU Member State code (e.g. DE, FR, EL)"
        )))
    }
}

impl RemovalOrderSpec {
    /// Checks every field and fills the defaults from the addressee and
    /// the item.
    pub(crate) fn checked(
        &self,
        platform_name: &str,
        platform_contact: Option<&str>,
        item_url: &str,
    ) -> Result<RemovalOrderSpec, StoreError> {
        let bad = |m: String| StoreError::InvalidInput(m);
        let issuing_state = member_state("issuing_state", &self.issuing_state)?;
        let a = &self.authority;
        let authority = Authority {
            kind: a.kind,
            name: required("authority.name", &a.name, MAX_ORDER_FIELD)?,
            representative: required(
                "authority.representative",
                &a.representative,
                MAX_ORDER_FIELD,
            )?,
            file_number: required("authority.file_number", &a.file_number, MAX_ORDER_FIELD)?,
            contact: required("authority.contact", &a.contact, MAX_ORDER_FIELD)?,
        };
        let addressee = required(
            "addressee",
            self.addressee.as_deref().unwrap_or(platform_name),
            MAX_ORDER_FIELD,
        )?;
        let addressee_contact = clean_text(
            "addressee_contact",
            self.addressee_contact.as_deref().or(platform_contact),
            MAX_ORDER_FIELD,
        )?
        .ok_or_else(|| {
            bad(format!(
                "addressee_contact is required in a removal order: platform {platform_name:?} \
                 has no TCO contact point"
            ))
        })?;
        if self.issued_at <= 0 {
            return Err(bad("issued_at must be a time".into()));
        }
        let reference_number = required("reference_number", &self.reference_number, 100)?;
        let mut urls = Vec::new();
        let given = if self.urls.is_empty() {
            vec![item_url.to_owned()]
        } else {
            self.urls.clone()
        };
        if given.len() > MAX_ORDER_URLS || self.identifiers.len() > MAX_ORDER_URLS {
            return Err(bad(format!(
                "a removal order lists at most {MAX_ORDER_URLS} URLs and {MAX_ORDER_URLS} identifiers"
            )));
        }
        for u in &given {
            let u = u.trim();
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 8192
                || u.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(bad(format!(
                    "invalid URL in a removal order: {:?}: expected an exact http(s) URL",
                    u.chars().take(100).collect::<String>()
                )));
            }
            if !urls.iter().any(|x: &String| x == u) {
                urls.push(u.to_owned());
            }
        }
        let mut identifiers = Vec::new();
        for i in &self.identifiers {
            if let Some(i) = clean_text("identifier", Some(i), MAX_ORDER_FIELD)? {
                identifiers.push(i);
            }
        }
        if self.reasons.is_empty() {
            return Err(bad(
                "a removal order needs at least one TCO Art. 2(7) reason".into(),
            ));
        }
        let mut reasons = Vec::new();
        for r in &self.reasons {
            if !reasons.contains(r) {
                reasons.push(*r);
            }
        }
        let grounds = required("grounds", &self.grounds, MAX_ORDER_TEXT)?;
        let redress = required("redress", &self.redress, MAX_ORDER_TEXT)?;
        if self.non_disclosure_until.is_some() && !self.non_disclosure {
            return Err(bad("non_disclosure_until needs non_disclosure: true".into()));
        }
        if let Some(until) = self.non_disclosure_until
            && until <= self.issued_at
        {
            return Err(bad("non_disclosure_until must be after issued_at".into()));
        }
        let host_member_state = match (&self.host_member_state, self.cross_border) {
            (Some(s), true) => {
                let s = member_state("host_member_state", s)?;
                if s == issuing_state {
                    return Err(bad(
                        "a cross-border order's host_member_state differs from issuing_state"
                            .into(),
                    ));
                }
                Some(s)
            }
            (None, true) => {
                return Err(bad(
                    "a cross-border order (Art. 4) needs host_member_state".into()
                ));
            }
            (Some(_), false) => {
                return Err(bad(
                    "host_member_state is given only with cross_border: true".into(),
                ));
            }
            (None, false) => None,
        };
        Ok(RemovalOrderSpec {
            issuing_state,
            authority,
            addressee: Some(addressee),
            addressee_contact: Some(addressee_contact),
            issued_at: self.issued_at,
            reference_number,
            urls,
            identifiers,
            reasons,
            grounds,
            non_disclosure: self.non_disclosure,
            non_disclosure_until: self.non_disclosure_until,
            cross_border: self.cross_border,
            host_member_state,
            redress,
        })
    }
}

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    pub item_id: i64,
    /// The addressee; `None`: the item's platform, or, for a group-run
    /// platform, each of its infrastructure providers.
    pub platform_id: Option<i64>,
    pub kind: ReferralKind,
    /// Required for a removal order, refused for a referral.
    pub order: Option<RemovalOrderSpec>,
    /// An emergency order (Art. 3(2)): no 12 hours' notice before a
    /// host's first order.
    pub emergency: bool,
    /// Ready for automatic delivery at once ([`Store::referrals_to_deliver`]).
    pub queue: bool,
}

impl NewReferral {
    pub fn referral(item_id: i64) -> NewReferral {
        NewReferral {
            item_id,
            platform_id: None,
            kind: ReferralKind::Referral,
            order: None,
            emergency: false,
            queue: false,
        }
    }
}

/// A removal order's own fields and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovalOrder {
    pub annex_i: RemovalOrderSpec,
    pub emergency: bool,
    /// The host's first order, not an emergency: 12 hours' notice count
    /// into the first deadline.
    pub notice_first: bool,
    /// When the host received it (when it was sent); the clock starts.
    pub received_at: Option<Millis>,
    /// `None` until received.
    pub clock: Option<ClockState>,
}

/// A referral or removal order as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    pub id: i64,
    pub item_id: i64,
    /// The item's URL (what the platform is asked to act on).
    pub url: String,
    /// The item's organisation and campaign.
    pub org_id: Option<i64>,
    pub campaign_id: Option<i64>,
    /// The addressee.
    pub platform_id: i64,
    pub platform: String,
    pub kind: ReferralKind,
    pub status: ReferralStatus,
    pub idempotency_key: String,
    /// The channel at creation.
    pub channel: ReferralChannel,
    /// The package as prepared, or as sent once sent.
    pub package: Value,
    pub created_by: String,
    pub created_at: Millis,
    pub queued_at: Option<Millis>,
    pub next_attempt_at: Option<Millis>,
    pub delivery_failed_at: Option<Millis>,
    pub sent_at: Option<Millis>,
    pub acknowledged_at: Option<Millis>,
    pub outcome_at: Option<Millis>,
    pub updated_at: Millis,
    pub order: Option<RemovalOrder>,
}

/// One status change, as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralHistoryEntry {
    pub id: i64,
    pub at: Millis,
    /// A [`ReferralEvent`] name, or `create`.
    pub event: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub detail: Option<Value>,
}

/// How one delivery attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The platform took it (mark the referral sent next).
    Delivered,
    /// Failed; try again at `next_retry_at`.
    Retry,
    /// Failed for good: the referral leaves the delivery queue.
    Failed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Failed => "failed",
        }
    }
}

impl FromStr for AttemptOutcome {
    type Err = String;

    fn from_str(s: &str) -> Result<AttemptOutcome, String> {
        match s {
            "delivered" => Ok(AttemptOutcome::Delivered),
            "retry" => Ok(AttemptOutcome::Retry),
            "failed" => Ok(AttemptOutcome::Failed),
            _ => Err(format!(
                "unknown delivery outcome {s:?}: expected delivered, retry or failed"
            )),
        }
    }
}

/// A delivery attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeliveryAttempt {
    pub referral_id: i64,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    /// What went wrong (no content), at most [`MAX_ERROR_BYTES`].
    pub error: Option<String>,
    /// Required with [`AttemptOutcome::Retry`].
    pub next_retry_at: Option<Millis>,
}

pub const MAX_ERROR_BYTES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub id: i64,
    pub referral_id: i64,
    pub at: Millis,
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub next_retry_at: Option<Millis>,
}

/// Annex II (feedback) or Annex III (impossibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseKind {
    #[serde(rename = "annex_ii")]
    AnnexII,
    #[serde(rename = "annex_iii")]
    AnnexIII,
}

impl ResponseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseKind::AnnexII => "annex_ii",
            ResponseKind::AnnexIII => "annex_iii",
        }
    }
}

impl FromStr for ResponseKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ResponseKind, String> {
        match s {
            "annex_ii" => Ok(ResponseKind::AnnexII),
            "annex_iii" => Ok(ResponseKind::AnnexIII),
            _ => Err(format!(
                "unknown response kind {s:?}: expected annex_ii or annex_iii"
            )),
        }
    }
}

/// The measure an Annex II feedback reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Removed,
    Disabled,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Removed => "removed",
            Measure::Disabled => "disabled",
        }
    }
}

impl FromStr for Measure {
    type Err = String;

    fn from_str(s: &str) -> Result<Measure, String> {
        match s {
            "removed" => Ok(Measure::Removed),
            "disabled" => Ok(Measure::Disabled),
            _ => Err(format!(
                "unknown measure {s:?}: expected removed or disabled"
            )),
        }
    }
}

/// Who entered a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseSource {
    /// The platform, through the API.
    Platform,
    /// The referral unit's staff, by hand (an answer by e-mail or phone).
    Manual,
}

impl ResponseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseSource::Platform => "platform",
            ResponseSource::Manual => "manual",
        }
    }
}

/// A response to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewResponse {
    pub kind: ResponseKind,
    /// Annex II: the measure and when it was taken (default: now).
    #[serde(default)]
    pub measure: Option<Measure>,
    #[serde(default)]
    pub measure_at: Option<Millis>,
    /// Annex III: why, and an explanation.
    #[serde(default)]
    pub reason: Option<ImpossibilityReason>,
    #[serde(default)]
    pub explanation: Option<String>,
    /// The authority's file reference and the host's own.
    #[serde(default)]
    pub authority_file_ref: Option<String>,
    #[serde(default)]
    pub platform_file_ref: Option<String>,
    /// When the host says it received the order.
    #[serde(default)]
    pub received_at: Option<Millis>,
}

/// A response as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    pub id: i64,
    pub referral_id: i64,
    pub kind: ResponseKind,
    pub measure: Option<Measure>,
    pub measure_at: Option<Millis>,
    pub reason: Option<ImpossibilityReason>,
    pub explanation: Option<String>,
    pub authority_file_ref: Option<String>,
    pub platform_file_ref: Option<String>,
    pub received_at: Option<Millis>,
    pub source: ResponseSource,
    pub actor: String,
    pub at: Millis,
}

/// A referral with everything that happened to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralDetail {
    #[serde(flatten)]
    pub referral: Referral,
    pub history: Vec<ReferralHistoryEntry>,
    pub attempts: Vec<DeliveryAttempt>,
    pub responses: Vec<Response>,
}

/// Which referrals a listing returns (all filters together).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFilter {
    pub item_id: Option<i64>,
    pub platform_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub status: Option<ReferralStatus>,
    pub kind: Option<ReferralKind>,
    /// Referrals with ids above this (paging).
    pub after: i64,
    /// At most this many (1 to 1000; 0 means 100).
    pub limit: i64,
}

/// What [`Store::refer_campaign`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReferrals {
    pub created: Vec<Referral>,
    /// Items left out, with why (already referred, no platform, …).
    pub skipped: Vec<(i64, String)>,
}

/// The open statuses ([`ReferralStatus::is_open`]), as the schema's
/// `referrals_one_open` index lists them.
const OPEN: &str = "('draft', 'sent', 'acknowledged', 'disputed', 'impossible')";

/// Most items one campaign referral run looks at.
pub const MAX_CAMPAIGN_ITEMS: i64 = 10_000;
/// Most history rows, attempts or responses a referral shows.
const MAX_HISTORY: i64 = 1000;

const REFERRAL_SELECT: &str = "SELECT r.id, r.item_id, i.url, i.org_id, i.campaign_id, \
     r.platform_id, p.name, r.kind, r.status, r.idempotency_key, r.channel_kind, \
     r.channel_target, r.package, r.created_by, r.created_at, r.queued_at, r.next_attempt_at, \
     r.delivery_failed_at, r.sent_at, r.acknowledged_at, r.outcome_at, r.updated_at, \
     o.annex_i, o.emergency, o.notice_first, o.received_at, p.org_id \
     FROM referrals r JOIN items i ON i.id = r.item_id JOIN platforms p ON p.id = r.platform_id \
     LEFT JOIN removal_orders o ON o.referral_id = r.id";

fn row_to_referral(r: &AnyRow) -> Result<Referral, StoreError> {
    let kind: String = r.try_get(7)?;
    let status: String = r.try_get(8)?;
    let channel_kind: String = r.try_get(10)?;
    let package: String = r.try_get(12)?;
    let annex: Option<String> = r.try_get(22)?;
    let order = match annex {
        None => None,
        Some(a) => Some(RemovalOrder {
            annex_i: serde_json::from_str(&a)
                .map_err(|e| StoreError::corrupt(format!("removal order: {e}")))?,
            emergency: r.try_get::<i64, _>(23)? != 0,
            notice_first: r.try_get::<i64, _>(24)? != 0,
            received_at: r.try_get(25)?,
            clock: None,
        }),
    };
    Ok(Referral {
        id: r.try_get(0)?,
        item_id: r.try_get(1)?,
        url: r.try_get(2)?,
        org_id: r.try_get(3)?,
        campaign_id: r.try_get(4)?,
        platform_id: r.try_get(5)?,
        platform: r.try_get(6)?,
        kind: kind.parse().map_err(StoreError::corrupt)?,
        status: status.parse().map_err(StoreError::corrupt)?,
        idempotency_key: r.try_get(9)?,
        channel: ReferralChannel {
            kind: channel_kind.parse().map_err(StoreError::corrupt)?,
            target: r.try_get(11)?,
        },
        package: serde_json::from_str(&package)
            .map_err(|e| StoreError::corrupt(format!("referral package: {e}")))?,
        created_by: r.try_get(13)?,
        created_at: r.try_get(14)?,
        queued_at: r.try_get(15)?,
        next_attempt_at: r.try_get(16)?,
        delivery_failed_at: r.try_get(17)?,
        sent_at: r.try_get(18)?,
        acknowledged_at: r.try_get(19)?,
        outcome_at: r.try_get(20)?,
        updated_at: r.try_get(21)?,
        order,
    })
}

/// The clock-relevant history of a referral, oldest first.
async fn clock_events(
    conn: &mut sqlx::AnyConnection,
    referral_id: i64,
) -> Result<Vec<(Millis, ReferralEvent)>, StoreError> {
    let rows = sqlx::query(
        "SELECT at, event FROM referral_events WHERE referral_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(referral_id)
    .bind(MAX_HISTORY)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let event: String = r.try_get(1)?;
        if let Ok(e) = event.parse::<ReferralEvent>() {
            out.push((r.try_get(0)?, e));
        }
    }
    Ok(out)
}

/// Fills in a removal order's clock from its history.
async fn with_clock(
    conn: &mut sqlx::AnyConnection,
    mut referral: Referral,
) -> Result<Referral, StoreError> {
    if let Some(order) = &mut referral.order
        && let Some(received_at) = order.received_at
    {
        let events = clock_events(conn, referral.id).await?;
        order.clock = Some(order_clock(
            OrderClock {
                received_at,
                notice_first: order.notice_first,
            },
            &events,
        ));
    }
    Ok(referral)
}

fn random_key() -> Result<String, StoreError> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
    Ok(hex::encode(random))
}

fn rfc3339(ms: Millis) -> Value {
    jiff::Timestamp::from_millisecond(ms).map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// Applies `event` to a referral inside a write transaction: the state
/// machine decides, then the status, its times, the history row, the
/// item's status and the audit event are written together.
pub(crate) async fn apply_event(
    tx: &mut Tx,
    referral_id: i64,
    event: ReferralEvent,
    at: Millis,
    now: Millis,
    actor: &Actor,
    detail: Value,
) -> Result<ReferralStatus, StoreError> {
    let row = sqlx::query("SELECT status, item_id FROM referrals WHERE id = $1")
        .bind(referral_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("referral", referral_id))?;
    let from: ReferralStatus = row
        .try_get::<String, _>(0)?
        .parse()
        .map_err(StoreError::corrupt)?;
    let item_id: i64 = row.try_get(1)?;
    let to = transition(from, event).map_err(|e| StoreError::InvalidInput(e.to_string()))?;
    let column = match (event, to) {
        (ReferralEvent::Send, _) => Some("sent_at"),
        (ReferralEvent::Acknowledge, _) => Some("acknowledged_at"),
        (
            _,
            ReferralStatus::Removed
            | ReferralStatus::NotRemoved
            | ReferralStatus::Disputed
            | ReferralStatus::Impossible,
        ) => Some("outcome_at"),
        _ => None,
    };
    // Column names are fixed strings above: safe to inline.
    let set_time = column.map_or(String::new(), |c| format!(", {c} = $3"));
    let clear_outcome = if to == ReferralStatus::Sent && from != ReferralStatus::Draft {
        ", outcome_at = NULL"
    } else {
        ""
    };
    sqlx::query(&format!(
        "UPDATE referrals SET status = $1, updated_at = $2{set_time}{clear_outcome} WHERE id = $4"
    ))
    .bind(to.as_str())
    .bind(now)
    .bind(at)
    .bind(referral_id)
    .execute(&mut **tx)
    .await?;
    if event == ReferralEvent::Send {
        sqlx::query(
            "UPDATE removal_orders SET received_at = $1 WHERE referral_id = $2 \
             AND received_at IS NULL",
        )
        .bind(at)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    }
    let detail_text =
        (!detail.as_object().is_some_and(|o| o.is_empty())).then(|| detail.to_string());
    sqlx::query(
        "INSERT INTO referral_events (referral_id, at, event, from_status, to_status, actor, \
         detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(referral_id)
    .bind(at)
    .bind(event.as_str())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(&actor.0)
    .bind(detail_text.as_deref())
    .execute(&mut **tx)
    .await?;
    if to == ReferralStatus::Removed {
        set_item_status(tx, item_id, ItemStatus::Removed).await?;
    } else if to == ReferralStatus::Withdrawn {
        let others: i64 = sqlx::query(
            "SELECT COUNT(*) FROM referrals WHERE item_id = $1 AND status <> 'withdrawn'",
        )
        .bind(item_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        if others == 0 {
            sqlx::query("UPDATE items SET status = $1 WHERE id = $2 AND status = $3")
                .bind(ItemStatus::Assessed.as_str())
                .bind(item_id)
                .bind(ItemStatus::Referred.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    let action = format!("referral.{}", event.as_str());
    let what = What {
        action: &action,
        record_kind: "referral",
        record_id: &referral_id.to_string(),
    };
    let audit_detail = json!({ "from": from.as_str(), "to": to.as_str(), "at": at });
    audit::append(tx, actor, what, audit_detail).await?;
    Ok(to)
}

/// The item facts a referral needs.
struct ItemFacts {
    org_id: Option<i64>,
    duplicate_of: Option<i64>,
    status: ItemStatus,
    platform_id: Option<i64>,
    url: String,
    canonical_url: String,
    blob_sha256: Option<String>,
    campaign: Option<String>,
    created_at: Millis,
}

async fn item_facts(tx: &mut Tx, item_id: i64) -> Result<Option<ItemFacts>, StoreError> {
    let row = sqlx::query(
        "SELECT i.org_id, i.duplicate_of, i.status, i.platform_id, i.url, i.canonical_url, \
         i.blob_sha256, c.name, i.created_at FROM items i \
         LEFT JOIN campaigns c ON c.id = i.campaign_id WHERE i.id = $1",
    )
    .bind(item_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let status: String = r.try_get(2)?;
    Ok(Some(ItemFacts {
        org_id: r.try_get(0)?,
        duplicate_of: r.try_get(1)?,
        status: status.parse().map_err(StoreError::corrupt)?,
        platform_id: r.try_get(3)?,
        url: r.try_get(4)?,
        canonical_url: r.try_get(5)?,
        blob_sha256: r.try_get(6)?,
        campaign: r.try_get(7)?,
        created_at: r.try_get(8)?,
    }))
}

/// An addressee's facts.
struct Target {
    id: i64,
    name: String,
    kind: PlatformKind,
    channel_kind: ChannelKind,
    channel_target: Option<String>,
    tco_contact: Option<String>,
}

async fn target(tx: &mut Tx, platform_id: i64) -> Result<Option<Target>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, kind, channel_kind, channel_target, tco_contact FROM platforms \
         WHERE id = $1",
    )
    .bind(platform_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let kind: String = r.try_get(2)?;
    let channel: String = r.try_get(3)?;
    Ok(Some(Target {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: kind.parse().map_err(StoreError::corrupt)?,
        channel_kind: channel.parse().map_err(StoreError::corrupt)?,
        channel_target: r.try_get(4)?,
        tco_contact: r.try_get(5)?,
    }))
}

/// The latest terrorist-content assessment of an item, for the package
/// (never its notes).
async fn package_assessment(tx: &mut Tx, item_id: i64) -> Result<Value, StoreError> {
    let row = sqlx::query(
        "SELECT reason, group_name, outlet, severity, language FROM assessments \
         WHERE item_id = $1 AND verdict = 'terrorist_content' ORDER BY id DESC LIMIT 1",
    )
    .bind(item_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        None => Value::Null,
        Some(r) => json!({
            "tco_reason": r.try_get::<Option<String>, _>(0)?,
            "group": r.try_get::<Option<String>, _>(1)?,
            "outlet": r.try_get::<Option<String>, _>(2)?,
            "severity": r.try_get::<Option<i64>, _>(3)?,
            "language": r.try_get::<Option<String>, _>(4)?,
        }),
    })
}

impl Store {
    /// Creates the referrals of one item (see [`NewReferral`]): one to the
    /// named platform, else to the item's platform, else (a group-run
    /// platform) one to each of its providers. All or nothing: an
    /// addressee that already has an open referral of the item, or one of
    /// the same kind, is a conflict. Only assessed (or already referred)
    /// first reports that `viewer` sees are referred; the item becomes
    /// `referred`.
    pub async fn create_referrals(
        &self,
        new: &NewReferral,
        viewer: ItemViewer,
        actor: &Actor,
    ) -> Result<Vec<Referral>, StoreError> {
        let bad = |m: String| StoreError::InvalidInput(m);
        match (new.kind, &new.order) {
            (ReferralKind::RemovalOrder, None) => {
                return Err(bad(
                    "a removal order needs its Annex I fields (order)".into()
                ));
            }
            (ReferralKind::Referral, Some(_)) => {
                return Err(bad(
                    "Annex I fields belong to a removal order, not a referral".into(),
                ));
            }
            (ReferralKind::Referral, None) if new.emergency => {
                return Err(bad("only a removal order is an emergency".into()));
            }
            _ => {}
        }
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let item = item_facts(&mut tx, new.item_id)
            .await?
            .filter(|i| viewer.sees(i.org_id))
            .ok_or_else(|| StoreError::not_found("item", new.item_id))?;
        if let Some(first) = item.duplicate_of {
            return Err(bad(format!(
                "item {} is a duplicate of item {first}: refer the first report",
                new.item_id
            )));
        }
        if !matches!(item.status, ItemStatus::Assessed | ItemStatus::Referred) {
            return Err(bad(format!(
                "item {} is {}: only items assessed as terrorist content are referred",
                new.item_id, item.status
            )));
        }
        let direct = new.platform_id.or(item.platform_id).ok_or_else(|| {
            bad(format!(
                "item {} has no platform: name the platform to refer it to",
                new.item_id
            ))
        })?;
        let first = target(&mut tx, direct)
            .await?
            .ok_or_else(|| StoreError::not_found("platform", direct))?;
        let mut via: Option<String> = None;
        let targets = if first.kind == PlatformKind::GroupRun && new.platform_id.is_none() {
            let rows = sqlx::query(
                "SELECT DISTINCT provider_id FROM platform_providers WHERE platform_id = $1 \
                 ORDER BY provider_id",
            )
            .bind(first.id)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                return Err(bad(format!(
                    "platform {:?} is group-run and has no infrastructure providers to refer to",
                    first.name
                )));
            }
            via = Some(first.name.clone());
            let mut targets = Vec::new();
            for r in &rows {
                let id: i64 = r.try_get(0)?;
                targets.push(
                    target(&mut tx, id)
                        .await?
                        .ok_or_else(|| StoreError::not_found("platform", id))?,
                );
            }
            targets
        } else {
            vec![first]
        };
        if new.kind == ReferralKind::RemovalOrder && targets.len() != 1 {
            return Err(bad(format!(
                "a removal order has one addressee: name one of the {} providers",
                targets.len()
            )));
        }
        let assessment = package_assessment(&mut tx, new.item_id).await?;
        let mut ids = Vec::with_capacity(targets.len());
        for t in &targets {
            let order = match &new.order {
                Some(o) => Some(o.checked(&t.name, t.tco_contact.as_deref(), &item.url)?),
                None => None,
            };
            let existing = sqlx::query(&format!(
                "SELECT id, status, kind FROM referrals WHERE item_id = $1 AND platform_id = $2 \
                 AND (status IN {OPEN} \
                 OR (kind = $3 AND status <> 'withdrawn')) ORDER BY id LIMIT 1"
            ))
            .bind(new.item_id)
            .bind(t.id)
            .bind(new.kind.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(e) = existing {
                return Err(StoreError::Conflict {
                    kind: "referral",
                    key: format!(
                        "item {} to {}: referral {} is {} ({})",
                        new.item_id,
                        t.name,
                        e.try_get::<i64, _>(0)?,
                        e.try_get::<String, _>(1)?,
                        e.try_get::<String, _>(2)?,
                    ),
                });
            }
            let key = random_key()?;
            let package = json!({
                "ronda_package": 1,
                "kind": new.kind.as_str(),
                "idempotency_key": key,
                "platform": t.name,
                "via_platform": via,
                "item": {
                    "id": new.item_id,
                    "url": item.url,
                    "canonical_url": item.canonical_url,
                    "content_sha256": item.blob_sha256,
                    "reported_at": rfc3339(item.created_at),
                },
                "campaign": item.campaign,
                "assessment": assessment,
                "removal_order": order,
                "prepared_at": rfc3339(now),
            });
            let id: i64 = sqlx::query(
                "INSERT INTO referrals (item_id, platform_id, kind, status, idempotency_key, \
                 channel_kind, channel_target, package, created_by, created_at, queued_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10) \
                 RETURNING id",
            )
            .bind(new.item_id)
            .bind(t.id)
            .bind(new.kind.as_str())
            .bind(ReferralStatus::Draft.as_str())
            .bind(&key)
            .bind(t.channel_kind.as_str())
            .bind(t.channel_target.as_deref())
            .bind(package.to_string())
            .bind(&actor.0)
            .bind(now)
            .bind(new.queue.then_some(now))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            if let Some(order) = &order {
                let earlier: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM referrals WHERE platform_id = $1 \
                     AND kind = 'removal_order' AND status <> 'withdrawn' AND id <> $2",
                )
                .bind(t.id)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                let notice_first = !new.emergency && earlier == 0;
                sqlx::query(
                    "INSERT INTO removal_orders (referral_id, reference_number, annex_i, \
                     emergency, notice_first) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&order.reference_number)
                .bind(serde_json::to_string(order).map_err(StoreError::corrupt)?)
                .bind(i64::from(new.emergency))
                .bind(i64::from(notice_first))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO referral_events (referral_id, at, event, from_status, to_status, \
                 actor) VALUES ($1, $2, 'create', 'draft', 'draft', $3)",
            )
            .bind(id)
            .bind(now)
            .bind(&actor.0)
            .execute(&mut *tx)
            .await?;
            let what = What {
                action: "referral.create",
                record_kind: "referral",
                record_id: &id.to_string(),
            };
            let detail = json!({
                "item_id": new.item_id,
                "platform_id": t.id,
                "kind": new.kind.as_str(),
                "queued": new.queue,
                "emergency": new.emergency,
            });
            audit::append(&mut tx, actor, what, detail).await?;
            ids.push(id);
        }
        set_item_status(&mut tx, new.item_id, ItemStatus::Referred).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(&format!("{REFERRAL_SELECT} WHERE r.id = $1"))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            out.push(row_to_referral(&row)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Refers every assessed first report of a campaign (on one platform,
    /// when `platform_id` is given) that `viewer` sees, one item per
    /// transaction; items that cannot be referred are listed with why.
    pub async fn refer_campaign(
        &self,
        campaign_id: i64,
        platform_id: Option<i64>,
        queue: bool,
        viewer: ItemViewer,
        actor: &Actor,
    ) -> Result<CampaignReferrals, StoreError> {
        let rows = sqlx::query(
            "SELECT id, org_id FROM items WHERE campaign_id = $1 AND status = $2 \
             AND duplicate_of IS NULL AND ($3 = 0 OR platform_id = $3) ORDER BY id LIMIT $4",
        )
        .bind(campaign_id)
        .bind(ItemStatus::Assessed.as_str())
        .bind(platform_id.unwrap_or(0))
        .bind(MAX_CAMPAIGN_ITEMS)
        .fetch_all(self.pool())
        .await?;
        let mut result = CampaignReferrals {
            created: Vec::new(),
            skipped: Vec::new(),
        };
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            if !viewer.sees(r.try_get(1)?) {
                continue;
            }
            let new = NewReferral {
                queue,
                ..NewReferral::referral(id)
            };
            match self.create_referrals(&new, viewer, actor).await {
                Ok(mut made) => result.created.append(&mut made),
                Err(e @ (StoreError::Conflict { .. } | StoreError::InvalidInput(_))) => {
                    result.skipped.push((id, e.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(result)
    }

    /// A referral with its history, delivery attempts and responses, if
    /// `viewer` sees it.
    pub async fn referral(
        &self,
        id: i64,
        viewer: ReferralViewer,
    ) -> Result<Option<ReferralDetail>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!("{REFERRAL_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let platform_org: Option<i64> = row.try_get(26)?;
        let referral = row_to_referral(&row)?;
        if !viewer.sees(referral.org_id, platform_org) {
            return Ok(None);
        }
        let referral = with_clock(&mut conn, referral).await?;
        let rows = sqlx::query(
            "SELECT id, at, event, from_status, to_status, actor, detail FROM referral_events \
             WHERE referral_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(id)
        .bind(MAX_HISTORY)
        .fetch_all(&mut *conn)
        .await?;
        let history = rows
            .iter()
            .map(|r| {
                let detail: Option<String> = r.try_get(6)?;
                Ok(ReferralHistoryEntry {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    event: r.try_get(2)?,
                    from_status: r.try_get(3)?,
                    to_status: r.try_get(4)?,
                    actor: r.try_get(5)?,
                    detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let attempts = self.attempts_of(&mut conn, id).await?;
        let responses = responses_of(&mut conn, id).await?;
        Ok(Some(ReferralDetail {
            referral,
            history,
            attempts,
            responses,
        }))
    }

    async fn attempts_of(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, referral_id, at, outcome, http_status, error, next_retry_at \
             FROM delivery_attempts WHERE referral_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(id)
        .bind(MAX_HISTORY)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(row_to_attempt).collect()
    }

    /// Referrals matching `filter` that `viewer` sees, by id, with each
    /// order's clock.
    pub async fn list_referrals(
        &self,
        filter: &ReferralFilter,
        viewer: ReferralViewer,
    ) -> Result<Vec<Referral>, StoreError> {
        let mut conditions: Vec<String> = vec!["r.id > $1".into()];
        let mut ints: Vec<i64> = vec![filter.after];
        let mut push = |sql: &str, value: Option<i64>| match value {
            Some(v) => {
                ints.push(v);
                conditions.push(format!("{sql}{}", ints.len()));
            }
            None => conditions.push(sql.to_owned()),
        };
        if let Some((sql, value)) = viewer.condition() {
            push(sql, value);
        }
        if let Some(v) = filter.item_id {
            push("r.item_id = $", Some(v));
        }
        if let Some(v) = filter.platform_id {
            push("r.platform_id = $", Some(v));
        }
        if let Some(v) = filter.campaign_id {
            push("i.campaign_id = $", Some(v));
        }
        // Statuses and kinds are closed sets of fixed names: safe to inline.
        if let Some(s) = filter.status {
            push(&format!("r.status = '{}'", s.as_str()), None);
        }
        if let Some(k) = filter.kind {
            push(&format!("r.kind = '{}'", k.as_str()), None);
        }
        let sql = format!(
            "{REFERRAL_SELECT} WHERE {} ORDER BY r.id LIMIT {}",
            conditions.join(" AND "),
            page_limit(filter.limit)
        );
        let mut conn = self.pool().acquire().await?;
        let mut q = sqlx::query(&sql);
        for v in &ints {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(with_clock(&mut conn, row_to_referral(row)?).await?);
        }
        Ok(out)
    }

    /// Applies a status event by hand (staff) or from a platform
    /// (acknowledge, dispute): through the state machine, recorded in the
    /// history with the caller's note, audited.
    pub async fn transition_referral(
        &self,
        id: i64,
        event: ReferralEvent,
        note: Option<&str>,
        viewer: ReferralViewer,
        actor: &Actor,
    ) -> Result<Referral, StoreError> {
        let note = clean_text("note", note, 2000)?;
        let mut tx = self.begin_write().await?;
        self.check_sees(&mut tx, id, viewer).await?;
        let now = self.now();
        apply_event(&mut tx, id, event, now, now, actor, json!({ "note": note })).await?;
        let referral = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(referral)
    }

    async fn check_sees(
        &self,
        tx: &mut Tx,
        id: i64,
        viewer: ReferralViewer,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT i.org_id, p.org_id FROM referrals r JOIN items i ON i.id = r.item_id \
             JOIN platforms p ON p.id = r.platform_id WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(r) if viewer.sees(r.try_get(0)?, r.try_get(1)?) => Ok(()),
            _ => Err(StoreError::not_found("referral", id)),
        }
    }

    async fn load(&self, tx: &mut Tx, id: i64) -> Result<Referral, StoreError> {
        let row = sqlx::query(&format!("{REFERRAL_SELECT} WHERE r.id = $1"))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        with_clock(tx, row_to_referral(&row)?).await
    }

    /// Puts a draft in the delivery queue (again, after a failure).
    pub async fn queue_referral(&self, id: i64, actor: &Actor) -> Result<Referral, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let done = sqlx::query(
            "UPDATE referrals SET queued_at = $1, next_attempt_at = NULL, \
             delivery_failed_at = NULL, updated_at = $1 WHERE id = $2 AND status = 'draft'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(match self.load(&mut tx, id).await {
                Ok(r) => StoreError::InvalidInput(format!(
                    "referral {id} is {}: only drafts are queued for delivery",
                    r.status
                )),
                Err(_) => StoreError::not_found("referral", id),
            });
        }
        let what = What {
            action: "referral.queue",
            record_kind: "referral",
            record_id: &id.to_string(),
        };
        audit::append(&mut tx, actor, what, json!({})).await?;
        let referral = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(referral)
    }

    /// Drafts queued for automatic delivery (API or e-mail channel) whose
    /// next attempt is due, the longest waiting first, at most `limit`
    /// (1 to 1000; 0: 100). Web-form and manual channels are sent by hand.
    pub async fn referrals_to_deliver(&self, limit: i64) -> Result<Vec<Referral>, StoreError> {
        let now = self.now();
        let rows = sqlx::query(&format!(
            "{REFERRAL_SELECT} WHERE r.status = 'draft' AND r.queued_at IS NOT NULL \
             AND r.delivery_failed_at IS NULL AND r.channel_kind IN ('api', 'email') \
             AND COALESCE(r.next_attempt_at, r.queued_at) <= $1 \
             ORDER BY COALESCE(r.next_attempt_at, r.queued_at), r.id LIMIT $2"
        ))
        .bind(now)
        .bind(page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_referral).collect()
    }

    /// Records one delivery attempt of a draft: a retry sets when the next
    /// is due, a failure takes it out of the delivery queue. A successful
    /// attempt changes no status: call [`mark_referral_sent`] next (a
    /// crash in between redelivers with the same idempotency key).
    ///
    /// [`mark_referral_sent`]: Store::mark_referral_sent
    pub async fn record_delivery_attempt(
        &self,
        attempt: &NewDeliveryAttempt,
        actor: &Actor,
    ) -> Result<DeliveryAttempt, StoreError> {
        let error = clean_text("error", attempt.error.as_deref(), MAX_ERROR_BYTES)?;
        if let Some(s) = attempt.http_status
            && !(100..=599).contains(&s)
        {
            return Err(StoreError::InvalidInput(format!(
                "http_status {s} is not an HTTP status"
            )));
        }
        match (attempt.outcome, attempt.next_retry_at) {
            (AttemptOutcome::Retry, None) => {
                return Err(StoreError::InvalidInput(
                    "a retry needs next_retry_at".into(),
                ));
            }
            (AttemptOutcome::Delivered | AttemptOutcome::Failed, Some(_)) => {
                return Err(StoreError::InvalidInput(
                    "next_retry_at goes only with a retry".into(),
                ));
            }
            _ => {}
        }
        let mut tx = self.begin_write().await?;
        let now = self.now();
        let id = attempt.referral_id;
        let status: String = sqlx::query("SELECT status FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("referral", id))?
            .try_get(0)?;
        if status != ReferralStatus::Draft.as_str() {
            return Err(StoreError::InvalidInput(format!(
                "referral {id} is {status}: delivery attempts are for drafts"
            )));
        }
        let row = sqlx::query(
            "INSERT INTO delivery_attempts (referral_id, at, outcome, http_status, error, \
             next_retry_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, referral_id, at, outcome, http_status, error, next_retry_at",
        )
        .bind(id)
        .bind(now)
        .bind(attempt.outcome.as_str())
        .bind(attempt.http_status.map(i64::from))
        .bind(error.as_deref())
        .bind(attempt.next_retry_at)
        .fetch_one(&mut *tx)
        .await?;
        let recorded = row_to_attempt(&row)?;
        match attempt.outcome {
            AttemptOutcome::Retry => {
                sqlx::query(
                    "UPDATE referrals SET next_attempt_at = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(attempt.next_retry_at)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            AttemptOutcome::Failed => {
                sqlx::query(
                    "UPDATE referrals SET delivery_failed_at = $1, next_attempt_at = NULL, \
                     updated_at = $1 WHERE id = $2",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            AttemptOutcome::Delivered => {}
        }
        let what = What {
            action: "referral.delivery_attempt",
            record_kind: "referral",
            record_id: &id.to_string(),
        };
        let detail = json!({
            "outcome": attempt.outcome.as_str(),
            "http_status": attempt.http_status,
            "next_retry_at": attempt.next_retry_at,
        });
        audit::append(&mut tx, actor, what, detail).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Marks a draft sent (delivered, or sent by hand), now; `package`
    /// replaces the prepared one with what was actually sent. A removal
    /// order's clock starts: the host received it now.
    pub async fn mark_referral_sent(
        &self,
        id: i64,
        package: Option<&Value>,
        actor: &Actor,
    ) -> Result<Referral, StoreError> {
        let package = match package {
            Some(p) => {
                let text = p.to_string();
                if text.len() > 1024 * 1024 {
                    return Err(StoreError::InvalidInput(
                        "a referral package has at most 1 MiB of JSON".into(),
                    ));
                }
                Some(text)
            }
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let now = self.now();
        apply_event(&mut tx, id, ReferralEvent::Send, now, now, actor, json!({})).await?;
        sqlx::query(
            "UPDATE referrals SET package = COALESCE($1, package), next_attempt_at = NULL \
             WHERE id = $2",
        )
        .bind(package.as_deref())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let referral = self.load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(referral)
    }

    /// Records an Annex II or Annex III response to a referral that
    /// `viewer` sees, and moves the referral: Annex II to `removed` (at
    /// the measure's time), Annex III to `impossible` (its clock pauses).
    /// An Annex II for a referral already seen removed is recorded and
    /// changes nothing else.
    pub async fn record_response(
        &self,
        referral_id: i64,
        response: &NewResponse,
        source: ResponseSource,
        viewer: ReferralViewer,
        actor: &Actor,
    ) -> Result<Response, StoreError> {
        let bad = |m: &str| StoreError::InvalidInput(m.to_owned());
        let explanation = clean_text(
            "explanation",
            response.explanation.as_deref(),
            MAX_ORDER_TEXT,
        )?;
        let authority_ref = clean_text(
            "authority_file_ref",
            response.authority_file_ref.as_deref(),
            MAX_ORDER_FIELD,
        )?;
        let platform_ref = clean_text(
            "platform_file_ref",
            response.platform_file_ref.as_deref(),
            MAX_ORDER_FIELD,
        )?;
        match response.kind {
            ResponseKind::AnnexII => {
                if response.measure.is_none() {
                    return Err(bad(
                        "Annex II feedback needs the measure: removed or disabled",
                    ));
                }
                if response.reason.is_some() || explanation.is_some() {
                    return Err(bad(
                        "Annex II feedback takes no reason or explanation (those are Annex III)",
                    ));
                }
            }
            ResponseKind::AnnexIII => {
                if response.reason.is_none() || explanation.is_none() {
                    return Err(bad(
                        "Annex III needs a reason (force_majeure_or_de_facto_impossibility, \
                         manifest_errors or insufficient_information) and an explanation",
                    ));
                }
                if response.measure.is_some() || response.measure_at.is_some() {
                    return Err(bad(
                        "Annex III takes no measure (that is Annex II feedback)",
                    ));
                }
            }
        }
        let mut tx = self.begin_write().await?;
        self.check_sees(&mut tx, referral_id, viewer).await?;
        let now = self.now();
        let measure_at = match response.kind {
            ResponseKind::AnnexII => Some(response.measure_at.unwrap_or(now)),
            ResponseKind::AnnexIII => None,
        };
        if let Some(t) = measure_at
            && t > now
        {
            return Err(bad("measure_at is in the future"));
        }
        let status: ReferralStatus = sqlx::query("SELECT status FROM referrals WHERE id = $1")
            .bind(referral_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<String, _>(0)?
            .parse()
            .map_err(StoreError::corrupt)?;
        let row = sqlx::query(
            "INSERT INTO referral_responses (referral_id, kind, measure, measure_at, reason, \
             explanation, authority_file_ref, platform_file_ref, received_at, source, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(referral_id)
        .bind(response.kind.as_str())
        .bind(response.measure.map(Measure::as_str))
        .bind(measure_at)
        .bind(response.reason.map(ImpossibilityReason::as_str))
        .bind(explanation.as_deref())
        .bind(authority_ref.as_deref())
        .bind(platform_ref.as_deref())
        .bind(response.received_at)
        .bind(source.as_str())
        .bind(&actor.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let response_id: i64 = row.try_get(0)?;
        let detail = json!({ "response_id": response_id });
        match response.kind {
            ResponseKind::AnnexII if status == ReferralStatus::Removed => {}
            ResponseKind::AnnexII => {
                let at = measure_at.unwrap_or(now);
                apply_event(
                    &mut tx,
                    referral_id,
                    ReferralEvent::ReportRemoved,
                    at,
                    now,
                    actor,
                    detail,
                )
                .await?;
            }
            ResponseKind::AnnexIII => {
                apply_event(
                    &mut tx,
                    referral_id,
                    ReferralEvent::ReportImpossible,
                    now,
                    now,
                    actor,
                    detail,
                )
                .await?;
            }
        }
        let what = What {
            action: "referral.response",
            record_kind: "referral",
            record_id: &referral_id.to_string(),
        };
        let audit_detail = json!({
            "response_id": response_id,
            "kind": response.kind.as_str(),
            "measure": response.measure.map(Measure::as_str),
            "reason": response.reason.map(ImpossibilityReason::as_str),
            "source": source.as_str(),
        });
        audit::append(&mut tx, actor, what, audit_detail).await?;
        let rows = responses_of(&mut tx, referral_id).await?;
        tx.commit().await?;
        rows.into_iter()
            .find(|r| r.id == response_id)
            .ok_or_else(|| StoreError::corrupt("a response vanished in its own transaction"))
    }

    /// Removal orders past their deadline with neither Annex II nor III,
    /// now, that `viewer` sees (the oldest first, at most `limit`).
    pub async fn overdue_orders(
        &self,
        viewer: ReferralViewer,
        limit: i64,
    ) -> Result<Vec<Referral>, StoreError> {
        let now = self.now();
        let mut out = Vec::new();
        let mut after = 0;
        let want = usize::try_from(page_limit(limit)).unwrap_or(100);
        loop {
            let filter = ReferralFilter {
                kind: Some(ReferralKind::RemovalOrder),
                after,
                limit: 1000,
                ..ReferralFilter::default()
            };
            let page = self.list_referrals(&filter, viewer).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for r in page {
                let overdue = r
                    .order
                    .as_ref()
                    .and_then(|o| o.clock)
                    .is_some_and(|c| c.is_overdue(now))
                    && !r.status.is_final();
                if overdue {
                    out.push(r);
                    if out.len() >= want {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }
}

fn row_to_attempt(r: &AnyRow) -> Result<DeliveryAttempt, StoreError> {
    let outcome: String = r.try_get(3)?;
    let status: Option<i64> = r.try_get(4)?;
    Ok(DeliveryAttempt {
        id: r.try_get(0)?,
        referral_id: r.try_get(1)?,
        at: r.try_get(2)?,
        outcome: outcome.parse().map_err(StoreError::corrupt)?,
        http_status: status.and_then(|s| u16::try_from(s).ok()),
        error: r.try_get(5)?,
        next_retry_at: r.try_get(6)?,
    })
}

async fn responses_of(
    conn: &mut sqlx::AnyConnection,
    referral_id: i64,
) -> Result<Vec<Response>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, referral_id, kind, measure, measure_at, reason, explanation, \
         authority_file_ref, platform_file_ref, received_at, source, actor, at \
         FROM referral_responses WHERE referral_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(referral_id)
    .bind(MAX_HISTORY)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get(2)?;
            let measure: Option<String> = r.try_get(3)?;
            let reason: Option<String> = r.try_get(5)?;
            let source: String = r.try_get(10)?;
            Ok(Response {
                id: r.try_get(0)?,
                referral_id: r.try_get(1)?,
                kind: kind.parse().map_err(StoreError::corrupt)?,
                measure: measure
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(StoreError::corrupt)?,
                measure_at: r.try_get(4)?,
                reason: reason
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(StoreError::corrupt)?,
                explanation: r.try_get(6)?,
                authority_file_ref: r.try_get(7)?,
                platform_file_ref: r.try_get(8)?,
                received_at: r.try_get(9)?,
                source: if source == "platform" {
                    ResponseSource::Platform
                } else {
                    ResponseSource::Manual
                },
                actor: r.try_get(11)?,
                at: r.try_get(12)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn wire_names_are_the_stored_names() {
        for k in [ResponseKind::AnnexII, ResponseKind::AnnexIII] {
            assert_eq!(wire(k), k.as_str());
            assert_eq!(k.as_str().parse::<ResponseKind>(), Ok(k));
        }
        for k in [ReferralKind::Referral, ReferralKind::RemovalOrder] {
            assert_eq!(wire(k), k.as_str());
        }
        for k in [Measure::Removed, Measure::Disabled] {
            assert_eq!(wire(k), k.as_str());
        }
        for k in [
            AttemptOutcome::Delivered,
            AttemptOutcome::Retry,
            AttemptOutcome::Failed,
        ] {
            assert_eq!(wire(k), k.as_str());
        }
        for k in ReferralStatus::ALL {
            assert_eq!(wire(k), k.as_str());
        }
        for k in ReferralEvent::ALL {
            assert_eq!(wire(k), k.as_str());
        }
        for k in ImpossibilityReason::ALL {
            assert_eq!(wire(k), k.as_str());
        }
        for k in crate::Verdict::ALL {
            assert_eq!(wire(k), k.as_str());
        }
        for r in [
            TcoReason::Incites,
            TcoReason::SolicitsToCommit,
            TcoReason::SolicitsToParticipate,
            TcoReason::Instruction,
            TcoReason::Threat,
        ] {
            assert_eq!(super::super::review::parse_tco_reason(&wire(r)), Ok(r));
        }
    }

    #[test]
    fn the_open_list_matches_the_state_machine_and_the_schema() {
        for s in ReferralStatus::ALL {
            assert_eq!(
                OPEN.contains(&format!("'{}'", s.as_str())),
                s.is_open(),
                "{s}"
            );
        }
        for schema in [
            include_str!("../../migrations/sqlite/0006_workflow.sql"),
            include_str!("../../migrations/postgres/0006_workflow.sql"),
        ] {
            let compact: String = schema.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                compact.contains(&format!("WHERE status IN {OPEN};")),
                "the referrals_one_open index lists other statuses"
            );
        }
    }

    fn order() -> RemovalOrderSpec {
        RemovalOrderSpec {
            issuing_state: "de".into(),
            authority: Authority {
                kind: AuthorityType::LawEnforcement,
                name: "Example Police".into(),
                representative: "A. Officer".into(),
                file_number: "F-1".into(),
                contact: "tco@police.example".into(),
            },
            addressee: None,
            addressee_contact: None,
            issued_at: 1_000,
            reference_number: "RO-1".into(),
            urls: Vec::new(),
            identifiers: Vec::new(),
            reasons: vec![TcoReason::Incites, TcoReason::Incites],
            grounds: "grounds".into(),
            non_disclosure: false,
            non_disclosure_until: None,
            cross_border: false,
            host_member_state: None,
            redress: "court".into(),
        }
    }

    #[test]
    fn annex_i_fields_are_checked_and_defaulted() {
        let ok = order()
            .checked("Host", Some("tco@host.example"), "https://host.example/a")
            .unwrap();
        assert_eq!(ok.issuing_state, "DE");
        assert_eq!(ok.addressee.as_deref(), Some("Host"));
        assert_eq!(ok.urls, ["https://host.example/a"]);
        assert_eq!(ok.reasons, [TcoReason::Incites]);
        let no_contact = order().checked("Host", None, "https://host.example/a");
        assert!(
            matches!(no_contact, Err(StoreError::InvalidInput(m)) if m.contains("addressee_contact"))
        );
        type Change = fn(&mut RemovalOrderSpec);
        let cases: Vec<(Change, &str)> = vec![
            (|o| o.issuing_state = "US".into(), "issuing_state"),
            (|o| o.authority.name = " ".into(), "authority.name"),
            (|o| o.reasons.clear(), "reason"),
            (|o| o.grounds = String::new(), "grounds"),
            (|o| o.redress = String::new(), "redress"),
            (|o| o.urls = vec!["ftp://x".into()], "URL"),
            (|o| o.cross_border = true, "host_member_state"),
            (
                |o| {
                    o.cross_border = true;
                    o.host_member_state = Some("DE".into());
                },
                "differs",
            ),
            (|o| o.non_disclosure_until = Some(5_000), "non_disclosure"),
            (|o| o.reference_number = String::new(), "reference_number"),
        ];
        for (change, needle) in cases {
            let mut o = order();
            change(&mut o);
            let r = o.checked("Host", Some("c"), "https://host.example/a");
            assert!(
                matches!(&r, Err(StoreError::InvalidInput(m)) if m.contains(needle)),
                "{needle}: {r:?}"
            );
        }
    }
}
