//! The guard layer: access policy, input guards, the model, output guards — around any
//! `ChatModel`, in block, redact or report-only mode.
//!
//! ```
//! # async fn run() -> ai_core::Result<()> {
//! use std::sync::Arc;
//! use ai_core::layers::{Layer, Stack};
//! use ai_core::testing::{ScriptedModel, Step};
//! use ai_core::{ChatModel, ChatRequest, ChatResponse};
//! use ai_guard::{GuardLayer, GuardMode};
//!
//! let model = Arc::new(ScriptedModel::new(vec![Step::Reply(ChatResponse::text_answer(
//!     "Sure, I will write to [EMAIL_1].",
//! ))]));
//! let guarded = Stack::new().layer(GuardLayer::standard(GuardMode::Redact)).build_chat(model.clone());
//! let answer = guarded
//!     .generate(ChatRequest::user("Please email jane@example.com about the refund."))
//!     .await?;
//! // The provider saw a placeholder; the caller gets the real address back.
//! assert!(model.requests()[0].messages[0].text().contains("[EMAIL_1]"));
//! assert_eq!(answer.text(), "Sure, I will write to jane@example.com.");
//! # Ok(()) }
//! ```

use std::sync::Arc;

use ai_core::layers::Layer;
use ai_core::{
    AiError, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, ContentPart,
    ErrorKind, Message, Result, Role, StreamEvent,
};
use async_trait::async_trait;
use futures::StreamExt;

use crate::injection::{InjectionScorer, Spotlight};
use crate::output::{OutputChecks, OutputIssue};
use crate::pii::PiiDetector;
use crate::policy::AccessPolicy;
use crate::redact::{RedactMode, Redactor, StreamRestorer, Vault};

/// Metric: guard decisions, labelled `check` and `outcome` (`passed`, `blocked`, `redacted`,
/// `reported`).
pub const DECISIONS: &str = "ai.guard.decisions";

/// What a guard does when a check fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMode {
    /// Fail the call with a `Guard` error naming the check.
    Block,
    /// Repair and go on: personal data is replaced by placeholders (restored in the answer),
    /// suspected injections are wrapped as data between random boundaries, leaked canaries
    /// and personal data in answers are redacted. Access policy still blocks.
    Redact,
    /// Let everything through; only metrics and log events (shadow-testing a guard).
    Report,
}

/// Guards around a chat model (see the module docs).
#[derive(Clone)]
pub struct GuardLayer {
    cfg: Arc<Config>,
}

struct Config {
    mode: GuardMode,
    policy: Option<AccessPolicy>,
    role_tag: String,
    tenant_tag: String,
    pii: Option<Redactor>,
    injection: Option<InjectionScorer>,
    output: OutputChecks,
}

impl std::fmt::Debug for GuardLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardLayer")
            .field("mode", &self.cfg.mode)
            .field("policy", &self.cfg.policy.is_some())
            .field("pii", &self.cfg.pii.is_some())
            .field("injection", &self.cfg.injection.is_some())
            .finish_non_exhaustive()
    }
}

impl GuardLayer {
    /// A layer with no checks yet.
    pub fn new(mode: GuardMode) -> Self {
        Self {
            cfg: Arc::new(Config {
                mode,
                policy: None,
                role_tag: "role".into(),
                tenant_tag: "tenant".into(),
                pii: None,
                injection: None,
                output: OutputChecks::new(),
            }),
        }
    }

    /// PII redaction on input, the injection scorer, and PII and canary checks on output
    /// (with a fresh canary planted in the system prompt).
    pub fn standard(mode: GuardMode) -> Self {
        let detector = Arc::new(PiiDetector::default());
        Self::new(mode)
            .pii(Redactor::new(detector.clone()))
            .injection(InjectionScorer::default())
            .output(
                OutputChecks::new()
                    .pii(detector)
                    .canary(crate::output::Canary::new()),
            )
    }

