//! Video hashing through the API: a job with progress, then the same
//! frames as the reference; a broken file fails cleanly; jobs are private.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use ronda_server::ServerConfig;
use ronda_store::Role;
use serde_json::Value;

use crate::support::{Server, call};

/// The bundled sample video and the reference's frames at one per second.
fn sample() -> Option<(Vec<u8>, usize)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ronda-media/tests/data");
    let video = std::fs::read(root.join("vpdq/test-padded-dimensions.mp4")).unwrap();
    let csv = std::fs::read_to_string(root.join("vpdq/test-padded-dimensions.1s.csv")).unwrap();
    let ffmpeg = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ffmpeg {
        assert!(
            std::env::var_os("RONDA_REQUIRE_FFMPEG").is_none_or(|v| v != "1"),
            "video tests need FFmpeg (apt-get install ffmpeg)"
        );
        eprintln!("skipped: video tests need FFmpeg (apt-get install ffmpeg)");
        return None;
    }
    Some((video, csv.lines().filter(|l| !l.trim().is_empty()).count()))
}

async fn wait_for(s: &Server, id: u64, role: Role) -> Value {
    for _ in 0..600 {
        let r = s.get(&format!("/api/v1/jobs/{id}"), Some(role)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v = r.json();
        match v["state"].as_str() {
            Some("done" | "failed") => return v,
            Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("unexpected state {other:?}: {v}"),
        }
    }
    panic!("job {id} did not finish");
}

async fn start(s: &Server, body: Vec<u8>, query: &str) -> (StatusCode, Value) {
    let r = call(
        s.req(
            Method::POST,
            &format!("/api/v1/hash/video{query}"),
            Some(Role::Platform),
        )
        .body(body),
    )
    .await;
    (r.status, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_is_hashed_in_a_job_with_the_reference_frames() {
    let Some((video, frames)) = sample() else {
        return;
    };
    let s = Server::start(ServerConfig::default()).await;
    let (status, v) = start(&s, video.clone(), "").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["job"].as_u64().unwrap();
    let done = wait_for(&s, id, Role::Platform).await;
    assert_eq!(done["state"], "done", "{done}");
    let result = &done["result"];
    assert_eq!(result["frames"].as_array().unwrap().len(), frames);
    let vpdq: ronda_hash::vpdq::Vpdq = result["signals"]["vpdq"].as_str().unwrap().parse().unwrap();
    assert_eq!(vpdq.0.len(), frames);
    assert_eq!(
        result["signals"]["sha256"],
        ronda_hash::digest::sha256(&video).to_string()
    );

    // Another caller does not see it.
    let r = s
        .get(&format!("/api/v1/jobs/{id}"), Some(Role::Analyst))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s.get("/api/v1/jobs/999999", Some(Role::Platform)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_videos_and_bad_requests_fail_cleanly() {
    if sample().is_none() {
        return;
    }
    let s = Server::start(ServerConfig::default()).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ronda-media/tests/data");
    for name in ["truncated.mp4", "garbage.mp4"] {
        let (status, v) = start(&s, std::fs::read(root.join(name)).unwrap(), "").await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        let done = wait_for(&s, v["job"].as_u64().unwrap(), Role::Platform).await;
        assert_eq!(done["state"], "failed", "{name}: {done}");
        assert!(done["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let (status, _) = start(&s, Vec::new(), "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = start(&s, b"x".to_vec(), "?seconds_per_hash=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = start(&s, b"x".to_vec(), "?frames=3").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
