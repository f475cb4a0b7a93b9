//! # ai-rollout
//!
//! Getting an AI path into a running service without risking it. Everything here is generic
//! over any async handler — the legacy code is yours, not a `ChatModel` — written as a closure
//! returning a future (see [`Handler`]).
//!
//! - [`Shadow`]: answer from the legacy path, run the AI path in the background on a sample,
//!   bounded and timed out, compare, record agreement. Never adds latency or errors.
//! - [`Canary`]: deterministic bucketing (SHA-256 of `salt:key`, first 8 bytes big-endian,
//!   modulo 10 000 basis points), percentage changeable at run time, allow and deny lists.
//! - [`Fallback`] with a [`CircuitBreaker`]: the primary with a timeout, then the legacy path.
//! - [`Experiment`]: weighted arms with sticky assignment.
//!
//! Every decision is counted in metrics (names in [`metric`]) with the path or arm as a label.

pub mod bucket;
pub mod canary;
pub mod circuit;
pub mod experiment;
pub mod fallback;
pub mod handler;
pub mod metric;
pub mod shadow;

pub use bucket::bucket;
pub use canary::{Canary, Route};
pub use circuit::{BreakerConfig, BreakerState, CircuitBreaker};
pub use experiment::Experiment;
pub use fallback::{Fallback, FallbackError, Served};
pub use handler::Handler;
pub use shadow::{Shadow, ShadowConfig};
