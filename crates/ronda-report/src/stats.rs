//! The statistics: shares, percentiles and the Kaplan–Meier estimator, each a
//! plain function over numbers, all finite by construction (an empty input
//! gives `None`, never NaN).

use serde::Serialize;

/// `part / whole`, or `None` when `whole` is zero.
pub fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The `q`-quantile (`0.0..=1.0`) of **sorted** finite values, by linear
/// interpolation between the closest ranks (the definition R and NumPy use
/// by default: position `q·(n−1)`); `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let q = q.clamp(0.0, 1.0);
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// Sorts finite values for [`quantile_sorted`] (non-finite ones are
/// dropped: they cannot come from millisecond timestamps).
pub fn sorted_finite(mut values: Vec<f64>) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    values
}

/// One observation for the survival curve: how long after its start an
/// item was seen removed (`removed`), or was last seen still online
/// (censored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub minutes: f64,
    pub removed: bool,
}

/// A Kaplan–Meier estimate of the share of items still online.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalCurve {
    /// Items observed (removed or checked at least once).
    pub n: u64,
    /// Items seen removed (events).
    pub removed: u64,
    /// Items last seen online (censored).
    pub censored: u64,
    /// The first time at which the estimate falls to one half or below;
    /// `None` while more than half are estimated online.
    pub median_minutes: Option<f64>,
    /// The longest observation (removed or censored): where the curve ends.
    pub max_minutes: f64,
    /// The estimate at fixed times, for tables.
    pub at: Vec<SurvivalAt>,
    /// The step function: starts at `{minutes: 0, survival: 1}`, then one
    /// point per time with at least one removal, holding the estimate from
    /// that time on.
    pub points: Vec<SurvivalPoint>,
}

/// A step of the curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvivalPoint {
    pub minutes: f64,
    /// The estimated share still online from this time on.
    pub survival: f64,
    /// Items still at risk just before this time (not yet removed nor
    /// censored).
    pub at_risk: u64,
    /// Items removed at this time.
    pub removed: u64,
    /// Items censored at this time (counted after the removals).
    pub censored: u64,
}

/// The estimate at one fixed time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvivalAt {
    pub minutes: f64,
    /// `None` past the longest observation, where the estimate says
    /// nothing.
    pub survival: Option<f64>,
    /// Items still at risk at this time (observed at least this long and
    /// not yet removed).
    pub at_risk: u64,
}

/// The times (minutes) at which [`SurvivalCurve::at`] reports the estimate.
pub const SURVIVAL_AT_MINUTES: [f64; 7] = [0.0, 60.0, 360.0, 1440.0, 2160.0, 2880.0, 4320.0];

/// The Kaplan–Meier product-limit estimator: at each time `t` with `d`
/// removals among `n` items at risk, the estimate is multiplied by
/// `1 − d/n`; items censored at `t` leave the risk set after the removals
/// at `t` (the usual convention). O(n log n).
pub fn kaplan_meier(observations: &[Observation]) -> SurvivalCurve {
    let mut obs: Vec<Observation> = observations
        .iter()
        .filter(|o| o.minutes.is_finite())
        .map(|o| Observation {
            minutes: o.minutes.max(0.0),
            removed: o.removed,
        })
        .collect();
    obs.sort_by(|a, b| a.minutes.total_cmp(&b.minutes));
    let n = obs.len() as u64;
    let removed_total = obs.iter().filter(|o| o.removed).count() as u64;
    let mut points = vec![SurvivalPoint {
        minutes: 0.0,
        survival: 1.0,
        at_risk: n,
        removed: 0,
        censored: 0,
    }];
    let mut at_risk = n;
    let mut survival = 1.0_f64;
    let mut median = None;
    let mut i = 0;
    while i < obs.len() {
        let t = obs[i].minutes;
        let (mut d, mut c) = (0u64, 0u64);
        while i < obs.len() && obs[i].minutes == t {
            if obs[i].removed {
                d += 1;
            } else {
                c += 1;
            }
            i += 1;
        }
        if d > 0 {
            survival *= 1.0 - d as f64 / at_risk as f64;
            if median.is_none() && survival <= 0.5 {
                median = Some(t);
            }
            let point = SurvivalPoint {
                minutes: t,
                survival,
                at_risk,
                removed: d,
                censored: c,
            };
            if t == 0.0 {
                // Removals at time zero replace the starting point.
                points[0] = point;
            } else {
                points.push(point);
            }
        }
        at_risk -= d + c;
    }
    let max_minutes = obs.last().map_or(0.0, |o| o.minutes);
    let at = SURVIVAL_AT_MINUTES
        .iter()
        .map(|&m| SurvivalAt {
            minutes: m,
            survival: (m <= max_minutes).then(|| survival_at(&points, m)),
            // Observed at least `m` long and not removed before `m`.
            at_risk: (obs.len() - obs.partition_point(|o| o.minutes < m)) as u64,
        })
        .collect();
    SurvivalCurve {
        n,
        removed: removed_total,
        censored: n - removed_total,
        median_minutes: median,
        max_minutes,
        at,
        points,
    }
}

