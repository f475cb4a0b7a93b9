//! Routing: rules over request metadata choose which model answers (local/cloud hybrid).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::layers::counters::KeyedCounters;
use crate::message::Role;
use crate::model::{Capabilities, ChatModel};
use crate::names::{attr, metric};
use crate::request::{ChatRequest, Sensitivity};
use crate::response::ChatResponse;
use crate::stream::ChatStream;

type Predicate = Arc<dyn Fn(&ChatRequest) -> bool + Send + Sync>;

/// A condition on a request, with a reason recorded when it chooses a route.
#[derive(Clone)]
pub struct Rule {
    kind: RuleKind,
}

#[derive(Clone)]
enum RuleKind {
    Leaf {
        reason: &'static str,
        predicate: Predicate,
    },
    Any(Vec<Rule>),
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            RuleKind::Leaf { reason, .. } => f.debug_tuple("Rule").field(reason).finish(),
            RuleKind::Any(rules) => f.debug_tuple("Rule::any").field(rules).finish(),
        }
    }
}

impl Rule {
    /// Any predicate, with the reason to record.
    pub fn custom(
        reason: &'static str,
        f: impl Fn(&ChatRequest) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind: RuleKind::Leaf {
                reason,
                predicate: Arc::new(f),
            },
        }
    }

    /// Matches requests labelled at least this sensitive.
    pub fn sensitivity_at_least(level: Sensitivity) -> Self {
        Self::custom("sensitivity", move |r| {
            r.metadata.sensitivity.is_some_and(|s| s >= level)
        })
    }

    /// Matches when the caller's PII detector finds PII in any user or system message text.
    pub fn contains_pii(detector: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self::custom("pii", move |r| {
            r.messages
                .iter()
                .filter(|m| m.role != Role::Assistant)
                .any(|m| detector(&m.text()))
        })
    }

    /// Matches when [`estimate_complexity`] is above `threshold` (0–1).
    pub fn complexity_above(threshold: f32) -> Self {
        Self::custom("complexity", move |r| estimate_complexity(r) > threshold)
    }

    /// Matches when the request carries tag `key` with `value`.
    pub fn tag(key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        Self::custom("tag", move |r| {
            r.metadata.tags.get(&key).is_some_and(|v| *v == value)
        })
    }

    /// Matches when any of `rules` matches; the recorded reason is the matching rule's.
    pub fn any(rules: Vec<Rule>) -> Self {
        Self {
            kind: RuleKind::Any(rules),
        }
    }

    /// The reason of the first part of this rule that matches `request`, if any.
    pub fn matched(&self, request: &ChatRequest) -> Option<&'static str> {
        match &self.kind {
            RuleKind::Leaf { reason, predicate } => predicate(request).then_some(*reason),
            RuleKind::Any(rules) => rules.iter().find_map(|r| r.matched(request)),
        }
    }

    /// Whether the rule matches.
    pub fn matches(&self, request: &ChatRequest) -> bool {
        self.matched(request).is_some()
    }
}

const REASONING_WORDS: [&str; 12] = [
    "step by step",
    "prove",
    "derive",
    "analy",
    "compare",
    "trade-off",
    "tradeoff",
    "optimi",
    "design",
    "explain why",
    "refactor",
    "root cause",
];

/// A cheap complexity estimate in `[0, 1]` from the request alone: length of the conversation,
/// number of turns, code, reasoning vocabulary, tools and structured output. Deterministic, no
/// model call; good enough to send short chit-chat to a small local model.
pub fn estimate_complexity(request: &ChatRequest) -> f32 {
    let text_len = request.text_len() as f32;
    let mut score = (text_len / 4000.0).min(1.0) * 0.35;
    score += ((request.messages.len().saturating_sub(1)) as f32 / 10.0).min(1.0) * 0.1;
    let last_user = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.text().to_lowercase())
        .unwrap_or_default();
    if last_user.contains("```") || last_user.contains("fn ") || last_user.contains("def ") {
        score += 0.15;
    }
    let hits = REASONING_WORDS
        .iter()
        .filter(|w| last_user.contains(*w))
        .count();
    score += (hits as f32 * 0.1).min(0.25);
    if !request.tools.is_empty() {
        score += 0.1;
    }
    if request.response_format.is_some() {
        score += 0.05;
    }
    score.clamp(0.0, 1.0)
}

struct Route {
    name: String,
    rule: Rule,
    model: Arc<dyn ChatModel>,
}

/// Builds a [`Router`].
pub struct RouterBuilder {
    routes: Vec<Route>,
    default_name: String,
    default_model: Arc<dyn ChatModel>,
    keep_request_model: bool,
}

impl RouterBuilder {
    /// Add a route, tried in the order added; the first matching rule wins.
    pub fn route(mut self, name: impl Into<String>, rule: Rule, model: Arc<dyn ChatModel>) -> Self {
        self.routes.push(Route {
            name: name.into(),
            rule,
            model,
        });
        self
    }

    /// Pass the request's `model` through to the chosen route instead of clearing it (by
    /// default each route answers with its own configured model).
    pub fn keep_request_model(mut self, keep: bool) -> Self {
        self.keep_request_model = keep;
        self
    }

