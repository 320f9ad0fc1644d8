//! The python-threatexchange dataset CSV (`threatexchange dataset --csv`):
//! header `signal_type,signal_str,collab,category,tags`, one signal per row,
//! tags separated by spaces, RFC 4180 quoting.
//!
//! Reading needs the header first (a different one is a fatal
//! [`Error::Header`]); then every row gives a [`Record`] or an
//! [`Error::Line`] naming the line the row starts on, and the reader carries
//! on. Values are parsed by [`Signal::parse`], so hex may be upper or lower
//! case. Empty `collab` and `category` read as `None`.
//!
//! A quoted field may span lines, so a row is not a line. The reader frames
//! rows itself, with the same quote rules as the `csv` crate, over the
//! bounded line reader, and hands each framed row to `csv` to unquote: a row
//! over the limit is reported without being held in memory. After an
//! over-long row that had opened a quoted field, the lines that remained of
//! that field are read as rows of their own (and most likely reported as
//! bad).

use std::io::{BufRead, Write};

use ::csv::{ByteRecord, ReaderBuilder, Terminator, WriterBuilder};
use ronda_hash::Signal;

use crate::error::{clip, describe};
use crate::lines::{LineReader, Read, strip_bom, strip_cr};
use crate::{DEFAULT_MAX_LINE_BYTES, Error, LineError, Record, writable_value};

/// The column names, in order.
pub const HEADER: [&str; 5] = ["signal_type", "signal_str", "collab", "category", "tags"];

const HEADER_LINE: &str = "signal_type,signal_str,collab,category,tags";

/// Streams [`Record`]s out of a python-threatexchange dataset CSV.
///
/// Yields `Ok(record)` per good row and `Err(Error::Line(_))` per bad one,
/// then carries on; an `Err(Error::Io { .. })` or `Err(Error::Header { .. })`
/// is the last item.
#[derive(Debug)]
pub struct CsvReader<R> {
    lines: LineReader<R>,
    max_record_bytes: usize,
    header_done: bool,
    done: bool,
}

impl<R: BufRead> CsvReader<R> {
    /// A reader over `input` with rows of at most [`DEFAULT_MAX_LINE_BYTES`].
    pub fn new(input: R) -> Self {
        CsvReader {
            lines: LineReader::new(input),
            max_record_bytes: DEFAULT_MAX_LINE_BYTES,
            header_done: false,
            done: false,
        }
    }

    /// Sets the longest row accepted, in bytes, counting the line breaks
    /// inside quoted fields but not the row's own.
    pub fn with_max_record_bytes(mut self, max: usize) -> Self {
        self.max_record_bytes = max;
        self
    }

    /// The number of the last line read (1-based; 0 before the first).
    pub fn line(&self) -> u64 {
        self.lines.line()
    }

    fn io_error(&mut self, source: std::io::Error) -> Option<Result<Record, Error>> {
        self.done = true;
        Some(Err(Error::Io {
            line: self.lines.line(),
            source,
        }))
    }

    /// Reads and checks the header line.
    fn header(&mut self) -> Result<(), Error> {
        let found = match self.lines.read(self.max_record_bytes, false) {
            Err(source) => {
                return Err(Error::Io {
                    line: self.lines.line(),
                    source,
                });
            }
            Ok(Read::Eof) => String::new(),
            Ok(Read::TooLong) => "(a line over the limit)".to_owned(),
            Ok(Read::Line) => {
                let bytes = strip_bom(strip_cr(&self.lines.buf));
                let fields = parse_row(bytes);
                let matches = fields.as_ref().is_some_and(|f| {
                    f.len() == HEADER.len() && f.iter().zip(HEADER).all(|(a, b)| a == b.as_bytes())
                });
                if matches {
                    return Ok(());
                }
                clip(&String::from_utf8_lossy(bytes), 200)
            }
        };
        Err(Error::Header {
            found,
            expected: HEADER_LINE,
        })
    }
}

impl<R: BufRead> Iterator for CsvReader<R> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.header_done {
            if let Err(e) = self.header() {
                self.done = true;
                return Some(Err(e));
            }
            self.header_done = true;
        }
        loop {
            let first = match self.lines.read(self.max_record_bytes, false) {
                Ok(r) => r,
                Err(source) => return self.io_error(source),
            };
            let start = self.lines.line();
            let bad = |message: String| {
                Some(Err(Error::Line(LineError {
                    line: start,
                    message,
                })))
            };
            let max = self.max_record_bytes;
            let too_long = move || format!("row is over the limit of {max} bytes");
            match first {
                Read::Eof => {
                    self.done = true;
                    return None;
                }
                Read::TooLong => return bad(too_long()),
                Read::Line => {}
            }
            if strip_cr(&self.lines.buf).is_empty() {
                continue;
            }
            // Pull in further lines while a quoted field is open.
            let mut state = scan(State::FieldStart, &self.lines.buf);
            while state == State::Quoted {
                if self.lines.buf.len() >= max {
                    return bad(too_long());
                }
                self.lines.buf.push(b'\n');
                let from = self.lines.buf.len();
                match self.lines.read(max, true) {
                    Err(source) => return self.io_error(source),
                    Ok(Read::Eof) => {
                        self.done = true;
                        return bad("quoted field is not closed before the end of the file".into());
                    }
                    Ok(Read::TooLong) => return bad(too_long()),
                    Ok(Read::Line) => {}
                }
                state = scan(State::Quoted, &self.lines.buf[from..]);
            }
            let row = strip_cr(&self.lines.buf);
            return Some(record_from_row(row).map_err(|message| {
                Error::Line(LineError {
                    line: start,
                    message,
                })
            }));
        }
    }
}

