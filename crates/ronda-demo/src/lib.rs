//! `ronda demo`: a simulated internet of 52 platforms on loopback and a
//! two-day action day replayed against a real Ronda (store, API, capture,
//! review, referrals, liveness checks, report), on a clock that moves only
//! when the simulation moves it, so that a seed gives the same run.

pub mod content;
pub mod driver;
pub mod internet;
pub mod rng;
pub mod world;