    fn edit(mut self, f: impl FnOnce(&mut Config)) -> Self {
        if let Some(c) = Arc::get_mut(&mut self.cfg) {
            f(c);
        }
        self
    }

    /// Check `policy` before any model call: the feature is the request's
    /// `metadata.feature`, the role its `role` tag, the tenant its `tenant` tag (or its key).
    pub fn policy(self, policy: AccessPolicy) -> Self {
        self.edit(|c| c.policy = Some(policy))
    }

    /// Read the role and tenant from these request tags instead.
    pub fn tags(self, role: &str, tenant: &str) -> Self {
        self.edit(|c| {
            c.role_tag = role.to_owned();
            c.tenant_tag = tenant.to_owned();
        })
    }

    /// Detect (and in redact mode replace) personal data in every message.
    pub fn pii(self, redactor: Redactor) -> Self {
        self.edit(|c| c.pii = Some(redactor))
    }

    /// Score user and tool messages for prompt injection.
    pub fn injection(self, scorer: InjectionScorer) -> Self {
        self.edit(|c| c.injection = Some(scorer))
    }

    /// Checks on the answer.
    pub fn output(self, checks: OutputChecks) -> Self {
        self.edit(|c| c.output = checks)
    }
}

impl Layer for GuardLayer {
    fn wrap_chat(&self, inner: Arc<dyn ChatModel>) -> Arc<dyn ChatModel> {
        Arc::new(Guarded {
            inner,
            cfg: self.cfg.clone(),
        })
    }
}

struct Guarded {
    inner: Arc<dyn ChatModel>,
    cfg: Arc<Config>,
}

fn decision(check: &'static str, outcome: &'static str, signals: &[&str]) {
    metrics::counter!(DECISIONS, "check" => check, "outcome" => outcome).increment(1);
    if outcome != "passed" {
        // Names of checks and signals only: never the text or the values found.
        tracing::info!(target: "ai_guard", check, outcome, signals = ?signals, "guard decision");
    }
}

fn guard_error(code: &'static str, message: String) -> AiError {
    AiError::new(ErrorKind::Guard, message).with_code(code)
}

fn map_texts(m: &mut Message, mut f: impl FnMut(&str) -> String) {
    for part in &mut m.content {
        if let ContentPart::Text { text } = part {
            *text = f(text);
        }
    }
    for call in &mut m.tool_calls {
        call.arguments = f(&call.arguments);
    }
}

