//! Video matching: the frames of banked videos in one Hamming index, and a
//! query video's match against each banked video, with
//! python-threatexchange's `VPDQIndex` semantics.
//!
//! Each side is prepared the same way ([`ronda_hash::vpdq::prepare`]):
//! frames under quality 50 dropped, then each hash kept once. Distinct
//! frame hashes are stored once however many videos share them, each with
//! the videos it belongs to. A query frame matches a banked video when one
//! of that video's frames is within distance 31; the query match % is the
//! share of the query's frames that match the video, the compared match %
//! the share of the video's frames that some query frame matched. The
//! result equals [`ronda_hash::vpdq::compare`] against each video alone,
//! which a test checks.

use std::collections::HashMap;

use ronda_hash::PdqHash;
use ronda_hash::vpdq::{self, DISTANCE_THRESHOLD, QUALITY_THRESHOLD, VpdqFeature};

use crate::hamming::HammingIndex;

/// One banked video matched by a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoMatch {
    /// The id the video was added with.
    pub id: u64,
    /// Share of the query's frames that match this video, in percent.
    pub query_percent: f64,
    /// Share of this video's frames that the query matched, in percent.
    pub compared_percent: f64,
}

/// Banked videos' frames, searchable by a query video.
#[derive(Debug, Default)]
pub struct VpdqIndex {
    /// Distinct frame hashes; a hash's id is its slot in `owners`.
    frames: HammingIndex,
    slots: HashMap<PdqHash, usize>,
    /// Per distinct hash, the videos (slots in `videos`) that have it.
    owners: Vec<Vec<usize>>,
    /// Per video: its id and its number of prepared frames.
    videos: Vec<(u64, usize)>,
}

impl VpdqIndex {
    pub fn new() -> VpdqIndex {
        VpdqIndex::default()
    }

    /// Adds a video under `id`. Returns `false`, and adds nothing, when no
    /// frame is left after preparation (python-threatexchange refuses to
    /// index such a video).
    pub fn add(&mut self, id: u64, features: &[VpdqFeature]) -> bool {
        let prepared = vpdq::prepare(features, QUALITY_THRESHOLD);
        if prepared.is_empty() {
            return false;
        }
        let video = self.videos.len();
        self.videos.push((id, prepared.len()));
        for hash in prepared {
            let slot = *self.slots.entry(hash).or_insert_with(|| {
                let slot = self.owners.len();
                self.owners.push(Vec::new());
                self.frames.add(hash, slot as u64);
                slot
            });
            self.owners[slot].push(video);
        }
        true
    }

    /// Number of videos indexed.
    pub fn len(&self) -> usize {
        self.videos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
    }

    /// Number of distinct frame hashes stored.
    pub fn frame_count(&self) -> usize {
        self.owners.len()
    }

    /// Every indexed video that shares at least one matching frame with the
    /// query, with both percentages, sorted by id; no thresholds applied.
    pub fn query(&self, features: &[VpdqFeature]) -> Vec<VideoMatch> {
        let query = vpdq::prepare(features, QUALITY_THRESHOLD);
        if query.is_empty() {
            return Vec::new();
        }
        // Per video: how many query frames matched it, and which of its
        // frames (distinct hashes) were matched.
        let mut query_hits: HashMap<usize, usize> = HashMap::new();
        let mut video_hits: HashMap<usize, Vec<usize>> = HashMap::new();
        for needle in &query {
            let mut videos_of_needle: Vec<usize> = Vec::new();
            for m in self.frames.query(needle, DISTANCE_THRESHOLD) {
                let slot = m.id as usize;
                for &video in &self.owners[slot] {
                    videos_of_needle.push(video);
                    video_hits.entry(video).or_default().push(slot);
                }
            }
            videos_of_needle.sort_unstable();
            videos_of_needle.dedup();
            for video in videos_of_needle {
                *query_hits.entry(video).or_default() += 1;
            }
        }
        let mut out: Vec<VideoMatch> = video_hits
            .into_iter()
            .map(|(video, mut slots)| {
                slots.sort_unstable();
                slots.dedup();
                let (id, frames) = self.videos[video];
                VideoMatch {
                    id,
                    query_percent: vpdq::percent(query_hits[&video], query.len()),
                    compared_percent: vpdq::percent(slots.len(), frames),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            a.id.cmp(&b.id)
                .then(a.query_percent.total_cmp(&b.query_percent))
        });
        out
    }

    /// The videos the query matches: query match % at least
    /// `query_threshold` and compared match % at least `compared_threshold`
    /// (python-threatexchange's defaults are 80 and 0, in
    /// [`ronda_hash::vpdq`]).
    pub fn query_matches(
        &self,
        features: &[VpdqFeature],
        query_threshold: f64,
        compared_threshold: f64,
    ) -> Vec<VideoMatch> {
        self.query(features)
            .into_iter()
            .filter(|m| {
                m.query_percent >= query_threshold && m.compared_percent >= compared_threshold
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(seed: u8, quality: u8) -> VpdqFeature {
        let mut h = [0u8; 32];
        for (i, b) in h.iter_mut().enumerate() {
            *b = seed
                .wrapping_mul(37)
                .wrapping_add(i as u8)
                .rotate_left(u32::from(seed % 7));
        }
        VpdqFeature {
            hash: PdqHash(h),
            quality,
            timestamp: 0.0,
        }
    }

    #[test]
    fn agrees_with_pairwise_compare() {
        let videos: Vec<Vec<VpdqFeature>> = vec![
            (0..10).map(|i| feature(i, 100)).collect(),
            (5..20).map(|i| feature(i, 90)).collect(),
            vec![feature(3, 40), feature(3, 100), feature(3, 100)],
            vec![feature(200, 10)],
        ];
        let mut index = VpdqIndex::new();
        let added: Vec<bool> = videos
            .iter()
            .enumerate()
            .map(|(i, v)| index.add(i as u64, v))
            .collect();
        assert_eq!(added, [true, true, true, false]);
        assert_eq!(index.len(), 3);
        let query: Vec<VpdqFeature> = (0..8)
            .map(|i| feature(i, 100))
            .chain([feature(9, 20)])
            .collect();
        let got = index.query(&query);
        let want: Vec<VideoMatch> = videos
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let m = vpdq::compare(&query, v)?;
                (m.query_percent > 0.0).then_some(VideoMatch {
                    id: i as u64,
                    query_percent: m.query_percent,
                    compared_percent: m.compared_percent,
                })
            })
            .collect();
        assert_eq!(got, want);
        assert!(!got.is_empty());
        let strict = index.query_matches(&query, 80.0, 0.0);
        assert!(strict.iter().all(|m| m.query_percent >= 80.0));
    }
}
