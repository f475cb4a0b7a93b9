//! Legacy latency with and without a shadow AI path that fails or hangs, in one run.
//!
//! ```sh
//! cargo run --release -p ai-rollout --example shadow_bench
//! ```
//!
//! 32 concurrent callers make 20 000 calls each round to a legacy handler that works for
//! about 200 µs (a sleep-free busy loop plus a yield). Rounds: legacy alone; shadowed by an AI
//! path that fails at once; shadowed by one that hangs (timeout 50 ms, 64 shadow slots, the
//! rest shed). Prints p50/p99 per round and the ratios to the baseline, best of three.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_rollout::{Shadow, ShadowConfig};

fn busy(us: u64) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_micros(us) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    x
}

async fn legacy(n: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    Ok(busy(200) ^ n)
}

async fn round<F, Fut>(call: Arc<F>) -> (Duration, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<u64, String>> + Send,
{
    let mut tasks = Vec::new();
    for w in 0..32u64 {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(625);
            for i in 0..625u64 {
                let t = Instant::now();
                call(w * 1000 + i).await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    (all[all.len() / 2], all[all.len() * 99 / 100])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cfg = ShadowConfig {
        sample: 1.0,
        max_in_flight: 64,
        timeout: Duration::from_millis(50),
    };
    let failing = Arc::new(Shadow::new(
        legacy,
        |_: u64| async move { Err::<u64, &str>("model down") },
        |a: &u64, b: &u64| a == b,
        cfg.clone(),
    ));
    let hanging = Arc::new(Shadow::new(
        legacy,
        |_: u64| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<u64, &str>(0)
        },
        |a: &u64, b: &u64| a == b,
        cfg,
    ));
    let mut best = [(Duration::MAX, Duration::MAX); 3];
    for _ in 0..3 {
        let r = [
            round(Arc::new(legacy)).await,
            round(Arc::new({
                let s = failing.clone();
                move |n| {
                    let s = s.clone();
                    async move { s.call(n).await }
                }
            }))
            .await,
            round(Arc::new({
                let s = hanging.clone();
                move |n| {
                    let s = s.clone();
                    async move { s.call(n).await }
                }
            }))
            .await,
        ];
        for (b, x) in best.iter_mut().zip(r) {
            *b = (b.0.min(x.0), b.1.min(x.1));
        }
    }
    let names = ["legacy alone", "shadow: AI fails", "shadow: AI hangs"];
    for (name, (p50, p99)) in names.iter().zip(best) {
        println!(
            "{name:<18} p50 {:>8.1} µs  p99 {:>8.1} µs  p99 ratio {:.2}",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            p99.as_secs_f64() / best[0].1.as_secs_f64()
        );
    }
}
