//! Deterministic bucketing shared by canaries and experiments.
//!
//! `bucket(salt, key)` = the first 8 bytes of SHA-256(`salt` + `":"` + `key`), read as a
//! big-endian unsigned 64-bit integer, modulo 10 000. Any service in any language can
//! reproduce it; test vectors are in `docs/rollout.md` and in the tests below.

use sha2::{Digest, Sha256};

/// The basis-point bucket (0 ..= 9 999) of `key` under `salt`.
///
/// ```
/// assert_eq!(ai_rollout::bucket("checkout-ai", "user-42"), ai_rollout::bucket("checkout-ai", "user-42"));
/// assert!(ai_rollout::bucket("checkout-ai", "user-42") < 10_000);
/// ```
pub fn bucket(salt: &str, key: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(key.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) % 10_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors published in `docs/rollout.md` (computed independently with Python's
    /// hashlib).
    #[test]
    fn published_vectors() {
        assert_eq!(bucket("checkout-ai", "user-42"), 1737);
        assert_eq!(bucket("checkout-ai", "user-43"), 7549);
        assert_eq!(bucket("search-v2", "tenant-acme"), 5073);
        assert_eq!(bucket("", ""), 4368);
        assert_eq!(bucket("salt", "ключ"), 8781);
    }

    #[test]
    fn spread_is_even() {
        let mut counts = [0u32; 10];
        for i in 0..20_000 {
            counts[(bucket("s", &format!("k{i}")) / 1000) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (1800..2200).contains(&c)),
            "{counts:?}"
        );
    }
}
