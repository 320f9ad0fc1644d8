//! The referral and removal-order state machine, and the removal order's
//! clock: pure functions of their inputs (no I/O, no clock; times are
//! passed in), the one place where a status may change.
//!
//! Referrals (voluntary, under a platform's terms) and removal orders
//! (binding, Regulation (EU) 2021/784 Art. 3) share one machine:
//!
//! ```text
//!            send                 acknowledge
//!   draft ─────────▶ sent ──────────────────▶ acknowledged
//!     │               │  ╲                         │
//!     │ withdraw      │   ╲ Annex II / seen removed│
//!     ▼               ▼    ▼                       ▼
//!  withdrawn      impossible ◀─ Annex III ─  removed, not_removed, disputed
//! ```
//!
//! - Annex II feedback (removed or disabled) and a liveness check that saw
//!   the content gone both end in `removed`, from any open status and from
//!   `not_removed` (a late removal); `removed` and `withdrawn` are final.
//! - Annex III (impossibility) pauses the order: with reason
//!   `force_majeure_or_de_facto_impossibility` it is the start of a force
//!   majeure, with `manifest_errors` or `insufficient_information` a
//!   request for clarification. A clarification received or the end of the
//!   force majeure puts the order back to `sent` and restarts its clock.
//! - `not_removed` is the referral unit's finding that the platform kept
//!   the content (its answer, or a check after the deadline); `disputed`
//!   that the platform contests the assessment.
//!
//! [`TRANSITIONS`] is the whole table; a test walks every (status, event)
//! pair against it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// Where a referral or removal order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// Prepared, not yet delivered.
    Draft,
    /// Delivered to the platform (for an order: received; the clock runs).
    Sent,
    /// The platform confirmed receipt.
    Acknowledged,
    /// Removed or disabled (Annex II, or a liveness check saw it gone).
    Removed,
    /// The platform kept the content.
    NotRemoved,
    /// The platform contests the assessment.
    Disputed,
    /// Annex III: the platform cannot comply for now (the clock pauses).
    Impossible,
    /// Called back by the referral unit before an outcome.
    Withdrawn,
}

impl ReferralStatus {
    pub const ALL: [ReferralStatus; 8] = [
        ReferralStatus::Draft,
        ReferralStatus::Sent,
        ReferralStatus::Acknowledged,
        ReferralStatus::Removed,
        ReferralStatus::NotRemoved,
        ReferralStatus::Disputed,
        ReferralStatus::Impossible,
        ReferralStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Sent => "sent",
            ReferralStatus::Acknowledged => "acknowledged",
            ReferralStatus::Removed => "removed",
            ReferralStatus::NotRemoved => "not_removed",
            ReferralStatus::Disputed => "disputed",
            ReferralStatus::Impossible => "impossible",
            ReferralStatus::Withdrawn => "withdrawn",
        }
    }

    /// Still waiting for an outcome: at most one open referral per item
    /// and platform (the schema's `referrals_one_open` index lists the
    /// same statuses).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReferralStatus::Draft
                | ReferralStatus::Sent
                | ReferralStatus::Acknowledged
                | ReferralStatus::Disputed
                | ReferralStatus::Impossible
        )
    }

    /// Delivered and not yet seen removed: what liveness checks look at.
    pub fn awaits_removal(self) -> bool {
        matches!(
            self,
            ReferralStatus::Sent
                | ReferralStatus::Acknowledged
                | ReferralStatus::Disputed
                | ReferralStatus::Impossible
                | ReferralStatus::NotRemoved
        )
    }

    /// No event moves it any more.
    pub fn is_final(self) -> bool {
        matches!(self, ReferralStatus::Removed | ReferralStatus::Withdrawn)
    }
}

impl fmt::Display for ReferralStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReferralStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<ReferralStatus, String> {
        ReferralStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown referral status {s:?}: expected draft, sent, acknowledged, removed, \
                     not_removed, disputed, impossible or withdrawn"
                )
            })
    }
}

