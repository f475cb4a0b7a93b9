//! Turning a response body (a stream of byte chunks) into a `ChatStream` with a push decoder:
//! the first error ends the stream, and nothing is read once the decoder is done.

use std::collections::VecDeque;

use ai_core::{ChatStream, Result, StreamEvent};
use bytes::Bytes;
use futures::{Stream, StreamExt};

/// A provider's body decoder, fed chunk by chunk.
pub(crate) trait BodyDecoder: Send + 'static {
    /// Decode a chunk, appending events (an `Err` ends the stream).
    fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Result<StreamEvent>>);
    /// The body ended: flush what is buffered, and report a stream cut short.
    fn end(&mut self, out: &mut VecDeque<Result<StreamEvent>>);
    /// Whether the stream is complete (no more bytes are read).
    fn done(&self) -> bool {
        false
    }
}

/// Drive `dec` over `bytes`.
pub(crate) fn pump<S, D>(bytes: S, dec: D) -> ChatStream
where
    S: Stream<Item = Result<Bytes>> + Unpin + Send + 'static,
    D: BodyDecoder,
{
    struct St<S, D> {
        bytes: S,
        dec: D,
        ready: VecDeque<Result<StreamEvent>>,
        over: bool,
    }
    let st = St {
        bytes,
        dec,
        ready: VecDeque::new(),
        over: false,
    };
    futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some(item) = st.ready.pop_front() {
                if item.is_err() {
                    st.over = true;
                    st.ready.clear();
                }
                return Some((item, st));
            }
            if st.over || st.dec.done() {
                return None;
            }
            match st.bytes.next().await {
                Some(Ok(chunk)) => st.dec.feed(&chunk, &mut st.ready),
                Some(Err(e)) => st.ready.push_back(Err(e)),
                None => {
                    st.over = true;
                    st.dec.end(&mut st.ready);
                }
            }
        }
    })
    .boxed()
}
