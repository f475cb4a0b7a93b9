//! Building request bodies without copies: `serde_json::json!` turns a `Value` it is given into
//! a new one by serializing it, so nested values built earlier are assembled with [`obj`].

use serde_json::Value;

/// A JSON object from owned values (moved, not copied).
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Append a conversation turn `{"role": role, key: items}`, merging the items into the last turn
/// instead when it has the same role (these APIs want roles to alternate; tool results after
/// each other, for one). An empty turn is skipped.
pub(crate) fn push_turn(turns: &mut Vec<Value>, role: &str, key: &str, mut items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    if let Some(last) = turns.last_mut()
        && last["role"] == role
        && let Some(arr) = last[key].as_array_mut()
    {
        arr.append(&mut items);
        return;
    }
    let mut turn = serde_json::Map::new();
    turn.insert("role".to_owned(), role.into());
    turn.insert(key.to_owned(), Value::Array(items));
    turns.push(Value::Object(turn));
}

/// The sampling settings of `request` under the camel-case names Gemini and Bedrock share
/// (`temperature`, `topP`, `stopSequences`), plus the output limit under `max_tokens_key`
/// (`maxOutputTokens`, `maxTokens`); settings the request leaves unset are left out.
pub(crate) fn camel_sampling(
    config: &mut serde_json::Map<String, Value>,
    request: &ai_core::ChatRequest,
    max_tokens_key: &str,
) {
    if let Some(n) = request.max_tokens {
        config.insert(max_tokens_key.to_owned(), n.into());
    }
    if let Some(t) = request.temperature {
        config.insert("temperature".to_owned(), t.into());
    }
    if let Some(p) = request.top_p {
        config.insert("topP".to_owned(), p.into());
    }
    if !request.stop.is_empty() {
        config.insert("stopSequences".to_owned(), request.stop.clone().into());
    }
}

/// A tool call's arguments as a JSON value (`{}` when empty), for the APIs that want an object
/// rather than the text; text that is not JSON is a `BadRequest` naming the tool.
pub(crate) fn tool_arguments(call: &ai_core::ToolCall) -> ai_core::Result<Value> {
    if call.arguments.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_str(&call.arguments).map_err(|e| {
        ai_core::AiError::new(
            ai_core::ErrorKind::BadRequest,
            format!(
                "tool call `{}` has arguments that are not JSON: {e}",
                call.name
            ),
        )
    })
}
