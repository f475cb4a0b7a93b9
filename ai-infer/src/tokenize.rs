//! Tokenization with the `tokenizers` crate: truncation to the model's length, no padding
//! (batches are padded to their own longest member). BERT WordPiece tokenizers take a fast
//! path on plain ASCII text that gives exactly the crate's result (see [`TextTokenizer`]).

use std::path::Path;

use ai_core::{AiError, Result};
use tokenizers::parallelism::MaybeParallelRefIterator;
use tokenizers::{
    EncodeInput, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy,
};

use crate::wordpiece::FastWordPiece;

/// One tokenized input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids.
    pub ids: Vec<i64>,
    /// Segment ids (0 for the first text, 1 for the second of a pair).
    pub type_ids: Vec<i64>,
    /// Byte offsets of each token in its source text (`(0, 0)` for special tokens).
    pub offsets: Vec<(usize, usize)>,
    /// Whether each token is a special token (`[CLS]`, `[SEP]`…).
    pub special: Vec<bool>,
    /// Which text of a pair each token came from (`None` for special tokens).
    pub sequence: Vec<Option<usize>>,
}

impl Encoded {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A Hugging Face tokenizer set up for one model.
///
/// When the tokenizer is BERT WordPiece (a `BertNormalizer`, the `BertPreTokenizer` and a
/// `WordPiece` model, as in all-MiniLM, BERT, MiniLM cross-encoders and most BERT-shaped
/// classifiers), single texts made only of printable ASCII, Unicode spaces, dashes and curly
/// quotes, and Latin, Greek and Cyrillic letters skip the general machinery (Unicode
/// normalisation of the whole text, alignment tracking, a string per token) and are tokenized
/// by a direct WordPiece over the bytes. The result is the same ids, offsets and
/// masks: the fast path checks itself against the general one on probe texts when loaded and
/// is not used if they differ, and texts with other characters (CJK, emoji, combining marks,
/// control characters) or with an added token such as `[SEP]` in them always take the general
/// path. Text pairs ([`TextTokenizer::encode_pairs`]) take it too, laid out by the tokenizer's
/// pair template and truncated longest-first as the crate does. Batches are tokenized in parallel unless
/// `TOKENIZERS_PARALLELISM` says otherwise.
pub struct TextTokenizer {
    inner: Tokenizer,
    fast: Option<FastWordPiece>,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer").finish_non_exhaustive()
    }
}

fn tok_err(e: impl std::fmt::Display) -> AiError {
    AiError::new(
        ai_core::ErrorKind::BadRequest,
        format!("tokenization failed: {e}"),
    )
}

