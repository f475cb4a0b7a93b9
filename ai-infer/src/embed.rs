//! Sentence embeddings from an encoder model: pooling, normalisation and length-sorted batches.

use std::sync::Arc;

use ai_core::{AiError, Embedding, EmbeddingModel, Result};
use async_trait::async_trait;

use crate::bert::{Encoder, by_length};
use crate::config::{ModelFiles, ModelKind, Pooling};
use crate::options::SessionOptions;
use crate::session::OnnxSession;
use crate::tokenize::TextTokenizer;

/// An embedding model running in process.
///
/// ```no_run
/// use ai_core::EmbeddingModel;
/// use ai_infer::{ModelFiles, OnnxEmbedder, SessionOptions};
/// # async fn run() -> ai_core::Result<()> {
/// let model = OnnxEmbedder::load(
///     &ModelFiles::from_dir(".cache/models/all-MiniLM-L6-v2-int8")?,
///     &SessionOptions::default(),
/// )?;
/// let vectors = model.embed(&["hello".to_string(), "world".to_string()]).await?;
/// assert_eq!(vectors[0].len(), 384);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OnnxEmbedder {
    inner: Arc<Inner>,
}

struct Inner {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    pooling: Pooling,
    normalize: bool,
    batch_size: usize,
    dimensions: usize,
    name: String,
}

impl std::fmt::Debug for OnnxEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEmbedder")
            .field("name", &self.inner.name)
            .field("dimensions", &self.inner.dimensions)
            .field("batch_size", &self.inner.batch_size)
            .finish()
    }
}

/// Output names taken as pooled sentence embeddings when the config says `pooling: model`.
const POOLED_OUTPUTS: [&str; 3] = ["sentence_embedding", "sentence_embeddings", "embeddings"];

/// Default number of texts run through the model at once.
pub const DEFAULT_BATCH: usize = 32;

impl OnnxEmbedder {
    /// Load an embedding model (config kind `embedding`).
    pub fn load(files: &ModelFiles, options: &SessionOptions) -> Result<Self> {
        Self::load_with_batch(files, options, DEFAULT_BATCH)
    }

    /// Load with a batch size other than [`DEFAULT_BATCH`].
    pub fn load_with_batch(
        files: &ModelFiles,
        options: &SessionOptions,
        batch_size: usize,
    ) -> Result<Self> {
        if files.config.kind != ModelKind::Embedding {
            return Err(AiError::config(format!(
                "`{}` is configured as {:?}, not an embedding model",
                files.model.display(),
                files.config.kind
            )));
        }
        let session = OnnxSession::load(&files.model, options)?;
        let encoder = if files.config.pooling == Pooling::Model {
            // A graph's `pooler_output` (BERT's tanh layer on [CLS]) is also [batch, hidden] but
            // is no sentence embedding: without an explicit `output`, only these names are taken.
            let named = files.config.output.clone().or_else(|| {
                POOLED_OUTPUTS
                    .iter()
                    .find(|n| session.outputs().iter().any(|(o, r)| o == *n && *r == 2))
                    .map(|n| (*n).to_string())
            });
            let Some(output) = named else {
                return Err(AiError::config(format!(
                    "`{}` is configured with pooling `model` but has no rank 2 output named {POOLED_OUTPUTS:?}; \
                     outputs: {:?} (set `output` in ai-infer.json to choose one)",
                    files.model.display(),
                    session.outputs()
                )));
            };
            Encoder::new(session, Some(&output), 2)?
        } else {
            Encoder::new(session, files.config.output.as_deref(), 3)?
        };
        let dimensions = encoder
            .session
            .output_dims(&encoder.output)
            .and_then(|d| d.last().copied())
            .and_then(|d| usize::try_from(d).ok())
            .unwrap_or(0);
        let tokenizer = TextTokenizer::from_file(&files.tokenizer, files.config.max_length)?;
        let name = files
            .model
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(
                || "onnx-embedder".to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
        Ok(Self {
            inner: Arc::new(Inner {
                encoder,
                tokenizer,
                pooling: files.config.pooling,
                normalize: files.config.normalize,
                batch_size: batch_size.max(1),
                dimensions,
                name,
            }),
        })
    }

    /// The execution provider the model runs on.
    pub fn provider(&self) -> &'static str {
        self.inner.encoder.session.provider()
    }

    /// Embed on the calling thread (the async [`EmbeddingModel::embed`] moves this to a
    /// blocking thread).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        self.inner.embed(texts)
    }
}

impl Inner {
    fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encoded = self.tokenizer.encode_batch(&refs)?;
        let order = by_length(encoded.iter().map(|e| e.len()));
        let mut out: Vec<Embedding> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<_> = chunk.iter().map(|&i| &encoded[i]).collect();
            let (hidden, mask, width) = self.encoder.run(&batch)?;
            let dim = *hidden.shape.last().unwrap_or(&0);
            // [batch, hidden] when the graph pools, else [batch, sequence, hidden].
            let expected: &[usize] = if self.pooling == Pooling::Model {
                &[batch.len(), dim]
            } else {
                &[batch.len(), width, dim]
            };
            if hidden.shape != expected {
                return Err(AiError::config(format!(
                    "expected an output of shape {expected:?}, got {:?}",
                    hidden.shape
                )));
            }
            for (row, &original) in chunk.iter().enumerate() {
                let mut v = match self.pooling {
                    Pooling::Model => hidden.data[row * dim..(row + 1) * dim].to_vec(),
                    Pooling::Cls => {
                        let start = row * width * dim;
                        hidden.data[start..start + dim].to_vec()
                    }
                    Pooling::Mean => {
                        let tokens = &hidden.data[row * width * dim..(row + 1) * width * dim];
                        let mut sum = vec![0f32; dim];
                        let mut count = 0f32;
                        for t in 0..width {
                            if mask[row * width + t] == 0 {
                                continue;
                            }
                            count += 1.0;
                            for (s, x) in sum.iter_mut().zip(&tokens[t * dim..(t + 1) * dim]) {
                                *s += *x;
                            }
                        }
                        let denom = count.max(1e-9);
                        sum.iter_mut().for_each(|s| *s /= denom);
                        sum
                    }
                };
                if self.normalize {
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                    v.iter_mut().for_each(|x| *x /= norm);
                }
                out[original] = v;
            }
        }
        Ok(out)
    }
}

/// Run `f` on a blocking thread when inside a Tokio runtime, else inline.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.spawn_blocking(f).await.map_err(|e| {
            AiError::new(
                ai_core::ErrorKind::Provider,
                format!("inference task failed: {e}"),
            )
        })?,
        Err(_) => f(),
    }
}

#[async_trait]
impl EmbeddingModel for OnnxEmbedder {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>> {
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        blocking(move || inner.embed(&texts)).await
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions
    }

    fn max_batch(&self) -> usize {
        self.inner.batch_size
    }

    fn model_name(&self) -> &str {
        &self.inner.name
    }
}