    /// The router.
    pub fn build(self) -> Router {
        let capabilities = self.default_model.capabilities().clone();
        Router {
            routes: self.routes,
            default_name: self.default_name,
            default_model: self.default_model,
            keep_request_model: self.keep_request_model,
            capabilities,
            counters: KeyedCounters::default(),
        }
    }
}

/// Chooses among models by rules; a `ChatModel` itself, so it composes with every layer.
///
/// The decision is counted in `ai.route.decisions{ai.route, ai.route.reason}`, logged as a
/// tracing event, and returned in [`ResponseMeta::route`](crate::ResponseMeta).
///
/// ```
/// use std::sync::Arc;
/// use ai_core::layers::{Router, Rule};
/// use ai_core::{Sensitivity, testing::ScriptedModel};
/// let local = Arc::new(ScriptedModel::always_text("local"));
/// let cloud = Arc::new(ScriptedModel::always_text("cloud"));
/// let router = Router::builder("cloud", cloud)
///     .route("local", Rule::sensitivity_at_least(Sensitivity::Confidential), local.clone())
///     .route("local", Rule::contains_pii(|t| t.contains('@')), local)
///     .build();
/// ```
pub struct Router {
    routes: Vec<Route>,
    default_name: String,
    default_model: Arc<dyn ChatModel>,
    keep_request_model: bool,
    capabilities: Capabilities,
    counters: KeyedCounters<(usize, &'static str)>,
}

impl Router {
    /// Start a router whose fallback (when no rule matches) is `default_model`.
    pub fn builder(name: impl Into<String>, default_model: Arc<dyn ChatModel>) -> RouterBuilder {
        RouterBuilder {
            routes: Vec::new(),
            default_name: name.into(),
            default_model,
            keep_request_model: false,
        }
    }

    /// The route name, the reason and the model for a request.
    pub fn choose(&self, request: &ChatRequest) -> (&str, &'static str, &Arc<dyn ChatModel>) {
        let (_, name, reason, model) = self.choose_indexed(request);
        (name, reason, model)
    }

    /// As [`Router::choose`], with the route's position (`usize::MAX` for the default).
    fn choose_indexed(
        &self,
        request: &ChatRequest,
    ) -> (usize, &str, &'static str, &Arc<dyn ChatModel>) {
        for (i, route) in self.routes.iter().enumerate() {
            if let Some(reason) = route.rule.matched(request) {
                return (i, &route.name, reason, &route.model);
            }
        }
        (
            usize::MAX,
            &self.default_name,
            "default",
            &self.default_model,
        )
    }

    fn pick(&self, mut request: ChatRequest) -> (String, Arc<dyn ChatModel>, ChatRequest) {
        let (index, name, reason, model) = self.choose_indexed(&request);
        self.counters.add(&(index, reason), 1, || {
            let c = metrics::counter!(
                metric::ROUTE_DECISIONS,
                attr::ROUTE => name.to_string(),
                attr::ROUTE_REASON => reason
            );
            ((index, reason), c)
        });
        // Recorded on the enclosing `gen_ai.chat` span when the telemetry layer is outside.
        let span = tracing::Span::current();
        span.record("ai.route", name);
        span.record("ai.route.reason", reason);
        tracing::debug!(ai.route = name, ai.route.reason = reason, "route chosen");
        if !self.keep_request_model {
            request.model = None;
        }
        (name.to_string(), model.clone(), request)
    }
}

#[async_trait]
impl ChatModel for Router {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let (name, model, request) = self.pick(request);
        let mut response = model.generate(request).await?;
        response.meta.route = Some(name);
        Ok(response)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let (_, model, request) = self.pick(request);
        model.stream(request).await
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn complexity_orders_simple_below_hard() {
        let easy = estimate_complexity(&ChatRequest::user("hi there"));
        let hard = estimate_complexity(&ChatRequest::user(format!(
            "Analyze the trade-off and explain why, step by step:\n```rust\nfn main() {{}}\n```\n{}",
            "context ".repeat(400)
        )));
        assert!(easy < 0.1, "{easy}");
        assert!(hard > 0.6, "{hard}");
    }

    #[test]
    fn pii_rule_ignores_assistant_messages() {
        let rule = Rule::contains_pii(|t| t.contains('@'));
        let req = ChatRequest::new(vec![
            Message::assistant("mail me at a@b.c"),
            Message::user("ok"),
        ]);
        assert!(!rule.matches(&req));
        assert!(rule.matches(&ChatRequest::user("I am a@b.c")));
    }

    #[test]
    fn any_reports_the_matching_reason() {
        let rule = Rule::any(vec![
            Rule::sensitivity_at_least(Sensitivity::Confidential),
            Rule::contains_pii(|t| t.contains('@')),
        ]);
        assert_eq!(rule.matched(&ChatRequest::user("a@b.c")), Some("pii"));
        assert_eq!(
            rule.matched(&ChatRequest::user("x").sensitivity(Sensitivity::Restricted)),
            Some("sensitivity")
        );
        assert_eq!(rule.matched(&ChatRequest::user("x")), None);
    }
}
