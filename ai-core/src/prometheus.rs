//! Prometheus exporter set-up (feature `prometheus`) with buckets sized for model calls.
//!
//! ```no_run
//! let handle = ai_core::prometheus::install_recorder()?;
//! // Serve `handle.render()` on your existing `/metrics` route.
//! println!("{}", handle.render());
//! # Ok::<(), ai_core::AiError>(())
//! ```

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
pub use metrics_exporter_prometheus::{PrometheusHandle, PrometheusRecorder};

use crate::error::{AiError, Result};
use crate::names::metric;

/// Seconds, for whole calls and time to first chunk: 5 ms to 2 minutes.
const CALL_SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Seconds, for the stack's own overhead: 1 µs to 100 ms.
const OVERHEAD_SECONDS: [f64; 11] = [
    1e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 5e-3, 2.5e-2, 1e-1,
];
/// Tokens per call: 1 to 4 M, by powers of 4.
const TOKENS: [f64; 12] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
];

/// A builder with the toolkit's histogram buckets, for callers who add their own settings.
pub fn builder() -> Result<PrometheusBuilder> {
    let err = |e: metrics_exporter_prometheus::BuildError| {
        AiError::config(format!("invalid Prometheus bucket configuration: {e}"))
    };
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(metric::OPERATION_DURATION.into()),
            &CALL_SECONDS,
        )
        .map_err(err)?
        .set_buckets_for_metric(
            Matcher::Full(metric::TIME_TO_FIRST_CHUNK.into()),
            &CALL_SECONDS,
        )
        .map_err(err)?
        .set_buckets_for_metric(Matcher::Full(metric::QUEUE_WAIT.into()), &CALL_SECONDS)
        .map_err(err)?
        .set_buckets_for_metric(
            Matcher::Full(metric::STACK_OVERHEAD.into()),
            &OVERHEAD_SECONDS,
        )
        .map_err(err)?
        .set_buckets_for_metric(Matcher::Full(metric::TOKEN_USAGE.into()), &TOKENS)
        .map_err(err)
}

/// Build a recorder without installing it (for tests or a caller-managed registry).
pub fn build_recorder() -> Result<PrometheusRecorder> {
    Ok(builder()?.build_recorder())
}

/// Install the recorder as the process-wide `metrics` recorder and return the handle whose
/// `render()` produces the Prometheus text format.
pub fn install_recorder() -> Result<PrometheusHandle> {
    builder()?
        .install_recorder()
        .map_err(|e| AiError::config(format!("could not install the Prometheus recorder: {e}")))
}