impl Guarded {
    fn outcome(&self) -> &'static str {
        match self.cfg.mode {
            GuardMode::Block => "blocked",
            GuardMode::Redact => "redacted",
            GuardMode::Report => "reported",
        }
    }

    /// Policy, injection and PII checks; returns the request to send and the vault.
    fn before(&self, mut req: ChatRequest) -> Result<(ChatRequest, Vault)> {
        let cfg = &self.cfg;
        if let Some(policy) = &cfg.policy {
            let feature = req.metadata.feature.clone().unwrap_or_default();
            let role = req.metadata.tags.get(&cfg.role_tag).cloned();
            let tenant = req
                .metadata
                .tags
                .get(&cfg.tenant_tag)
                .cloned()
                .or_else(|| req.metadata.key.clone());
            match policy.check(&feature, role.as_deref(), tenant.as_deref()) {
                Ok(()) => decision("access_policy", "passed", &[]),
                Err(e) if cfg.mode == GuardMode::Report => {
                    decision("access_policy", "reported", &[]);
                    drop(e);
                }
                Err(e) => {
                    decision("access_policy", "blocked", &[]);
                    return Err(e);
                }
            }
        }
        if let Some(scorer) = &cfg.injection {
            let mut instructions = Vec::new();
            for m in req
                .messages
                .iter_mut()
                .filter(|m| matches!(m.role, Role::User | Role::Tool))
            {
                let verdict = scorer.try_score(&m.text())?;
                if !verdict.attack {
                    continue;
                }
                let names: Vec<&str> = verdict.signals.iter().map(|s| s.name).collect();
                decision("prompt_injection", self.outcome(), &names);
                match cfg.mode {
                    GuardMode::Block => {
                        return Err(guard_error(
                            "prompt_injection",
                            format!(
                                "the request looks like a prompt injection (score {:.2}; signals: {})",
                                verdict.score,
                                names.join(", ")
                            ),
                        ));
                    }
                    GuardMode::Redact => {
                        let wrapped = Spotlight::new().label("untrusted input").wrap(&m.text());
                        m.content = vec![ContentPart::text(wrapped.text)];
                        instructions.push(wrapped.instruction);
                    }
                    GuardMode::Report => {}
                }
            }
            if !instructions.is_empty() {
                req.messages
                    .insert(0, Message::system(instructions.join("\n")));
            }
        }
        let mut vault = Vault::new();
        if let Some(redactor) = &cfg.pii {
            let mut kinds: Vec<String> = Vec::new();
            for m in &mut req.messages {
                let mut texts: Vec<String> = Vec::new();
                for part in &m.content {
                    if let ContentPart::Text { text } = part {
                        texts.push(text.clone());
                    }
                }
                for t in &texts {
                    for f in redactor.detector().try_detect(t)? {
                        kinds.push(f.kind.to_string());
                    }
                }
                if cfg.mode == GuardMode::Redact {
                    map_texts(m, |t| redactor.redact(t, &mut vault).text);
                }
            }
            kinds.sort();
            kinds.dedup();
            if kinds.is_empty() {
                decision("input_pii", "passed", &[]);
            } else {
                let names: Vec<&str> = kinds.iter().map(String::as_str).collect();
                decision("input_pii", self.outcome(), &names);
                if cfg.mode == GuardMode::Block {
                    return Err(guard_error(
                        "pii",
                        format!("the request contains personal data: {}", names.join(", ")),
                    ));
                }
            }
        }
        if let Some(canary) = cfg.output.canary_token() {
            match req.messages.iter_mut().find(|m| m.role == Role::System) {
                Some(system) => {
                    let planted = canary.plant(&system.text());
                    system.content = vec![ContentPart::text(planted)];
                }
                None => req.messages.insert(0, Message::system(canary.plant(""))),
            }
        }
        Ok((req, vault))
    }

    /// Output checks on the raw answer text; in redact mode returns the repaired text.
    fn after(&self, raw: &str) -> Result<Option<String>> {
        let issues = self.cfg.output.check(raw);
        if issues.is_empty() {
            if !self.cfg.output.is_empty() {
                decision("output", "passed", &[]);
            }
            return Ok(None);
        }
        let names: Vec<&str> = issues.iter().map(OutputIssue::name).collect();
        for i in &issues {
            decision(i.name(), self.outcome(), &names);
        }
        match self.cfg.mode {
            GuardMode::Report => Ok(None),
            GuardMode::Block => Err(guard_error(
                names[0],
                format!("the answer failed output checks: {}", names.join(", ")),
            )),
            GuardMode::Redact => {
                if issues.contains(&OutputIssue::Format) {
                    return Err(guard_error(
                        "output_format",
                        "the answer is not in an allowed format".into(),
                    ));
                }
                let mut text = raw.to_owned();
                if let Some(c) = self.cfg.output.canary_token() {
                    text = text.replace(c.token(), "[REDACTED]");
                    if c.found_in(&text) {
                        return Err(guard_error(
                            "system_prompt_leak",
                            "the answer leaks the system prompt".into(),
                        ));
                    }
                }
                if let Some(d) = self.cfg.output.pii_detector() {
                    let masked = Redactor::new(d.clone()).mode(RedactMode::Placeholder);
                    // A throwaway vault: personal data the model produced is not restored.
                    text = masked.redact(&text, &mut Vault::new()).text;
                }
                Ok(Some(text))
            }
        }
    }
}

