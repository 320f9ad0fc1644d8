//! Snapshot file of a [`HammingIndex`]: write it, and load it back fast.
//!
//! Format version 1, all integers little-endian:
//!
//! | offset | bytes | field |
//! | --- | --- | --- |
//! | 0 | 8 | magic `RONDAHAM` |
//! | 8 | 4 | format version (1) |
//! | 12 | 4 | flags, 0 (a reader rejects bits it does not know) |
//! | 16 | 8 | entry count `n` (< 2^32) |
//! | 24 | 1 | structure: 0 auto, 1 flat, 2 multi-index |
//! | 25 | 1 | table count, 0 = chosen from `n` |
//! | 26 | 6 | zero |
//! | 32 | 32·n | hashes, in the canonical byte order (the 64-hex form, as `db.bin`) |
//! | 32 + 32·n | 8·n | ids |
//! | 32 + 40·n | 8 | XXH3-64 of every byte before it |
//!
//! Only live entries are written, oldest first, so a snapshot is also a
//! compaction. Tables are not stored: they are rebuilt on load (about a
//! second per 10M entries on two cores), which keeps files at 40 bytes an
//! entry and the format independent of the table layout.
//!
//! Loading checks the magic, version, flags, and the length implied by `n`
//! against the file's size before it allocates, then the checksum before it
//! builds anything: a truncated, padded or bit-flipped file is an error,
//! never a panic, and never an index that answers differently.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3Default;

use super::{Config, HammingIndex, Store, Structure, Words};

const MAGIC: [u8; 8] = *b"RONDAHAM";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
const HEADER: usize = 32;
const TRAILER: usize = 8;
/// Rows converted per read: bounds the scratch buffer to 2 MiB.
const CHUNK: usize = 1 << 16;

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("i/o error on hamming snapshot: {0}")]
    Io(#[from] io::Error),
    #[error("not a hamming index snapshot (bad magic)")]
    BadMagic,
    #[error("unsupported hamming snapshot version {found} (this build reads {VERSION})")]
    UnsupportedVersion { found: u32 },
    #[error("hamming snapshot is truncated: {expected} bytes expected, {found} present")]
    Truncated { expected: u64, found: u64 },
    #[error("hamming snapshot has {extra} unexpected bytes after its end")]
    TrailingBytes { extra: u64 },
    #[error("hamming snapshot header is invalid: {0}")]
    InvalidHeader(&'static str),
    #[error("hamming snapshot checksum mismatch: stored {stored:016x}, computed {computed:016x}")]
    Checksum { stored: u64, computed: u64 },
    #[error("hamming snapshot {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: Box<SnapshotError>,
    },
}

impl SnapshotError {
    fn in_file(self, path: &Path) -> SnapshotError {
        SnapshotError::File {
            path: path.to_owned(),
            source: Box::new(self),
        }
    }
}

fn structure_code(s: Structure) -> u8 {
    match s {
        Structure::Auto => 0,
        Structure::Flat => 1,
        Structure::MultiIndex => 2,
    }
}

/// Total file size for `n` entries.
fn file_len(n: u64) -> u64 {
    HEADER as u64 + 40 * n + TRAILER as u64
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Xxh3Default,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl HammingIndex {
    /// Writes the live entries and the config as a snapshot.
    pub fn write_snapshot(&self, w: impl Write) -> Result<(), SnapshotError> {
        let mut w = Hashing {
            inner: w,
            hash: Xxh3Default::new(),
        };
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(&MAGIC);
        header[8..12].copy_from_slice(&VERSION.to_le_bytes());
        header[16..24].copy_from_slice(&(self.len() as u64).to_le_bytes());
        header[24] = structure_code(self.config.structure);
        header[25] = self.config.tables.unwrap_or(0);
        w.write_all(&header)?;
        let store = &self.store;
        let mut buf = Vec::with_capacity(CHUNK * 32);
        let live: Vec<usize> = store.live().collect();
        for chunk in live.chunks(CHUNK) {
            buf.clear();
            for &s in chunk {
                for word in store.words(s) {
                    buf.extend_from_slice(&word.to_be_bytes());
                }
            }
            w.write_all(&buf)?;
        }
        for chunk in live.chunks(CHUNK) {
            buf.clear();
            for &s in chunk {
                buf.extend_from_slice(&store.ids[s].to_le_bytes());
            }
            w.write_all(&buf)?;
        }
        let sum = w.hash.digest();
        w.inner.write_all(&sum.to_le_bytes())?;
        w.inner.flush()?;
        Ok(())
    }

    /// Writes a snapshot to `path` atomically: a temporary file beside it,
    /// synced, then renamed over it.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        let path = path.as_ref();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let result = (|| {
            let file = File::create(&tmp)?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            self.write_snapshot(&mut w)?;
            let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(|e: SnapshotError| e.in_file(path))
    }

    /// Loads a snapshot written by [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>) -> Result<HammingIndex, SnapshotError> {
        let path = path.as_ref();
        (|| {
            let file = File::open(path)?;
            let len = file.metadata()?.len();
            read(BufReader::with_capacity(1 << 20, file), Some(len))
        })()
        .map_err(|e| e.in_file(path))
    }

    /// Reads a snapshot from any reader. Without the total size known up
    /// front, memory grows as rows arrive, so a corrupt count cannot make it
    /// allocate more than the stream holds.
    pub fn read_snapshot(r: impl Read) -> Result<HammingIndex, SnapshotError> {
        read(r, None)
    }
}

