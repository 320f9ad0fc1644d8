//! ThreatExchange `local_file` hash lists: one `<signal_type> <value>` per
//! line, for example `pdq f8f8f0ce…` or `raw_text some words`.
//!
//! Reading: blank lines and lines whose first non-blank character is `#`
//! are skipped; a UTF-8 byte-order mark before the first line and a `\r`
//! before each `\n` are ignored. Each other line is parsed by
//! [`Signal::parse_line`], so the rules are exactly `ronda-hash`'s: the type
//! is split from the value at the first run of whitespace, hex digits may be
//! upper or lower case (they are written back in lower case), URLs are
//! canonicalised. A bad line is an [`Error::Line`] naming its number; the
//! reader then goes on to the next line.
//!
//! Writing: one line per record, the signal's type and its canonical value.
//! The format carries nothing else, so labels are dropped; a deleted record
//! is refused rather than written as a live hash.

use std::io::{BufRead, Write};

use ronda_hash::Signal;

use crate::error::describe;
use crate::lines::{LineReader, Read, strip_bom, strip_cr};
use crate::{DEFAULT_MAX_LINE_BYTES, Error, LineError, Record, writable_value};

/// Streams [`Record`]s out of a `local_file` hash list.
///
/// Yields `Ok(record)` per good line and `Err(Error::Line(_))` per bad one,
/// then carries on; an `Err(Error::Io { .. })` is the last item.
#[derive(Debug)]
pub struct LocalFileReader<R> {
    lines: LineReader<R>,
    max_line_bytes: usize,
    done: bool,
}

impl<R: BufRead> LocalFileReader<R> {
    /// A reader over `input` with lines of at most
    /// [`DEFAULT_MAX_LINE_BYTES`].
    pub fn new(input: R) -> Self {
        LocalFileReader {
            lines: LineReader::new(input),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            done: false,
        }
    }

    /// Sets the longest line accepted, in bytes without the line ending.
    /// Longer lines are reported as errors without being held in memory.
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max;
        self
    }

    /// The number of the last line read (1-based; 0 before the first).
    pub fn line(&self) -> u64 {
        self.lines.line()
    }
}

impl<R: BufRead> Iterator for LocalFileReader<R> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let read = match self.lines.read(self.max_line_bytes, false) {
                Ok(r) => r,
                Err(source) => {
                    self.done = true;
                    return Some(Err(Error::Io {
                        line: self.lines.line(),
                        source,
                    }));
                }
            };
            let line = self.lines.line();
            let bad = |message: String| Some(Err(Error::Line(LineError { line, message })));
            match read {
                Read::Eof => self.done = true,
                Read::TooLong => {
                    return bad(format!(
                        "line is over the limit of {} bytes",
                        self.max_line_bytes
                    ));
                }
                Read::Line => {
                    let mut bytes = strip_cr(&self.lines.buf);
                    if line == 1 {
                        bytes = strip_bom(bytes);
                    }
                    let Ok(text) = std::str::from_utf8(bytes) else {
                        return bad("line is not valid utf-8".to_owned());
                    };
                    let text = text.trim();
                    if text.is_empty() || text.starts_with('#') {
                        continue;
                    }
                    return Some(Signal::parse_line(text).map(Record::new).map_err(|e| {
                        let ty = text.split(char::is_whitespace).next().unwrap_or_default();
                        Error::Line(LineError {
                            line,
                            message: describe(ty, &e),
                        })
                    }));
                }
            }
        }
        None
    }
}

/// Writes [`Record`]s as `local_file` lines.
#[derive(Debug)]
pub struct LocalFileWriter<W: Write> {
    out: W,
}

impl<W: Write> LocalFileWriter<W> {
    /// A writer to `out`. Wrap a file in a `BufWriter`; this writes a line
    /// at a time.
    pub fn new(out: W) -> Self {
        LocalFileWriter { out }
    }

    /// Writes the record's signal as one line. Refuses a deleted record
    /// (the format has no way to say "withdrawn") and a value that would
    /// not read back as itself (raw text with a line break).
    pub fn write(&mut self, record: &Record) -> Result<(), Error> {
        if record.deleted {
            return Err(Error::Unwritable {
                signal_type: record.signal.signal_type(),
                reason: "local_file has no way to mark a record deleted",
            });
        }
        self.write_signal(&record.signal)
    }

