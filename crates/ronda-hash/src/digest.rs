//! Cryptographic digests of raw bytes: the exact-match signals.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::signal::{Md5Digest, Sha256Digest};

/// MD5 of `bytes` (the `md5` / `video_md5` signal; for interoperability only).
pub fn md5(bytes: &[u8]) -> Md5Digest {
    Md5Digest(Md5::digest(bytes).into())
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256Digest(Sha256::digest(bytes).into())
}

/// Both digests in one pass over the data, for callers that stream.
#[derive(Debug, Default, Clone)]
pub struct Digester {
    md5: Md5,
    sha256: Sha256,
}

impl Digester {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha256.update(bytes);
    }

    pub fn finish(self) -> (Md5Digest, Sha256Digest) {
        (
            Md5Digest(self.md5.finalize().into()),
            Sha256Digest(self.sha256.finalize().into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(md5(b"").to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            sha256(b"abc").to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut d = Digester::new();
        d.update(b"a");
        d.update(b"bc");
        let (m, s) = d.finish();
        assert_eq!(m, md5(b"abc"));
        assert_eq!(s, sha256(b"abc"));
    }
}
