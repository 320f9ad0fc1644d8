//! Content-addressed storage for captured files: each file lives at
//! `blobs/ab/cd/<sha256>` and is written atomically (temporary file, fsync,
//! rename, fsync of the directory), so a crash leaves either the whole file
//! or nothing under its name.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ronda_hash::Sha256Digest;
use sha2::{Digest, Sha256};

use crate::StoreError;

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore {
    /// Opens (creating) a blob store rooted at `root`.
    pub fn open(root: &Path) -> Result<BlobStore, StoreError> {
        fs::create_dir_all(root.join("tmp")).map_err(io(root))?;
        Ok(BlobStore {
            root: root.to_path_buf(),
        })
    }

    fn path_of(&self, digest: &Sha256Digest) -> PathBuf {
        let hex = digest.to_string();
        self.root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    /// Stores `bytes` and returns their SHA-256. Storing the same bytes
    /// twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<Sha256Digest, StoreError> {
        let digest = Sha256Digest(Sha256::digest(bytes).into());
        let path = self.path_of(&digest);
        if path.exists() {
            return Ok(digest);
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut tmp = tempfile_in(&self.root.join("tmp"))?;
        tmp.1.write_all(bytes).map_err(io(&tmp.0))?;
        tmp.1.sync_all().map_err(io(&tmp.0))?;
        drop(tmp.1);
        fs::rename(&tmp.0, &path).map_err(io(&path))?;
        // The rename is durable only once the directory is synced.
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&dir))?;
        Ok(digest)
    }

    /// The bytes stored under `digest`, checked against it, or `None`.
    pub fn get(&self, digest: &Sha256Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path_of(digest);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(&path))?;
        if Sha256::digest(&bytes).as_slice() != digest.as_bytes() {
            return Err(StoreError::corrupt(format!(
                "blob {digest} does not match its hash"
            )));
        }
        Ok(Some(bytes))
    }

    pub fn contains(&self, digest: &Sha256Digest) -> bool {
        self.path_of(digest).exists()
    }
}

/// A new, uniquely named temporary file in `dir`.
fn tempfile_in(dir: &Path) -> Result<(PathBuf, File), StoreError> {
    for _ in 0..16 {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|e| StoreError::InvalidInput(format!("no randomness available: {e}")))?;
        let path = dir.join(format!("{}.tmp", hex::encode(random)));
        match File::options().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(&path)(e)),
        }
    }
    Err(StoreError::InvalidInput(format!(
        "could not create a temporary file in {}",
        dir.display()
    )))
}