/// Why a platform cannot comply (Annex III, section B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpossibilityReason {
    /// Force majeure or de facto impossibility not attributable to the
    /// host (Art. 3(7)): the clock restarts when it ends.
    ForceMajeureOrDeFactoImpossibility,
    /// The order contains manifest errors (Art. 3(8)): the clock restarts
    /// when the clarification arrives.
    ManifestErrors,
    /// The order lacks information needed to execute it (Art. 3(8)).
    InsufficientInformation,
}

impl ImpossibilityReason {
    pub const ALL: [ImpossibilityReason; 3] = [
        ImpossibilityReason::ForceMajeureOrDeFactoImpossibility,
        ImpossibilityReason::ManifestErrors,
        ImpossibilityReason::InsufficientInformation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImpossibilityReason::ForceMajeureOrDeFactoImpossibility => {
                "force_majeure_or_de_facto_impossibility"
            }
            ImpossibilityReason::ManifestErrors => "manifest_errors",
            ImpossibilityReason::InsufficientInformation => "insufficient_information",
        }
    }
}

impl FromStr for ImpossibilityReason {
    type Err = String;

    fn from_str(s: &str) -> Result<ImpossibilityReason, String> {
        ImpossibilityReason::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown impossibility reason {s:?}: expected \
                     force_majeure_or_de_facto_impossibility, manifest_errors or \
                     insufficient_information"
                )
            })
    }
}

/// What happens to a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralEvent {
    /// Delivered through the platform's channel (or by hand).
    Send,
    /// The platform confirmed receipt.
    Acknowledge,
    /// Annex II feedback: removed or disabled.
    ReportRemoved,
    /// A liveness check saw the content gone.
    SeenRemoved,
    /// The platform kept the content.
    NotRemoved,
    /// The platform contests the assessment.
    Dispute,
    /// Annex III: impossible for now (force majeure starts, or a
    /// clarification is requested).
    ReportImpossible,
    /// The authority's clarification of a faulty order arrived.
    ClarificationReceived,
    /// The force majeure ended.
    ForceMajeureEnded,
    /// The referral unit calls the referral back.
    Withdraw,
}

impl ReferralEvent {
    pub const ALL: [ReferralEvent; 10] = [
        ReferralEvent::Send,
        ReferralEvent::Acknowledge,
        ReferralEvent::ReportRemoved,
        ReferralEvent::SeenRemoved,
        ReferralEvent::NotRemoved,
        ReferralEvent::Dispute,
        ReferralEvent::ReportImpossible,
        ReferralEvent::ClarificationReceived,
        ReferralEvent::ForceMajeureEnded,
        ReferralEvent::Withdraw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralEvent::Send => "send",
            ReferralEvent::Acknowledge => "acknowledge",
            ReferralEvent::ReportRemoved => "report_removed",
            ReferralEvent::SeenRemoved => "seen_removed",
            ReferralEvent::NotRemoved => "not_removed",
            ReferralEvent::Dispute => "dispute",
            ReferralEvent::ReportImpossible => "report_impossible",
            ReferralEvent::ClarificationReceived => "clarification_received",
            ReferralEvent::ForceMajeureEnded => "force_majeure_ended",
            ReferralEvent::Withdraw => "withdraw",
        }
    }
}

impl fmt::Display for ReferralEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReferralEvent {
    type Err = String;

