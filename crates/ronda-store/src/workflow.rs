//! The referral unit's workflow after collection: review (a priority queue
//! with claims, and assessments), referrals and removal orders (their
//! state machine, delivery attempts, Annex I orders and Annex II/III
//! responses), and liveness checks.
//!
//! - [`state`] is the pure part: the status machine and the order clock.
//!   Every status change in the store goes through [`transition`], inside
//!   the write transaction that records it, its history row and its audit
//!   event.
//! - [`review`]: the queue. A claim is a lease taken under the store's
//!   write lock, so two reviewers never hold the same item.
//! - [`referrals`]: one item is never referred twice to one platform
//!   (checked under the write lock and backed by partial unique indexes);
//!   duplicates are never referred; a group-run platform's items go to its
//!   infrastructure providers.
//! - [`liveness`]: checks of referred items and, per item, the last time
//!   seen live and the first time seen removed.
//!
//! Who sees which referral is [`ReferralViewer`].

pub mod liveness;
pub mod referrals;
pub mod review;
pub mod state;

pub use liveness::*;
pub use referrals::*;
pub use review::*;
pub use state::*;

/// Who is looking at referrals: the visibility rule in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralViewer {
    /// Administrators and auditors: every referral.
    Everyone,
    /// Staff of an organisation (`None`: a caller without one): referrals
    /// of the organisation's own items, as [`crate::ItemViewer::Org`].
    Org(Option<i64>),
    /// A platform's people and systems: referrals addressed to the
    /// platforms of this organisation (`None`: none at all).
    Platform(Option<i64>),
}

impl ReferralViewer {
    /// The SQL condition on `items i` and `platforms p` (the addressee),
    /// and its parameter.
    pub(crate) fn condition(&self) -> Option<(&'static str, Option<i64>)> {
        match self {
            ReferralViewer::Everyone => None,
            ReferralViewer::Org(Some(id)) => Some(("i.org_id = $", Some(*id))),
            ReferralViewer::Org(None) => Some(("i.org_id IS NULL", None)),
            ReferralViewer::Platform(Some(id)) => Some(("p.org_id = $", Some(*id))),
            ReferralViewer::Platform(None) => Some(("1 = 0", None)),
        }
    }

    /// Whether this viewer sees a referral of an item of `item_org`
    /// addressed to a platform of `platform_org`.
    pub fn sees(&self, item_org: Option<i64>, platform_org: Option<i64>) -> bool {
        match self {
            ReferralViewer::Everyone => true,
            ReferralViewer::Org(own) => *own == item_org,
            ReferralViewer::Platform(own) => own.is_some() && *own == platform_org,
        }
    }
}

/// A listing's limit: 1 to 1000, 0 (or less) means 100.
pub(crate) fn page_limit(limit: i64) -> i64 {
    if limit <= 0 { 100 } else { limit.min(1000) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_sees_only_referrals_addressed_to_its_organisation() {
        let p = ReferralViewer::Platform(Some(3));
        assert!(p.sees(Some(1), Some(3)));
        assert!(!p.sees(Some(3), Some(4)));
        assert!(!p.sees(Some(3), None));
        assert!(!ReferralViewer::Platform(None).sees(None, None));
        let o = ReferralViewer::Org(Some(1));
        assert!(o.sees(Some(1), Some(9)));
        assert!(!o.sees(Some(2), Some(1)));
        assert!(ReferralViewer::Everyone.sees(None, None));
    }
}
