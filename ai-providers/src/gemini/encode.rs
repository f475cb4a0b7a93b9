//! `ChatRequest` → Gemini `generateContent` body.

use std::collections::HashMap;

use ai_core::{
    AiError, ChatRequest, ContentPart, ErrorKind, ImageSource, ResponseFormat, Result, Role,
    ToolChoice,
};
use serde_json::{Map, Value, json};

use super::decode::SIGNATURE_MARK;
use crate::json::{camel_sampling, obj, push_turn, tool_arguments};

fn part(p: &ContentPart) -> Value {
    match p {
        ContentPart::Text { text } => json!({ "text": text }),
        ContentPart::Image { source, .. } => match source {
            ImageSource::Base64 { media_type, data } => {
                json!({ "inlineData": { "mimeType": media_type, "data": data } })
            }
            ImageSource::Url { url } => {
                if let Some(rest) = url.strip_prefix("data:")
                    && let Some((meta, data)) = rest.split_once(',')
                    && let Some(media_type) = meta.strip_suffix(";base64")
                {
                    return json!({ "inlineData": { "mimeType": media_type, "data": data } });
                }
                let mime = mime_from_url(url);
                json!({ "fileData": { "mimeType": mime, "fileUri": url } })
            }
        },
    }
}

fn mime_from_url(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or_default();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else if path.ends_with(".gif") {
        "image/gif"
    } else {
        "image/jpeg"
    }
}

/// Ids this crate made up for calls that came without one (`call_0`, `call_1`…); they are not
/// sent back.
fn is_generated_id(id: &str) -> bool {
    id.strip_prefix("call_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn bad(msg: String) -> AiError {
    AiError::new(ErrorKind::BadRequest, msg)
}

/// The request body. `extra` is merged last; an `extra.generationConfig` object is merged into
/// the generated one (for `thinkingConfig`, `topK`, `seed`…), and `extra.safetySettings`,
/// `extra.cachedContent` and the like pass through as they are.
pub fn encode(request: &ChatRequest) -> Result<Value> {
    let mut system: Vec<String> = Vec::new();
    let mut contents: Vec<Value> = Vec::new();
    // Gemini answers a function call by name: remember the name of every call id seen.
    let mut call_names: HashMap<&str, &str> = HashMap::new();
    let mut push = |role: &str, items: Vec<Value>| push_turn(&mut contents, role, "parts", items);
    for m in &request.messages {
        match m.role {
            Role::System => system.push(m.text()),
            Role::User => push("user", m.content.iter().map(part).collect()),
            Role::Assistant => {
                let mut parts: Vec<Value> = m
                    .content
                    .iter()
                    .map(part)
                    .filter(|p| p.get("text").is_none_or(|t| t != ""))
                    .collect();
                for call in &m.tool_calls {
                    call_names.insert(call.id.as_str(), call.name.as_str());
                    let args = tool_arguments(call)?;
                    let (id, signature) = match call.id.split_once(SIGNATURE_MARK) {
                        Some((id, sig)) => (id, Some(sig)),
                        None => (call.id.as_str(), None),
                    };
                    let mut fc = Map::new();
                    fc.insert("name".into(), call.name.as_str().into());
                    fc.insert("args".into(), args);
                    if !is_generated_id(id) {
                        fc.insert("id".into(), id.into());
                    }
                    let mut p = Map::new();
                    p.insert("functionCall".into(), Value::Object(fc));
                    if let Some(sig) = signature {
                        p.insert("thoughtSignature".into(), sig.into());
                    }
                    let p = Value::Object(p);
                    parts.push(p);
                }
                push("model", parts);
            }
            Role::Tool => {
                let name = m
                    .name
                    .as_deref()
                    .or_else(|| {
                        m.tool_call_id
                            .as_deref()
                            .and_then(|id| call_names.get(id).copied())
                    })
                    .ok_or_else(|| {
                        bad(
                            "a tool message needs `name` or a tool_call_id of an earlier call"
                                .into(),
                        )
                    })?
                    .to_owned();
                let text = m.text();
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    Ok(other) => obj([("result", other)]),
                    Err(_) => json!({ "result": text }),
                };
                push(
                    "user",
                    vec![obj([(
                        "functionResponse",
                        obj([("name", name.into()), ("response", response)]),
                    )])],
                );
            }
        }
    }
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert(
            "systemInstruction".into(),
            json!({ "parts": [{ "text": system.join("\n\n") }] }),
        );
    }
    let mut config = Map::new();
    camel_sampling(&mut config, request, "maxOutputTokens");
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => {
            config.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            config.insert("responseMimeType".into(), json!("application/json"));
            config.insert("responseJsonSchema".into(), schema.clone());
        }
        _ => {}
    }
    if !request.tools.is_empty() {
        let decls: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("name".into(), t.name.as_str().into());
                if let Some(d) = &t.description {
                    o.insert("description".into(), d.as_str().into());
                }
                o.insert("parametersJsonSchema".into(), t.parameters.clone());
                Value::Object(o)
            })
            .collect();
        body.insert(
            "tools".into(),
            Value::Array(vec![obj([("functionDeclarations", Value::Array(decls))])]),
        );
    }
    let mode = match &request.tool_choice {
        Some(ToolChoice::Auto) => Some(json!({ "mode": "AUTO" })),
        Some(ToolChoice::None) => Some(json!({ "mode": "NONE" })),
        Some(ToolChoice::Required) => Some(json!({ "mode": "ANY" })),
        Some(ToolChoice::Tool(name)) => {
            Some(json!({ "mode": "ANY", "allowedFunctionNames": [name] }))
        }
        None => None,
    };
    if let Some(m) = mode {
        body.insert("toolConfig".into(), obj([("functionCallingConfig", m)]));
    }
    let mut extra = request.extra.clone();
    if let Some(Value::Object(more)) = extra.remove("generationConfig") {
        config.extend(more);
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    for (k, v) in extra {
        body.insert(k, v);
    }
    Ok(Value::Object(body))
}
