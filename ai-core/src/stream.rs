//! Streaming: events, assembling them into a response, and replaying a response as events.

use std::collections::BTreeMap;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::error::{AiError, Result};
use crate::message::{ContentPart, Message, Role, ToolCall};
use crate::response::{ChatResponse, FinishReason, ResponseMeta};
use crate::usage::Usage;

/// A stream of events from [`ChatModel::stream`](crate::ChatModel::stream).
pub type ChatStream = BoxStream<'static, Result<StreamEvent>>;

/// A fragment of a tool call. The first fragment of a call carries `id` and `name`; later ones
/// carry more of the JSON arguments. Fragments of one call share `index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Position of the call in the message; parallel calls interleave by index.
    pub index: u32,
    /// Call id, on the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Tool name, on the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// More argument text.
    #[serde(default)]
    pub arguments: String,
}

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// Response metadata, sent once when known.
    Start {
        /// Provider-assigned id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The model that answers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// More answer text.
    TextDelta {
        /// The text fragment.
        text: String,
    },
    /// More hidden-reasoning text, where the provider exposes it.
    ReasoningDelta {
        /// The text fragment.
        text: String,
    },
    /// A fragment of a tool call.
    ToolCallDelta(ToolCallDelta),
    /// Token usage (may come more than once; later values win field by field).
    Usage(Usage),
    /// Why generation stopped.
    Finish {
        /// The reason.
        reason: FinishReason,
    },
}

impl StreamEvent {
    /// A text fragment event.
    pub fn text(text: impl Into<String>) -> Self {
        StreamEvent::TextDelta { text: text.into() }
    }

    /// Whether this event carries generated content (text, reasoning or a tool call), as
    /// opposed to metadata. The first such event is the "first token".
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            StreamEvent::TextDelta { .. }
                | StreamEvent::ReasoningDelta { .. }
                | StreamEvent::ToolCallDelta(_)
        )
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Assembles stream events into a [`ChatResponse`].
///
/// ```
/// use ai_core::{StreamAccumulator, StreamEvent, FinishReason};
/// let mut acc = StreamAccumulator::new();
/// acc.push(&StreamEvent::text("Hel"));
/// acc.push(&StreamEvent::text("lo"));
/// acc.push(&StreamEvent::Finish { reason: FinishReason::Stop });
/// let resp = acc.finish();
/// assert_eq!(resp.text(), "Hello");
/// ```
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: Option<String>,
    model: Option<String>,
    text: String,
    reasoning: String,
    calls: BTreeMap<u32, PartialCall>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
}

impl StreamAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one event.
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Start { id, model } => {
                if id.is_some() {
                    self.id.clone_from(id);
                }
                if model.is_some() {
                    self.model.clone_from(model);
                }
            }
            StreamEvent::TextDelta { text } => self.text.push_str(text),
            StreamEvent::ReasoningDelta { text } => self.reasoning.push_str(text),
            StreamEvent::ToolCallDelta(delta) => {
                let call = self.calls.entry(delta.index).or_default();
                if let Some(id) = &delta.id
                    && !id.is_empty()
                {
                    call.id.clone_from(id);
                }
                if let Some(name) = &delta.name
                    && !name.is_empty()
                {
                    call.name.clone_from(name);
                }
                call.arguments.push_str(&delta.arguments);
            }
            StreamEvent::Usage(u) => self.usage.get_or_insert_with(Usage::default).absorb(u),
            StreamEvent::Finish { reason } => self.finish = Some(reason.clone()),
        }
    }

    /// The text gathered so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a finish event has arrived.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The assembled response. Reasoning text, when any, is kept in `extra["reasoning"]`.
    pub fn finish(self) -> ChatResponse {
        let mut content = Vec::new();
        if !self.text.is_empty() {
            content.push(ContentPart::text(self.text));
        }
        let tool_calls = self
            .calls
            .into_values()
            .map(|c| ToolCall {
                id: c.id,
                name: c.name,
                arguments: c.arguments,
            })
            .collect();
        let mut extra = serde_json::Map::new();
        if !self.reasoning.is_empty() {
            extra.insert(
                "reasoning".into(),
                serde_json::Value::String(self.reasoning),
            );
        }
        ChatResponse {
            id: self.id,
            model: self.model,
            message: Message {
                role: Role::Assistant,
                content,
                tool_calls,
                tool_call_id: None,
                name: None,
            },
            finish_reason: self.finish.unwrap_or(FinishReason::Unknown),
            usage: self.usage,
            extra,
            raw: None,
            meta: ResponseMeta::default(),
        }
    }
}

