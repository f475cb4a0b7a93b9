//! Canary routing: a stable share of keys goes to the new path.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::RwLock;

use crate::bucket::bucket;
use crate::metric;

/// Where a key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The new (AI) path.
    Canary,
    /// The existing path.
    Stable,
}

/// Routes keys by [`bucket`]: a key is in the canary when its bucket is below the percentage
/// in basis points, so raising the percentage only adds keys (sticky per key); allow and deny
/// lists override. The percentage and lists change at run time without a restart.
///
/// ```
/// use ai_rollout::{Canary, Route};
/// let canary = Canary::new("checkout-ai", 0);
/// assert_eq!(canary.route("user-42"), Route::Stable);
/// canary.set_basis_points(2_000); // 20 %: user-42's bucket is 1737
/// assert_eq!(canary.route("user-42"), Route::Canary);
/// canary.deny("user-42");
/// assert_eq!(canary.route("user-42"), Route::Stable);
/// ```
#[derive(Debug)]
pub struct Canary {
    name: String,
    basis_points: AtomicU32,
    allow: RwLock<HashSet<String>>,
    deny: RwLock<HashSet<String>>,
}

impl Canary {
    /// A canary named `name` (also the hashing salt) at `basis_points` (0 ..= 10 000).
    pub fn new(name: &str, basis_points: u32) -> Self {
        Self {
            name: name.to_owned(),
            basis_points: AtomicU32::new(basis_points.min(10_000)),
            allow: RwLock::new(HashSet::new()),
            deny: RwLock::new(HashSet::new()),
        }
    }

    /// Change the share, in basis points (100 = 1 %).
    pub fn set_basis_points(&self, bp: u32) {
        self.basis_points.store(bp.min(10_000), Ordering::Relaxed);
    }

    /// The current share, in basis points.
    pub fn basis_points(&self) -> u32 {
        self.basis_points.load(Ordering::Relaxed)
    }

    /// Always route `key` to the canary (unless denied).
    pub fn allow(&self, key: &str) {
        self.allow.write().insert(key.to_owned());
    }

    /// Never route `key` to the canary.
    pub fn deny(&self, key: &str) {
        self.deny.write().insert(key.to_owned());
    }

    /// Remove `key` from both lists.
    pub fn clear(&self, key: &str) {
        self.allow.write().remove(key);
        self.deny.write().remove(key);
    }

    /// Where `key` goes now.
    pub fn route(&self, key: &str) -> Route {
        let (route, reason) = if self.deny.read().contains(key) {
            (Route::Stable, "deny_list")
        } else if self.allow.read().contains(key) {
            (Route::Canary, "allow_list")
        } else if bucket(&self.name, key) < self.basis_points() {
            (Route::Canary, "bucket")
        } else {
            (Route::Stable, "bucket")
        };
        let path = match route {
            Route::Canary => "canary",
            Route::Stable => "stable",
        };
        metrics::counter!(metric::CANARY, "rollout" => self.name.clone(), "path" => path, "reason" => reason)
            .increment(1);
        route
    }
}
