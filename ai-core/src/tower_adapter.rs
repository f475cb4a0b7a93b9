//! Adapters between [`ChatModel`] and `tower::Service` (feature `tower`), so tower's own
//! middleware (load shedding, buffering, hedging…) can be used on either side.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use tower::{Service, ServiceExt};

use crate::error::{AiError, Result};
use crate::model::{Capabilities, ChatModel};
use crate::request::ChatRequest;
use crate::response::ChatResponse;
use crate::stream::{ChatStream, replay_stream};

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// A `tower::Service<ChatRequest>` answering with [`ChatModel::generate`].
#[derive(Clone)]
pub struct ChatService {
    model: Arc<dyn ChatModel>,
}

impl ChatService {
    /// Serve `model`.
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        Self { model }
    }
}

impl Service<ChatRequest> for ChatService {
    type Response = ChatResponse;
    type Error = AiError;
    type Future = BoxFuture<ChatResponse>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let model = self.model.clone();
        Box::pin(async move { model.generate(request).await })
    }
}

/// A `tower::Service<ChatRequest>` answering with [`ChatModel::stream`].
#[derive(Clone)]
pub struct StreamingChatService {
    model: Arc<dyn ChatModel>,
}

impl StreamingChatService {
    /// Serve `model` as streams.
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        Self { model }
    }
}

impl Service<ChatRequest> for StreamingChatService {
    type Response = ChatStream;
    type Error = AiError;
    type Future = BoxFuture<ChatStream>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: ChatRequest) -> Self::Future {
        let model = self.model.clone();
        Box::pin(async move { model.stream(request).await })
    }
}

/// A [`ChatModel`] backed by any `tower::Service<ChatRequest, Response = ChatResponse>`.
/// Streams are replays of the complete answer.
#[derive(Clone)]
pub struct ServiceModel<S> {
    service: S,
    capabilities: Capabilities,
}

impl<S> ServiceModel<S> {
    /// Wrap `service`, reporting `capabilities`.
    pub fn new(service: S, capabilities: Capabilities) -> Self {
        Self {
            service,
            capabilities,
        }
    }
}

#[async_trait]
impl<S> ChatModel for ServiceModel<S>
where
    S: Service<ChatRequest, Response = ChatResponse, Error = AiError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
{
    async fn generate(&self, request: ChatRequest) -> Result<ChatResponse> {
        self.service.clone().oneshot(request).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let response = self.generate(request).await?;
        Ok(replay_stream(&response))
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }
}