/// Where a row scan stands, with the `csv` crate's default rules: a quote
/// opens a quoted field only as a field's first byte, `""` inside one is a
/// quote, and the quote that closes it may be followed by more unquoted
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// The state after `bytes` (which hold no row terminator), from `state`.
fn scan(mut state: State, bytes: &[u8]) -> State {
    for &b in bytes {
        state = match (state, b) {
            (State::FieldStart, b'"') => State::Quoted,
            (State::FieldStart | State::Unquoted | State::QuoteInQuoted, b',') => State::FieldStart,
            (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::QuoteInQuoted, _) => State::Unquoted,
        };
    }
    state
}

/// The fields of one framed row, unquoted; `None` if `csv` finds no row.
fn parse_row(row: &[u8]) -> Option<ByteRecord> {
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        // The row is framed already: a `\r` inside it is data.
        .terminator(Terminator::Any(b'\n'))
        .buffer_capacity(row.len().max(64))
        .from_reader(row);
    let mut record = ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => Some(record),
        _ => None,
    }
}

/// The record in one framed row, or what was wrong with it.
fn record_from_row(row: &[u8]) -> Result<Record, String> {
    let fields = parse_row(row).ok_or_else(|| "row is not valid csv".to_owned())?;
    if fields.len() != HEADER.len() {
        return Err(format!(
            "expected {} fields, got {}",
            HEADER.len(),
            fields.len()
        ));
    }
    let mut text = [""; 5];
    for (i, field) in fields.iter().enumerate() {
        text[i] = std::str::from_utf8(field)
            .map_err(|_| format!("field {} is not valid utf-8", HEADER[i]))?;
    }
    let [ty, value, collab, category, tags] = text;
    let signal_type = ty.parse().map_err(|e| describe(ty, &e))?;
    let signal = Signal::parse(signal_type, value).map_err(|e| describe(ty, &e))?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(Record {
        collab: non_empty(collab),
        category: non_empty(category),
        tags: tags.split_whitespace().map(str::to_owned).collect(),
        ..Record::new(signal)
    })
}

/// Writes [`Record`]s as a python-threatexchange dataset CSV, header first.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    inner: ::csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer to `out`; writes the header now. The `csv` writer buffers,
    /// so there is no need for a `BufWriter`.
    pub fn new(out: W) -> Result<Self, Error> {
        let mut inner = WriterBuilder::new()
            .terminator(Terminator::Any(b'\n'))
            .from_writer(out);
        inner.write_record(HEADER).map_err(write_error)?;
        Ok(CsvWriter { inner })
    }

    /// Writes one row. `None` and empty `collab`/`category` are both
    /// written empty (and read back as `None`). Refuses a deleted record
    /// (the format has no way to say "withdrawn"), a tag that is empty or
    /// holds whitespace (tags are space-separated) and a value that would
    /// not read back as itself.
    pub fn write(&mut self, record: &Record) -> Result<(), Error> {
        let signal_type = record.signal.signal_type();
        let unwritable = |reason| Error::Unwritable {
            signal_type,
            reason,
        };
        if record.deleted {
            return Err(unwritable(
                "the dataset csv has no way to mark a record deleted",
            ));
        }
        if record
            .tags
            .iter()
            .any(|t| t.is_empty() || t.contains(char::is_whitespace))
        {
            return Err(unwritable("a tag is empty or holds whitespace"));
        }
        let value = writable_value(&record.signal)?;
        let tags = record.tags.join(" ");
        let row = [
            signal_type.as_str(),
            value.as_str(),
            record.collab.as_deref().unwrap_or_default(),
            record.category.as_deref().unwrap_or_default(),
            tags.as_str(),
        ];
        self.inner.write_record(row).map_err(write_error)
    }

    /// Flushes and returns the output.
    pub fn into_inner(self) -> Result<W, Error> {
        self.inner
            .into_inner()
            .map_err(|e| Error::Write(e.into_error()))
    }
}

fn write_error(e: ::csv::Error) -> Error {
    Error::Write(e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_follows_csv_quote_rules() {
        assert_eq!(scan(State::FieldStart, b"a,b,c"), State::Unquoted);
        assert_eq!(scan(State::FieldStart, b"a,\"b"), State::Quoted);
        assert_eq!(scan(State::FieldStart, b"a,\"b\""), State::QuoteInQuoted);
        assert_eq!(scan(State::FieldStart, b"a,\"b\"\"c"), State::Quoted);
        // A quote inside an unquoted field is data, not an opening quote.
        assert_eq!(scan(State::FieldStart, b"a,b\"c"), State::Unquoted);
        assert_eq!(scan(State::FieldStart, b"a, \"c"), State::Unquoted);
        assert_eq!(scan(State::FieldStart, b"a,"), State::FieldStart);
    }

    #[test]
    fn framing_agrees_with_the_csv_crate() {
        // Whatever `scan` says about where rows end, the csv crate must read
        // the same rows from the whole text.
        let text = "a,\"b\nc\",d\ne,f\"g,h\n\"i\"\"\n\",j\n\"k\"l,m\n";
        let whole: Vec<ByteRecord> = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .byte_records()
            .map(|r| r.unwrap())
            .collect();
        let mut framed = Vec::new();
        let mut row = Vec::new();
        let mut state = State::FieldStart;
        for line in text.split_terminator('\n') {
            if !row.is_empty() {
                row.push(b'\n');
            }
            row.extend_from_slice(line.as_bytes());
            state = scan(state, line.as_bytes());
            if state != State::Quoted {
                framed.push(parse_row(&row).unwrap());
                row.clear();
                state = State::FieldStart;
            }
        }
        assert_eq!(framed, whole);
        assert_eq!(framed.len(), 4);
    }
}
