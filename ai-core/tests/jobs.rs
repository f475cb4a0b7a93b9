//! Async jobs over the in-memory store: cancellation, deadlines, lost workers, the bounded
//! pool, failures and retention.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ai_core::jobs::*;
use ai_core::{AiError, ErrorKind};
use serde_json::json;

struct Dropped(Arc<AtomicBool>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn cancel_stops_a_running_job_and_deadlines_fail_it() {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let queue = JobQueue::builder(Arc::new(MemoryJobStore::new()))
        .workers(2)
        .lease(Duration::from_millis(90))
        .start(move |input: serde_json::Value| {
            let d = d.clone();
            async move {
                let _guard = Dropped(d);
                let ms = input["sleep_ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, AiError>(json!({"slept": ms}))
            }
        });
    let long = queue
        .submit(Submit::new(json!({"sleep_ms": 60_000})))
        .await
        .unwrap();
    while queue.status(&long.id).await.unwrap().status != JobStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(queue.cancel(&long.id).await.unwrap());
    assert!(!queue.cancel(&long.id).await.unwrap(), "already finished");
    assert_eq!(
        queue.status(&long.id).await.unwrap().status,
        JobStatus::Cancelled
    );
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the worker dropped the cancelled work"
    );

    let late = queue
        .submit(Submit::new(json!({"sleep_ms": 5_000})).deadline(Duration::from_millis(50)))
        .await
        .unwrap();
    let done = queue.wait(&late.id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(done.status, JobStatus::Failed);
    assert_eq!(done.error.unwrap().kind, "deadline");

    let e = queue.status("job_nope").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    queue.shutdown().await;
}

#[tokio::test]
async fn a_lost_workers_job_runs_again_and_says_so() {
    let store = Arc::new(MemoryJobStore::new());
    let (job, created) = store
        .submit(NewJob {
            input: json!({"n": 1}),
            idempotency_key: None,
            deadline_ms: None,
            callback_url: None,
        })
        .await
        .unwrap();
    assert!(created);
    // A worker that claims the job and then dies (never renews or completes).
    let claimed = store
        .claim("dead-worker", Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.id.as_str(), claimed.attempts),
        (job.id.as_str(), 1)
    );
    assert!(
        !store
            .complete(&job.id, "someone-else", Ok(json!(0)))
            .await
            .unwrap()
    );
    let queue = JobQueue::builder(store.clone())
        .workers(1)
        .poll_interval(Duration::from_millis(10))
        .start(|v: serde_json::Value| async move { Ok::<_, JobError>(json!({"echo": v["n"]})) });
    let done = queue.wait(&job.id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 2, "ran twice, recorded as such");
    assert!(
        !store
            .complete(&job.id, "dead-worker", Ok(json!(0)))
            .await
            .unwrap(),
        "the dead worker cannot overwrite"
    );
    queue.shutdown().await;
}

#[tokio::test]
async fn the_pool_is_bounded_failures_are_recorded_and_old_jobs_purged() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let store = Arc::new(MemoryJobStore::new());
    let queue = JobQueue::builder(store.clone())
        .workers(3)
        .poll_interval(Duration::from_millis(5))
        .start(move |v: serde_json::Value| {
            let (r, p) = (r.clone(), p.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                if v["fail"] == true {
                    Err(JobError::new("bad_input", "cannot summarise an empty text"))
                } else {
                    Ok(json!("ok"))
                }
            }
        });
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            queue
                .submit(Submit::new(json!({"fail": i == 5})))
                .await
                .unwrap()
                .id,
        );
    }
    for (i, id) in ids.iter().enumerate() {
        let done = queue.wait(id, Duration::from_secs(10)).await.unwrap();
        if i == 5 {
            assert_eq!(done.status, JobStatus::Failed);
            assert_eq!(done.error.unwrap().kind, "bad_input");
        } else {
            assert_eq!(done.status, JobStatus::Succeeded);
            assert_eq!(done.attempts, 1);
        }
    }
    assert!(
        peak.load(Ordering::SeqCst) <= 3,
        "at most 3 workers: {}",
        peak.load(Ordering::SeqCst)
    );
    assert_eq!(
        store.purge(Duration::from_secs(3600)).await.unwrap(),
        0,
        "still fresh"
    );
    assert_eq!(store.purge(Duration::ZERO).await.unwrap(), 12);
    assert!(queue.status(&ids[0]).await.is_err());
    queue.shutdown().await;
}