/// Drain a stream into a response. Fails with the first error the stream yields.
pub async fn collect_stream(mut stream: ChatStream) -> Result<ChatResponse> {
    use futures::StreamExt;
    let mut acc = StreamAccumulator::new();
    while let Some(event) = stream.next().await {
        acc.push(&event?);
    }
    Ok(acc.finish())
}

/// Turn a complete response into the events a stream of it would have produced, so a cached or
/// non-streamed answer can be served to a caller who asked for a stream.
pub fn replay_events(response: &ChatResponse) -> Vec<StreamEvent> {
    let mut events = Vec::with_capacity(4 + response.message.tool_calls.len());
    events.push(StreamEvent::Start {
        id: response.id.clone(),
        model: response.model.clone(),
    });
    if let Some(serde_json::Value::String(reasoning)) = response.extra.get("reasoning") {
        events.push(StreamEvent::ReasoningDelta {
            text: reasoning.clone(),
        });
    }
    let text = response.text();
    if !text.is_empty() {
        events.push(StreamEvent::TextDelta { text });
    }
    for (index, call) in response.message.tool_calls.iter().enumerate() {
        events.push(StreamEvent::ToolCallDelta(ToolCallDelta {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            id: Some(call.id.clone()),
            name: Some(call.name.clone()),
            arguments: call.arguments.clone(),
        }));
    }
    if let Some(usage) = response.usage {
        events.push(StreamEvent::Usage(usage));
    }
    events.push(StreamEvent::Finish {
        reason: response.finish_reason.clone(),
    });
    events
}

/// A stream that yields the replay of `response`.
pub fn replay_stream(response: &ChatResponse) -> ChatStream {
    Box::pin(futures::stream::iter(
        replay_events(response).into_iter().map(Ok::<_, AiError>),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_assemble_by_index_when_interleaved() {
        let mut acc = StreamAccumulator::new();
        let d = |index, id: Option<&str>, name: Option<&str>, args: &str| {
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index,
                id: id.map(str::to_string),
                name: name.map(str::to_string),
                arguments: args.to_string(),
            })
        };
        acc.push(&d(0, Some("a"), Some("get_weather"), ""));
        acc.push(&d(1, Some("b"), Some("get_time"), "{\"tz\":"));
        acc.push(&d(0, None, None, "{\"city\":\"Oslo\"}"));
        acc.push(&d(1, None, None, "\"UTC\"}"));
        acc.push(&StreamEvent::Finish {
            reason: FinishReason::ToolCalls,
        });
        let resp = acc.finish();
        assert_eq!(resp.tool_calls().len(), 2);
        assert_eq!(resp.tool_calls()[0].name, "get_weather");
        assert_eq!(resp.tool_calls()[0].arguments, "{\"city\":\"Oslo\"}");
        assert_eq!(resp.tool_calls()[1].id, "b");
        assert_eq!(resp.tool_calls()[1].arguments, "{\"tz\":\"UTC\"}");
        assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    }

    #[test]
    fn replay_round_trips() {
        let mut resp = ChatResponse::text_answer("hello world");
        resp.id = Some("id-1".into());
        resp.usage = Some(Usage {
            input_tokens: 3,
            output_tokens: 2,
            ..Usage::default()
        });
        resp.message.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: "{}".into(),
        });
        let mut acc = StreamAccumulator::new();
        for e in replay_events(&resp) {
            acc.push(&e);
        }
        assert_eq!(acc.finish(), resp);
    }

    #[test]
    fn usage_pieces_merge() {
        let mut acc = StreamAccumulator::new();
        acc.push(&StreamEvent::Usage(Usage {
            input_tokens: 10,
            ..Usage::default()
        }));
        acc.push(&StreamEvent::Usage(Usage {
            output_tokens: 4,
            ..Usage::default()
        }));
        let u = acc.finish().usage.unwrap();
        assert_eq!((u.input_tokens, u.output_tokens), (10, 4));
    }
}
