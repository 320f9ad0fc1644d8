//! Hash-list exchange for Ronda: the formats that peers publish known
//! terrorist and violent-extremist content in, read and written as
//! [`Record`]s, and a client for the Tech Against Terrorism hash-list API.
//!
//! - [`local_file`]: ThreatExchange `local_file` lines, `<signal_type> <value>`.
//! - [`csv`]: the python-threatexchange dataset CSV,
//!   `signal_type,signal_str,collab,category,tags`.
//! - [`tat`]: the Tech Against Terrorism (TCAP) hash-list API, page by page
//!   with a resumable checkpoint.
//!
//! A [`Record`] is one hash-list entry: a typed [`Signal`] (parsed by
//! `ronda-hash`, never here) plus the labels and provenance that a bank entry
//! needs. This crate does no database work; a later layer imports records
//! into the store and persists checkpoints.
//!
//! The one design decision: **a bad entry never stops an import.** The file
//! readers are iterators that yield one `Err(Error::Line(..))` per bad line,
//! naming its 1-based line number, and carry on; only an I/O error or a wrong
//! CSV header ends the stream. The API client returns each page's entries as
//! `Result<Record, RecordError>`, so an unknown algorithm in one entry costs
//! that entry and nothing else. Every input is bounded: line length, record
//! length, response body size, page count and request time.

pub mod csv;
mod error;
mod lines;
pub mod local_file;
pub mod tat;

pub use crate::csv::{CsvReader, CsvWriter};
pub use crate::error::{Error, LineError, RecordError};
pub use crate::local_file::{LocalFileReader, LocalFileWriter};
pub use crate::tat::{Credentials, Page, Pages, TatClient, TatLimits};
pub use ronda_hash::{Signal, SignalType};

use std::fmt;

/// The default longest line (or CSV record) a reader accepts: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// One hash-list entry, whatever format it came from.
///
/// Fields that a format does not carry are `None` (or empty): `local_file`
/// gives only the signal; the CSV adds `collab`, `category` and `tags`; TAT
/// adds `external_id`, `ideology`, `file_type`, the timestamps and `deleted`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The hash or other signal value, already validated.
    pub signal: Signal,
    /// The source's own id for the entry (TAT's `id`).
    pub external_id: Option<String>,
    /// The collaboration (python-threatexchange's collab name).
    pub collab: Option<String>,
    /// The source's category (python-threatexchange's aggregate opinion
    /// category, for example `TRUE_POSITIVE`).
    pub category: Option<String>,
    /// Free-form tags; never empty strings, never containing whitespace when
    /// read from the CSV.
    pub tags: Vec<String>,
    /// The source withdrew this entry: remove it from the bank rather than
    /// add it.
    pub deleted: bool,
    /// TAT's ideology label.
    pub ideology: Option<Ideology>,
    /// The type of the hashed file as the source names it, lower case
    /// without a dot (`mp4`, `jpg`).
    pub file_type: Option<String>,
    /// When the source first listed the entry.
    pub created_on: Option<jiff::Timestamp>,
    /// When the source last changed the entry.
    pub updated_on: Option<jiff::Timestamp>,
}

impl Record {
    /// A record with only a signal: no labels, not deleted.
    pub fn new(signal: Signal) -> Record {
        Record {
            signal,
            external_id: None,
            collab: None,
            category: None,
            tags: Vec::new(),
            deleted: false,
            ideology: None,
            file_type: None,
            created_on: None,
            updated_on: None,
        }
    }
}

/// The ideology that Tech Against Terrorism attributes an entry to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ideology {
    /// `islamist`: violent Islamist groups.
    Islamist,
    /// `far-right`: violent far-right groups.
    FarRight,
}

impl Ideology {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Ideology::Islamist => "islamist",
            Ideology::FarRight => "far-right",
        }
    }

    /// Parses the wire name; `None` for a name TAT does not document.
    pub fn from_name(name: &str) -> Option<Ideology> {
        match name {
            "islamist" => Some(Ideology::Islamist),
            "far-right" => Some(Ideology::FarRight),
            _ => None,
        }
    }
}

impl fmt::Display for Ideology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signal's wire value, when it would parse back as the same signal:
/// `Signal::parse` trims, so an empty value or one with surrounding
/// whitespace (possible only in a hand-built `Signal::RawText`) would not.
pub(crate) fn writable_value(signal: &Signal) -> Result<String, Error> {
    let value = signal.value();
    if value.is_empty() || value.trim() != value {
        return Err(Error::Unwritable {
            signal_type: signal.signal_type(),
            reason: "the value is empty or has surrounding whitespace",
        });
    }
    Ok(value)
}