    /// Writes one signal as one line.
    pub fn write_signal(&mut self, signal: &Signal) -> Result<(), Error> {
        let line = line_for(signal)?;
        self.out.write_all(line.as_bytes()).map_err(Error::Write)
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> Result<W, Error> {
        self.out.flush().map_err(Error::Write)?;
        Ok(self.out)
    }
}

/// `<type> <value>\n`, or why the signal cannot be one line.
fn line_for(signal: &Signal) -> Result<String, Error> {
    let value = writable_value(signal)?;
    if value.contains(['\n', '\r']) {
        return Err(Error::Unwritable {
            signal_type: signal.signal_type(),
            reason: "the value has a line break",
        });
    }
    Ok(format!("{} {value}\n", signal.signal_type()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    fn read(input: &[u8]) -> Vec<Result<Record, Error>> {
        LocalFileReader::new(input).collect()
    }

    fn lines_of(items: &[Result<Record, Error>]) -> Vec<Result<String, u64>> {
        items
            .iter()
            .map(|r| match r {
                Ok(rec) => Ok(format!(
                    "{} {}",
                    rec.signal.signal_type(),
                    rec.signal.value()
                )),
                Err(Error::Line(e)) => Err(e.line),
                Err(e) => panic!("unexpected fatal error {e}"),
            })
            .collect()
    }

    #[test]
    fn skips_blanks_comments_bom_and_crlf() {
        let input = format!(
            "\u{feff}# a comment\r\n\r\n   \npdq {PDQ}\r\n  # indented comment\nmd5 d41d8cd98f00b204e9800998ecf8427e"
        );
        let got = lines_of(&read(input.as_bytes()));
        assert_eq!(
            got,
            vec![
                Ok(format!("pdq {PDQ}")),
                Ok("md5 d41d8cd98f00b204e9800998ecf8427e".to_owned())
            ]
        );
    }

    #[test]
    fn bad_lines_are_numbered_and_do_not_stop_the_stream() {
        let input = format!("pdq {PDQ}\nphoto abc\n\nmd5 xyz\nraw_text  two  words \n");
        let items = read(input.as_bytes());
        assert_eq!(
            lines_of(&items),
            vec![
                Ok(format!("pdq {PDQ}")),
                Err(2),
                Err(4),
                Ok("raw_text two  words".to_owned())
            ]
        );
        let Err(Error::Line(e)) = &items[1] else {
            panic!()
        };
        assert_eq!(e.message, "unknown signal type \"photo\"");
        let Err(Error::Line(e)) = &items[2] else {
            panic!()
        };
        assert_eq!(
            e.message,
            "bad md5 value: expected 32 hex digits, got 3 characters"
        );
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            format!("line 4: {}", e.message)
        );
    }

    #[test]
    fn bad_hex_digit_is_named() {
        let bad = format!("pdq {}g", &PDQ[..63]);
        let items = read(bad.as_bytes());
        let Err(Error::Line(e)) = &items[0] else {
            panic!()
        };
        assert_eq!(e.message, "bad pdq value: not a hex digit at position 63");
    }

    #[test]
    fn invalid_utf8_is_a_line_error() {
        let items = read(b"md5 d41d8cd98f00b204e9800998ecf8427e\nmd5 \xff\xfe\nmd5 d41d8cd98f00b204e9800998ecf8427e\n");
        assert_eq!(lines_of(&items).iter().filter(|r| r.is_ok()).count(), 2);
        let Err(Error::Line(e)) = &items[1] else {
            panic!()
        };
        assert_eq!((e.line, e.message.as_str()), (2, "line is not valid utf-8"));
    }

    #[test]
    fn over_long_line_is_reported_and_skipped() {
        let input = format!("raw_text {}\npdq {PDQ}\n", "x".repeat(5000));
        let items: Vec<_> = LocalFileReader::new(input.as_bytes())
            .with_max_line_bytes(100)
            .collect();
        assert_eq!(lines_of(&items), vec![Err(1), Ok(format!("pdq {PDQ}"))]);
        let Err(Error::Line(e)) = &items[0] else {
            panic!()
        };
        assert_eq!(e.message, "line is over the limit of 100 bytes");
    }

    #[test]
    fn long_unknown_type_is_clipped_in_the_message() {
        let input = format!("{} 1\n", "y".repeat(10_000));
        let items = read(input.as_bytes());
        let Err(Error::Line(e)) = &items[0] else {
            panic!()
        };
        assert!(e.message.len() < 100, "{}", e.message);
    }

    #[test]
    fn io_error_ends_the_stream() {
        struct Failing(u8);
        impl std::io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("disk on fire"));
                }
                self.0 -= 1;
                let line = b"md5 d41d8cd98f00b204e9800998ecf8427e\n";
                buf[..line.len()].copy_from_slice(line);
                Ok(line.len())
            }
        }
        let reader = std::io::BufReader::with_capacity(64, Failing(2));
        let items: Vec<_> = LocalFileReader::new(reader).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].is_ok() && items[1].is_ok());
        match &items[2] {
            Err(Error::Io { line, .. }) => assert_eq!(*line, 3),
            other => panic!("expected an i/o error, got {other:?}"),
        }
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            "reading line 3: disk on fire"
        );
    }

    #[test]
    fn writes_canonical_lines_and_round_trips() {
        let records: Vec<Record> = [
            format!("pdq {}", PDQ.to_uppercase()),
            "md5 D41D8CD98F00B204E9800998ECF8427E".to_owned(),
            "url HTTP://Example.com/a/".to_owned(),
            "raw_text  many   spaces inside ".to_owned(),
            "video_md5 d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        ]
        .iter()
        .map(|l| Record::new(Signal::parse_line(l).unwrap()))
        .collect();
        let mut w = LocalFileWriter::new(Vec::new());
        for r in &records {
            w.write(r).unwrap();
        }
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            out,
            format!(
                "pdq {PDQ}\nmd5 d41d8cd98f00b204e9800998ecf8427e\nurl https://example.com/a\n\
                 raw_text many   spaces inside\nvideo_md5 d41d8cd98f00b204e9800998ecf8427e\n"
            )
        );
        let back: Vec<Record> = LocalFileReader::new(out.as_bytes())
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(back, records);
    }

    #[test]
    fn refuses_what_would_not_read_back() {
        let mut w = LocalFileWriter::new(Vec::new());
        let two_lines = Record::new(Signal::RawText("one\ntwo".into()));
        assert!(matches!(w.write(&two_lines), Err(Error::Unwritable { .. })));
        let mut deleted = Record::new(Signal::parse_line(&format!("pdq {PDQ}")).unwrap());
        deleted.deleted = true;
        let err = w.write(&deleted).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write pdq record: local_file has no way to mark a record deleted"
        );
        assert!(w.into_inner().unwrap().is_empty());
    }
}
