//! Helpers shared by the benchmark examples (each uses some of them).
#![allow(dead_code)]

/// Resident memory of this process in MiB (`VmRSS` from `/proc/self/status`; 0 elsewhere).
pub fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Run `work` on a multi-threaded Tokio runtime (`workers` threads, default one per core) and
/// turn its result into the exit code, printing `"{name} failed: {error}"` on failure.
pub fn block_on(
    name: &str,
    workers: Option<usize>,
    work: impl std::future::Future<Output = Result<(), String>>,
) -> std::process::ExitCode {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    let result = match builder.enable_all().build() {
        Ok(rt) => rt.block_on(work),
        Err(e) => Err(format!("cannot start the runtime: {e}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name} failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
