//! # ai-rollout
//!
//! **Not implemented yet.** This crate is a placeholder that keeps the workspace's crate map
//! stable; it exports nothing. Planned scope: shadow traffic, deterministic canary bucketing, fallback to legacy handlers with a circuit breaker, and weighted experiments, generic over any async handler.
