//! Integration tests of the HTTP server: real servers on loopback ports,
//! driven with reqwest (and `router` + `oneshot` where no follower must run).

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod support;

mod auth;
mod dsa;
mod fetch;
mod hma;
mod items;
mod jobs;
mod limits;
mod native;
mod nodes;
mod ui;
mod ui_browser;
mod uploads;
mod users;
mod workflow;