    fn from_str(s: &str) -> Result<ReferralEvent, String> {
        ReferralEvent::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ReferralEvent::ALL.iter().map(|e| e.as_str()).collect();
                format!(
                    "unknown referral event {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// An event that the status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {from} cannot take the event {event}")]
pub struct TransitionError {
    pub from: ReferralStatus,
    pub event: ReferralEvent,
}

use ReferralEvent as E;
use ReferralStatus as S;

/// Every allowed transition: (from, event, to). Anything else is refused.
pub const TRANSITIONS: &[(ReferralStatus, ReferralEvent, ReferralStatus)] = &[
    (S::Draft, E::Send, S::Sent),
    (S::Draft, E::Withdraw, S::Withdrawn),
    (S::Sent, E::Acknowledge, S::Acknowledged),
    (S::Sent, E::ReportRemoved, S::Removed),
    (S::Sent, E::SeenRemoved, S::Removed),
    (S::Sent, E::NotRemoved, S::NotRemoved),
    (S::Sent, E::Dispute, S::Disputed),
    (S::Sent, E::ReportImpossible, S::Impossible),
    (S::Sent, E::Withdraw, S::Withdrawn),
    (S::Acknowledged, E::ReportRemoved, S::Removed),
    (S::Acknowledged, E::SeenRemoved, S::Removed),
    (S::Acknowledged, E::NotRemoved, S::NotRemoved),
    (S::Acknowledged, E::Dispute, S::Disputed),
    (S::Acknowledged, E::ReportImpossible, S::Impossible),
    (S::Acknowledged, E::Withdraw, S::Withdrawn),
    (S::Disputed, E::ReportRemoved, S::Removed),
    (S::Disputed, E::SeenRemoved, S::Removed),
    (S::Disputed, E::NotRemoved, S::NotRemoved),
    (S::Disputed, E::Withdraw, S::Withdrawn),
    (S::Impossible, E::ReportRemoved, S::Removed),
    (S::Impossible, E::SeenRemoved, S::Removed),
    (S::Impossible, E::NotRemoved, S::NotRemoved),
    (S::Impossible, E::ClarificationReceived, S::Sent),
    (S::Impossible, E::ForceMajeureEnded, S::Sent),
    (S::Impossible, E::Withdraw, S::Withdrawn),
    (S::NotRemoved, E::ReportRemoved, S::Removed),
    (S::NotRemoved, E::SeenRemoved, S::Removed),
    (S::NotRemoved, E::Dispute, S::Disputed),
];

/// The status after `event`, or why the event is refused.
pub fn transition(
    from: ReferralStatus,
    event: ReferralEvent,
) -> Result<ReferralStatus, TransitionError> {
    TRANSITIONS
        .iter()
        .find(|(f, e, _)| *f == from && *e == event)
        .map(|(_, _, to)| *to)
        .ok_or(TransitionError { from, event })
}

// ------------------------------------------------------------ the clock

/// One hour: the time a host has to remove content after receiving an
/// order (Art. 3(3)).
pub const ORDER_DEADLINE_MS: Millis = 60 * 60 * 1000;
/// Twelve hours: the notice of procedures and deadlines an authority gives
/// a host before its first order, except in emergencies (Art. 3(2)).
pub const FIRST_ORDER_NOTICE_MS: Millis = 12 * 60 * 60 * 1000;

/// What starts a removal order's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OrderClock {
    /// When the host received the order.
    pub received_at: Millis,
    /// The first order to this host, not an emergency: the 12 hours'
    /// notice counts into the first deadline.
    pub notice_first: bool,
}

/// Where a removal order's clock stands, from its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockState {
    /// When the host must have acted; `None` while paused, after an
    /// answer, or once withdrawn.
    pub deadline: Option<Millis>,
    /// The deadline of the last running period (kept after an answer, so
    /// that compliance can be judged).
    pub last_deadline: Millis,
    /// Paused by Annex III since then.
    pub paused_since: Option<Millis>,
    /// When the host answered (Annex II, or content seen removed) during
    /// the current period.
    pub answered_at: Option<Millis>,
    /// The answer came after the deadline.
    pub answered_late: bool,
    /// The order was withdrawn.
    pub withdrawn: bool,
}

impl ClockState {
    /// Past the deadline with neither Annex II nor Annex III.
    pub fn is_overdue(&self, now: Millis) -> bool {
        self.deadline.is_some_and(|d| now > d)
    }
}

