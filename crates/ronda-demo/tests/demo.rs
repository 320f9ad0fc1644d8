//! A small action day, run twice: the same seed gives the same report, and
//! what the report measured agrees with what the simulated platforms did.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use ronda_demo::driver::{self, CAMPAIGN, Finished, Options};
use ronda_demo::world::{DURATION, START};

async fn run(seed: u64, dir: &std::path::Path) -> (String, Finished) {
    let options = Options {
        seed,
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        posts: 150,
    };
    let finished = driver::run(&options, |_| {}).await.unwrap();
    let campaign = finished.store.campaign(CAMPAIGN).await.unwrap().unwrap();
    let report =
        ronda_server::report::campaign_report(&finished.store, &campaign, START + DURATION)
            .await
            .unwrap();
    (ronda_report::to_json(&report), finished)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_gives_the_same_report_measured_from_what_happened() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, finished) = run(11, a.path()).await;
    let (second, other) = run(11, b.path()).await;
    other.shutdown().await.unwrap();
    assert_eq!(first, second, "the same seed gave two reports");

    let report: serde_json::Value = serde_json::from_str(&first).unwrap();
    for field in ["items", "referrals", "removal_orders", "removed"] {
        assert!(report[field].as_u64().unwrap() > 0, "{field}: {report}");
    }
    assert!(report["platforms"].as_u64().unwrap() >= 10, "{report}");

    // Every removal the report counts happened in the simulation between
    // the last check that saw the item live and the first that saw it gone.
    let world = finished.internet.world();
    let posts: HashMap<String, usize> = (0..world.posts.len())
        .rev()
        .map(|i| (world.url(i, finished.web_port), i))
        .collect();
    let campaign = finished.store.campaign(CAMPAIGN).await.unwrap().unwrap();
    let input = ronda_server::report::campaign_input(&finished.store, &campaign, START + DURATION)
        .await
        .unwrap();
    let urls: HashMap<i64, &str> = input.items.iter().map(|i| (i.id, i.url.as_str())).collect();
    let mut removed = 0;
    for l in &input.liveness {
        let post = posts[urls[&l.item_id]];
        if let Some(gone) = l.first_removed_at {
            removed += 1;
            assert!(
                !finished.internet.is_up(post, gone),
                "item {} was up",
                l.item_id
            );
        }
        if let Some(live) = l.last_live_at {
            assert!(
                finished.internet.is_up(post, live),
                "item {} was down",
                l.item_id
            );
        }
    }
    assert!(removed > 0);
    finished.shutdown().await.unwrap();
}
