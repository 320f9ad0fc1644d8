//! Signal algorithms for Ronda: pure functions from bytes, pixels and text to
//! the signals that the rest of the system matches on.
//!
//! - [`pdq`]: Meta's PDQ perceptual hash of an image (256 bits, quality, and
//!   the 8 dihedral variants), bit-exact with the reference C++ on the same
//!   pixels.
//! - [`digest`]: MD5 and SHA-256 of raw bytes.
//! - [`text`]: normalisation of Latin, Arabic and Cyrillic text, the exact
//!   normalised-text hash and MinHash signatures for near-duplicates.
//! - [`url`]: URL canonicalisation, registrable domains and outlink
//!   extraction from text.
//! - [`vpdq`]: vPDQ, the PDQ hashes of sampled video frames, its
//!   python-threatexchange text form and the video-level match.
//! - [`signal`]: the closed set of signal types and their value newtypes,
//!   with the wire names python-threatexchange uses.
//!
//! The one design rule: this crate does no I/O. It never opens a file, a
//! socket or a clock; callers decode images (see `ronda-media`) and hand in
//! pixels. That keeps every algorithm deterministic and testable from data.

pub mod digest;
pub mod pdq;
pub mod signal;
pub mod text;
pub mod url;
pub mod vpdq;

pub use signal::{Md5Digest, ParseSignalError, PdqHash, Sha256Digest, Signal, SignalType};
