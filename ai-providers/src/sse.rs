//! A Server-Sent Events decoder over a byte stream.
//!
//! Written for this crate rather than taken from a crate because its exact behaviour is part of
//! the product: the same bytes must decode to the same events however the network splits them
//! (one byte at a time, inside a UTF-8 character, between `\r` and `\n`). Lines are split on
//! ASCII bytes first and only then decoded, so a multi-byte character can never be cut; a
//! trailing `\r` at the end of a chunk is remembered so that a `\n` opening the next chunk is
//! not read as an empty line. Follows the WHATWG event-stream rules, plus one leniency: an event
//! whose blank-line terminator never arrives is still delivered at the end of the stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use ai_core::{AiError, ErrorKind, Result};

/// Largest line accepted (bytes); longer lines mean a broken or hostile server.
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, empty when absent (the spec's default type is `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
    /// The `retry:` field, in milliseconds, if sent with this event.
    pub retry: Option<u64>,
}

/// Incremental SSE parser: feed it chunks, take events out.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    pending_cr: bool,
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
}

impl SseDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one chunk; complete events are appended to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while !chunk.is_empty() {
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    let terminator = chunk[i];
                    if self.line.is_empty() {
                        self.process_line(&chunk[..i], out);
                    } else {
                        self.line.extend_from_slice(&chunk[..i]);
                        let line = std::mem::take(&mut self.line);
                        self.process_line(&line, out);
                        self.line = line;
                        self.line.clear();
                    }
                    chunk = &chunk[i + 1..];
                    if terminator == b'\r' {
                        match chunk.first() {
                            Some(b'\n') => chunk = &chunk[1..],
                            Some(_) => {}
                            None => self.pending_cr = true,
                        }
                    }
                }
                None => {
                    if self.line.len() + chunk.len() > MAX_LINE {
                        return Err(AiError::new(
                            ErrorKind::Decode,
                            format!("server-sent event line longer than {MAX_LINE} bytes"),
                        ));
                    }
                    self.line.extend_from_slice(chunk);
                    chunk = &[];
                }
            }
        }
        Ok(())
    }

    /// The stream ended: deliver a last event whose terminator never came.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) {
        let mut raw = raw;
        if !self.started {
            self.started = true;
            if let Some(rest) = raw.strip_prefix("\u{feff}".as_bytes()) {
                raw = rest;
            }
        }
        if raw.is_empty() {
            self.dispatch(out);
            return;
        }
        if raw[0] == b':' {
            return; // comment (keep-alive)
        }
        let (name, value) = match raw.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &raw[i + 1..];
                (&raw[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (raw, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = value.into_owned(),
            b"id" if !value.contains('\0') => {
                self.id = Some(value.into_owned());
            }
            b"retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if !self.has_data {
            self.event.clear();
            return;
        }
        out.push(SseEvent {
            event: std::mem::take(&mut self.event),
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
            retry: self.retry.take(),
        });
        self.has_data = false;
    }
}

/// A stream of SSE events decoded from a stream of byte chunks.
pub struct SseStream<S> {
    inner: S,
    decoder: SseDecoder,
    ready: std::collections::VecDeque<SseEvent>,
    scratch: Vec<SseEvent>,
    done: bool,
}

impl<S> SseStream<S> {
    /// Decode `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            decoder: SseDecoder::new(),
            ready: Default::default(),
            scratch: Vec::new(),
            done: false,
        }
    }
}

impl<S> Stream for SseStream<S>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    type Item = Result<SseEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(ev) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(ev)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Err(e) = this.decoder.feed(&bytes, &mut this.scratch) {
                        this.done = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                    this.ready.extend(this.scratch.drain(..));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    this.decoder.finish(&mut this.scratch);
                    this.ready.extend(this.scratch.drain(..));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out).unwrap();
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn spec_examples() {
        let evs = decode_all(&[b"data: YHOO\ndata: +2\ndata: 10\n\n"]);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].data, "YHOO\n+2\n10");
        let evs = decode_all(&[b": comment\n\ndata: first\nid: 1\n\nevent: add\ndata:second\n\n"]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].id.as_deref(), Some("1"));
        assert_eq!(evs[1].event, "add");
        assert_eq!(evs[1].data, "second");
        // A field with no colon, and an event with no data, dispatch nothing.
        assert!(decode_all(&[b"event: ping\n\n"]).is_empty());
        let evs = decode_all(&[b"data\n\n"]);
        assert_eq!(evs[0].data, "");
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let evs = decode_all(&[b"data: a\r", b"\n", b"data: b\r\n\r", b"\n"]);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].data, "a\nb");
        // Bare CR line endings.
        let evs = decode_all(&[b"data: x\rdata: y\r\r"]);
        assert_eq!(evs[0].data, "x\ny");
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let s = "data: héllo 🌍\n\n".as_bytes();
        for cut in 0..s.len() {
            let evs = decode_all(&[&s[..cut], &s[cut..]]);
            assert_eq!(evs[0].data, "héllo 🌍", "cut at {cut}");
        }
    }

    #[test]
    fn empty_chunk_between_cr_and_lf() {
        let evs = decode_all(&[b"event: e\r", b"", b"\ndata: x\r\n\r\n"]);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].event, "e");
    }

    #[test]
    fn bom_and_unterminated_last_event() {
        let evs = decode_all(&["\u{feff}data: a\n\ndata: tail".as_bytes()]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[1].data, "tail");
    }
}

#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    fn encode(events: &[(String, String)], crlf: bool) -> Vec<u8> {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut s = String::new();
        for (name, data) in events {
            if !name.is_empty() {
                s.push_str(&format!("event: {name}{nl}"));
            }
            for line in data.split('\n') {
                s.push_str(&format!("data: {line}{nl}"));
            }
            s.push_str(nl);
        }
        s.into_bytes()
    }

    proptest! {
        #[test]
        fn any_split_decodes_the_same(
            events in proptest::collection::vec(("[a-z]{0,6}", "[^\r\n]{0,20}(\n[^\r\n]{0,20}){0,2}"), 1..6),
            crlf in any::<bool>(),
            cuts in proptest::collection::vec(0usize..400, 0..30),
        ) {
            let body = encode(&events, crlf);
            let mut d = SseDecoder::new();
            let mut whole = Vec::new();
            d.feed(&body, &mut whole).unwrap();
            d.finish(&mut whole);
            prop_assert_eq!(whole.len(), events.len());
            for (got, (name, data)) in whole.iter().zip(&events) {
                prop_assert_eq!(&got.event, name);
                prop_assert_eq!(&got.data, data);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|c| *c < body.len()).collect();
            cuts.sort_unstable();
            let mut d = SseDecoder::new();
            let mut split = Vec::new();
            let mut start = 0;
            for c in cuts {
                d.feed(&body[start..c], &mut split).unwrap();
                start = c;
            }
            d.feed(&body[start..], &mut split).unwrap();
            d.finish(&mut split);
            prop_assert_eq!(split, whole);
        }
    }
}
