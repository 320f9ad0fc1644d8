//! Video hashing through the API, asynchronously: `POST /api/v1/hash/video`
//! stores the upload in a temporary file and answers 202 with a job;
//! `GET /api/v1/jobs/{id}` reports its progress (frames hashed, position,
//! duration) and, once done, its signals (MD5, SHA-256 and vPDQ in
//! python-threatexchange's text form, with the frames).
//!
//! Decoding runs FFmpeg child processes on a blocking thread, never on the
//! async runtime; one video at a time per node (FFmpeg already uses every
//! core), the rest wait their turn. Jobs live in the node's memory: the
//! most recent [`MAX_JOBS`] are kept, finished ones for [`KEEP_FINISHED`].

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use ronda_hash::vpdq::Vpdq;
use ronda_media::video::VideoOptions;
use ronda_store::Principal;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult, rejection};
use crate::{AppState, MATCH, Route, spec};

/// Jobs kept in memory at most; the oldest finished ones go first.
pub const MAX_JOBS: usize = 1000;
/// How long a finished job's answer stays.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        (
            spec(
                M::POST,
                "/api/v1/hash/video",
                MATCH,
                "Hash a video (body: its bytes) asynchronously; answers 202 with a job",
            ),
            post(start),
        ),
        (
            spec(
                M::GET,
                "/api/v1/jobs/{id}",
                MATCH,
                "A video hashing job: progress, then its signals",
            ),
            get(status),
        ),
    ]
}

#[derive(Debug, Clone)]
enum JobState {
    Queued,
    Running {
        frames_hashed: u64,
        timestamp: f64,
        duration: Option<f64>,
    },
    Done(Value),
    Failed(String),
}

#[derive(Debug)]
struct Job {
    /// Who started it: only they (and administrators) see it.
    owner: i64,
    started: Instant,
    finished: Option<Instant>,
    state: JobState,
}

/// The node's video jobs.
#[derive(Debug)]
pub struct Jobs {
    jobs: Mutex<BTreeMap<u64, Job>>,
    next: Mutex<u64>,
    permits: Semaphore,
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs {
            jobs: Mutex::default(),
            next: Mutex::new(1),
            permits: Semaphore::new(1),
        }
    }
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Job>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, id: u64, state: JobState) {
        if let Some(job) = self.lock().get_mut(&id) {
            if matches!(state, JobState::Done(_) | JobState::Failed(_)) {
                job.finished = Some(Instant::now());
            }
            job.state = state;
        }
    }

    /// A new job, after dropping expired and (past the cap) the oldest
    /// finished ones. `None` when the node is full of unfinished jobs.
    fn create(&self, owner: i64) -> Option<u64> {
        let mut jobs = self.lock();
        jobs.retain(|_, j| j.finished.is_none_or(|f| f.elapsed() < KEEP_FINISHED));
        while jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .find(|(_, j)| j.finished.is_some())
                .map(|(id, _)| *id)?;
            jobs.remove(&oldest);
        }
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let id = *next;
        *next += 1;
        jobs.insert(
            id,
            Job {
                owner,
                started: Instant::now(),
                finished: None,
                state: JobState::Queued,
            },
        );
        Some(id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartQuery {
    /// One frame each this many seconds (default 1; 0: every frame).
    seconds_per_hash: Option<f64>,
}

async fn start(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    let Query(q) = q.map_err(rejection)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("the body must be the video's bytes"));
    }
    let options = VideoOptions {
        seconds_per_hash: q.seconds_per_hash.unwrap_or(1.0),
        ..VideoOptions::default()
    };
    if !(options.seconds_per_hash.is_finite() && (0.0..=3600.0).contains(&options.seconds_per_hash))
    {
        return Err(ApiError::bad_request(
            "seconds_per_hash must be a number from 0 to 3600",
        ));
    }
    let jobs = state.jobs.clone();
    let id = jobs.create(who.token_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many video jobs in progress; try again later",
        )
    })?;
    tracing::info!(job = id, bytes = body.len(), "video job queued");
    tokio::spawn(run(jobs, id, body, options));
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job": id, "status": format!("/api/v1/jobs/{id}") })),
    )
        .into_response())
}

async fn run(jobs: Arc<Jobs>, id: u64, body: Bytes, options: VideoOptions) {
    let Ok(_permit) = jobs.permits.acquire().await else {
        return;
    };
    jobs.set(
        id,
        JobState::Running {
            frames_hashed: 0,
            timestamp: 0.0,
            duration: None,
        },
    );
    let reporter = jobs.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let file = tempfile::NamedTempFile::new().map_err(|e| format!("temporary file: {e}"))?;
        std::fs::write(file.path(), &body).map_err(|e| format!("temporary file: {e}"))?;
        let mut progress = |p: &ronda_media::video::Progress| {
            reporter.set(
                id,
                JobState::Running {
                    frames_hashed: p.frames_hashed,
                    timestamp: p.timestamp,
                    duration: p.duration,
                },
            );
            ControlFlow::Continue(())
        };
        ronda_media::signals::hash_video_file_with_progress(file.path(), &options, &mut progress)
            .map_err(|e| e.to_string())
    })
    .await;
    let state = match outcome {
        Ok(Ok(s)) => match &s.video {
            Some(v) => JobState::Done(json!({
                "signals": {
                    "md5": s.md5.to_string(),
                    "video_md5": s.md5.to_string(),
                    "sha256": s.sha256.to_string(),
                    "vpdq": Vpdq::from_frames(&v.frames).to_string(),
                },
                "width": v.info.width,
                "height": v.info.height,
                "fps": v.info.fps,
                "duration": v.info.duration,
                "frames": v.frames.iter().map(|f| json!({
                    "frame": f.frame,
                    "quality": f.quality,
                    "pdq": f.hash.to_string(),
                    "timestamp": f.timestamp,
                })).collect::<Vec<_>>(),
            })),
            None => JobState::Failed("not a video".into()),
        },
        Ok(Err(e)) => JobState::Failed(e),
        Err(e) => JobState::Failed(format!("the hashing task failed: {e}")),
    };
    if let JobState::Failed(e) = &state {
        tracing::info!(job = id, error = %e, "video job failed");
    }
    jobs.set(id, state);
}

async fn status(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> ApiResult<Json<Value>> {
    let jobs = state.jobs.lock();
    let job = jobs
        .get(&id)
        .filter(|j| j.owner == who.token_id || who.role == ronda_store::Role::Admin)
        .ok_or_else(|| ApiError::not_found(format!("no job {id}")))?;
    let elapsed = job.finished.unwrap_or_else(Instant::now) - job.started;
    let mut v = json!({ "job": id, "elapsed_seconds": elapsed.as_secs_f64() });
    match &job.state {
        JobState::Queued => v["state"] = "queued".into(),
        JobState::Running {
            frames_hashed,
            timestamp,
            duration,
        } => {
            v["state"] = "running".into();
            v["progress"] = json!({
                "frames_hashed": frames_hashed,
                "position_seconds": timestamp,
                "duration_seconds": duration,
            });
        }
        JobState::Done(result) => {
            v["state"] = "done".into();
            v["result"] = result.clone();
        }
        JobState::Failed(e) => {
            v["state"] = "failed".into();
            v["error"] = e.clone().into();
        }
    }
    Ok(Json(v))
}
