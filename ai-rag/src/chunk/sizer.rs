//! How chunk size is measured: characters, or tokens of a tokenizer.

/// Measures text.
pub trait Sizer: Send + Sync {
    /// The size of `text`.
    fn size(&self, text: &str) -> usize;
}

/// Size in Unicode scalar values (what Python's `len` counts).
#[derive(Debug, Clone, Copy, Default)]
pub struct CharSizer;

impl Sizer for CharSizer {
    fn size(&self, text: &str) -> usize {
        if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        }
    }
}

/// Size in tokens of a Hugging Face tokenizer (feature `tokenizers`). Chunkers measure each
/// piece once and add sizes up, so a document is tokenized about once rather than once per
/// candidate chunk.
#[cfg(feature = "tokenizers")]
pub struct TokenSizer {
    tokenizer: tokenizers::Tokenizer,
}

#[cfg(feature = "tokenizers")]
impl TokenSizer {
    /// Load `tokenizer.json`.
    pub fn from_file(path: &std::path::Path) -> ai_core::Result<Self> {
        let mut tokenizer = tokenizers::Tokenizer::from_file(path).map_err(|e| {
            ai_core::AiError::config(format!("cannot load tokenizer `{}`: {e}", path.display()))
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| ai_core::AiError::config(format!("tokenizer: {e}")))?;
        Ok(Self { tokenizer })
    }
}

#[cfg(feature = "tokenizers")]
impl Sizer for TokenSizer {
    fn size(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text, false)
            .map_or_else(|_| text.len().div_ceil(4), |e| e.len())
    }
}
