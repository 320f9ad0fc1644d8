//! Integration tests of ronda-hash, in one binary: golden vectors from the
//! reference implementations and property tests of the public API.

mod pdq;
