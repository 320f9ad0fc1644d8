//! Exact-match index for digests: MD5, SHA-256, video MD5 and the SHA-256 of
//! normalised text. A hash map from the signal to the ids that carry it.

use std::collections::HashMap;

use ronda_hash::{Md5Digest, Sha256Digest, SignalType};

/// A digest signal, the key of the exact index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExactKey {
    Md5(Md5Digest),
    Sha256(Sha256Digest),
    VideoMd5(Md5Digest),
    TextSha256(Sha256Digest),
}

impl ExactKey {
    pub fn signal_type(&self) -> SignalType {
        match self {
            ExactKey::Md5(_) => SignalType::Md5,
            ExactKey::Sha256(_) => SignalType::Sha256,
            ExactKey::VideoMd5(_) => SignalType::VideoMd5,
            ExactKey::TextSha256(_) => SignalType::TextSha256,
        }
    }

    /// The key for `signal_type` with hex `value`; `None` when the type is not
    /// an exact-match digest or the value does not parse.
    pub fn parse(signal_type: SignalType, value: &str) -> Option<ExactKey> {
        match signal_type {
            SignalType::Md5 => value.parse().ok().map(ExactKey::Md5),
            SignalType::Sha256 => value.parse().ok().map(ExactKey::Sha256),
            SignalType::VideoMd5 => value.parse().ok().map(ExactKey::VideoMd5),
            SignalType::TextSha256 => value.parse().ok().map(ExactKey::TextSha256),
            _ => None,
        }
    }
}

/// Ids by exact digest. Adding the same (key, id) twice stores it once.
#[derive(Debug, Clone)]
pub struct ExactIndex<Id> {
    map: HashMap<ExactKey, Vec<Id>>,
    len: usize,
}

impl<Id> Default for ExactIndex<Id> {
    fn default() -> Self {
        ExactIndex {
            map: HashMap::new(),
            len: 0,
        }
    }
}

impl<Id: Copy + Eq> ExactIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored (key, id) pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `id` under `key`; returns false if it was already there.
    pub fn add(&mut self, key: ExactKey, id: Id) -> bool {
        let ids = self.map.entry(key).or_default();
        if ids.contains(&id) {
            return false;
        }
        ids.push(id);
        self.len += 1;
        true
    }

    /// Removes `id` from `key`; returns whether it was there.
    pub fn remove(&mut self, key: &ExactKey, id: Id) -> bool {
        let Some(ids) = self.map.get_mut(key) else {
            return false;
        };
        let Some(pos) = ids.iter().position(|&x| x == id) else {
            return false;
        };
        ids.swap_remove(pos);
        if ids.is_empty() {
            self.map.remove(key);
        }
        self.len -= 1;
        true
    }

    /// The ids stored under `key`.
    pub fn lookup(&self, key: &ExactKey) -> &[Id] {
        self.map.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every stored (key, id) pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (ExactKey, Id)> + '_ {
        self.map
            .iter()
            .flat_map(|(k, ids)| ids.iter().map(move |&id| (*k, id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ronda_hash::digest::{md5, sha256};

    #[test]
    fn iter_lists_every_pair_once() {
        let mut idx = ExactIndex::new();
        let a = ExactKey::Md5(md5(b"a"));
        let b = ExactKey::Sha256(sha256(b"b"));
        idx.add(a, 1u64);
        idx.add(a, 2);
        idx.add(b, 1);
        idx.remove(&a, 2);
        let mut pairs: Vec<(ExactKey, u64)> = idx.iter().collect();
        pairs.sort_by_key(|(k, id)| (k.signal_type().as_str(), *id));
        assert_eq!(pairs, vec![(a, 1), (b, 1)]);
        assert_eq!(idx.iter().count(), idx.len());
    }

    #[test]
    fn add_lookup_remove() {
        let mut idx = ExactIndex::new();
        let a = ExactKey::Md5(md5(b"a"));
        let b = ExactKey::Sha256(sha256(b"a"));
        assert!(idx.add(a, 1u32));
        assert!(!idx.add(a, 1), "a duplicate is stored once");
        assert!(idx.add(a, 2));
        assert!(idx.add(b, 3));
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.lookup(&a), &[1, 2]);
        // Same bytes, different signal type: no cross-talk.
        assert!(idx.lookup(&ExactKey::VideoMd5(md5(b"a"))).is_empty());
        assert!(idx.remove(&a, 1));
        assert!(!idx.remove(&a, 1));
        assert_eq!(idx.lookup(&a), &[2]);
        assert!(idx.remove(&a, 2));
        assert!(idx.lookup(&a).is_empty());
        assert_eq!(idx.len(), 1);
    }

    #[test]
    fn parses_keys_by_type() {
        let hex = md5(b"x").to_string();
        assert_eq!(
            ExactKey::parse(SignalType::Md5, &hex),
            Some(ExactKey::Md5(md5(b"x")))
        );
        assert_eq!(ExactKey::parse(SignalType::Pdq, &hex), None);
        assert_eq!(
            ExactKey::parse(SignalType::Sha256, &hex),
            None,
            "wrong length"
        );
    }
}
