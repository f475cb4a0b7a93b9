//! One ONNX Runtime session with its input/output names checked, and typed runs.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ai_core::{AiError, ErrorKind, Result};
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;

use crate::options::SessionOptions;
use crate::runtime;

/// Errors from ONNX Runtime while running a model.
pub(crate) fn run_error(e: impl std::fmt::Display) -> AiError {
    AiError::new(ErrorKind::Provider, format!("ONNX Runtime failed: {e}"))
        .with_provider("onnxruntime")
        .with_retryable(false)
}

/// A loaded model graph.
pub struct OnnxSession {
    /// One or more copies of the session ([`SessionOptions::parallel_runs`]).
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    inputs: Vec<String>,
    outputs: Vec<(String, usize)>,
    output_dims: Vec<Vec<i64>>,
    provider: &'static str,
    path: PathBuf,
}

impl std::fmt::Debug for OnnxSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxSession")
            .field("path", &self.path)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("provider", &self.provider)
            .finish()
    }
}

/// A named input tensor of 64-bit integers (token ids, masks, positions).
pub(crate) struct I64Input {
    pub name: Cow<'static, str>,
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

/// An output tensor copied out of ONNX Runtime.
pub(crate) struct F32Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl OnnxSession {
    /// Load `path` with `options`, loading ONNX Runtime first if needed.
    pub fn load(path: &Path, options: &SessionOptions) -> Result<Self> {
        let env = runtime::environment()?;
        if !path.is_file() {
            return Err(AiError::config(format!(
                "model file `{}` not found",
                path.display()
            )));
        }
        let mut sessions = Vec::with_capacity(options.parallel_runs.max(1));
        for _ in 0..options.parallel_runs.max(1) {
            let builder = Session::builder(env).map_err(|e| {
                AiError::config(format!("cannot create an ONNX Runtime session: {e}"))
            })?;
            let mut builder = options.apply(builder)?;
            let session = builder.commit_from_file(path).map_err(|e| {
                AiError::config(format!("cannot load the model `{}`: {e}", path.display()))
            })?;
            sessions.push(session);
        }
        let session = &sessions[0];
        let inputs = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        let outputs = session
            .outputs()
            .iter()
            .map(|o| {
                let rank = o.dtype().tensor_shape().map_or(0, |s| s.len());
                (o.name().to_string(), rank)
            })
            .collect();
        let output_dims = session
            .outputs()
            .iter()
            .map(|o| {
                o.dtype()
                    .tensor_shape()
                    .map(|s| s.to_vec())
                    .unwrap_or_default()
            })
            .collect();
        Ok(Self {
            sessions: sessions.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
            inputs,
            outputs,
            output_dims,
            provider: options.provider.name(),
            path: path.to_path_buf(),
        })
    }

    /// Input names, in graph order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// Output names and ranks, in graph order.
    pub fn outputs(&self) -> &[(String, usize)] {
        &self.outputs
    }

    /// The declared dimensions of output `name` (`-1` where dynamic).
    pub fn output_dims(&self, name: &str) -> Option<&[i64]> {
        let i = self.outputs.iter().position(|(n, _)| n == name)?;
        self.output_dims.get(i).map(Vec::as_slice)
    }

    /// The execution provider the session was created with.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// Whether the graph has an input of this name.
    pub fn has_input(&self, name: &str) -> bool {
        self.inputs.iter().any(|i| i == name)
    }

    /// Fail with a clear message unless every name is an input.
    pub fn require_inputs(&self, names: &[&str]) -> Result<()> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.has_input(n))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(AiError::config(format!(
            "model `{}` lacks input(s) {missing:?}; it has {:?}",
            self.path.display(),
            self.inputs
        )))
    }

    /// The output to read: `preferred` if given (must exist), else the first output of `rank`.
    pub fn pick_output(&self, preferred: Option<&str>, rank: usize) -> Result<String> {
        if let Some(p) = preferred {
            return match self.outputs.iter().find(|(n, _)| n == p) {
                Some((n, r)) if *r == rank || *r == 0 => Ok(n.clone()),
                Some((n, r)) => Err(AiError::config(format!(
                    "output `{n}` of `{}` has rank {r}, expected {rank}",
                    self.path.display()
                ))),
                None => Err(AiError::config(format!(
                    "model `{}` has no output `{p}`; it has {:?}",
                    self.path.display(),
                    self.outputs
                ))),
            };
        }
        self.outputs
            .iter()
            .find(|(_, r)| *r == rank)
            .map(|(n, _)| n.clone())
            .ok_or_else(|| {
                AiError::config(format!(
                    "model `{}` has no output of rank {rank}; outputs: {:?}",
                    self.path.display(),
                    self.outputs
                ))
            })
    }

    /// Run `f` with exclusive access to the `ort` session (for callers that keep output values,
    /// such as a KV cache, between runs).
    pub(crate) fn with_session<R>(&self, f: impl FnOnce(&mut Session) -> Result<R>) -> Result<R> {
        let mut session = self.sessions[0]
            .lock()
            .map_err(|_| AiError::config("an earlier run of this session panicked"))?;
        f(&mut session)
    }

    /// A free copy of the session, else the next one in turn (waiting for it).
    fn acquire(&self) -> Result<std::sync::MutexGuard<'_, Session>> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            if let Ok(guard) = self.sessions[(start + i) % n].try_lock() {
                return Ok(guard);
            }
        }
        self.sessions[start]
            .lock()
            .map_err(|_| AiError::config("an earlier run of this session panicked"))
    }

    /// Run with integer inputs and copy out the named float outputs.
    pub(crate) fn run_i64(&self, inputs: Vec<I64Input>, wanted: &[&str]) -> Result<Vec<F32Output>> {
        let mut values: Vec<(Cow<'static, str>, SessionInputValue<'static>)> =
            Vec::with_capacity(inputs.len());
        for input in inputs {
            let tensor =
                Tensor::from_array((input.shape.clone(), input.data)).map_err(run_error)?;
            values.push((input.name, SessionInputValue::from(tensor)));
        }
        let mut session = self.acquire()?;
        let outputs = session.run(values).map_err(run_error)?;
        let mut out = Vec::with_capacity(wanted.len());
        for name in wanted {
            let value = outputs
                .get(*name)
                .ok_or_else(|| AiError::config(format!("model produced no output `{name}`")))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(run_error)?;
            out.push(F32Output {
                shape: shape
                    .iter()
                    .map(|d| usize::try_from(*d).unwrap_or(0))
                    .collect(),
                data: data.to_vec(),
            });
        }
        Ok(out)
    }
}