impl TextTokenizer {
    /// Load `tokenizer.json`, truncating inputs to `max_length` tokens.
    pub fn from_file(path: &Path, max_length: usize) -> Result<Self> {
        let mut inner = Tokenizer::from_file(path).map_err(|e| {
            AiError::config(format!("cannot load tokenizer `{}`: {e}", path.display()))
        })?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_length.max(2),
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| AiError::config(format!("invalid truncation: {e}")))?;
        inner.with_padding(None);
        let fast = FastWordPiece::new(&inner, max_length.max(2));
        Ok(Self { inner, fast })
    }

    /// Whether plain texts take the fast WordPiece path (see the type's documentation).
    pub fn has_fast_path(&self) -> bool {
        self.fast.is_some()
    }

    /// Whether `text` would be tokenized by the fast path (a diagnostic: it tokenizes the text).
    pub fn takes_fast_path(&self, text: &str) -> bool {
        self.fast.as_ref().is_some_and(|f| f.encode(text).is_some())
    }

    /// The underlying tokenizer (for decoding and vocabulary lookups).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    pub(crate) fn convert(e: &tokenizers::Encoding) -> Encoded {
        Encoded {
            ids: e.get_ids().iter().map(|&i| i64::from(i)).collect(),
            type_ids: e.get_type_ids().iter().map(|&i| i64::from(i)).collect(),
            offsets: e.get_offsets().to_vec(),
            special: e
                .get_special_tokens_mask()
                .iter()
                .map(|&m| m == 1)
                .collect(),
            // `get_sequence_ids` builds a new vector on every call: call it once.
            sequence: e.get_sequence_ids(),
        }
    }

    /// Tokenize texts (with the model's special tokens).
    pub fn encode_batch(&self, texts: &[&str]) -> Result<Vec<Encoded>> {
        match &self.fast {
            Some(fast) => fast_then_general(
                texts,
                |t| fast.encode(t),
                |rest| self.encode_batch_general(rest),
            ),
            None => self.encode_batch_general(texts),
        }
    }

    /// Tokenize texts with the `tokenizers` crate only, never the fast path (the reference the
    /// fast path is tested against).
    pub fn encode_batch_general(&self, texts: &[&str]) -> Result<Vec<Encoded>> {
        let inputs: Vec<EncodeInput> = texts
            .iter()
            .map(|t| EncodeInput::Single((*t).into()))
            .collect();
        let encs = self.inner.encode_batch(inputs, true).map_err(tok_err)?;
        Ok(encs.iter().map(Self::convert).collect())
    }

    /// Tokenize text pairs (query, document) for a cross-encoder.
    pub fn encode_pairs(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoded>> {
        match &self.fast {
            Some(fast) => fast_then_general(
                pairs,
                |(a, b)| fast.encode_pair(a, b),
                |rest| self.encode_pairs_general(rest),
            ),
            None => self.encode_pairs_general(pairs),
        }
    }

    /// Tokenize text pairs with the `tokenizers` crate only (the fast path's reference).
    pub fn encode_pairs_general(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoded>> {
        let inputs: Vec<EncodeInput> = pairs
            .iter()
            .map(|(a, b)| EncodeInput::Dual((*a).into(), (*b).into()))
            .collect();
        let encs = self.inner.encode_batch(inputs, true).map_err(tok_err)?;
        Ok(encs.iter().map(Self::convert).collect())
    }
}

/// Encode `items` with `fast` (in parallel for long batches), then the ones it declined with
/// `general` in one batch, keeping the input order.
fn fast_then_general<T: Copy + Sync>(
    items: &[T],
    fast: impl Fn(T) -> Option<Encoded> + Sync + Send,
    general: impl Fn(&[T]) -> Result<Vec<Encoded>>,
) -> Result<Vec<Encoded>> {
    let mut out: Vec<Option<Encoded>> = if items.len() >= PARALLEL_FROM {
        items.maybe_par_iter().map(|&t| fast(t)).collect()
    } else {
        items.iter().map(|&t| fast(t)).collect()
    };
    let rest: Vec<usize> = (0..items.len()).filter(|&i| out[i].is_none()).collect();
    if !rest.is_empty() {
        let declined: Vec<T> = rest.iter().map(|&i| items[i]).collect();
        for (i, e) in rest.into_iter().zip(general(&declined)?) {
            out[i] = Some(e);
        }
    }
    out.into_iter()
        .map(|e| e.ok_or_else(|| tok_err("the tokenizer returned fewer encodings than inputs")))
        .collect()
}

/// Batches at least this long are tokenized on several threads by the fast path (below it the
/// hand-off costs more than it saves: a 100-token text takes a few microseconds).
const PARALLEL_FROM: usize = 64;

/// Pad encodings to their longest and lay them out row-major: ids, attention mask, type ids.
pub(crate) fn pad_batch(batch: &[&Encoded]) -> (usize, Vec<i64>, Vec<i64>, Vec<i64>) {
    let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(batch.len() * width);
    let mut mask = Vec::with_capacity(batch.len() * width);
    let mut types = Vec::with_capacity(batch.len() * width);
    for e in batch {
        ids.extend_from_slice(&e.ids);
        types.extend_from_slice(&e.type_ids);
        mask.extend(std::iter::repeat_n(1i64, e.len()));
        let pad = width - e.len();
        ids.extend(std::iter::repeat_n(0i64, pad));
        types.extend(std::iter::repeat_n(0i64, pad));
        mask.extend(std::iter::repeat_n(0i64, pad));
    }
    (width, ids, mask, types)
}