/// Fills `buf` completely, or reports how much of the file was present.
fn fill(r: &mut impl Read, buf: &mut [u8], at: u64, expected: u64) -> Result<(), SnapshotError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(SnapshotError::Truncated {
                    expected,
                    found: at + got as u64,
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn read(mut r: impl Read, size: Option<u64>) -> Result<HammingIndex, SnapshotError> {
    let mut hash = Xxh3Default::new();
    let mut header = [0u8; HEADER];
    // Until the header is read the expected size is only the header's.
    fill(
        &mut r,
        &mut header,
        0,
        size.unwrap_or(HEADER as u64).max(HEADER as u64),
    )
    .map_err(|e| match e {
        SnapshotError::Truncated { found, .. } if found < 8 || header[..8] != MAGIC => {
            SnapshotError::BadMagic
        }
        e => e,
    })?;
    if header[..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let le32 =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let version = le32(8);
    if version != VERSION {
        return Err(SnapshotError::UnsupportedVersion { found: version });
    }
    if le32(12) != 0 {
        return Err(SnapshotError::InvalidHeader("unknown flags"));
    }
    let mut n8 = [0u8; 8];
    n8.copy_from_slice(&header[16..24]);
    let n = u64::from_le_bytes(n8);
    if n >= u64::from(u32::MAX) {
        return Err(SnapshotError::InvalidHeader("entry count is 2^32 or more"));
    }
    let structure = match header[24] {
        0 => Structure::Auto,
        1 => Structure::Flat,
        2 => Structure::MultiIndex,
        _ => return Err(SnapshotError::InvalidHeader("unknown structure")),
    };
    let tables = match header[25] {
        0 => None,
        m @ 4..=64 => Some(m),
        _ => return Err(SnapshotError::InvalidHeader("table count outside 4..=64")),
    };
    if header[26..].iter().any(|&b| b != 0) {
        return Err(SnapshotError::InvalidHeader("reserved bytes are not zero"));
    }
    let expected = file_len(n);
    match size {
        Some(s) if s < expected => {
            return Err(SnapshotError::Truncated { expected, found: s });
        }
        Some(s) if s > expected => {
            return Err(SnapshotError::TrailingBytes {
                extra: s - expected,
            });
        }
        _ => {}
    }
    hash.update(&header);
    let n = n as usize;

    let mut store = Store::default();
    // With the size checked, reserve exactly; from a bare stream, grow.
    store.reserve(if size.is_some() { n } else { n.min(CHUNK) });
    let mut buf = vec![0u8; CHUNK * 32];
    let mut at = HEADER as u64;
    let mut done = 0;
    while done < n {
        let rows = (n - done).min(CHUNK);
        let bytes = &mut buf[..rows * 32];
        fill(&mut r, bytes, at, expected)?;
        hash.update(bytes);
        at += bytes.len() as u64;
        for row in bytes.chunks_exact(32) {
            let mut w: Words = [0; 4];
            for (x, b) in w.iter_mut().zip(row.chunks_exact(8)) {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                *x = u64::from_be_bytes(a);
            }
            // Ids follow; 0 for now, filled in below.
            store.push(w, 0);
        }
        done += rows;
    }
    done = 0;
    while done < n {
        let rows = (n - done).min(CHUNK);
        let bytes = &mut buf[..rows * 8];
        fill(&mut r, bytes, at, expected)?;
        hash.update(bytes);
        at += bytes.len() as u64;
        for (id, b) in store.ids[done..done + rows]
            .iter_mut()
            .zip(bytes.chunks_exact(8))
        {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            *id = u64::from_le_bytes(a);
        }
        done += rows;
    }
    let mut trailer = [0u8; TRAILER];
    fill(&mut r, &mut trailer, at, expected)?;
    let stored = u64::from_le_bytes(trailer);
    let computed = hash.digest();
    if stored != computed {
        return Err(SnapshotError::Checksum { stored, computed });
    }
    if size.is_none() {
        let mut extra = Vec::new();
        let got = r.take(1 << 20).read_to_end(&mut extra)?;
        if got > 0 {
            return Err(SnapshotError::TrailingBytes { extra: got as u64 });
        }
    }
    let mut index = HammingIndex::with_config(Config { structure, tables });
    index.store = store;
    index.rebuild_tables();
    Ok(index)
}
