//! `ChatRequest` → Bedrock Converse body.

use ai_core::{
    AiError, ChatRequest, ContentPart, ErrorKind, ImageSource, ResponseFormat, Result, Role,
    ToolChoice,
};
use serde_json::{Map, Value, json};

use crate::json::{camel_sampling, obj, push_turn, tool_arguments};

fn bad(msg: String) -> AiError {
    AiError::new(ErrorKind::BadRequest, msg)
}

fn image(source: &ImageSource) -> Result<Value> {
    let (media_type, data) = match source {
        ImageSource::Base64 { media_type, data } => (media_type.as_str(), data.as_str()),
        ImageSource::Url { url } => url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)))
            .ok_or_else(|| {
                bad("Bedrock takes images as bytes: use base64 or a data: URL, not a link".into())
            })?,
    };
    let format = media_type.strip_prefix("image/").unwrap_or(media_type);
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

fn blocks(parts: &[ContentPart]) -> Result<Vec<Value>> {
    parts
        .iter()
        .filter(|p| !matches!(p, ContentPart::Text { text } if text.is_empty()))
        .map(|p| match p {
            ContentPart::Text { text } => Ok(json!({ "text": text })),
            ContentPart::Image { source, .. } => image(source),
        })
        .collect()
}

/// The Converse body (the model goes in the URL). `extra` is merged last;
/// `extra.additionalModelRequestFields` carries model-specific settings (`top_k`, thinking).
pub fn encode(request: &ChatRequest) -> Result<Value> {
    let mut system: Vec<Value> = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    let mut push = |role: &str, items: Vec<Value>| push_turn(&mut messages, role, "content", items);
    for m in &request.messages {
        match m.role {
            Role::System => system.push(json!({ "text": m.text() })),
            Role::User => push("user", blocks(&m.content)?),
            Role::Assistant => {
                let mut content = blocks(&m.content)?;
                for call in &m.tool_calls {
                    let input = tool_arguments(call)?;
                    let tool_use = obj([
                        ("toolUseId", call.id.as_str().into()),
                        ("name", call.name.as_str().into()),
                        ("input", input),
                    ]);
                    content.push(obj([("toolUse", tool_use)]));
                }
                push("assistant", content);
            }
            Role::Tool => {
                let id = m
                    .tool_call_id
                    .clone()
                    .ok_or_else(|| bad("a tool message needs tool_call_id".into()))?;
                let text = m.text();
                let content = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => obj([("json", v)]),
                    _ => obj([("text", text.into())]),
                };
                push(
                    "user",
                    vec![obj([(
                        "toolResult",
                        obj([
                            ("toolUseId", id.into()),
                            ("content", Value::Array(vec![content])),
                        ]),
                    )])],
                );
            }
        }
    }
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => system.push(json!({
            "text": "Respond with a single JSON object and nothing else."
        })),
        Some(ResponseFormat::JsonSchema { schema, .. }) => system.push(json!({
            "text": format!("Respond with a single JSON value that validates against this JSON Schema, and nothing else:\n{schema}")
        })),
        _ => {}
    }
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut config = Map::new();
    camel_sampling(&mut config, request, "maxTokens");
    if !config.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(config));
    }
    if !request.tools.is_empty() && request.tool_choice != Some(ToolChoice::None) {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let mut spec = Map::new();
                spec.insert("name".into(), t.name.as_str().into());
                if let Some(d) = &t.description {
                    spec.insert("description".into(), d.as_str().into());
                }
                spec.insert("inputSchema".into(), obj([("json", t.parameters.clone())]));
                obj([("toolSpec", Value::Object(spec))])
            })
            .collect();
        let mut tool_config = Map::new();
        tool_config.insert("tools".into(), Value::Array(tools));
        // Converse has no "none": tools are left out instead (above).
        let choice = match &request.tool_choice {
            Some(ToolChoice::Auto) => Some(json!({ "auto": {} })),
            Some(ToolChoice::Required) => Some(json!({ "any": {} })),
            Some(ToolChoice::Tool(name)) => Some(json!({ "tool": { "name": name } })),
            _ => None,
        };
        if let Some(c) = choice {
            tool_config.insert("toolChoice".into(), c);
        }
        body.insert("toolConfig".into(), Value::Object(tool_config));
    }
    for (k, v) in request.extra.clone() {
        body.insert(k, v);
    }
    Ok(Value::Object(body))
}
