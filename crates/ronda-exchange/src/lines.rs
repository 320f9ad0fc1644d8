//! Bounded line reading: the one place that pulls bytes out of a `BufRead`.
//!
//! `BufRead::read_line` grows its buffer until it meets a newline, so one
//! 10 GB line costs 10 GB. [`LineReader`] copies at most the limit and
//! skips the rest of an over-long line chunk by chunk, so memory stays at
//! the limit plus the reader's own buffer whatever the input.

use std::io::{self, BufRead};

/// What [`LineReader::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// A line, now in the buffer without its `\n` (a `\r` before it stays).
    Line,
    /// A line over the limit; it was consumed and the buffer holds nothing
    /// useful.
    TooLong,
    /// End of input.
    Eof,
}

/// Reads physical lines, counting them from 1.
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    inner: R,
    /// The number of the last line read (0 before the first).
    line: u64,
    /// The line just read, without its `\n`.
    pub(crate) buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner,
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The number of the last line read, 1-based; 0 before the first.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next line into `self.buf` (replacing its content when
    /// `append` is false, adding to it otherwise), accepting at most `max`
    /// bytes in the buffer in all. On an I/O error the line number is that
    /// of the line being read.
    pub(crate) fn read(&mut self, max: usize, append: bool) -> io::Result<Read> {
        if !append {
            self.buf.clear();
        }
        let start = self.buf.len();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Name the line that was being read.
                    self.line += 1;
                    return Err(e);
                }
            };
            if available.is_empty() {
                if !any {
                    return Ok(Read::Eof);
                }
                // The last line had no `\n`.
                self.line += 1;
                return Ok(if too_long { Read::TooLong } else { Read::Line });
            }
            any = true;
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            if !too_long {
                if self.buf.len() + chunk.len() > max {
                    too_long = true;
                    self.buf.truncate(start);
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            let consumed = newline.map_or(available.len(), |i| i + 1);
            self.inner.consume(consumed);
            if newline.is_some() {
                self.line += 1;
                return Ok(if too_long { Read::TooLong } else { Read::Line });
            }
        }
    }
}

/// `bytes` without a trailing `\r`.
pub(crate) fn strip_cr(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// `bytes` without a leading UTF-8 byte-order mark (spreadsheets write one).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn all(input: &[u8], max: usize, cap: usize) -> Vec<(Read, Vec<u8>, u64)> {
        let mut r = LineReader::new(BufReader::with_capacity(cap, input));
        let mut out = Vec::new();
        loop {
            let got = r.read(max, false).unwrap();
            if got == Read::Eof {
                return out;
            }
            out.push((got, r.buf.clone(), r.line()));
        }
    }

    #[test]
    fn splits_lines_and_counts_them() {
        for cap in [1, 2, 3, 7, 64] {
            let got = all(b"ab\r\n\ncd", 10, cap);
            assert_eq!(
                got,
                vec![
                    (Read::Line, b"ab\r".to_vec(), 1),
                    (Read::Line, b"".to_vec(), 2),
                    (Read::Line, b"cd".to_vec(), 3),
                ],
                "buffer capacity {cap}"
            );
        }
    }

    #[test]
    fn over_long_lines_are_skipped_not_buffered() {
        for cap in [1, 4, 64] {
            let got = all(b"12345\n123456\n1234567890123\nok", 5, cap);
            let kinds: Vec<_> = got.iter().map(|(k, _, l)| (*k, *l)).collect();
            assert_eq!(
                kinds,
                vec![
                    (Read::Line, 1),
                    (Read::TooLong, 2),
                    (Read::TooLong, 3),
                    (Read::Line, 4)
                ],
                "buffer capacity {cap}"
            );
            assert_eq!(got[3].1, b"ok");
        }
    }

    #[test]
    fn append_counts_the_limit_over_the_whole_buffer() {
        let mut r = LineReader::new(&b"abc\ndef\n"[..]);
        assert_eq!(r.read(5, false).unwrap(), Read::Line);
        assert_eq!(r.read(5, true).unwrap(), Read::TooLong);
        assert_eq!(r.buf, b"abc");
        assert_eq!(r.line(), 2);
    }

    #[test]
    fn empty_input_is_eof() {
        assert!(all(b"", 5, 8).is_empty());
    }
}
