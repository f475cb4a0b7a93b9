//! Session options: threads, spinning, memory, graph optimisation and execution provider.

use ai_core::{AiError, Result};
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};

/// Where the model runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExecutionProvider {
    /// ONNX Runtime's CPU kernels.
    #[default]
    Cpu,
    /// NVIDIA GPUs through ONNX Runtime's CUDA execution provider (feature `cuda`). Session
    /// creation fails if the provider cannot be registered; it never falls back to the CPU
    /// silently.
    Cuda {
        /// GPU ordinal.
        device_id: i32,
    },
}

impl ExecutionProvider {
    /// The name ONNX Runtime uses for it.
    pub fn name(&self) -> &'static str {
        match self {
            ExecutionProvider::Cpu => "CPUExecutionProvider",
            ExecutionProvider::Cuda { .. } => "CUDAExecutionProvider",
        }
    }
}

/// How much ONNX Runtime rewrites the graph when loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Optimization {
    /// No rewrites.
    Disabled,
    /// Constant folding and redundant-node removal.
    Basic,
    /// Basic plus node fusions (attention, GELU, layer norm…).
    Extended,
    /// Everything, including layout optimisations.
    #[default]
    All,
}

/// Options for one ONNX Runtime session.
///
/// Defaults suit a service that shares its cores: one intra-op thread, one inter-op thread,
/// no spinning (idle threads sleep instead of burning a core), memory arena and pattern on,
/// all graph optimisations, CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one operator (matrix multiplications).
    pub intra_threads: usize,
    /// Threads across independent operators.
    pub inter_threads: usize,
    /// Let idle ONNX Runtime threads spin before sleeping (lower latency, higher CPU).
    pub spinning: bool,
    /// Use ONNX Runtime's CPU memory arena.
    pub memory_arena: bool,
    /// Pre-plan memory for repeated input shapes.
    pub memory_pattern: bool,
    /// Graph optimisation level.
    pub optimization: Optimization,
    /// Where to run.
    pub provider: ExecutionProvider,
    /// Fail loading when any node of the graph would run on the CPU instead of the chosen
    /// accelerator (ONNX Runtime otherwise places the nodes an accelerator lacks on the CPU
    /// without saying so). Off by default: ONNX Runtime also keeps small shape computations on
    /// the CPU on purpose, which this forbids too.
    pub forbid_cpu_fallback: bool,
    /// Copies of the session kept to run batches at the same time (ONNX Runtime runs one batch
    /// per session at a time). On a GPU each copy has its own stream, so one batch's copies and
    /// launches overlap another's kernels; on a CPU, more copies only help with spare cores.
    /// Each copy holds its own weights.
    pub parallel_runs: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            intra_threads: 1,
            inter_threads: 1,
            spinning: false,
            memory_arena: true,
            memory_pattern: true,
            optimization: Optimization::All,
            provider: ExecutionProvider::Cpu,
            forbid_cpu_fallback: false,
            parallel_runs: 1,
        }
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> AiError {
    AiError::config(format!("invalid session option ({what}): {e}"))
}

impl SessionOptions {
    /// Options with `n` intra-op threads.
    pub fn with_threads(n: usize) -> Self {
        Self {
            intra_threads: n.max(1),
            ..Self::default()
        }
    }

    /// Apply to an `ort` session builder.
    pub(crate) fn apply(&self, builder: SessionBuilder) -> Result<SessionBuilder> {
        let level = match self.optimization {
            Optimization::Disabled => GraphOptimizationLevel::Disable,
            Optimization::Basic => GraphOptimizationLevel::Level1,
            Optimization::Extended => GraphOptimizationLevel::Level2,
            Optimization::All => GraphOptimizationLevel::All,
        };
        let b = builder
            .with_intra_threads(self.intra_threads.max(1))
            .map_err(|e| err("intra threads", e))?
            .with_inter_threads(self.inter_threads.max(1))
            .map_err(|e| err("inter threads", e))?
            .with_intra_op_spinning(self.spinning)
            .map_err(|e| err("spinning", e))?
            .with_inter_op_spinning(self.spinning)
            .map_err(|e| err("spinning", e))?
            .with_memory_pattern(self.memory_pattern)
            .map_err(|e| err("memory pattern", e))?
            .with_optimization_level(level)
            .map_err(|e| err("optimization level", e))?;
        let b = if self.forbid_cpu_fallback && self.provider != ExecutionProvider::Cpu {
            b.with_disable_cpu_fallback()
                .map_err(|e| err("CPU fallback", e))?
        } else {
            b
        };
        match &self.provider {
            ExecutionProvider::Cpu => b
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(self.memory_arena)
                    .build()])
                .map_err(|e| err("memory arena", e)),
            #[cfg(feature = "cuda")]
            ExecutionProvider::Cuda { device_id } => b
                .with_execution_providers([ort::ep::CUDA::default()
                    .with_device_id(*device_id)
                    .build()
                    .error_on_failure()])
                .map_err(|e| {
                    AiError::config(format!(
                        "could not register the CUDA execution provider on device {device_id}: {e} \
                         (it needs libonnxruntime_providers_cuda.so from the onnxruntime-gpu wheel, CUDA 13 and cuDNN 9)"
                    ))
                }),
            #[cfg(not(feature = "cuda"))]
            ExecutionProvider::Cuda { .. } => Err(AiError::config(
                "the CUDA execution provider needs ai-infer's `cuda` feature",
            )),
        }
    }
}
