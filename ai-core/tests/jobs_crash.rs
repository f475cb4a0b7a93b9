//! Crash test against real PostgreSQL and real Redis (feature `live-tests`;
//! `scripts/services.sh` starts them and exports `AI_TEST_PG_URL` and `AI_TEST_REDIS_URL`): a
//! worker in a separate process is killed with SIGKILL while jobs run; a new worker finishes
//! the queue. Every job reaches a terminal state, jobs that ran
//! twice say so, and every webhook arrives at least once with a valid signature.
//!
//! The worker process is this test binary again, started with `AI_JOBS_CRASH_WORKER=1` and
//! the filter `worker_process`.
#![cfg(feature = "live-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use ai_core::jobs::*;
use ai_core::webhook::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use parking_lot::Mutex;

fn pg_url() -> String {
    std::env::var("AI_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("AI_TEST_PG_URL is not set: run `scripts/services.sh start` and `eval \"$(scripts/services.sh env)\"` (scripts/test.sh does both)")
    })
}

fn redis_url() -> String {
    std::env::var("AI_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("AI_TEST_REDIS_URL is not set: run `scripts/services.sh start` and `eval \"$(scripts/services.sh env)\"`")
    })
}

/// The store for `backend` (`postgres` or `redis`) under `name` (table or key prefix).
async fn store_for(backend: &str, name: &str) -> Arc<dyn JobStore> {
    match backend {
        "redis" => Arc::new(
            RedisJobStore::connect(&redis_url(), &format!("{name}:"))
                .await
                .unwrap(),
        ),
        _ => Arc::new(PgJobStore::connect(&pg_url(), name).await.unwrap()),
    }
}

/// The worker: runs only inside the spawned process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_process() {
    if std::env::var("AI_JOBS_CRASH_WORKER").as_deref() != Ok("1") {
        return;
    }
    let table = std::env::var("AI_JOBS_TABLE").unwrap();
    let secret = Secret::from_string(&std::env::var("AI_JOBS_SECRET").unwrap()).unwrap();
    let backend = std::env::var("AI_JOBS_BACKEND").unwrap();
    let store = store_for(&backend, &table).await;
    let _queue = JobQueue::builder(store.clone())
        .workers(8)
        .lease(Duration::from_millis(1000))
        .poll_interval(Duration::from_millis(10))
        .start(|input: serde_json::Value| async move {
            let ms = 20 + fastrand::u64(..60);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, JobError>(serde_json::json!({ "n": input["n"], "slept_ms": ms }))
        });
    let sender = Arc::new(
        WebhookSender::new(secret)
            .policy(AddressPolicy::public_only().allow("127.0.0.1".parse().unwrap()))
            .retries(10, Duration::from_millis(20), Duration::from_millis(500)),
    );
    let _dispatcher = spawn_dispatcher(sender, store, Duration::from_millis(20));
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

#[derive(Clone, Default)]
struct Received {
    by_job: Arc<Mutex<HashMap<String, u32>>>,
    invalid: Arc<Mutex<u32>>,
    secret: Arc<Mutex<Option<Secret>>>,
}

async fn receive(State(r): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let Some(secret) = r.secret.lock().clone() else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    // A fresh guard: duplicates are expected (at least once) and counted, not refused.
    let guard = ReplayGuard::new(Duration::from_secs(300));
    let now = now_ms() / 1000;
    if verify(
        &secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        &body,
        now,
        &guard,
    )
    .is_err()
    {
        *r.invalid.lock() += 1;
        return StatusCode::UNAUTHORIZED;
    }
    *r.by_job.lock().entry(h("webhook-id")).or_default() += 1;
    StatusCode::OK
}

/// A worker process, killed when the test ends — also when it fails, so no worker outlives
/// a failed run and keeps polling (and taking CPU from) the next one.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_worker(backend: &str, table: &str, secret: &str) -> Worker {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "worker_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("AI_JOBS_CRASH_WORKER", "1")
        .env("AI_JOBS_TABLE", table)
        .env("AI_JOBS_BACKEND", backend)
        .env(
            "AI_TEST_REDIS_URL",
            std::env::var("AI_TEST_REDIS_URL").unwrap_or_default(),
        )
        .env("AI_JOBS_SECRET", secret)
        .env("AI_TEST_PG_URL", pg_url())
        .spawn()
        .unwrap();
    Worker(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_loses_nothing_on_postgres() {
    if std::env::var("AI_JOBS_CRASH_WORKER").as_deref() == Ok("1") {
        return;
    }
    crash("postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_loses_nothing_on_redis() {
    if std::env::var("AI_JOBS_CRASH_WORKER").as_deref() == Ok("1") {
        return;
    }
    crash("redis").await;
}

async fn crash(backend: &str) {
    let table = format!("jobs_crash_{}_{}", std::process::id(), fastrand::u32(..));
    let store = store_for(backend, &table).await;
    let client = JobQueue::builder(store.clone()).client();
    let secret = Secret::generate();
    let received = Received::default();
    *received.secret.lock() = Some(secret.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut ids = Vec::new();
    for n in 0..200 {
        let job = client
            .submit(
                Submit::new(serde_json::json!({ "n": n }))
                    .idempotency_key(format!("crash-{n}"))
                    .callback_url(format!("http://127.0.0.1:{port}/hook")),
            )
            .await
            .unwrap();
        ids.push(job.id);
    }
    let count = |status: JobStatus| {
        let store = store.clone();
        let ids = ids.clone();
        async move {
            let mut n = 0;
            for id in &ids {
                if store.get(id).await.unwrap().unwrap().status == status {
                    n += 1;
                }
            }
            n
        }
    };

    let mut first = spawn_worker(backend, &table, &secret.to_string_secret());
    // Kill it mid-flight: after some jobs finished, while others run.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = count(JobStatus::Succeeded).await;
        let running = count(JobStatus::Running).await;
        if done >= 40 && running > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first worker made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let at_kill = count(JobStatus::Succeeded).await;
    let running_at_kill = count(JobStatus::Running).await;

    let mut second = spawn_worker(backend, &table, &secret.to_string_secret());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut terminal = 0;
        for id in &ids {
            if store.get(id).await.unwrap().unwrap().status.is_terminal() {
                terminal += 1;
            }
        }
        if terminal == ids.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {terminal} of 200 finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every webhook at least once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while received.by_job.lock().len() < ids.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of 200 webhooks arrived",
            received.by_job.lock().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.0.kill().unwrap();
    second.0.wait().unwrap();

    let mut twice = 0;
    for id in &ids {
        let job = store.get(id).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Succeeded, "{id}");
        if job.attempts > 1 {
            twice += 1;
        }
    }
    let deliveries: u32 = received.by_job.lock().values().sum();
    let invalid = *received.invalid.lock();
    assert_eq!(invalid, 0, "every signature valid");
    assert!(
        twice >= 1 || running_at_kill == 0,
        "jobs running at the kill ran again and say so"
    );
    eprintln!(
        "crash test ({backend}): 200 jobs, worker killed with {at_kill} done and {running_at_kill} running; \
         all 200 succeeded, {twice} ran twice (attempts = 2), {deliveries} webhook deliveries for 200 jobs, 0 invalid signatures"
    );
}
