//! Every metric, span and attribute name the toolkit emits, in one place.
//!
//! Span attributes follow the OpenTelemetry GenAI semantic conventions. Metric names use the
//! `metrics` facade; the Prometheus exporter turns dots into underscores
//! (`gen_ai.client.operation.duration` is scraped as `gen_ai_client_operation_duration`).

/// Span attribute and metric label names.
pub mod attr {
    /// `chat`, `embeddings`, `rerank`.
    pub const OPERATION_NAME: &str = "gen_ai.operation.name";
    /// Provider name, e.g. `openai`.
    pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// Model named in the request.
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// Model that answered.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// Provider's response id.
    pub const RESPONSE_ID: &str = "gen_ai.response.id";
    /// Prompt tokens.
    pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// Completion tokens.
    pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// Finish reasons.
    pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    /// Requested temperature.
    pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
    /// Requested output limit.
    pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
    /// `input` or `output`, on the token usage histogram.
    pub const TOKEN_TYPE: &str = "gen_ai.token.type";
    /// Error kind, when the call failed.
    pub const ERROR_TYPE: &str = "error.type";
    /// Whether the call streamed.
    pub const STREAMING: &str = "ai.streaming";
    /// `ok` or `error`.
    pub const STATUS: &str = "ai.status";
    /// Cache outcome: `hit`, `miss`, `bypass`.
    pub const CACHE_RESULT: &str = "ai.cache.result";
    /// Route chosen by the router.
    pub const ROUTE: &str = "ai.route";
    /// Why the router chose it.
    pub const ROUTE_REASON: &str = "ai.route.reason";
    /// Which limit rejected a request.
    pub const LIMIT: &str = "ai.limit";
    /// Attempt number within the retry layer.
    pub const ATTEMPT: &str = "ai.retry.attempt";
}

/// Metric names.
pub mod metric {
    /// Histogram, seconds: wall time of a whole call.
    pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
    /// Histogram, tokens: input and output tokens per call.
    pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";
    /// Histogram, seconds: time from the call to the first content chunk of a stream.
    pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
    /// Counter: calls by status and error type.
    pub const REQUESTS: &str = "ai.requests";
    /// Histogram, seconds: time the stack itself spent (wall time minus waiting on the
    /// provider, on back-off and in queues).
    pub const STACK_OVERHEAD: &str = "ai.stack.overhead";
    /// Histogram, seconds: time a call waited for a concurrency slot or a worker.
    pub const QUEUE_WAIT: &str = "ai.queue.wait";
    /// Counter: cache lookups by result.
    pub const CACHE_REQUESTS: &str = "ai.cache.requests";
    /// Counter: retries made, by error type.
    pub const RETRIES: &str = "ai.retries";
    /// Counter: retries refused because the retry budget was empty.
    pub const RETRY_BUDGET_EXHAUSTED: &str = "ai.retry.budget_exhausted";
    /// Counter: requests rejected by a rate limit or budget, by limit.
    pub const LIMIT_REJECTIONS: &str = "ai.limit.rejections";
    /// Counter, nano-dollars: money spent, by model.
    pub const COST: &str = "ai.cost.nanodollars";
    /// Counter: routing decisions, by route and reason.
    pub const ROUTE_DECISIONS: &str = "ai.route.decisions";
    /// Counter: fallbacks taken.
    pub const FALLBACKS: &str = "ai.fallbacks";
    /// Counter: guard decisions.
    pub const GUARD_DECISIONS: &str = "ai.guard.decisions";
    /// Counter: requests rejected because the concurrency queue wait ran out.
    pub const QUEUE_REJECTIONS: &str = "ai.queue.rejections";
}

/// Span names.
pub mod span {
    /// One chat call (non-streamed or streamed).
    pub const CHAT: &str = "gen_ai.chat";
    /// One embeddings call.
    pub const EMBEDDINGS: &str = "gen_ai.embeddings";
}
