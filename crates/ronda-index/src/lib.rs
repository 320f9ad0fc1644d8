//! Matching indexes for Ronda.
//!
//! - [`hamming`]: exact radius search over 256-bit hashes (PDQ, vPDQ frames),
//!   with all 8 dihedral needles answered in one pass, incremental add and
//!   remove, and snapshots.
//! - [`lsh`]: MinHash LSH for near-duplicate text.
//! - [`exact`]: exact digests (MD5, SHA-256, video MD5, normalised-text SHA-256).
//! - [`url`]: canonical URLs, and rules by registrable domain, host and path prefix.
//! - [`video`]: vPDQ video matching (python-threatexchange's `VPDQIndex`
//!   semantics) over the Hamming index.
//!
//! This crate does no I/O beyond its snapshot reader and writer, and knows
//! nothing of SQL, HTTP or async.

pub mod exact;
pub mod hamming;
pub mod lsh;
pub mod url;
pub mod video;
