//! The node's background work on the referral workflow, one round at a
//! time: [`Workers::deliver_due`] sends queued referrals through their
//! platforms' channels, and [`Workers::check_due`] re-checks referred items
//! and records what it saw. `ronda serve` runs rounds on a timer
//! ([`Workers::run`]); `ronda demo` runs them on its simulated clock, so
//! every time here comes from the store's clock.
//!
//! Several nodes may run rounds at once against one store: the store's
//! transitions refuse a second delivery of a referral already sent, and a
//! platform that honours the idempotency key sees a retried delivery once.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ronda_fetch::Fetcher;
use ronda_hash::Sha256Digest;
use ronda_store::{
    Actor, AttemptOutcome, DueCheck, LivenessState, NewDeliveryAttempt, NewLivenessCheck, Platform,
    ReferralViewer, Store, StoreError,
};
use tokio::task::JoinSet;

use crate::delivery::{Attempt, MAX_ATTEMPTS, Sender, retry_delay};
use crate::liveness::{self, Seen};

/// How rounds are sized and paced.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Referrals sent per delivery round.
    pub delivery_batch: i64,
    /// An item is checked again when its last check is older than this
    /// (milliseconds).
    pub recheck_after: i64,
    /// Checks per platform per round: politeness towards each platform.
    pub checks_per_platform: usize,
    /// Checks per round in all.
    pub check_batch: i64,
    /// Fetches in flight at once.
    pub check_concurrency: usize,
    /// Time between rounds for [`Workers::run`].
    pub delivery_every: Duration,
    pub check_every: Duration,
}