/// The step function's value at `minutes`.
pub fn survival_at(points: &[SurvivalPoint], minutes: f64) -> f64 {
    let i = points.partition_point(|p| p.minutes <= minutes);
    if i == 0 { 1.0 } else { points[i - 1].survival }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(minutes: f64, removed: bool) -> Observation {
        Observation { minutes, removed }
    }

    #[test]
    fn quantiles_of_known_inputs() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile_sorted(&v, 0.5), Some(5.5));
        assert!((quantile_sorted(&v, 0.9).unwrap() - 9.1).abs() < 1e-9);
        assert_eq!(quantile_sorted(&v, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&v, 1.0), Some(10.0));
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(
            sorted_finite(vec![3.0, f64::NAN, 1.0, f64::INFINITY, 2.0]),
            vec![1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn shares() {
        assert_eq!(share(0, 0), None);
        assert_eq!(share(0, 4), Some(0.0));
        assert_eq!(share(3, 4), Some(0.75));
        assert_eq!(share(4, 4), Some(1.0));
    }

    /// A textbook example worked by hand: times 1, 2+, 3, 3, 4+, 5 (+ is
    /// censored). At 1: 6 at risk, S = 5/6. At 2 one censored. At 3: 4 at
    /// risk, 2 removed, S = 5/6 · 2/4 = 5/12. At 4 one censored. At 5: 1 at
    /// risk, S = 0.
    #[test]
    fn kaplan_meier_by_hand_with_censoring() {
        let km = kaplan_meier(&[
            obs(3.0, true),
            obs(1.0, true),
            obs(2.0, false),
            obs(5.0, true),
            obs(3.0, true),
            obs(4.0, false),
        ]);
        assert_eq!((km.n, km.removed, km.censored), (6, 4, 2));
        let steps: Vec<(f64, f64, u64, u64)> = km
            .points
            .iter()
            .map(|p| (p.minutes, p.survival, p.at_risk, p.removed))
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[0], (0.0, 1.0, 6, 0));
        assert!(close(steps[1].1, 5.0 / 6.0) && steps[1].2 == 6 && steps[1].0 == 1.0);
        assert!(close(steps[2].1, 5.0 / 12.0) && steps[2].2 == 4 && steps[2].3 == 2);
        assert!(close(steps[3].1, 0.0) && steps[3].2 == 1 && steps[3].0 == 5.0);
        assert_eq!(km.median_minutes, Some(3.0));
        assert!(close(survival_at(&km.points, 2.5), 5.0 / 6.0));
        assert!(close(survival_at(&km.points, 3.0), 5.0 / 12.0));
    }

    #[test]
    fn censoring_at_an_event_time_counts_after_the_removals() {
        // Two at risk at 1: one removed, one censored there: S = 1/2.
        let km = kaplan_meier(&[obs(1.0, true), obs(1.0, false)]);
        assert_eq!(km.points[1].survival, 0.5);
        assert_eq!(km.points[1].at_risk, 2);
        assert_eq!(km.points[1].censored, 1);
    }

    #[test]
    fn removals_at_zero_replace_the_starting_point() {
        let km = kaplan_meier(&[obs(0.0, true), obs(-3.0, true), obs(10.0, false)]);
        assert_eq!(km.points.len(), 1);
        assert!((km.points[0].survival - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(km.median_minutes, Some(0.0));
        assert_eq!(km.at[1].at_risk, 0, "nobody observed for an hour");
    }

    #[test]
    fn empty_curve_is_flat_and_finite() {
        let km = kaplan_meier(&[]);
        assert_eq!(km.n, 0);
        assert_eq!(km.points.len(), 1);
        assert_eq!(km.median_minutes, None);
        assert_eq!(km.at[0].survival, Some(1.0));
        assert!(
            km.at[1..]
                .iter()
                .all(|a| a.survival.is_none() && a.at_risk == 0)
        );
    }

    proptest::proptest! {
        /// Without censoring the estimate is one minus the empirical CDF at
        /// every time.
        #[test]
        fn without_censoring_km_is_one_minus_the_empirical_cdf(
            times in proptest::collection::vec(0u32..500, 1..200),
            probe in 0u32..520,
        ) {
            let o: Vec<Observation> = times.iter().map(|&t| obs(f64::from(t), true)).collect();
            let km = kaplan_meier(&o);
            let at_or_before = times.iter().filter(|&&t| t <= probe).count();
            let ecdf = at_or_before as f64 / times.len() as f64;
            let s = survival_at(&km.points, f64::from(probe));
            proptest::prop_assert!((s - (1.0 - ecdf)).abs() < 1e-9, "S={s} ecdf={ecdf}");
        }

        /// The estimate never rises, stays in [0, 1], and the risk set only
        /// shrinks.
        #[test]
        fn km_is_monotone(
            obs_in in proptest::collection::vec((0u32..300, proptest::bool::ANY), 0..200),
        ) {
            let o: Vec<Observation> =
                obs_in.iter().map(|&(t, r)| obs(f64::from(t), r)).collect();
            let km = kaplan_meier(&o);
            for w in km.points.windows(2) {
                proptest::prop_assert!(w[1].survival <= w[0].survival);
                proptest::prop_assert!(w[1].at_risk <= w[0].at_risk);
                proptest::prop_assert!(w[1].minutes > w[0].minutes);
            }
            for p in &km.points {
                proptest::prop_assert!((0.0..=1.0).contains(&p.survival));
            }
            proptest::prop_assert_eq!(km.removed + km.censored, km.n);
        }

        #[test]
        fn quantiles_lie_between_the_extremes(
            mut v in proptest::collection::vec(-1e6f64..1e6, 1..100),
            q in 0.0f64..=1.0,
        ) {
            v.sort_by(f64::total_cmp);
            let x = quantile_sorted(&v, q).unwrap();
            proptest::prop_assert!(x >= v[0] && x <= v[v.len() - 1]);
        }
    }
}
