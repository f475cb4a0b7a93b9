//! Experiments: weighted arms with sticky assignment by key.

use std::time::Duration;

use crate::bucket::bucket;
use crate::metric;

/// Metric: per-arm outcomes recorded with [`Experiment::observe`], labelled `experiment`,
/// `arm`, `outcome`.
pub const OUTCOMES: &str = "ai.rollout.experiment.outcomes";
/// Metric: per-arm latency recorded with [`Experiment::observe`], seconds.
pub const LATENCY: &str = "ai.rollout.experiment.latency";

/// Weighted arms; a key's arm is fixed by [`bucket`] under the experiment's name, so it stays
/// the same while the weights do.
///
/// ```
/// use ai_rollout::Experiment;
/// let e = Experiment::new("prompt-v2", &[("control", 50), ("short-prompt", 30), ("rag", 20)]).unwrap();
/// let arm = e.assign("user-42");
/// assert_eq!(arm, e.assign("user-42"), "sticky");
/// ```
#[derive(Debug, Clone)]
pub struct Experiment {
    name: String,
    arms: Vec<(String, u32)>,
    total: u32,
}

impl Experiment {
    /// An experiment over `arms` (name, weight); `None` when every weight is zero or there
    /// are no arms.
    pub fn new(name: &str, arms: &[(&str, u32)]) -> Option<Self> {
        let total: u32 = arms.iter().map(|a| a.1).sum();
        (total > 0).then(|| Self {
            name: name.to_owned(),
            arms: arms.iter().map(|(n, w)| ((*n).to_owned(), *w)).collect(),
            total,
        })
    }

    /// The arm of `key` (counted in `ai.rollout.experiment{experiment, arm}`).
    pub fn assign(&self, key: &str) -> &str {
        let point = u64::from(bucket(&self.name, key)) * u64::from(self.total) / 10_000;
        let mut acc = 0u64;
        let mut chosen = self.arms.last().map_or("", |a| a.0.as_str());
        for (arm, w) in &self.arms {
            acc += u64::from(*w);
            if point < acc {
                chosen = arm;
                break;
            }
        }
        metrics::counter!(metric::EXPERIMENT, "experiment" => self.name.clone(), "arm" => chosen.to_owned())
            .increment(1);
        chosen
    }

    /// Record how a call on `arm` went.
    pub fn observe(&self, arm: &str, latency: Duration, ok: bool) {
        let labels = [("experiment", self.name.clone()), ("arm", arm.to_owned())];
        metrics::histogram!(LATENCY, &labels).record(latency.as_secs_f64());
        let outcome = if ok { "ok" } else { "error" };
        metrics::counter!(OUTCOMES, "experiment" => self.name.clone(), "arm" => arm.to_owned(), "outcome" => outcome)
            .increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_hold_and_assignment_is_sticky() {
        let e = Experiment::new("exp", &[("a", 70), ("b", 20), ("c", 10)]).unwrap();
        let mut counts = std::collections::HashMap::new();
        for i in 0..20_000 {
            *counts
                .entry(e.assign(&format!("k{i}")).to_owned())
                .or_insert(0u32) += 1;
        }
        assert!((13_500..14_500).contains(&counts["a"]), "{counts:?}");
        assert!((3_600..4_400).contains(&counts["b"]), "{counts:?}");
        assert!((1_700..2_300).contains(&counts["c"]), "{counts:?}");
        assert!(Experiment::new("x", &[("a", 0)]).is_none());
    }
}
