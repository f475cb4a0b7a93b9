//! Response cache layer: SHA-256 keys over a canonical encoding, a pluggable [`CacheStore`],
//! and `moka` in process by default.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::StreamExt;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::layers::Layer;
use crate::layers::counters::KeyedCounters;
use crate::model::{Capabilities, ChatModel};
use crate::names::{attr, metric};
use crate::request::{CacheMode, ChatRequest};
use crate::response::{ChatResponse, FinishReason};
use crate::stream::{ChatStream, StreamAccumulator, replay_stream};

/// Where cached responses live. Implement it for a shared store (Redis) so that several
/// replicas of a service share one cache.
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// The cached response for `key`, if any and not expired.
    async fn get(&self, key: &str) -> Result<Option<ChatResponse>>;
    /// Store `value` under `key` for `ttl`.
    async fn put(&self, key: &str, value: ChatResponse, ttl: Duration) -> Result<()>;
}

/// In-process store on `moka`, bounded by approximate size in bytes, with per-entry TTL.
#[derive(Clone)]
pub struct MokaCacheStore {
    cache: moka::sync::Cache<String, (Arc<ChatResponse>, Duration)>,
}

struct PerEntryTtl;

impl moka::Expiry<String, (Arc<ChatResponse>, Duration)> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &(Arc<ChatResponse>, Duration),
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

fn approx_size(r: &ChatResponse) -> u32 {
    let text: usize = r.message.text_len();
    let size = 256 + text + r.id.as_ref().map_or(0, String::len);
    u32::try_from(size).unwrap_or(u32::MAX)
}

impl MokaCacheStore {
    /// A store holding at most about `max_bytes` of responses.
    pub fn new(max_bytes: u64) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &(Arc<ChatResponse>, Duration)| {
                approx_size(&v.0).saturating_add(u32::try_from(k.len()).unwrap_or(u32::MAX))
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { cache }
    }

    /// Entries currently held (approximate until pending maintenance has run).
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }
}

#[async_trait]
impl CacheStore for MokaCacheStore {
    async fn get(&self, key: &str) -> Result<Option<ChatResponse>> {
        Ok(self.cache.get(key).map(|(r, _)| (*r).clone()))
    }

    async fn put(&self, key: &str, value: ChatResponse, ttl: Duration) -> Result<()> {
        self.cache.insert(key.to_string(), (Arc::new(value), ttl));
        Ok(())
    }
}

/// Serialises a JSON value with object keys sorted, so equal values always give equal bytes
/// (whatever order the map kept them in).
struct Canonical<'a>(&'a Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                let mut m = serializer.serialize_map(Some(keys.len()))?;
                for k in keys {
                    if let Some(v) = map.get(k) {
                        m.serialize_entry(k, &Canonical(v))?;
                    }
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Canonical(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

struct CanonicalMap<'a>(&'a serde_json::Map<String, Value>);

impl Serialize for CanonicalMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort_unstable();
        let mut m = serializer.serialize_map(Some(keys.len()))?;
        for k in keys {
            if let Some(v) = self.0.get(k) {
                m.serialize_entry(k, &Canonical(v))?;
            }
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ToolView<'a> {
    name: &'a str,
    description: Option<&'a str>,
    parameters: Canonical<'a>,
    strict: Option<bool>,
}

#[derive(Serialize)]
enum FormatView<'a> {
    Text,
    JsonObject,
    JsonSchema {
        name: &'a str,
        schema: Canonical<'a>,
        strict: bool,
    },
}

/// Everything that shapes an answer, in a fixed field order.
#[derive(Serialize)]
struct KeyView<'a> {
    v: u8,
    model: &'a str,
    messages: &'a [crate::Message],
    tools: Vec<ToolView<'a>>,
    tool_choice: &'a Option<crate::ToolChoice>,
    parallel_tool_calls: Option<bool>,
    response_format: Option<FormatView<'a>>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    max_tokens: Option<u32>,
    stop: &'a [String],
    seed: Option<u64>,
    extra: CanonicalMap<'a>,
}

