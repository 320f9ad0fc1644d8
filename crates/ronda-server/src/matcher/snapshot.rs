//! The matcher's snapshot file: what a node knows of the live entries, and
//! the change-feed cursor it knew them at. At start-up a node loads it and
//! reads only the changes after that cursor, instead of every entry.
//!
//! Format version 1, all integers little-endian:
//!
//! | field | bytes |
//! | --- | --- |
//! | magic `RONDAMIX` | 8 |
//! | format version (1) | 4 |
//! | flags, 0 (a reader rejects bits it does not know) | 4 |
//! | store id: length, then UTF-8 | 2 + ≤ 64 |
//! | cursor `seq`, cursor `id`, when the newest change was read (Unix ms) | 3 × 8 |
//! | entries: count, then per entry id, bank id, flags (1 enabled, 2 has a disable-until time), disable-until | 8 + 25·n |
//! | PDQ: count, then per signal 32 bytes (the hex form's order) and the entry id | 8 + 40·n |
//! | digests: count, then per signal a type code (1 MD5, 2 SHA-256, 3 video MD5, 4 text SHA-256), the digest (16 or 32 bytes), the entry id | 8 + … |
//! | URL rules: count, then per rule a kind (1 exact, 2 domain, 3 host, 4 path prefix), one string (two for a path prefix: host, prefix) as length (4) + UTF-8, the entry id | 8 + … |
//! | signal counts: count, then per signal type its name as length (1) + UTF-8, and the count | 4 + … |
//! | XXH3-64 of every byte before it | 8 |
//!
//! The file is written to a temporary name, synced and renamed over the
//! old one, so a crash leaves the previous snapshot or the new one, never
//! half of one. A reader checks every count against the bytes left before
//! it allocates, and the checksum before the indexes it built are used: a
//! truncated, padded or altered file is an error, never a panic and never
//! an index that answers differently. A snapshot of another store (its id
//! differs) is refused before anything is built.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ronda_hash::{Md5Digest, PdqHash, Sha256Digest, SignalType};
use ronda_index::exact::ExactKey;
use ronda_index::url::UrlRule;
use ronda_store::Cursor;
use xxhash_rust::xxh3::Xxh3Default;

use super::{EntryMeta, Indexes};

const MAGIC: [u8; 8] = *b"RONDAMIX";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
const TRAILER: u64 = 8;
const MAX_STORE_ID: usize = 64;
/// Longest string (a URL rule) a snapshot may hold.
const MAX_STRING: u64 = 1 << 20;

/// Why a snapshot could not be written or used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("not a matcher snapshot (bad magic)")]
    BadMagic,
    #[error("unsupported snapshot version {found} (this build reads {VERSION})")]
    UnsupportedVersion { found: u32 },
    #[error("the snapshot is truncated")]
    Truncated,
    #[error("the snapshot has {extra} unexpected bytes after its end")]
    TrailingBytes { extra: u64 },
    #[error("the snapshot is invalid: {0}")]
    Invalid(String),
    #[error("snapshot checksum mismatch: stored {stored:016x}, computed {computed:016x}")]
    Checksum { stored: u64, computed: u64 },
    #[error("the snapshot is of another store ({found}, this one is {expected})")]
    OtherStore { found: String, expected: String },
}

fn invalid(what: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid(what.into())
}

fn exact_code(k: &ExactKey) -> (u8, &[u8]) {
    match k {
        ExactKey::Md5(d) => (1, d.as_bytes()),
        ExactKey::Sha256(d) => (2, d.as_bytes()),
        ExactKey::VideoMd5(d) => (3, d.as_bytes()),
        ExactKey::TextSha256(d) => (4, d.as_bytes()),
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Xxh3Default,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.inner.write_all(bytes)
    }

    fn u8(&mut self, v: u8) -> io::Result<()> {
        self.put(&[v])
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }

    fn i64(&mut self, v: i64) -> io::Result<()> {
        self.put(&v.to_le_bytes())
    }

    fn string(&mut self, s: &str) -> io::Result<()> {
        let len = u32::try_from(s.len()).map_err(io::Error::other)?;
        self.put(&len.to_le_bytes())?;
        self.put(s.as_bytes())
    }
}

