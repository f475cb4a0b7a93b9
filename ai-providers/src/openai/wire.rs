//! Lenient wire types for OpenAI-style responses and stream chunks.
//!
//! Every field is optional and unknown fields are ignored, so servers that leave fields out,
//! send `usage: {}`, `finish_reason: ""`, `content: null` or extra vendor fields still decode.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Response {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Option<Vec<Choice>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub system_fingerprint: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
}

/// Top-level fields of a response that have a typed home; the others go to `extra`.
pub(crate) const KNOWN_FIELDS: [&str; 8] = [
    "id",
    "model",
    "choices",
    "usage",
    "system_fingerprint",
    "error",
    "object",
    "created",
];

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Choice {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub message: Option<WireMessage>,
    #[serde(default)]
    pub delta: Option<WireMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct WireToolCall {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunction>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct WireFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<Value>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(crate) struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub(crate) struct CompletionDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// `None` for an empty `usage: {}` object.
    pub fn to_usage(self) -> Option<ai_core::Usage> {
        if self.prompt_tokens.is_none() && self.completion_tokens.is_none() {
            return None;
        }
        Some(ai_core::Usage {
            input_tokens: self.prompt_tokens.unwrap_or(0),
            output_tokens: self.completion_tokens.unwrap_or(0),
            cached_input_tokens: self
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_input_tokens: 0,
            reasoning_tokens: self
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        })
    }
}

/// Text of a `content` field: a string, or an array of `{type: text, text}` parts.
pub(crate) fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let mut out = String::new();
            for p in parts {
                if let Some(t) = p.get("text").and_then(Value::as_str) {
                    out.push_str(t);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Tool-call arguments as JSON text: strings as sent, objects serialised.
pub(crate) fn arguments_text(args: &Value) -> String {
    match args {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingResponse {
    #[serde(default)]
    pub data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingItem {
    #[serde(default)]
    pub index: Option<usize>,
    pub embedding: Value,
}
