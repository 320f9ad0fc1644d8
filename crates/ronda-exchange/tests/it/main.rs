//! Integration tests for `ronda-exchange`: the hash-list files in
//! `../shared/testdata` (with a bundled copy), CSV round trips, and the TAT
//! client against a loopback fake server.

// clippy.toml allows unwrap in #[test] functions only; the helpers and the
// fake server here are test code too.
#![allow(clippy::unwrap_used)]

mod fake_tat;
mod files;
mod tat;