/// Writes `ix` as the snapshot at `path`, atomically.
pub(super) fn write(ix: &Indexes, store_id: &str, path: &Path) -> Result<(), SnapshotError> {
    if store_id.len() > MAX_STORE_ID {
        return Err(invalid("the store id is too long"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = temp_path(path);
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            hash: Xxh3Default::new(),
        };
        write_body(ix, store_id, &mut w)?;
        let sum = w.hash.digest();
        w.inner.write_all(&sum.to_le_bytes())?;
        let file = w.inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename itself must survive a crash.
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

fn write_body<W: Write>(
    ix: &Indexes,
    store_id: &str,
    w: &mut Hashing<W>,
) -> Result<(), SnapshotError> {
    w.put(&MAGIC)?;
    w.put(&VERSION.to_le_bytes())?;
    w.put(&0u32.to_le_bytes())?;
    w.put(&(store_id.len() as u16).to_le_bytes())?;
    w.put(store_id.as_bytes())?;
    w.i64(ix.cursor.seq)?;
    w.i64(ix.cursor.id)?;
    w.i64(ix.built_to)?;

    // Entries; signals of entries no longer live (a deleted bank's exact
    // and URL keys) are left out, so a snapshot also compacts.
    w.u64(ix.entries.len() as u64)?;
    for (&id, m) in &ix.entries {
        w.i64(id)?;
        w.i64(m.bank_id)?;
        w.u8(u8::from(m.enabled) | (u8::from(m.disable_until.is_some()) << 1))?;
        w.i64(m.disable_until.unwrap_or(0))?;
    }
    let live = |id: u64| ix.entries.contains_key(&(id as i64));

    let pdq: Vec<(PdqHash, u64)> = ix.pdq.entries().filter(|(_, id)| live(*id)).collect();
    w.u64(pdq.len() as u64)?;
    for (h, id) in &pdq {
        w.put(h.as_bytes())?;
        w.u64(*id)?;
    }
    drop(pdq);

    let exact = ix.exact.iter().filter(|(_, id)| live(*id)).count();
    w.u64(exact as u64)?;
    for (k, id) in ix.exact.iter().filter(|(_, id)| live(*id)) {
        let (code, bytes) = exact_code(&k);
        w.u8(code)?;
        w.put(bytes)?;
        w.u64(id)?;
    }

    let urls = ix.urls.iter().filter(|(_, id)| live(*id)).count();
    w.u64(urls as u64)?;
    for (rule, id) in ix.urls.iter().filter(|(_, id)| live(*id)) {
        match &rule {
            UrlRule::Exact(u) => {
                w.u8(1)?;
                w.string(u)?;
            }
            UrlRule::Domain(d) => {
                w.u8(2)?;
                w.string(d)?;
            }
            UrlRule::Host(h) => {
                w.u8(3)?;
                w.string(h)?;
            }
            UrlRule::PathPrefix { host, prefix } => {
                w.u8(4)?;
                w.string(host)?;
                w.string(prefix)?;
            }
        }
        w.u64(id)?;
    }

    w.put(&(ix.sizes.len() as u32).to_le_bytes())?;
    for (t, n) in &ix.sizes {
        let name = t.as_str();
        w.u8(name.len() as u8)?;
        w.put(name.as_bytes())?;
        w.u64(*n)?;
    }
    Ok(())
}

/// A reader that hashes what it reads and knows how many bytes are left
/// before the trailer.
struct Source<R> {
    inner: R,
    hash: Xxh3Default,
    left: u64,
}

impl<R: Read> Source<R> {
    fn take(&mut self, buf: &mut [u8]) -> Result<(), SnapshotError> {
        if buf.len() as u64 > self.left {
            return Err(SnapshotError::Truncated);
        }
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => SnapshotError::Truncated,
            _ => SnapshotError::Io(e),
        })?;
        self.left -= buf.len() as u64;
        self.hash.update(buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut b = [0u8; N];
        self.take(&mut b)?;
        Ok(b)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of records of at least `min_record` bytes each, checked
    /// against what is left of the file.
    fn count(&mut self, min_record: u64, what: &str) -> Result<usize, SnapshotError> {
        let n = self.u64()?;
        if n.saturating_mul(min_record) > self.left {
            return Err(invalid(format!(
                "{what}: {n} records do not fit in the file"
            )));
        }
        usize::try_from(n).map_err(|_| invalid(format!("{what}: too many records")))
    }

    fn bytes(&mut self, len: u64, what: &str) -> Result<Vec<u8>, SnapshotError> {
        if len > MAX_STRING || len > self.left {
            return Err(invalid(format!("{what}: a string of {len} bytes")));
        }
        let mut b = vec![0u8; len as usize];
        self.take(&mut b)?;
        Ok(b)
    }

    fn string(&mut self, what: &str) -> Result<String, SnapshotError> {
        let len = u64::from(self.u32()?);
        String::from_utf8(self.bytes(len, what)?).map_err(|_| invalid(format!("{what}: not UTF-8")))
    }
}

/// Reads the snapshot at `path`, refusing it unless it was taken of the
/// store whose id is `store_id`. The indexes come back only when the
/// whole file checked out.
pub(super) fn read(path: &Path, store_id: &str) -> Result<Indexes, SnapshotError> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len < TRAILER {
        return Err(SnapshotError::Truncated);
    }
    let mut r = Source {
        inner: BufReader::with_capacity(1 << 20, file),
        hash: Xxh3Default::new(),
        left: len - TRAILER,
    };
    if r.array::<8>()? != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(SnapshotError::UnsupportedVersion { found: version });
    }
    if r.u32()? != 0 {
        return Err(invalid("unknown flags"));
    }
    let id_len = u64::from(u16::from_le_bytes(r.array()?));
    if id_len > MAX_STORE_ID as u64 {
        return Err(invalid("the store id is too long"));
    }
    let found = String::from_utf8(r.bytes(id_len, "store id")?)
        .map_err(|_| invalid("the store id is not UTF-8"))?;
    if found != store_id {
        return Err(SnapshotError::OtherStore {
            found,
            expected: store_id.to_owned(),
        });
    }
    let mut ix = Indexes {
        cursor: Cursor {
            seq: r.i64()?,
            id: r.i64()?,
        },
        built_to: r.i64()?,
        ..Indexes::default()
    };

    let n = r.count(25, "entries")?;
    ix.entries.reserve(n);
    for _ in 0..n {
        let id = r.i64()?;
        let bank_id = r.i64()?;
        let flags = r.u8()?;
        let until = r.i64()?;
        if flags & !3 != 0 {
            return Err(invalid("entries: unknown flags"));
        }
        let meta = EntryMeta {
            bank_id,
            enabled: flags & 1 != 0,
            disable_until: (flags & 2 != 0).then_some(until),
        };
        if ix.entries.insert(id, meta).is_some() {
            return Err(invalid(format!("entries: entry {id} twice")));
        }
    }

    let n = r.count(40, "pdq")?;
    let mut pdq = Vec::with_capacity(n);
    for _ in 0..n {
        let h = PdqHash(r.array()?);
        pdq.push((h, r.u64()?));
    }

    let n = r.count(25, "digests")?;
    for _ in 0..n {
        let key = match r.u8()? {
            1 => ExactKey::Md5(Md5Digest(r.array()?)),
            2 => ExactKey::Sha256(Sha256Digest(r.array()?)),
            3 => ExactKey::VideoMd5(Md5Digest(r.array()?)),
            4 => ExactKey::TextSha256(Sha256Digest(r.array()?)),
            c => return Err(invalid(format!("digests: unknown type code {c}"))),
        };
        ix.exact.add(key, r.u64()?);
    }

    let n = r.count(13, "url rules")?;
    for _ in 0..n {
        let rule = match r.u8()? {
            1 => UrlRule::Exact(r.string("url rules")?),
            2 => UrlRule::Domain(r.string("url rules")?),
            3 => UrlRule::Host(r.string("url rules")?),
            4 => UrlRule::PathPrefix {
                host: r.string("url rules")?,
                prefix: r.string("url rules")?,
            },
            k => return Err(invalid(format!("url rules: unknown kind {k}"))),
        };
        ix.urls.add(rule, r.u64()?);
    }

    let n = r.u32()?;
    let mut sizes = HashMap::new();
    for _ in 0..n {
        let len = u64::from(r.u8()?);
        let name = r.bytes(len, "signal counts")?;
        let t: SignalType = std::str::from_utf8(&name)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("signal counts: unknown signal type"))?;
        sizes.insert(t, r.u64()?);
    }
    ix.sizes = sizes;

    if r.left != 0 {
        return Err(SnapshotError::TrailingBytes { extra: r.left });
    }
    let computed = r.hash.digest();
    let stored = u64::from_le_bytes({
        let mut b = [0u8; 8];
        r.inner
            .read_exact(&mut b)
            .map_err(|_| SnapshotError::Truncated)?;
        b
    });
    if stored != computed {
        return Err(SnapshotError::Checksum { stored, computed });
    }
    // Only now, with every byte checked, are the PDQ tables built.
    ix.pdq.extend(pdq);
    Ok(ix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ronda_hash::Signal;
    use ronda_store::EntryChange;

    fn pdq(i: u8) -> PdqHash {
        let mut b = [0u8; 32];
        b[0] = i;
        b[31] = i.wrapping_mul(7);
        PdqHash(b)
    }

    fn sample() -> Indexes {
        let mut ix = Indexes::default();
        let url = ronda_hash::url::canonicalize("https://example.com/c/x").unwrap();
        let signals = [
            Signal::Pdq(pdq(1)),
            Signal::Md5(ronda_hash::digest::md5(b"a")),
            Signal::Sha256(ronda_hash::digest::sha256(b"b")),
            Signal::VideoMd5(ronda_hash::digest::md5(b"c")),
            Signal::TextSha256(ronda_hash::digest::sha256(b"d")),
            Signal::RawText("some bland text".to_owned()),
            Signal::Url(url),
        ];
        for (i, s) in signals.into_iter().enumerate() {
            let id = i as i64 + 1;
            ix.apply(&EntryChange {
                cursor: Cursor { seq: id, id },
                entry_id: id,
                bank_id: 1 + id % 2,
                enabled: id != 3,
                disable_until: (id == 4).then_some(1_700_000_000_000),
                deleted: false,
                signals: vec![s, Signal::Pdq(pdq(id as u8 + 10))],
            });
        }
        ix.urls.add(UrlRule::Domain("example.org".to_owned()), 2);
        ix.urls.add(
            UrlRule::PathPrefix {
                host: "example.net".to_owned(),
                prefix: "/c".to_owned(),
            },
            3,
        );
        ix
    }

    /// Everything a lookup can see, in a comparable order.
    fn listing(ix: &Indexes) -> String {
        let mut entries: Vec<_> = ix.entries.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_by_key(|e| e.0);
        let mut pdq: Vec<_> = ix.pdq.entries().collect();
        pdq.sort();
        let mut exact: Vec<_> = ix
            .exact
            .iter()
            .map(|(k, id)| format!("{k:?} {id}"))
            .collect();
        exact.sort();
        let mut urls: Vec<_> = ix
            .urls
            .iter()
            .map(|(r, id)| format!("{r:?} {id}"))
            .collect();
        urls.sort();
        let mut sizes: Vec<_> = ix.sizes.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        sizes.sort();
        format!(
            "{entries:?}\n{pdq:?}\n{exact:?}\n{urls:?}\n{sizes:?}\n{:?} {}",
            ix.cursor, ix.built_to
        )
    }

    fn written(ix: &Indexes) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.snapshot");
        write(ix, "store-a", &path).unwrap();
        (dir, path)
    }

    #[test]
    fn round_trip_keeps_every_index() {
        let ix = sample();
        let (_dir, path) = written(&ix);
        let back = read(&path, "store-a").unwrap();
        assert_eq!(listing(&back), listing(&ix));
        assert_eq!(back.pdq.query(&pdq(1), 0).len(), 1);
    }

    #[test]
    fn entries_no_longer_live_are_left_out() {
        let mut ix = sample();
        // As a deleted bank leaves them: gone from `entries` only.
        ix.entries.remove(&2);
        ix.entries.remove(&7);
        let (_dir, path) = written(&ix);
        let back = read(&path, "store-a").unwrap();
        assert!(back.exact.iter().all(|(_, id)| id != 2));
        assert!(back.urls.iter().all(|(_, id)| id != 2 && id != 7));
        assert!(back.pdq.entries().all(|(_, id)| id != 2 && id != 7));
        assert_eq!(back.entries.len(), 5);
    }

    #[test]
    fn another_stores_snapshot_is_refused() {
        let (_dir, path) = written(&sample());
        let err = read(&path, "store-b").err().unwrap();
        assert!(matches!(err, SnapshotError::OtherStore { .. }), "{err}");
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error() {
        let (_dir, path) = written(&sample());
        let good = fs::read(&path).unwrap();
        let bad = path.with_file_name("bad");
        for len in 0..good.len() {
            fs::write(&bad, &good[..len]).unwrap();
            assert!(read(&bad, "store-a").is_err(), "prefix of {len} bytes");
        }
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x10;
            fs::write(&bad, &b).unwrap();
            assert!(read(&bad, "store-a").is_err(), "byte {i} flipped");
        }
        let mut padded = good.clone();
        padded.extend_from_slice(&[0; 8]);
        fs::write(&bad, &padded).unwrap();
        assert!(read(&bad, "store-a").is_err());
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let (_dir, path) = written(&Indexes::default());
        let mut b = fs::read(&path).unwrap();
        // The entry count sits after the fixed header and the store id.
        let at = 8 + 4 + 4 + 2 + "store-a".len() + 24;
        b[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        fs::write(&path, &b).unwrap();
        let err = read(&path, "store-a").err().unwrap();
        assert!(matches!(err, SnapshotError::Invalid(_)), "{err}");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_snapshot() {
        let ix = sample();
        let (dir, path) = written(&ix);
        // A store id too long to write: the old file stays, no temp file.
        let err = write(&Indexes::default(), &"x".repeat(100), &path);
        assert!(err.is_err());
        assert_eq!(listing(&read(&path, "store-a").unwrap()), listing(&ix));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
