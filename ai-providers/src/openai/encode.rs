//! Encoding a [`ChatRequest`] as an OpenAI Chat Completions request body.

use ai_core::{
    ChatRequest, ContentPart, ImageSource, Message, ResponseFormat, Role, Tool, ToolChoice,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Which name the output limit goes under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_tokens` (Azure's older API versions and most compatible servers).
    MaxTokens,
    /// `max_completion_tokens` (OpenAI; required by reasoning models).
    MaxCompletionTokens,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<Value>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionDef<'a>,
}

#[derive(Serialize)]
struct WireFunctionDef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

fn content(message: &Message) -> Option<Value> {
    match message.content.as_slice() {
        [] => None,
        [ContentPart::Text { text }] => Some(Value::String(text.clone())),
        parts => Some(Value::Array(
            parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text { text } => json!({"type": "text", "text": text}),
                    ContentPart::Image { source, detail } => {
                        let url = match source {
                            ImageSource::Url { url } => url.clone(),
                            ImageSource::Base64 { media_type, data } => {
                                format!("data:{media_type};base64,{data}")
                            }
                        };
                        let mut image = Map::new();
                        image.insert("url".into(), Value::String(url));
                        if let Some(d) = detail {
                            image.insert("detail".into(), Value::String(d.clone()));
                        }
                        json!({"type": "image_url", "image_url": image})
                    }
                })
                .collect(),
        )),
    }
}

fn message(m: &Message) -> WireMessage<'_> {
    let mut content = content(m);
    // Assistant messages that only call tools send `content: null`; others need a string.
    if content.is_none() && m.tool_calls.is_empty() {
        content = Some(Value::String(String::new()));
    }
    WireMessage {
        role: m.role.as_str(),
        content: if m.role == Role::Assistant && content.is_none() {
            Some(Value::Null)
        } else {
            content
        },
        name: m.name.as_deref(),
        tool_calls: m
            .tool_calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })
            })
            .collect(),
        tool_call_id: m.tool_call_id.as_deref(),
    }
}

fn tool(t: &Tool) -> WireTool<'_> {
    WireTool {
        kind: "function",
        function: WireFunctionDef {
            name: &t.name,
            description: t.description.as_deref(),
            parameters: &t.parameters,
            strict: t.strict,
        },
    }
}

fn tool_choice(c: &ToolChoice) -> Value {
    match c {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

fn response_format(f: &ResponseFormat) -> Value {
    match f {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => json!({
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": strict},
        }),
    }
}

/// Options that vary between OpenAI, Azure and compatible servers.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    /// Name of the output limit field.
    pub max_tokens_field: MaxTokensField,
    /// Ask for usage in the last stream chunk (`stream_options.include_usage`).
    pub stream_usage: bool,
}

/// The JSON body for `request`, with `request.extra` merged in last (extras win).
pub fn encode(
    request: &ChatRequest,
    model: &str,
    stream: bool,
    opts: EncodeOptions,
) -> serde_json::Result<Vec<u8>> {
    let (max_tokens, max_completion_tokens) = match opts.max_tokens_field {
        MaxTokensField::MaxTokens => (request.max_tokens, None),
        MaxTokensField::MaxCompletionTokens => (None, request.max_tokens),
    };
    let body = Body {
        model,
        messages: request.messages.iter().map(message).collect(),
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens,
        max_completion_tokens,
        stop: &request.stop,
        seed: request.seed,
        tools: request.tools.iter().map(tool).collect(),
        tool_choice: request.tool_choice.as_ref().map(tool_choice),
        parallel_tool_calls: request.parallel_tool_calls,
        response_format: request.response_format.as_ref().map(response_format),
        stream,
        stream_options: (stream && opts.stream_usage).then(|| json!({"include_usage": true})),
    };
    if request.extra.is_empty() {
        return serde_json::to_vec(&body);
    }
    let mut value = serde_json::to_value(&body)?;
    if let Value::Object(map) = &mut value {
        for (k, v) in &request.extra {
            map.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai_core::ToolCall;

    const OPTS: EncodeOptions = EncodeOptions {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        stream_usage: true,
    };

    fn as_json(req: &ChatRequest, stream: bool) -> Value {
        serde_json::from_slice(&encode(req, "gpt-x", stream, OPTS).unwrap()).unwrap()
    }

    #[test]
    fn full_request_shape() {
        let req = ChatRequest::new(vec![
            Message::system("be brief"),
            Message::user("weather?"),
            Message::assistant_tool_calls(vec![ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Oslo\"}".into(),
            }]),
            Message::tool_result("call_1", "sunny"),
        ])
        .tools(vec![Tool::new(
            "get_weather",
            "Weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )])
        .tool_choice(ToolChoice::Tool("get_weather".into()))
        .json_schema("answer", json!({"type": "object"}))
        .temperature(0.0)
        .max_tokens(50)
        .extra("logprobs", json!(true));
        let v = as_json(&req, true);
        assert_eq!(v["model"], "gpt-x");
        assert_eq!(
            v["messages"][0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(v["messages"][2]["content"], Value::Null);
        assert_eq!(
            v["messages"][2]["tool_calls"][0]["function"]["name"],
            "get_weather"
        );
        assert_eq!(v["messages"][3]["tool_call_id"], "call_1");
        assert_eq!(v["tools"][0]["type"], "function");
        assert_eq!(v["tool_choice"]["function"]["name"], "get_weather");
        assert_eq!(v["response_format"]["type"], "json_schema");
        assert_eq!(v["response_format"]["json_schema"]["strict"], true);
        assert_eq!(v["max_completion_tokens"], 50);
        assert!(v.get("max_tokens").is_none());
        assert_eq!(v["stream"], true);
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["logprobs"], true);
    }

    #[test]
    fn images_become_parts() {
        let mut m = Message::user("what is this?");
        m.content.push(ContentPart::Image {
            source: ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            },
            detail: Some("low".into()),
        });
        let v = as_json(&ChatRequest::new(vec![m]), false);
        let parts = &v["messages"][0]["content"];
        assert_eq!(parts[0]["type"], "text");
        assert_eq!(parts[1]["image_url"]["url"], "data:image/png;base64,AAAA");
        assert_eq!(parts[1]["image_url"]["detail"], "low");
        assert!(v.get("stream").is_none());
    }
}
