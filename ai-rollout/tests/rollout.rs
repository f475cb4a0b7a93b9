//! Shadow, canary, fallback with the circuit breaker, and their metrics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ai_rollout::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

type Snap = Vec<(
    metrics_util::CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// Take the snapshot once: reading drains the recorder.
fn snap(s: &Snapshotter) -> Snap {
    s.snapshot().into_vec()
}

fn counter(s: &Snap, name: &str, label: (&str, &str)) -> u64 {
    s.iter()
        .filter(|(k, ..)| k.key().name() == name)
        .filter(|(k, ..)| {
            k.key()
                .labels()
                .any(|l| l.key() == label.0 && l.value() == label.1)
        })
        .map(|(.., v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}

/// Runs `f` on a current-thread runtime with a local metrics recorder (spawned shadow tasks
/// run on the same thread, so they record into it too).
fn with_metrics(f: impl std::future::Future<Output = ()>) -> Snapshotter {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(f);
    });
    snapshotter
}

#[test]
fn shadow_never_changes_the_legacy_answer() {
    let s = with_metrics(async {
        let legacy = |x: u32| async move {
            if x == 13 {
                Err("unlucky".to_string())
            } else {
                Ok::<u32, String>(x * 2)
            }
        };
        let failing = |_: u32| async move { Err::<u32, &str>("model down") };
        let shadow = Shadow::new(
            legacy,
            failing,
            |a: &u32, b: &u32| a == b,
            ShadowConfig::default(),
        );
        for x in 0..10 {
            assert_eq!(shadow.call(x).await, Ok(x * 2));
        }
        assert_eq!(
            shadow.call(13).await,
            Err("unlucky".to_string()),
            "legacy errors pass through"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;

        // A hanging AI path: the legacy answer comes back at once, the shadow times out, and
        // once its slots are full further shadow work is shed.
        let hanging = |_: u32| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<u32, String>(0)
        };
        let cfg = ShadowConfig {
            max_in_flight: 2,
            timeout: Duration::from_secs(5),
            ..ShadowConfig::default()
        };
        let shadow = Shadow::new(legacy, hanging, |a: &u32, b: &u32| a == b, cfg);
        let start = tokio::time::Instant::now();
        for x in 0..5 {
            assert_eq!(shadow.call(x).await, Ok(x * 2));
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "no latency added (paused clock)"
        );
        assert_eq!(shadow.in_flight(), 2);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(shadow.in_flight(), 0, "timed-out shadows free their slots");

        let agreeing = |x: u32| async move { Ok::<u32, String>(if x < 3 { x * 2 } else { 0 }) };
        let sampled_none = ShadowConfig {
            sample: 0.0,
            ..ShadowConfig::default()
        };
        let shadow = Shadow::new(
            legacy,
            agreeing,
            |a: &u32, b: &u32| a == b,
            ShadowConfig::default(),
        );
        for x in 0..5 {
            shadow.call(x).await.unwrap();
        }
        let off = Shadow::new(legacy, agreeing, |a: &u32, b: &u32| a == b, sampled_none);
        off.call(1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
    let s = snap(&s);
    assert_eq!(counter(&s, metric::SHADOW, ("outcome", "error")), 10);
    assert_eq!(counter(&s, metric::SHADOW, ("outcome", "timeout")), 2);
    assert_eq!(counter(&s, metric::SHADOW, ("outcome", "shed")), 3);
    assert_eq!(counter(&s, metric::SHADOW, ("outcome", "agree")), 3);
    assert_eq!(counter(&s, metric::SHADOW, ("outcome", "disagree")), 2);
    assert_eq!(
        counter(&s, metric::SHADOW, ("outcome", "skipped")),
        2,
        "a legacy error and an unsampled call"
    );
}

#[test]
fn fallback_with_breaker() {
    let s = with_metrics(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, h) = (calls.clone(), healthy.clone());
        let primary = move |q: &'static str| {
            let (c, h) = (c.clone(), h.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if q == "bad request" {
                    return Err("400");
                }
                if h.load(Ordering::SeqCst) {
                    Ok(format!("ai: {q}"))
                } else {
                    Err("503")
                }
            }
        };
        let legacy = |q: &'static str| async move { Ok::<String, String>(format!("legacy: {q}")) };
        let breaker = Arc::new(CircuitBreaker::new(BreakerConfig {
            consecutive_failures: 3,
            open_for: Duration::from_secs(10),
            half_open_probes: 2,
            ..BreakerConfig::default()
        }));
        let f = Fallback::new(primary, legacy, Duration::from_secs(1))
            .fall_back_on(|e: &&str| *e != "400")
            .breaker(breaker.clone());

        match f.call("bad request").await {
            Err(FallbackError::Primary(e)) => assert_eq!(e, "400"),
            other => panic!("{other:?}"),
        }
        for _ in 0..3 {
            let (a, served) = f.call("q").await.unwrap();
            assert_eq!(
                (a.as_str(), served),
                ("legacy: q", Served::Fallback("error"))
            );
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        let before = calls.load(Ordering::SeqCst);
        let (_, served) = f.call("q").await.unwrap();
        assert_eq!(served, Served::Fallback("circuit_open"));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            before,
            "the primary is skipped while open"
        );

        // After the pause: half-open probes; the primary has recovered, two probes close it.
        healthy.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert_eq!(f.call("q").await.unwrap().1, Served::Primary);
        assert_eq!(f.call("q").await.unwrap().1, Served::Primary);
        assert_eq!(breaker.state(), BreakerState::Closed);

        // A slow primary: timeout, then the legacy answer.
        let slow = |q: &'static str| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<String, &str>(format!("ai: {q}"))
        };
        let f = Fallback::new(slow, legacy, Duration::from_millis(100));
        assert_eq!(f.call("q").await.unwrap().1, Served::Fallback("timeout"));
    });
    let s = snap(&s);
    assert_eq!(counter(&s, metric::FALLBACK, ("reason", "circuit_open")), 1);
    assert_eq!(counter(&s, metric::FALLBACK, ("reason", "timeout")), 1);
    assert_eq!(counter(&s, metric::BREAKER, ("state", "open")), 1);
    assert_eq!(counter(&s, metric::BREAKER, ("state", "closed")), 1);
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_on_failure_rate_and_abandoned_probes_reopen() {
    let b = CircuitBreaker::new(BreakerConfig {
        consecutive_failures: 0,
        failure_rate: 0.5,
        min_calls: 10,
        window: Duration::from_secs(60),
        open_for: Duration::from_secs(5),
        half_open_probes: 1,
    });
    for i in 0..9 {
        assert!(b.allow());
        b.record(i % 2 == 0);
    }
    assert_eq!(b.state(), BreakerState::Closed, "below min_calls");
    b.record(false);
    assert_eq!(b.state(), BreakerState::Open, "5 of 10 failed");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(b.allow(), "one probe");
    assert!(!b.allow(), "only one");
    // The probe's caller went away without recording: after another pause it counts as
    // failed and the breaker opens again instead of staying half-open for ever.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(b.state(), BreakerState::Open);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(b.allow());
    b.record(true);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn canary_is_sticky_and_changes_at_run_time() {
    let c = Canary::new("checkout-ai", 1_000);
    let keys: Vec<String> = (0..5_000).map(|i| format!("user-{i}")).collect();
    let at10: Vec<bool> = keys.iter().map(|k| c.route(k) == Route::Canary).collect();
    let share = at10.iter().filter(|x| **x).count();
    assert!((400..600).contains(&share), "{share}");
    c.set_basis_points(2_000);
    for (k, was) in keys.iter().zip(&at10) {
        if *was {
            assert_eq!(c.route(k), Route::Canary, "raising the share keeps keys in");
        }
    }
    c.allow("vip");
    c.set_basis_points(0);
    assert_eq!(c.route("vip"), Route::Canary);
    assert_eq!(c.route("user-1"), Route::Stable);
    c.deny("vip");
    assert_eq!(c.route("vip"), Route::Stable);
}
