//! `ChatRequest` → Anthropic Messages API body.

use crate::json::{push_turn, tool_arguments};
use ai_core::{AiError, ChatRequest};
use ai_core::{ContentPart, ImageSource, ResponseFormat, Result, Role, ToolChoice};
use serde_json::{Map, Value, json};

/// Output tokens when the request sets none (the API requires `max_tokens`).
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

fn image(source: &ImageSource) -> Value {
    match source {
        ImageSource::Base64 { media_type, data } => json!({
            "type": "image", "source": { "type": "base64", "media_type": media_type, "data": data }
        }),
        ImageSource::Url { url } => {
            // `data:` URLs become base64 sources; others are fetched by the API.
            if let Some(rest) = url.strip_prefix("data:")
                && let Some((meta, data)) = rest.split_once(',')
                && let Some(media_type) = meta.strip_suffix(";base64")
            {
                return json!({
                    "type": "image", "source": { "type": "base64", "media_type": media_type, "data": data }
                });
            }
            json!({ "type": "image", "source": { "type": "url", "url": url } })
        }
    }
}

fn blocks(parts: &[ContentPart]) -> Vec<Value> {
    parts
        .iter()
        .map(|p| match p {
            ContentPart::Text { text } => json!({ "type": "text", "text": text }),
            ContentPart::Image { source, .. } => image(source),
        })
        .collect()
}

/// The request body. `extra` is merged last, so callers can set any field the API has
/// (`thinking`, `metadata`, `top_k`, `service_tier`…); `extra.cache_system = true` marks the
/// system prompt for prompt caching.
pub fn encode(request: &ChatRequest, model: &str, stream: bool) -> Result<Value> {
    let mut system: Vec<String> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    let mut push = |role: &str, items: Vec<Value>| push_turn(&mut messages, role, "content", items);
    for m in &request.messages {
        match m.role {
            Role::System => system.push(m.text()),
            Role::User => push("user", blocks(&m.content)),
            Role::Assistant => {
                let mut content = blocks(&m.content);
                content.retain(|b| b["type"] != "text" || b["text"] != "");
                for call in &m.tool_calls {
                    let input = tool_arguments(call)?;
                    content.push(json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input }));
                }
                push("assistant", content);
            }
            Role::Tool => {
                let id = m.tool_call_id.clone().ok_or_else(|| {
                    AiError::new(
                        ai_core::ErrorKind::BadRequest,
                        "a tool message needs tool_call_id",
                    )
                })?;
                push(
                    "user",
                    vec![json!({ "type": "tool_result", "tool_use_id": id, "content": m.text() })],
                );
            }
        }
    }
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => {
            system.push("Respond with a single JSON object and nothing else.".into());
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => system.push(format!(
            "Respond with a single JSON value that validates against this JSON Schema, and nothing else:\n{schema}"
        )),
        _ => {}
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    body.insert("messages".into(), Value::Array(messages));
    let mut extra = request.extra.clone();
    let cache_system = extra.remove("cache_system").and_then(|v| v.as_bool()) == Some(true);
    if !system.is_empty() {
        let text = system.join("\n\n");
        if cache_system {
            body.insert(
                "system".into(),
                json!([{ "type": "text", "text": text, "cache_control": { "type": "ephemeral" } }]),
            );
        } else {
            body.insert("system".into(), json!(text));
        }
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let mut o = json!({ "name": t.name, "input_schema": t.parameters });
                if let Some(d) = &t.description {
                    o["description"] = json!(d);
                }
                o
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let parallel_off = request.parallel_tool_calls == Some(false);
    let choice = match &request.tool_choice {
        Some(ToolChoice::Auto) => Some(json!({ "type": "auto" })),
        Some(ToolChoice::None) => Some(json!({ "type": "none" })),
        Some(ToolChoice::Required) => Some(json!({ "type": "any" })),
        Some(ToolChoice::Tool(name)) => Some(json!({ "type": "tool", "name": name })),
        None if parallel_off && !request.tools.is_empty() => Some(json!({ "type": "auto" })),
        None => None,
    };
    if let Some(mut c) = choice {
        if parallel_off && c["type"] != "none" {
            c["disable_parallel_tool_use"] = json!(true);
        }
        body.insert("tool_choice".into(), c);
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in extra {
        body.insert(k, v);
    }
    Ok(Value::Object(body))
}
