//! Chat requests: messages, sampling parameters, output format and caller metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::message::Message;
use crate::timing::WaitClock;
use crate::tool::{Tool, ToolChoice};

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object ("JSON mode").
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// A name for the schema (required by OpenAI).
        name: String,
        /// The JSON Schema.
        schema: serde_json::Value,
        /// Ask for strict schema adherence where supported.
        #[serde(default)]
        strict: bool,
    },
}

/// How sensitive the data in a request is, for routing and policy. Ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// May go anywhere.
    Public,
    /// Internal business data.
    Internal,
    /// Confidential: customer data, contracts.
    Confidential,
    /// Must not leave the organisation's own infrastructure.
    Restricted,
}

/// Whether the cache layer may serve or store this request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheMode {
    /// Cache only deterministic requests (temperature 0), unless the layer opts in for all.
    #[default]
    Default,
    /// Neither read nor write the cache.
    Bypass,
    /// Cache even though the request is not deterministic.
    AllowNonDeterministic,
}

/// Caller-side facts about a request. Never sent to the provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestMetadata {
    /// The key that rate limits, budgets and costs are counted under (user, tenant, feature…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Data sensitivity label, for routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
    /// The application feature making the call (for access policy and metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Cache behaviour for this request.
    #[serde(default)]
    pub cache: CacheMode,
    /// Free-form labels for routing rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Time spent waiting on the provider, filled in by providers.
    #[serde(skip)]
    pub wait: WaitClock,
}

/// A chat completion request.
///
/// ```
/// use ai_core::{ChatRequest, Message};
/// let req = ChatRequest::new(vec![Message::user("Hi")])
///     .model("gpt-4o-mini")
///     .temperature(0.0)
///     .max_tokens(64)
///     .key("tenant-42");
/// assert!(req.is_deterministic());
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Model name; `None` uses the provider's configured default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Whether/which tool must be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one turn, where the provider supports the switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Sampling seed, where supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Provider-specific fields merged into the request body as they are.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Keep the provider's raw JSON payload on the response.
    #[serde(default)]
    pub keep_raw: bool,
    /// Caller-side metadata (never sent).
    #[serde(default)]
    pub metadata: RequestMetadata,
}

impl ChatRequest {
    /// A request for these messages with provider defaults.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }

    /// A request with a single user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(vec![Message::user(text)])
    }

    /// Set the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Set the temperature.
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Set the output token limit.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Offer tools.
    pub fn tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = tools;
        self
    }

    /// Set the tool choice.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Ask for any JSON object.
    pub fn json(mut self) -> Self {
        self.response_format = Some(ResponseFormat::JsonObject);
        self
    }

    /// Ask for JSON matching `schema`.
    pub fn json_schema(mut self, name: impl Into<String>, schema: serde_json::Value) -> Self {
        self.response_format = Some(ResponseFormat::JsonSchema {
            name: name.into(),
            schema,
            strict: true,
        });
        self
    }

    /// Set the key limits and costs are counted under.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.metadata.key = Some(key.into());
        self
    }

    /// Label the data sensitivity.
    pub fn sensitivity(mut self, s: Sensitivity) -> Self {
        self.metadata.sensitivity = Some(s);
        self
    }

    /// Set a provider-specific body field.
    pub fn extra(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// Whether the same request should always produce the same answer (temperature 0).
    pub fn is_deterministic(&self) -> bool {
        self.temperature == Some(0.0)
    }

    /// Total text length of all messages, in bytes.
    pub fn text_len(&self) -> usize {
        self.messages.iter().map(Message::text_len).sum()
    }
}
