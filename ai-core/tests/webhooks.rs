//! Webhooks: SSRF refusals without contact, signed delivery with retries to a verifying
//! receiver, dead letters, no redirects, and receiver-side verification.
#![cfg(feature = "webhooks")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ai_core::webhook::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

fn now() -> u64 {
    ai_core::jobs::now_ms() / 1000
}

#[tokio::test]
async fn private_and_special_targets_are_refused_without_contact() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sender = WebhookSender::new(Secret::generate()).retries(
        3,
        Duration::from_millis(1),
        Duration::from_millis(5),
    );
    let targets = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        "http://10.0.0.1/hook".to_owned(),
        "http://172.16.0.1/hook".to_owned(),
        "http://192.168.1.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::1]:{port}/hook"),
        "http://[fd00::1]/hook".to_owned(),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        "http://0.0.0.0/hook".to_owned(),
        "http://100.64.0.1/hook".to_owned(),
        "http://[fe80::1]/hook".to_owned(),
        "http://224.0.0.1/hook".to_owned(),
        "ftp://example.com/hook".to_owned(),
    ];
    for t in &targets {
        let d = sender
            .deliver(t, "msg_1", &serde_json::json!({"x": 1}))
            .await;
        assert_eq!(d.state, DeliveryState::Refused, "{t}");
        assert_eq!(d.attempts.len(), 1, "{t}: no retries for a refused target");
        let err = d.attempts[0].error.as_deref().unwrap();
        assert!(
            err.contains("refused") || err.contains("http or https"),
            "{t}: {err}"
        );
        assert!(d.attempts[0].status.is_none());
    }
    // Nothing ever connected to the local listener.
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "a refused target was contacted");
    assert_eq!(sender.dead_letters().len(), targets.len());
}

#[derive(Clone)]
struct Receiver {
    secret: Secret,
    guard: Arc<ReplayGuard>,
    calls: Arc<AtomicUsize>,
    fail_first: usize,
    valid: Arc<AtomicUsize>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let n = r.calls.fetch_add(1, Ordering::SeqCst);
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut out = HeaderMap::new();
    if n < r.fail_first {
        out.insert("retry-after", "0".parse().unwrap());
        return (StatusCode::SERVICE_UNAVAILABLE, out);
    }
    // Fresh guard per attempt would be wrong: retries carry the same id, so verify once the
    // receiver accepts (as a real receiver records the id only when it processed it).
    match verify(
        &r.secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        &body,
        now(),
        &r.guard,
    ) {
        Ok(()) => {
            r.valid.fetch_add(1, Ordering::SeqCst);
            (StatusCode::NO_CONTENT, out)
        }
        Err(_) => (StatusCode::UNAUTHORIZED, out),
    }
}

async fn serve(r: Receiver, path: &str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route(path, post(receive))
        .route(
            "/redirect",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [("location", "http://169.254.169.254/")],
                )
            }),
        )
        .with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test]
async fn signed_delivery_with_retries_dead_letters_and_no_redirects() {
    let secret = Secret::generate();
    let receiver = Receiver {
        secret: Secret::from_string(&secret.to_string_secret()).unwrap(),
        guard: Arc::new(ReplayGuard::new(Duration::from_secs(300))),
        calls: Arc::new(AtomicUsize::new(0)),
        fail_first: 2,
        valid: Arc::new(AtomicUsize::new(0)),
    };
    let port = serve(receiver.clone(), "/hook").await;
    let local = AddressPolicy::public_only().allow("127.0.0.1".parse().unwrap());
    let sender = WebhookSender::new(secret.clone())
        .policy(local.clone())
        .retries(4, Duration::from_millis(5), Duration::from_millis(20));
    let url = format!("http://127.0.0.1:{port}/hook?token=abc");
    let d = sender
        .deliver(&url, "job_123", &serde_json::json!({"status": "succeeded"}))
        .await;
    assert_eq!(d.state, DeliveryState::Delivered);
    let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(204)]);
    assert_eq!(receiver.valid.load(Ordering::SeqCst), 1);
    assert!(
        !d.attempts[0].target.contains("token"),
        "query strings stay out of the log"
    );
    assert_eq!(sender.log().len(), 3);

    // Delivering the same message again: the receiver's replay guard refuses it (401), so it
    // ends as a dead letter after its attempts.
    let again = sender
        .deliver(&url, "job_123", &serde_json::json!({"status": "succeeded"}))
        .await;
    assert_eq!(again.state, DeliveryState::DeadLetter);
    assert!(again.attempts.iter().all(|a| a.status == Some(401)));

    // Redirects are not followed.
    let r = sender
        .deliver(
            &format!("http://127.0.0.1:{port}/redirect"),
            "msg_r",
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.attempts[0].status, Some(307));
    assert_eq!(r.state, DeliveryState::DeadLetter);
    assert_eq!(sender.dead_letters().len(), 2);
}

#[test]
fn verification_rules() {
    let secret = Secret::generate();
    let guard = ReplayGuard::new(Duration::from_secs(300));
    let t = now();
    let sig = sign(&secret, "m1", t, b"body");
    let ts = t.to_string();
    assert!(
        verify(&secret, "m1", &ts, &sig, b"body!", t, &guard).is_err(),
        "tampered body"
    );
    assert!(
        verify(&Secret::generate(), "m1", &ts, &sig, b"body", t, &guard).is_err(),
        "other key"
    );
    let old = sign(&secret, "m2", t - 600, b"body");
    assert!(
        verify(
            &secret,
            "m2",
            &(t - 600).to_string(),
            &old,
            b"body",
            t,
            &guard
        )
        .is_err(),
        "too old"
    );
    let both = format!("v1,AAAA {sig}");
    assert!(
        verify(&secret, "m1", &ts, &both, b"body", t, &guard).is_ok(),
        "any listed signature"
    );
    let e = verify(&secret, "m1", &ts, &sig, b"body", t, &guard).unwrap_err();
    assert!(e.message().contains("already received"));
    assert_eq!(format!("{secret:?}"), "Secret(..)");
}
