//! Metric names. Labels: `path` (`legacy`, `ai`, `primary`, `fallback`), `outcome`, `arm`,
//! `experiment`, `rollout`.

/// Shadow comparisons, labelled `outcome` (`agree`, `disagree`, `error`, `timeout`, `shed`,
/// `skipped`).
pub const SHADOW: &str = "ai.rollout.shadow";
/// Latency of the shadowed AI path, seconds.
pub const SHADOW_LATENCY: &str = "ai.rollout.shadow.latency";
/// Canary routing decisions, labelled `rollout` and `path` (`canary`, `stable`) and `reason`.
pub const CANARY: &str = "ai.rollout.canary";
/// Fallback calls, labelled `path` (`primary`, `fallback`) and `reason`.
pub const FALLBACK: &str = "ai.rollout.fallback";
/// Circuit breaker state changes, labelled `state`.
pub const BREAKER: &str = "ai.rollout.breaker.transitions";
/// Experiment assignments, labelled `experiment` and `arm`.
pub const EXPERIMENT: &str = "ai.rollout.experiment";