#[async_trait]
impl ChatModel for Guarded {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        let (req, vault) = self.before(request)?;
        let mut resp = self.inner.generate(req).await?;
        let raw = resp.text();
        if let Some(fixed) = self.after(&raw)? {
            resp.message.content = vec![ContentPart::text(fixed)];
        }
        if !vault.is_empty() {
            map_texts(&mut resp.message, |t| vault.restore(t));
        }
        Ok(resp)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let (req, vault) = self.before(request)?;
        let inner = self.inner.stream(req).await?;
        let vault = Arc::new(vault);
        let state = StreamState {
            guard: Guarded {
                inner: self.inner.clone(),
                cfg: self.cfg.clone(),
            },
            restorer: vault.stream_restorer(),
            raw: String::new(),
            held: String::new(),
            hold: self
                .cfg
                .output
                .canary_token()
                .map_or(0, |c| c.token().len() + 8),
            done: false,
        };
        // Events in, events out; when the inner stream ends without a `Finish`, whatever
        // was held back is released then.
        let out = futures::stream::unfold(
            (inner, state, false),
            |(mut inner, mut st, ended)| async move {
                if ended || st.done {
                    return None;
                }
                match inner.next().await {
                    Some(item) => {
                        let events = st.on_item(item);
                        Some((futures::stream::iter(events), (inner, st, false)))
                    }
                    None => {
                        let mut rest = std::mem::take(&mut st.held);
                        rest.push_str(&st.restorer.finish());
                        let events = if rest.is_empty() {
                            Vec::new()
                        } else {
                            vec![Ok(StreamEvent::TextDelta { text: rest })]
                        };
                        Some((futures::stream::iter(events), (inner, st, true)))
                    }
                }
            },
        )
        .flatten();
        Ok(Box::pin(out))
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
}

struct StreamState {
    guard: Guarded,
    restorer: StreamRestorer,
    raw: String,
    held: String,
    hold: usize,
    done: bool,
}

impl StreamState {
    fn on_item(&mut self, item: Result<StreamEvent>) -> Vec<Result<StreamEvent>> {
        if self.done {
            return Vec::new();
        }
        match item {
            Ok(StreamEvent::TextDelta { text }) => {
                self.raw.push_str(&text);
                if let Some(c) = self.guard.cfg.output.canary_token()
                    && c.found_in(&self.raw)
                    && self.guard.cfg.mode != GuardMode::Report
                {
                    decision(
                        "system_prompt_leak",
                        self.guard.outcome(),
                        &["system_prompt_leak"],
                    );
                    self.done = true;
                    return vec![Err(guard_error(
                        "system_prompt_leak",
                        "the answer leaks the system prompt".into(),
                    ))];
                }
                self.held.push_str(&self.restorer.push(&text));
                // Keep the last few characters back so a canary is caught before any of it
                // is released.
                let mut cut = self.held.len().saturating_sub(self.hold);
                while !self.held.is_char_boundary(cut) {
                    cut -= 1;
                }
                let out: String = self.held.drain(..cut).collect();
                if out.is_empty() {
                    Vec::new()
                } else {
                    vec![Ok(StreamEvent::TextDelta { text: out })]
                }
            }
            Ok(StreamEvent::Finish { .. }) | Err(_) => {
                let mut events = Vec::new();
                let failed = item.is_err();
                if !failed {
                    // The whole answer is known: run the remaining output checks.
                    if let Err(e) = self.guard.after(&self.raw)
                        && self.guard.cfg.mode == GuardMode::Block
                    {
                        self.done = true;
                        return vec![Err(e)];
                    }
                }
                let mut rest = std::mem::take(&mut self.held);
                rest.push_str(&self.restorer.finish());
                if !rest.is_empty() {
                    events.push(Ok(StreamEvent::TextDelta { text: rest }));
                }
                events.push(item);
                self.done = failed;
                events
            }
            other => vec![other],
        }
    }
}