/// Feeds serialised bytes straight into the hash, without building a string.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The cache key of a request: lower-case hex SHA-256 over a canonical JSON encoding of the
/// model and of everything that shapes the answer (messages, tools, tool choice, output
/// format, sampling parameters, stop sequences, seed and provider extras; object keys inside
/// JSON values sorted). Caller metadata is not part of the key.
///
/// ```
/// use ai_core::{ChatRequest, layers::cache_key};
/// let a = cache_key("m", &ChatRequest::user("hi").temperature(0.0));
/// let b = cache_key("m", &ChatRequest::user("hi").temperature(0.0).key("another-tenant"));
/// assert_eq!(a, b);
/// assert_ne!(a, cache_key("m", &ChatRequest::user("hi!").temperature(0.0)));
/// ```
pub fn cache_key(model: &str, request: &ChatRequest) -> String {
    use crate::ResponseFormat;
    let view = KeyView {
        v: 1,
        model,
        messages: &request.messages,
        tools: request
            .tools
            .iter()
            .map(|t| ToolView {
                name: &t.name,
                description: t.description.as_deref(),
                parameters: Canonical(&t.parameters),
                strict: t.strict,
            })
            .collect(),
        tool_choice: &request.tool_choice,
        parallel_tool_calls: request.parallel_tool_calls,
        response_format: request.response_format.as_ref().map(|f| match f {
            ResponseFormat::Text => FormatView::Text,
            ResponseFormat::JsonObject => FormatView::JsonObject,
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => FormatView::JsonSchema {
                name,
                schema: Canonical(schema),
                strict: *strict,
            },
        }),
        temperature: request.temperature,
        top_p: request.top_p,
        max_tokens: request.max_tokens,
        stop: &request.stop,
        seed: request.seed,
        extra: CanonicalMap(&request.extra),
    };
    let mut writer = HashWriter(Sha256::new());
    // Serialising plain data into a hasher cannot fail; should it ever, the key still
    // covers everything written before the failure and the model name.
    if serde_json::to_writer(&mut writer, &view).is_err() {
        writer.0.update(b"\0unserialisable");
    }
    hex::encode(writer.0.finalize())
}

/// Serves repeated requests from a [`CacheStore`].
///
/// Only deterministic requests (temperature 0) are cached unless the layer is built with
/// [`CacheLayer::cache_nondeterministic`] or the request's metadata says
/// [`CacheMode::AllowNonDeterministic`]; [`CacheMode::Bypass`] skips the cache. Answers that
/// stopped for content filtering are not stored. A streamed answer is stored once the stream
/// has finished, and a cached answer is replayed as a stream to streaming callers. Store
/// failures are logged and treated as misses, never as failed calls.
#[derive(Clone)]
pub struct CacheLayer {
    store: Arc<dyn CacheStore>,
    ttl: Duration,
    nondeterministic: bool,
    counters: Arc<KeyedCounters<&'static str>>,
}

impl CacheLayer {
    /// A layer over any store.
    pub fn new(store: Arc<dyn CacheStore>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            nondeterministic: false,
            counters: Arc::default(),
        }
    }

    /// An in-process `moka` cache of about `max_bytes`.
    pub fn in_memory(max_bytes: u64, ttl: Duration) -> Self {
        Self::new(Arc::new(MokaCacheStore::new(max_bytes)), ttl)
    }

    /// Also cache requests that are not deterministic.
    pub fn cache_nondeterministic(mut self, yes: bool) -> Self {
        self.nondeterministic = yes;
        self
    }
}

impl Layer for CacheLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(CacheModel {
            inner,
            cfg: self.clone(),
        })
    }
}

struct CacheModel {
    inner: Arc<dyn ChatModel>,
    cfg: CacheLayer,
}

fn count(counters: &KeyedCounters<&'static str>, result: &'static str) {
    counters.add(result, 1, || {
        (
            result,
            metrics::counter!(metric::CACHE_REQUESTS, attr::CACHE_RESULT => result),
        )
    });
}

fn storable(r: &ChatResponse) -> bool {
    !matches!(r.finish_reason, FinishReason::ContentFilter)
}

impl CacheModel {
    fn key_for(&self, request: &ChatRequest) -> Option<String> {
        let allowed = match request.metadata.cache {
            CacheMode::Bypass => false,
            CacheMode::AllowNonDeterministic => true,
            CacheMode::Default => self.cfg.nondeterministic || request.is_deterministic(),
        };
        if !allowed {
            count(&self.cfg.counters, "bypass");
            return None;
        }
        let model = request
            .model
            .as_deref()
            .unwrap_or(&self.inner.capabilities().model);
        Some(cache_key(model, request))
    }