impl Default for WorkerSettings {
    fn default() -> WorkerSettings {
        WorkerSettings {
            delivery_batch: 100,
            recheck_after: 60 * 60_000,
            checks_per_platform: 10,
            check_batch: 500,
            check_concurrency: 8,
            delivery_every: Duration::from_secs(10),
            check_every: Duration::from_secs(60),
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// What one round of checks saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckRound {
    pub checked: usize,
    pub live: usize,
    pub removed: usize,
    pub unavailable: usize,
    pub changed: usize,
}

/// The delivery and liveness workers of one node.
#[derive(Debug, Clone)]
pub struct Workers {
    store: Store,
    sender: Sender,
    fetcher: Fetcher,
    settings: WorkerSettings,
    actor: Actor,
    deliver: bool,
    check: bool,
}

impl Workers {
    pub fn new(
        store: Store,
        sender: Sender,
        fetcher: Fetcher,
        settings: WorkerSettings,
    ) -> Workers {
        Workers {
            store,
            sender,
            fetcher,
            settings,
            actor: Actor::local("workers"),
            deliver: true,
            check: true,
        }
    }

    /// Which rounds [`run`](Self::run) does (both by default).
    pub fn with_rounds(mut self, deliver: bool, check: bool) -> Workers {
        self.deliver = deliver;
        self.check = check;
        self
    }

    /// Sends the referrals that are due, in queue order, one attempt each.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, StoreError> {
        let due = self
            .store
            .referrals_to_deliver(self.settings.delivery_batch)
            .await?;
        let mut round = DeliveryRound::default();
        let mut languages: HashMap<i64, Option<String>> = HashMap::new();
        for referral in due {
            let language = match languages.get(&referral.platform_id) {
                Some(l) => l.clone(),
                None => {
                    let l = self
                        .store
                        .platform_by_id(referral.platform_id)
                        .await?
                        .and_then(|p| p.spec.language);
                    languages.insert(referral.platform_id, l.clone());
                    l
                }
            };
            let attempt = self
                .sender
                .send(&referral.channel, &referral.package, language.as_deref())
                .await;
            let (outcome, http_status, error) = match attempt {
                Attempt::Delivered { http_status } => {
                    (AttemptOutcome::Delivered, http_status, None)
                }
                Attempt::Retry { http_status, error } => {
                    (AttemptOutcome::Retry, http_status, Some(error))
                }
                Attempt::Failed { http_status, error } => {
                    (AttemptOutcome::Failed, http_status, Some(error))
                }
                // Not queued for delivery by the store; nothing to record.
                Attempt::Manual => continue,
            };
            let mut record = NewDeliveryAttempt {
                referral_id: referral.id,
                outcome,
                http_status,
                error,
                next_retry_at: None,
            };
            if outcome == AttemptOutcome::Retry {
                let before = self
                    .store
                    .referral(referral.id, ReferralViewer::Everyone)
                    .await?
                    .map_or(0, |d| d.attempts.len());
                let n = u32::try_from(before + 1).unwrap_or(u32::MAX);
                if n >= MAX_ATTEMPTS {
                    record.outcome = AttemptOutcome::Failed;
                } else {
                    record.next_retry_at = Some(self.store.now() + retry_delay(referral.id, n));
                }
            }
            self.store
                .record_delivery_attempt(&record, &self.actor)
                .await?;
            match record.outcome {
                AttemptOutcome::Delivered => {
                    self.store
                        .mark_referral_sent(referral.id, None, &self.actor)
                        .await?;
                    round.delivered += 1;
                }
                AttemptOutcome::Retry => round.retrying += 1,
                AttemptOutcome::Failed => {
                    tracing::warn!(referral = referral.id, "delivery failed for good");
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    /// Checks the items that are due, at most
    /// [`WorkerSettings::checks_per_platform`] per platform, and records
    /// each check in the order the store listed them.
    pub async fn check_due(&self) -> Result<CheckRound, StoreError> {
        let now = self.store.now();
        let due = self
            .store
            .items_due_for_liveness_check(
                now - self.settings.recheck_after,
                self.settings.check_batch,
            )
            .await?;
        let mut per_platform: HashMap<Option<i64>, usize> = HashMap::new();
        let due: Vec<DueCheck> = due
            .into_iter()
            .filter(|d| {
                let n = per_platform.entry(d.platform_id).or_default();
                *n += 1;
                *n <= self.settings.checks_per_platform
            })
            .collect();
        let mut platforms: BTreeMap<i64, Platform> = BTreeMap::new();
        for id in due.iter().filter_map(|d| d.platform_id) {
            if let std::collections::btree_map::Entry::Vacant(e) = platforms.entry(id)
                && let Some(p) = self.store.platform_by_id(id).await?
            {
                e.insert(p);
            }
        }
        // Fetch concurrently, record in the store's order.
        let mut verdicts = Vec::with_capacity(due.len());
        for chunk in due.chunks(self.settings.check_concurrency.max(1)) {
            let mut set = JoinSet::new();
            for (i, d) in chunk.iter().enumerate() {
                let fetcher = self.fetcher.clone();
                let url = d.url.clone();
                let rules = d
                    .platform_id
                    .and_then(|id| platforms.get(&id))
                    .map(|p| p.spec.removal.clone())
                    .unwrap_or_default();
                let captured = d
                    .blob_sha256
                    .as_deref()
                    .and_then(|s| s.parse::<Sha256Digest>().ok());
                set.spawn(async move {
                    let answer = fetcher.get(&url).await;
                    let verdict = liveness::classify(
                        &rules,
                        answer.as_ref().map(liveness::Answer::from),
                        captured.as_ref(),
                    );
                    (i, verdict)
                });
            }
            let mut got: Vec<_> = set.join_all().await;
            got.sort_by_key(|(i, _)| *i);
            verdicts.extend(got.into_iter().map(|(_, v)| v));
        }
        let mut round = CheckRound::default();
        for (d, v) in due.iter().zip(verdicts) {
            let state = match v.seen {
                Seen::Live => {
                    round.live += 1;
                    LivenessState::Live
                }
                Seen::Removed => {
                    round.removed += 1;
                    LivenessState::Removed
                }
                Seen::Unavailable => {
                    round.unavailable += 1;
                    LivenessState::Unavailable
                }
                Seen::Changed => {
                    round.changed += 1;
                    LivenessState::Changed
                }
            };
            let check = NewLivenessCheck {
                item_id: d.item_id,
                referral_id: None,
                checked_at: Some(now),
                http_status: v.http_status,
                state,
                evidence_sha256: v.evidence_sha256,
                detail: Some(v.detail),
            };
            self.store
                .record_liveness_check(&check, &self.actor)
                .await?;
            round.checked += 1;
        }
        Ok(round)
    }

    /// Runs delivery and check rounds on their timers until `stop` turns
    /// true. A failed round is logged and retried at the next tick.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut deliver = tokio::time::interval(self.settings.delivery_every);
        let mut check = tokio::time::interval(self.settings.check_every);
        deliver.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = deliver.tick(), if self.deliver => {
                    if let Err(e) = self.deliver_due().await {
                        tracing::warn!(error = %e, "delivery round failed");
                    }
                }
                _ = check.tick(), if self.check => {
                    if let Err(e) = self.check_due().await {
                        tracing::warn!(error = %e, "liveness round failed");
                    }
                }
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}
