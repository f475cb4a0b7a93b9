//! Webhooks in the Standard Webhooks style (feature `webhooks`): signing, verification with
//! replay protection, and SSRF-safe delivery with retries, a delivery log and a dead-letter
//! state.
//!
//! Signature: `v1,` + base64(HMAC-SHA256(secret, `{webhook-id}.{webhook-timestamp}.{body}`)),
//! sent in the `webhook-signature` header next to `webhook-id` and `webhook-timestamp` (Unix
//! seconds). Secrets are written `whsec_` + base64 of the key bytes.
//!
//! ```
//! use ai_core::webhook::{Secret, sign, verify, ReplayGuard};
//! let secret = Secret::from_string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let sig = sign(&secret, "msg_1", 1_700_000_000, br#"{"ok":true}"#);
//! let guard = ReplayGuard::new(std::time::Duration::from_secs(300));
//! assert!(verify(&secret, "msg_1", "1700000000", &sig, br#"{"ok":true}"#, 1_700_000_010, &guard).is_ok());
//! // The same message again is a replay.
//! assert!(verify(&secret, "msg_1", "1700000000", &sig, br#"{"ok":true}"#, 1_700_000_020, &guard).is_err());
//! ```

mod deliver;
mod ssrf;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use sha2::Sha256;

use crate::error::{AiError, ErrorKind, Result};

pub use deliver::{Attempt, Delivery, DeliveryState, WebhookSender, spawn_dispatcher};
pub use ssrf::{AddressPolicy, check_address};

/// A signing secret. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from raw key bytes.
    pub fn new(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// A fresh random 32-byte secret.
    pub fn generate() -> Self {
        let mut rng = fastrand::Rng::new();
        Self((0..32).map(|_| rng.u8(..)).collect())
    }

    /// Parse `whsec_<base64>` (the prefix is optional).
    ///
    /// # Errors
    /// `Config` when the rest is not base64.
    pub fn from_string(s: &str) -> Result<Self> {
        let b64 = s.strip_prefix("whsec_").unwrap_or(s);
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Self)
            .map_err(|_| AiError::config("a webhook secret must be `whsec_` followed by base64"))
    }

    /// `whsec_<base64>`, to hand to the receiver.
    pub fn to_string_secret(&self) -> String {
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }
}

fn mac(secret: &Secret, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `webhook-signature` header value for a message.
pub fn sign(secret: &Secret, id: &str, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(secret, id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    )
}

/// Remembers message ids seen within the tolerance window, to refuse replays.
#[derive(Debug)]
pub struct ReplayGuard {
    tolerance: Duration,
    seen: Mutex<HashMap<String, u64>>,
}

impl ReplayGuard {
    /// Accept timestamps within `tolerance` of now and each id once.
    pub fn new(tolerance: Duration) -> Self {
        Self {
            tolerance,
            seen: Mutex::new(HashMap::new()),
        }
    }
}

fn refuse(why: &str) -> AiError {
    AiError::new(ErrorKind::Auth, format!("webhook refused: {why}")).with_code("webhook_invalid")
}

/// Verify a delivery as a receiver: the timestamp within the guard's tolerance of `now`
/// (Unix seconds), one of the space-separated `v1,` signatures valid (constant-time
/// comparison), and the id not seen before.
///
/// # Errors
/// `Auth` (code `webhook_invalid`) with the reason.
pub fn verify(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: u64,
    guard: &ReplayGuard,
) -> Result<()> {
    let ts: u64 = timestamp
        .trim()
        .parse()
        .map_err(|_| refuse("the timestamp is not a number"))?;
    let tol = guard.tolerance.as_secs();
    if ts + tol < now || ts > now + tol {
        return Err(refuse("the timestamp is outside the tolerance window"));
    }
    let valid = signatures.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .is_some_and(|tag| {
                mac(secret, id, timestamp.trim(), body)
                    .verify_slice(&tag)
                    .is_ok()
            })
    });
    if !valid {
        return Err(refuse("no valid signature"));
    }
    let mut seen = guard.seen.lock();
    seen.retain(|_, t| *t + 2 * tol >= now);
    if seen.insert(id.to_owned(), ts).is_some() {
        return Err(refuse("this message id was already received"));
    }
    Ok(())
}
