//! Token usage reported by a provider.

use serde::{Deserialize, Serialize};

/// Tokens consumed by one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, including the cached ones.
    pub input_tokens: u64,
    /// Completion tokens, including reasoning tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's prompt cache (billed at the cached rate).
    #[serde(default)]
    pub cached_input_tokens: u64,
    /// Prompt tokens written to the provider's prompt cache (Anthropic bills these separately).
    #[serde(default)]
    pub cache_write_input_tokens: u64,
    /// Completion tokens spent on hidden reasoning, where reported.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Input plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    /// Take every non-zero field of `later`: providers that report usage in pieces
    /// (input at the start of a stream, output at the end) send cumulative counts.
    pub fn absorb(&mut self, later: &Usage) {
        fn take(field: &mut u64, value: u64) {
            if value != 0 {
                *field = value;
            }
        }
        take(&mut self.input_tokens, later.input_tokens);
        take(&mut self.output_tokens, later.output_tokens);
        take(&mut self.cached_input_tokens, later.cached_input_tokens);
        take(
            &mut self.cache_write_input_tokens,
            later.cache_write_input_tokens,
        );
        take(&mut self.reasoning_tokens, later.reasoning_tokens);
    }
}
