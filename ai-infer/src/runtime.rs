//! Loading ONNX Runtime's shared library and creating the process-wide environment.
//!
//! ONNX Runtime is loaded dynamically (`ort`'s `load-dynamic`), never downloaded: point
//! [`RuntimeOptions::library`] or the `ORT_DYLIB_PATH` environment variable at
//! `libonnxruntime.so` (`scripts/models.sh` extracts it from the PyPI `onnxruntime` wheel). A
//! missing or too-old library is a [`ErrorKind::Config`](ai_core::ErrorKind) error, not a panic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ai_core::{AiError, Result};
use ort::environment::Environment;

/// How to find and start ONNX Runtime.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Path of `libonnxruntime.so`; `None` reads `ORT_DYLIB_PATH`.
    pub library: Option<PathBuf>,
}

struct Loaded {
    library: PathBuf,
    environment: Environment,
}

static RUNTIME: OnceLock<Loaded> = OnceLock::new();
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The environment variable naming the ONNX Runtime library.
pub const LIBRARY_ENV: &str = "ORT_DYLIB_PATH";

fn resolve(opts: &RuntimeOptions) -> Result<PathBuf> {
    if let Some(p) = &opts.library {
        return Ok(p.clone());
    }
    match std::env::var_os(LIBRARY_ENV) {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(AiError::config(format!(
            "ONNX Runtime library not configured: set {LIBRARY_ENV} to the path of libonnxruntime.so \
             (scripts/models.sh install extracts it from the PyPI onnxruntime==1.32.0 wheel) or pass RuntimeOptions::library"
        ))),
    }
}

/// Load ONNX Runtime once per process; later calls return the library already loaded.
pub fn init(opts: &RuntimeOptions) -> Result<&'static Path> {
    if let Some(loaded) = RUNTIME.get() {
        return Ok(&loaded.library);
    }
    let _guard = INIT
        .lock()
        .map_err(|_| AiError::config("ONNX Runtime initialisation panicked earlier"))?;
    if let Some(loaded) = RUNTIME.get() {
        return Ok(&loaded.library);
    }
    let library = resolve(opts)?;
    if !library.is_file() {
        return Err(AiError::config(format!(
            "ONNX Runtime library `{}` does not exist",
            library.display()
        )));
    }
    let builder = ort::init_from(&library).map_err(|e| {
        AiError::config(format!(
            "could not load ONNX Runtime from `{}`: {e}",
            library.display()
        ))
    })?;
    let environment = builder.with_name("ai-infer").build().map_err(|e| {
        AiError::config(format!(
            "could not create the ONNX Runtime environment: {e}"
        ))
    })?;
    let loaded = RUNTIME.get_or_init(|| Loaded {
        library,
        environment,
    });
    Ok(&loaded.library)
}

/// The environment, loading the runtime with default options (`ORT_DYLIB_PATH`) if needed.
pub(crate) fn environment() -> Result<&'static Environment> {
    init(&RuntimeOptions::default())?;
    RUNTIME
        .get()
        .map(|l| &l.environment)
        .ok_or_else(|| AiError::config("ONNX Runtime is not initialised"))
}
