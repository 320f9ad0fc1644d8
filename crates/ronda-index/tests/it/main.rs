//! Integration tests of `ronda-index`: one test binary for the crate, one
//! module per index.

mod hamming;
mod video;
