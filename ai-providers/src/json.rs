//! Building request bodies without copies: `serde_json::json!` turns a `Value` it is given into
//! a new one by serializing it, so nested values built earlier are assembled with [`obj`].

use serde_json::Value;

/// A JSON object from owned values (moved, not copied).
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}
