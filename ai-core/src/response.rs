//! Chat responses and why generation stopped.

use serde::{Deserialize, Serialize};

use crate::message::{Message, ToolCall};
use crate::usage::Usage;

/// Why the model stopped generating.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// The output token limit was reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Content was filtered or refused.
    ContentFilter,
    /// The provider did not say (missing or empty field).
    Unknown,
    /// A value this toolkit does not know, kept as sent.
    Other(String),
}

impl FinishReason {
    /// Map a provider's wire value; empty means unknown, unknown values are kept.
    pub fn from_wire(value: &str) -> Self {
        match value {
            "stop" | "end_turn" | "stop_sequence" | "STOP" | "eos" | "eos_token" => Self::Stop,
            "length" | "max_tokens" | "MAX_TOKENS" | "model_length" => Self::Length,
            "tool_calls" | "function_call" | "tool_use" => Self::ToolCalls,
            "content_filter" | "refusal" | "SAFETY" | "RECITATION" | "guardrail_intervened" => {
                Self::ContentFilter
            }
            "" => Self::Unknown,
            other => Self::Other(other.to_string()),
        }
    }

    /// A stable name for metrics and spans.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Unknown => "unknown",
            Self::Other(s) => s,
        }
    }
}

/// What the layers of the stack found out about a call (cost, cache, route, attempts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMeta {
    /// Cost of this call in nano-dollars, where the cost layer priced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_nanos: Option<u64>,
    /// Served from the response cache.
    #[serde(default)]
    pub cache_hit: bool,
    /// Name of the route the router chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Attempts made by the retry layer (1 when the first try succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

/// A complete (non-streamed) answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Provider-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that actually answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The assistant message: text and tool calls.
    pub message: Message,
    /// Why generation stopped.
    pub finish_reason: FinishReason,
    /// Tokens used, where the provider reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Provider-specific fields that have no typed home (for example `system_fingerprint`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The provider's raw payload, when the request set `keep_raw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
    /// Facts added by the layers.
    #[serde(default)]
    pub meta: ResponseMeta,
}

impl ChatResponse {
    /// An assistant text answer (handy for tests and mocks).
    pub fn text_answer(text: impl Into<String>) -> Self {
        Self {
            id: None,
            model: None,
            message: Message::assistant(text),
            finish_reason: FinishReason::Stop,
            usage: None,
            extra: Default::default(),
            raw: None,
            meta: ResponseMeta::default(),
        }
    }

    /// The answer's text.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The tool calls the model made.
    pub fn tool_calls(&self) -> &[ToolCall] {
        &self.message.tool_calls
    }
}
