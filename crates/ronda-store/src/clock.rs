//! Where the store's record times come from: the system clock, or a clock
//! that a simulation moves by hand (`ronda demo` replays two days in
//! seconds, and its records must carry the simulated times).
//!
//! Only the times of records (items, referrals, checks, responses) follow
//! the store's clock; the audit log always records the real time of the
//! write.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::Millis;

/// A source of the current time in Unix milliseconds.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that stands still until [`set`](Clock::set) or
    /// [`advance`](Clock::advance) moves it; clones share it.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock showing `start`.
    pub fn manual(start: Millis) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start)))
    }

    pub fn now(&self) -> Millis {
        match self {
            Clock::System => system_now(),
            Clock::Manual(t) => t.load(Ordering::Acquire),
        }
    }

    /// Sets a manual clock (never backwards); the system clock ignores it.
    pub fn set(&self, to: Millis) {
        if let Clock::Manual(t) = self {
            t.fetch_max(to, Ordering::AcqRel);
        }
    }

    /// Moves a manual clock forward by `by` milliseconds.
    pub fn advance(&self, by: Millis) {
        if let Clock::Manual(t) = self {
            t.fetch_add(by.max(0), Ordering::AcqRel);
        }
    }
}

pub(crate) fn system_now() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_and_clones_share_it() {
        let c = Clock::manual(1_000);
        let d = c.clone();
        c.advance(500);
        assert_eq!(d.now(), 1_500);
        d.set(1_200);
        assert_eq!(c.now(), 1_500, "set never moves backwards");
        d.set(9_000);
        assert_eq!(c.now(), 9_000);
        c.advance(-5);
        assert_eq!(c.now(), 9_000);
        assert!(Clock::System.now() > 1_700_000_000_000);
    }
}