    async fn lookup(&self, key: &str) -> Option<ChatResponse> {
        match self.cfg.store.get(key).await {
            Ok(Some(mut hit)) => {
                count(&self.cfg.counters, "hit");
                hit.meta.cache_hit = true;
                Some(hit)
            }
            Ok(None) => {
                count(&self.cfg.counters, "miss");
                None
            }
            Err(err) => {
                count(&self.cfg.counters, "miss");
                tracing::warn!(error = %err, "cache lookup failed; calling the model");
                None
            }
        }
    }
}

async fn store(store: &dyn CacheStore, key: &str, mut response: ChatResponse, ttl: Duration) {
    response.meta = Default::default();
    response.raw = None;
    if let Err(err) = store.put(key, response, ttl).await {
        tracing::warn!(error = %err, "cache store failed; answer not cached");
    }
}

#[async_trait]
impl ChatModel for CacheModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let Some(key) = self.key_for(&request) else {
            return self.inner.generate(request).await;
        };
        if let Some(hit) = self.lookup(&key).await {
            return Ok(hit);
        }
        let response = self.inner.generate(request).await?;
        if storable(&response) {
            store(&*self.cfg.store, &key, response.clone(), self.cfg.ttl).await;
        }
        Ok(response)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let Some(key) = self.key_for(&request) else {
            return self.inner.stream(request).await;
        };
        if let Some(hit) = self.lookup(&key).await {
            return Ok(replay_stream(&hit));
        }
        let inner = self.inner.stream(request).await?;
        let state = (
            inner,
            Some(StreamAccumulator::new()),
            self.cfg.store.clone(),
            key,
            self.cfg.ttl,
        );
        let stream =
            futures::stream::unfold(state, |(mut inner, mut acc, store_, key, ttl)| async move {
                match inner.next().await {
                    Some(Ok(event)) => {
                        if let Some(acc) = acc.as_mut() {
                            acc.push(&event);
                        }
                        Some((Ok(event), (inner, acc, store_, key, ttl)))
                    }
                    Some(Err(err)) => Some((Err(err), (inner, None, store_, key, ttl))),
                    None => {
                        if let Some(acc) = acc.take()
                            && acc.is_finished()
                        {
                            let response = acc.finish();
                            if storable(&response) {
                                store(&*store_, &key, response, ttl).await;
                            }
                        }
                        None
                    }
                }
            });
        Ok(Box::pin(stream))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn key_ignores_object_key_order_in_extra() {
        let mut a = ChatRequest::user("x");
        a.extra
            .insert("b".into(), serde_json::json!({"y": 1, "x": 2}));
        a.extra.insert("a".into(), serde_json::json!(1));
        let mut b = ChatRequest::user("x");
        b.extra.insert("a".into(), serde_json::json!(1));
        b.extra
            .insert("b".into(), serde_json::json!({"x": 2, "y": 1}));
        assert_eq!(cache_key("m", &a), cache_key("m", &b));
    }

    #[test]
    fn key_ignores_key_order_inside_tool_schemas() {
        let tool =
            |params: Value| ChatRequest::user("x").tools(vec![crate::Tool::new("f", "d", params)]);
        let a = tool(serde_json::json!({"type": "object", "properties": {"b": {}, "a": {}}}));
        let mut reordered = serde_json::Map::new();
        let mut props = serde_json::Map::new();
        props.insert("a".into(), serde_json::json!({}));
        props.insert("b".into(), serde_json::json!({}));
        reordered.insert("properties".into(), Value::Object(props));
        reordered.insert("type".into(), serde_json::json!("object"));
        let b = tool(Value::Object(reordered));
        assert_eq!(cache_key("m", &a), cache_key("m", &b));
        assert_ne!(
            cache_key("m", &a),
            cache_key("m", &tool(serde_json::json!({})))
        );
    }

    #[test]
    fn key_depends_on_model_params_and_messages() {
        let base = ChatRequest::new(vec![Message::system("s"), Message::user("u")]);
        let k = cache_key("m", &base);
        assert_eq!(k.len(), 64);
        assert_ne!(k, cache_key("m2", &base));
        assert_ne!(k, cache_key("m", &base.clone().temperature(0.5)));
        assert_ne!(k, cache_key("m", &base.clone().max_tokens(5)));
        assert_ne!(
            k,
            cache_key(
                "m",
                &ChatRequest::new(vec![Message::user("s"), Message::user("u")])
            )
        );
    }
}
