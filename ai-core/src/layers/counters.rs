//! Metric handles registered once per label set and reused, so hot paths neither allocate
//! label sets nor look metrics up in the recorder on every call.
//!
//! Handles bind to the recorder installed when they are first used: install the `metrics`
//! recorder (for example [`crate::prometheus::install_recorder`]) before the first model call.

use std::collections::HashMap;
use std::hash::Hash;

use metrics::Counter;
use parking_lot::Mutex;

/// Label sets beyond this many are not cached (bounded memory for unbounded label values).
const MAX_ENTRIES: usize = 1024;

/// Counters keyed by their label values.
pub(crate) struct KeyedCounters<K> {
    map: Mutex<HashMap<K, Counter>>,
}

impl<K: Eq + Hash> Default for KeyedCounters<K> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash> KeyedCounters<K> {
    /// Add `n` to the counter for `key`, registering it with `make` on first use.
    pub(crate) fn add<Q>(&self, key: &Q, n: u64, make: impl FnOnce() -> (K, Counter))
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut map = self.map.lock();
        if let Some(c) = map.get(key) {
            c.increment(n);
            return;
        }
        let (k, c) = make();
        c.increment(n);
        if map.len() < MAX_ENTRIES {
            map.insert(k, c);
        }
    }
}