/// The order's clock from its history (`(time, event)` in order):
///
/// - it starts at receipt: deadline = receipt + 1 h, or receipt + 12 h +
///   1 h for a host's first order that is not an emergency;
/// - Annex III pauses it (no deadline while paused: the host answered);
/// - a clarification received or the end of a force majeure restarts it:
///   deadline = that time + 1 h;
/// - Annex II, or the content seen removed, answers it (not overdue; late
///   when after the deadline); withdrawal stops it.
///
/// Events the state machine would refuse are ignored here (the store never
/// records them).
pub fn order_clock(clock: OrderClock, events: &[(Millis, ReferralEvent)]) -> ClockState {
    let first = clock.received_at
        + ORDER_DEADLINE_MS
        + if clock.notice_first {
            FIRST_ORDER_NOTICE_MS
        } else {
            0
        };
    let mut st = ClockState {
        deadline: Some(first),
        last_deadline: first,
        paused_since: None,
        answered_at: None,
        answered_late: false,
        withdrawn: false,
    };
    for &(at, event) in events {
        match event {
            E::ReportImpossible if st.deadline.is_some() => {
                st.deadline = None;
                st.paused_since = Some(at);
            }
            E::ClarificationReceived | E::ForceMajeureEnded if st.paused_since.is_some() => {
                let d = at + ORDER_DEADLINE_MS;
                st.deadline = Some(d);
                st.last_deadline = d;
                st.paused_since = None;
                st.answered_at = None;
                st.answered_late = false;
            }
            E::ReportRemoved | E::SeenRemoved if st.answered_at.is_none() && !st.withdrawn => {
                st.answered_at = Some(at);
                st.answered_late = st.paused_since.is_none() && at > st.last_deadline;
                st.deadline = None;
            }
            E::Withdraw => {
                st.withdrawn = true;
                st.deadline = None;
            }
            _ => {}
        }
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of the issue, written out once more by hand: every pair
    /// not listed must be refused.
    fn expected(from: S, event: E) -> Option<S> {
        let open_outcomes = |event: E| match event {
            E::ReportRemoved | E::SeenRemoved => Some(S::Removed),
            E::NotRemoved => Some(S::NotRemoved),
            E::Withdraw => Some(S::Withdrawn),
            _ => None,
        };
        match (from, event) {
            (S::Draft, E::Send) => Some(S::Sent),
            (S::Draft, E::Withdraw) => Some(S::Withdrawn),
            (S::Draft, _) => None,
            (S::Sent | S::Acknowledged, E::Dispute) => Some(S::Disputed),
            (S::Sent | S::Acknowledged, E::ReportImpossible) => Some(S::Impossible),
            (S::Sent, E::Acknowledge) => Some(S::Acknowledged),
            (S::Sent | S::Acknowledged | S::Disputed, e) => open_outcomes(e),
            (S::Impossible, E::ClarificationReceived | E::ForceMajeureEnded) => Some(S::Sent),
            (S::Impossible, e) => open_outcomes(e),
            (S::NotRemoved, E::ReportRemoved | E::SeenRemoved) => Some(S::Removed),
            (S::NotRemoved, E::Dispute) => Some(S::Disputed),
            (S::NotRemoved, _) => None,
            (S::Removed | S::Withdrawn, _) => None,
        }
    }

    #[test]
    fn every_status_and_event_pair_follows_the_table() {
        let mut allowed = 0;
        for from in S::ALL {
            for event in E::ALL {
                let got = transition(from, event).ok();
                assert_eq!(got, expected(from, event), "{from} + {event}");
                if let Some(to) = got {
                    allowed += 1;
                    assert_ne!(from, to, "{from} + {event} changes nothing");
                }
                if got.is_none() {
                    let e = transition(from, event).unwrap_err();
                    assert_eq!((e.from, e.event), (from, event));
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len(), "the table has duplicates");
    }

    #[test]
    fn final_statuses_take_no_event_and_every_status_is_reachable() {
        for s in S::ALL {
            if s.is_final() {
                assert!(E::ALL.iter().all(|e| transition(s, *e).is_err()), "{s}");
            }
            if s != S::Draft {
                assert!(TRANSITIONS.iter().any(|(_, _, to)| *to == s), "{s}");
            }
            assert_eq!(s.as_str().parse::<S>(), Ok(s));
        }
        for e in E::ALL {
            assert_eq!(e.as_str().parse::<E>(), Ok(e));
        }
        assert!("gone".parse::<S>().is_err());
    }

    const H: Millis = ORDER_DEADLINE_MS;

    fn clock(notice_first: bool) -> OrderClock {
        OrderClock {
            received_at: 1_000_000,
            notice_first,
        }
    }

    #[test]
    fn the_deadline_is_one_hour_after_receipt_or_thirteen_for_a_first_order() {
        let st = order_clock(clock(false), &[]);
        assert_eq!(st.deadline, Some(1_000_000 + H));
        assert!(!st.is_overdue(1_000_000 + H));
        assert!(st.is_overdue(1_000_000 + H + 1));
        let st = order_clock(clock(true), &[]);
        assert_eq!(st.deadline, Some(1_000_000 + 13 * H));
        assert!(!st.is_overdue(1_000_000 + 2 * H));
    }

    #[test]
    fn annex_ii_answers_the_order_on_time_or_late() {
        let on_time = order_clock(clock(false), &[(1_000_000 + H / 2, E::ReportRemoved)]);
        assert_eq!(on_time.deadline, None);
        assert!(!on_time.answered_late);
        assert!(!on_time.is_overdue(1_000_000 + 5 * H));
        let late = order_clock(clock(false), &[(1_000_000 + 2 * H, E::SeenRemoved)]);
        assert!(late.answered_late);
        assert_eq!(late.answered_at, Some(1_000_000 + 2 * H));
        assert!(!late.is_overdue(1_000_000 + 5 * H));
    }

    #[test]
    fn annex_iii_pauses_and_a_clarification_restarts_the_clock() {
        let t0 = 1_000_000;
        let paused = order_clock(clock(false), &[(t0 + H / 2, E::ReportImpossible)]);
        assert_eq!(paused.deadline, None);
        assert_eq!(paused.paused_since, Some(t0 + H / 2));
        assert!(
            !paused.is_overdue(t0 + 10 * H),
            "a paused order is never overdue"
        );
        let restarted = order_clock(
            clock(true),
            &[
                (t0 + H / 2, E::ReportImpossible),
                (t0 + 5 * H, E::ClarificationReceived),
            ],
        );
        // One hour from the clarification; the first order's notice is
        // not given again.
        assert_eq!(restarted.deadline, Some(t0 + 6 * H));
        assert!(restarted.is_overdue(t0 + 6 * H + 1));
        // The end of a force majeure does the same.
        let fm = order_clock(
            clock(false),
            &[
                (t0 + H / 4, E::ReportImpossible),
                (t0 + 3 * H, E::ForceMajeureEnded),
                (t0 + 3 * H + H / 2, E::ReportRemoved),
            ],
        );
        assert_eq!(fm.deadline, None);
        assert!(!fm.answered_late, "removed within the restarted hour");
        let fm_late = order_clock(
            clock(false),
            &[
                (t0 + H / 4, E::ReportImpossible),
                (t0 + 3 * H, E::ForceMajeureEnded),
                (t0 + 5 * H, E::ReportRemoved),
            ],
        );
        assert!(fm_late.answered_late);
    }

    #[test]
    fn a_restart_without_a_pause_and_events_after_withdrawal_change_nothing() {
        let t0 = 1_000_000;
        let st = order_clock(clock(false), &[(t0 + 10, E::ClarificationReceived)]);
        assert_eq!(st.deadline, Some(t0 + H));
        let st = order_clock(
            clock(false),
            &[(t0 + 10, E::Withdraw), (t0 + 20, E::SeenRemoved)],
        );
        assert!(st.withdrawn);
        assert_eq!(st.deadline, None);
        assert_eq!(st.answered_at, None);
        assert!(!st.is_overdue(t0 + 10 * H));
    }
}
