//! The shape of a handler: anything callable with a request that returns a future of a
//! `Result`.

use std::future::Future;
use std::pin::Pin;

/// A boxed future, as handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An async handler: the legacy code path or the AI one.
///
/// Implemented for every `Fn(Req) -> impl Future<Output = Result<Resp, Err>>` that is
/// `Send + Sync`, so plain async closures work:
///
/// ```
/// use ai_rollout::Handler;
/// let legacy = |order: u32| async move { Ok::<_, String>(format!("rule-based answer for {order}")) };
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(legacy.call(7).await.unwrap(), "rule-based answer for 7");
/// # });
/// ```
pub trait Handler<Req>: Send + Sync {
    /// The answer.
    type Output: Send;
    /// The failure.
    type Error: Send;
    /// Handle `req`.
    fn call(&self, req: Req) -> BoxFuture<'static, Result<Self::Output, Self::Error>>;
}

impl<Req, F, Fut, O, E> Handler<Req> for F
where
    F: Fn(Req) -> Fut + Send + Sync,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    O: Send,
    E: Send,
{
    type Output = O;
    type Error = E;
    fn call(&self, req: Req) -> BoxFuture<'static, Result<O, E>> {
        Box::pin(self(req))
    }
}
