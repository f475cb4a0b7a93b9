//! Test doubles: a scripted [`ChatModel`] for exercising layers and application code without a
//! provider.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use parking_lot::Mutex;

use crate::error::{AiError, Result};
use crate::model::{Capabilities, ChatModel};
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, StreamAccumulator, StreamEvent, replay_stream};

/// One scripted outcome.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // a test double: clarity beats size
pub enum Step {
    /// Answer with this response (replayed as events to `stream`).
    Reply(ChatResponse),
    /// Fail the call (or the opening of the stream).
    Fail(AiError),
    /// Stream these items, each after its delay (collected into a response for `generate`).
    Stream(Vec<(Duration, Result<StreamEvent>)>),
    /// Wait, then take the inner step.
    Delay(Duration, Box<Step>),
}

/// A [`ChatModel`] that plays [`Step`]s in order, then repeats the last one forever.
///
/// ```
/// use ai_core::{ChatModel, ChatRequest, testing::ScriptedModel};
/// # tokio_test_block(async {
/// let model = ScriptedModel::always_text("hello");
/// let r = model.generate(ChatRequest::user("hi")).await.unwrap();
/// assert_eq!(r.text(), "hello");
/// assert_eq!(model.calls(), 1);
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug)]
pub struct ScriptedModel {
    capabilities: Capabilities,
    steps: Mutex<VecDeque<Step>>,
    last: Mutex<Option<Step>>,
    calls: AtomicU32,
    requests: Mutex<Vec<ChatRequest>>,
}

impl ScriptedModel {
    /// A model that plays `steps` in order.
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            capabilities: Capabilities {
                provider: "scripted".into(),
                model: "scripted-model".into(),
                streaming: true,
                ..Capabilities::default()
            },
            steps: Mutex::new(steps.into()),
            last: Mutex::new(None),
            calls: AtomicU32::new(0),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// A model that always answers `text`.
    pub fn always_text(text: &str) -> Self {
        Self::new(vec![Step::Reply(ChatResponse::text_answer(text))])
    }

    /// Rename the provider and default model reported in capabilities.
    pub fn named(mut self, provider: &str, model: &str) -> Self {
        self.capabilities.provider = provider.into();
        self.capabilities.model = model.into();
        self
    }

    /// Calls received so far.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().clone()
    }

    fn next_step(&self, request: &ChatRequest) -> Step {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().push(request.clone());
        let mut steps = self.steps.lock();
        match steps.pop_front() {
            Some(step) => {
                *self.last.lock() = Some(step.clone());
                step
            }
            None => self
                .last
                .lock()
                .clone()
                .unwrap_or_else(|| Step::Fail(AiError::config("ScriptedModel has no steps"))),
        }
    }
}

async fn resolve(mut step: Step) -> Step {
    while let Step::Delay(d, inner) = step {
        tokio::time::sleep(d).await;
        step = *inner;
    }
    step
}

fn timed_stream(items: Vec<(Duration, Result<StreamEvent>)>) -> ChatStream {
    Box::pin(
        futures::stream::iter(items).then(|(delay, item)| async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            item
        }),
    )
}

#[async_trait]
impl ChatModel for ScriptedModel {
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        match resolve(self.next_step(&request)).await {
            Step::Reply(r) => Ok(r),
            Step::Fail(e) => Err(e),
            Step::Stream(items) => {
                let mut acc = StreamAccumulator::new();
                let mut stream = timed_stream(items);
                while let Some(item) = stream.next().await {
                    acc.push(&item?);
                }
                Ok(acc.finish())
            }
            Step::Delay(..) => Err(AiError::config("unreachable: delay resolved")),
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        match resolve(self.next_step(&request)).await {
            Step::Reply(r) => Ok(replay_stream(&r)),
            Step::Fail(e) => Err(e),
            Step::Stream(items) => Ok(timed_stream(items)),
            Step::Delay(..) => Err(AiError::config("unreachable: delay resolved")),
        }
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
}
