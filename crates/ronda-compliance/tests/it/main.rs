//! Integration tests of `ronda-compliance`: the statement validator rule by
//! rule, the batcher, the terrorist-content builder, and the Art. 7 report
//! on hand-computed records.

// Helpers outside #[test] functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod build;
mod statements;
mod transparency;
