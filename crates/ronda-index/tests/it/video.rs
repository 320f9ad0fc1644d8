//! vPDQ video matching on the reference's sample hashes: the decisions and
//! percentages python-threatexchange's matcher gives on the same frames.
//!
//! The 1-second hashes of all six sample videos are bundled
//! (`tests/data/vpdq`); the every-frame hashes are read from
//! `../shared/testdata/vpdq/expected` when present.
//!
//! The reference decisions, computed with python-threatexchange's
//! `match_VPDQ_hash_brute` and `VPDQIndex` semantics on these frames: the
//! two SD pattern edits (greyscale and logo) match each other (100% both
//! ways at one hash a second; 99.010% / 99.020% on every frame); every other
//! pair shares no frame within distance 31, including the portrait HD
//! pattern clip against the letterboxed SD edits, and the doorknob and the
//! chair against everything.

use std::path::{Path, PathBuf};

use ronda_hash::vpdq::{self, VpdqFeature};
use ronda_index::video::{VideoMatch, VpdqIndex};

const VIDEOS: [&str; 6] = [
    "chair-19-sd-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-sd-grey-bar",
    "pattern-sd-with-small-logo-bar",
    "test-padded-dimensions",
];
const GREY: usize = 3;
const LOGO: usize = 4;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vpdq")
}

fn shared_expected() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vpdq/expected");
    p.is_dir().then_some(p)
}

/// An expected CSV (`frame,quality,hex,timestamp`) as features.
fn load(dir: &Path, video: &str, which: &str) -> Vec<VpdqFeature> {
    let path = dir.join(format!("{video}.{which}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.trim().split(',').collect();
            format!("{},{},{}", f[2], f[1], f[3])
                .parse()
                .unwrap_or_else(|e| panic!("{}: {l}: {e}", path.display()))
        })
        .collect()
}

/// Indexes all six videos (id = position in `VIDEOS`), queries each with
/// the default thresholds and returns, per query, the matches.
fn decisions(videos: &[Vec<VpdqFeature>]) -> Vec<Vec<VideoMatch>> {
    let mut index = VpdqIndex::new();
    for (i, v) in videos.iter().enumerate() {
        assert!(index.add(i as u64, v), "{} has frames", VIDEOS[i]);
    }
    videos
        .iter()
        .enumerate()
        .map(|(i, v)| {
            index
                .query_matches(
                    v,
                    vpdq::QUERY_MATCH_THRESHOLD_PERCENT,
                    vpdq::COMPARED_MATCH_THRESHOLD_PERCENT,
                )
                .into_iter()
                .filter(|m| m.id != i as u64)
                .collect()
        })
        .collect()
}

fn assert_reference_decisions(videos: &[Vec<VpdqFeature>], grey_logo: (f64, f64)) {
    let found = decisions(videos);
    for (i, matches) in found.iter().enumerate() {
        let ids: Vec<u64> = matches.iter().map(|m| m.id).collect();
        let want: Vec<u64> = match i {
            GREY => vec![LOGO as u64],
            LOGO => vec![GREY as u64],
            _ => vec![],
        };
        assert_eq!(ids, want, "{} matches", VIDEOS[i]);
    }
    let close = |a: f64, b: f64| (a - b).abs() < 5e-4;
    let m = found[GREY][0];
    assert!(
        close(m.query_percent, grey_logo.0) && close(m.compared_percent, grey_logo.1),
        "{m:?}"
    );
    let m = found[LOGO][0];
    assert!(
        close(m.query_percent, grey_logo.1) && close(m.compared_percent, grey_logo.0),
        "{m:?}"
    );
    // The pairwise brute-force comparison agrees with the index everywhere.
    for (i, a) in videos.iter().enumerate() {
        for (j, b) in videos.iter().enumerate() {
            if i == j {
                continue;
            }
            let brute = vpdq::compare(a, b).expect("frames");
            let indexed = found[i].iter().any(|m| m.id == j as u64);
            assert_eq!(
                brute.is_match(80.0, 0.0),
                indexed,
                "{} vs {}",
                VIDEOS[i],
                VIDEOS[j]
            );
        }
    }
}

#[test]
fn sample_videos_match_as_the_reference_decides_1s() {
    let dir = bundled();
    let videos: Vec<Vec<VpdqFeature>> = VIDEOS.iter().map(|v| load(&dir, v, "1s")).collect();
    assert_reference_decisions(&videos, (100.0, 100.0));
}

#[test]
fn sample_videos_match_as_the_reference_decides_every_frame() {
    let Some(dir) = shared_expected() else {
        eprintln!("skipped: ../shared/testdata/vpdq not found; the 1-second test ran");
        return;
    };
    let videos: Vec<Vec<VpdqFeature>> = VIDEOS
        .iter()
        .map(|v| load(&dir, v, "every-frame"))
        .collect();
    assert_reference_decisions(&videos, (99.0099, 99.0196));
}

#[test]
fn a_video_matches_itself_and_thresholds_apply() {
    let dir = bundled();
    let grey = load(&dir, VIDEOS[GREY], "1s");
    let mut index = VpdqIndex::new();
    index.add(7, &grey);
    let m = index.query(&grey);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].id, m[0].query_percent, m[0].compared_percent),
        (7, 100.0, 100.0)
    );
    // Half of the query's frames are another video's: 50% of the query
    // matches, all of the banked video.
    let mut mixed = grey.clone();
    mixed.extend(load(&dir, VIDEOS[0], "1s").into_iter().take(grey.len()));
    let m = index.query(&mixed);
    assert_eq!(m[0].query_percent, 50.0);
    assert_eq!(m[0].compared_percent, 100.0);
    assert!(index.query_matches(&mixed, 80.0, 0.0).is_empty());
    assert_eq!(index.query_matches(&mixed, 50.0, 100.0).len(), 1);
}
