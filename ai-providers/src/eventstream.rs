//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), used by Bedrock's
//! `ConverseStream` and `InvokeModelWithResponseStream`: decoding with both CRC32 checks, exact
//! however the bytes are chunked, and encoding (for mocks and tests).
//!
//! A frame is: total length (u32), headers length (u32), prelude CRC32 (of the first 8 bytes),
//! headers, payload, message CRC32 (of everything before it); all big-endian. A header is a
//! name (u8 length + UTF-8), a type byte and a value.
//!
//! ```
//! use ai_providers::eventstream::{EventStreamDecoder, Frame, HeaderValue};
//! let bytes = Frame::new(b"{\"p\":1}".to_vec())
//!     .header(":event-type", HeaderValue::String("messageStart".into()))
//!     .encode();
//! let mut dec = EventStreamDecoder::default();
//! let mut out = Vec::new();
//! dec.feed(&bytes, &mut out);
//! let frame = out.remove(0).unwrap();
//! assert_eq!(frame.string_header(":event-type"), Some("messageStart"));
//! ```

use ai_core::{AiError, Result};

/// Largest frame accepted (AWS caps messages at 16 MiB of payload and 128 KiB of headers).
pub const MAX_FRAME: usize = 16 * 1024 * 1024 + 128 * 1024 + 16;
const PRELUDE: usize = 12;
const MIN_FRAME: usize = PRELUDE + 4;

/// A header value, by its wire type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 and 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Short(i16),
    /// Type 4.
    Int(i32),
    /// Type 5.
    Long(i64),
    /// Type 6.
    Bytes(Vec<u8>),
    /// Type 7.
    String(String),
    /// Type 8: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Headers in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    /// The payload (JSON for Bedrock).
    pub payload: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> AiError {
    AiError::decode(format!("invalid event-stream frame: {}", msg.into()), "")
        .with_provider("aws-eventstream")
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl Frame {
    /// A frame with `payload` and no headers.
    pub fn new(payload: Vec<u8>) -> Self {
        Self {
            headers: Vec::new(),
            payload,
        }
    }

    /// A JSON event frame as Bedrock's ConverseStream sends them: `:event-type` `kind`,
    /// `:content-type` `application/json`, `:message-type` `event` (for mocks and tests).
    ///
    /// ```
    /// use ai_providers::eventstream::Frame;
    /// let bytes = Frame::json_event("messageStop", &serde_json::json!({"stopReason": "end_turn"}));
    /// assert!(bytes.len() > 16);
    /// ```
    pub fn json_event(kind: &str, payload: &serde_json::Value) -> Vec<u8> {
        Self::new(payload.to_string().into_bytes())
            .header(":event-type", HeaderValue::String(kind.into()))
            .header(
                ":content-type",
                HeaderValue::String("application/json".into()),
            )
            .header(":message-type", HeaderValue::String("event".into()))
            .encode()
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: HeaderValue) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }

    /// The value of a string header.
    pub fn string_header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// The wire bytes of this frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            let n = name.as_bytes();
            headers.push(n.len().min(255) as u8);
            headers.extend_from_slice(&n[..n.len().min(255)]);
            match value {
                HeaderValue::Bool(true) => headers.push(0),
                HeaderValue::Bool(false) => headers.push(1),
                HeaderValue::Byte(v) => {
                    headers.push(2);
                    headers.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Short(v) => {
                    headers.push(3);
                    headers.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Int(v) => {
                    headers.push(4);
                    headers.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Long(v) => {
                    headers.push(5);
                    headers.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Bytes(b) => {
                    headers.push(6);
                    headers.extend_from_slice(&(b.len() as u16).to_be_bytes());
                    headers.extend_from_slice(b);
                }
                HeaderValue::String(s) => {
                    headers.push(7);
                    headers.extend_from_slice(&(s.len() as u16).to_be_bytes());
                    headers.extend_from_slice(s.as_bytes());
                }
                HeaderValue::Timestamp(v) => {
                    headers.push(8);
                    headers.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Uuid(u) => {
                    headers.push(9);
                    headers.extend_from_slice(u);
                }
            }
        }
        let total = PRELUDE + headers.len() + self.payload.len() + 4;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
        out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
        out.extend_from_slice(&headers);
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
        out
    }

    /// Parse one whole frame (`bytes` is exactly its total length, CRCs already checked).
    fn parse(bytes: &[u8]) -> Result<Self> {
        let headers_len = be_u32(&bytes[4..8]) as usize;
        let headers_end = PRELUDE + headers_len;
        let mut h = &bytes[PRELUDE..headers_end];
        let mut headers = Vec::new();
        let take = |h: &mut &[u8], n: usize| -> Result<Vec<u8>> {
            if h.len() < n {
                return Err(bad("a header runs past the header block"));
            }
            let (v, rest) = h.split_at(n);
            *h = rest;
            Ok(v.to_vec())
        };
        while !h.is_empty() {
            let name_len = usize::from(take(&mut h, 1)?[0]);
            let name = String::from_utf8(take(&mut h, name_len)?)
                .map_err(|_| bad("a header name is not UTF-8"))?;
            let kind = take(&mut h, 1)?[0];
            let fixed = |h: &mut &[u8], n: usize| -> Result<[u8; 8]> {
                let v = take(h, n)?;
                let mut buf = [0u8; 8];
                buf[8 - n..].copy_from_slice(&v);
                Ok(buf)
            };
            let value = match kind {
                0 => HeaderValue::Bool(true),
                1 => HeaderValue::Bool(false),
                2 => HeaderValue::Byte(i8::from_be_bytes([fixed(&mut h, 1)?[7]])),
                3 => {
                    let b = fixed(&mut h, 2)?;
                    HeaderValue::Short(i16::from_be_bytes([b[6], b[7]]))
                }
                4 => {
                    let b = fixed(&mut h, 4)?;
                    HeaderValue::Int(i32::from_be_bytes([b[4], b[5], b[6], b[7]]))
                }
                5 => HeaderValue::Long(i64::from_be_bytes(fixed(&mut h, 8)?)),
                6 | 7 => {
                    let len = take(&mut h, 2)?;
                    let v = take(&mut h, usize::from(u16::from_be_bytes([len[0], len[1]])))?;
                    if kind == 6 {
                        HeaderValue::Bytes(v)
                    } else {
                        HeaderValue::String(
                            String::from_utf8(v)
                                .map_err(|_| bad("a string header is not UTF-8"))?,
                        )
                    }
                }
                8 => HeaderValue::Timestamp(i64::from_be_bytes(fixed(&mut h, 8)?)),
                9 => {
                    let v = take(&mut h, 16)?;
                    let mut u = [0u8; 16];
                    u.copy_from_slice(&v);
                    HeaderValue::Uuid(u)
                }
                other => return Err(bad(format!("unknown header type {other}"))),
            };
            if headers.iter().any(|(n, _)| *n == name) {
                return Err(bad(format!("duplicate header `{name}`")));
            }
            headers.push((name, value));
        }
        Ok(Self {
            headers,
            payload: bytes[headers_end..bytes.len() - 4].to_vec(),
        })
    }
}

/// Splits a byte stream into frames across chunk boundaries. After the first error it
/// produces nothing more (a framing error leaves no way to find the next frame).
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buf: Vec<u8>,
    failed: bool,
}

impl EventStreamDecoder {
    /// Feed a chunk; complete frames (or the error that stops decoding) go to `out` in order.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Result<Frame>>) {
        if self.failed {
            return;
        }
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while self.buf.len() - start >= PRELUDE {
            let b = &self.buf[start..];
            let total = be_u32(&b[0..4]) as usize;
            let headers_len = be_u32(&b[4..8]) as usize;
            if crc32fast::hash(&b[0..8]) != be_u32(&b[8..12]) {
                return self.fail(out, "prelude CRC mismatch");
            }
            if !(MIN_FRAME..=MAX_FRAME).contains(&total) || headers_len > total - MIN_FRAME {
                return self.fail(out, format!("lengths {total}/{headers_len} out of range"));
            }
            if b.len() < total {
                break;
            }
            let frame = &b[..total];
            if crc32fast::hash(&frame[..total - 4]) != be_u32(&frame[total - 4..]) {
                return self.fail(out, "message CRC mismatch");
            }
            match Frame::parse(frame) {
                Ok(f) => out.push(Ok(f)),
                Err(e) => {
                    self.failed = true;
                    self.buf.clear();
                    out.push(Err(e));
                    return;
                }
            }
            start += total;
        }
        self.buf.drain(..start);
    }

    /// The body ended: bytes of an unfinished frame are an error.
    pub fn finish(&mut self, out: &mut Vec<Result<Frame>>) {
        if !self.failed && !self.buf.is_empty() {
            let n = self.buf.len();
            self.fail(
                out,
                format!("the body ended inside a frame ({n} bytes left)"),
            );
        }
    }

    fn fail(&mut self, out: &mut Vec<Result<Frame>>, msg: impl Into<String>) {
        self.failed = true;
        self.buf.clear();
        out.push(Err(bad(msg)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<std::result::Result<Frame, String>> {
        let mut d = EventStreamDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out);
        }
        d.finish(&mut out);
        out.into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    fn every_type() -> Frame {
        Frame::new(b"{\"x\":1}".to_vec())
            .header("t", HeaderValue::Bool(true))
            .header("f", HeaderValue::Bool(false))
            .header("b", HeaderValue::Byte(-3))
            .header("s", HeaderValue::Short(-300))
            .header("i", HeaderValue::Int(70_000))
            .header("l", HeaderValue::Long(-5_000_000_000))
            .header("y", HeaderValue::Bytes(vec![0, 255]))
            .header("str", HeaderValue::String("héllo".into()))
            .header("ts", HeaderValue::Timestamp(1_700_000_000_000))
            .header("u", HeaderValue::Uuid([7; 16]))
    }

    #[test]
    fn every_header_type_round_trips_at_any_split() {
        let f = every_type();
        let mut body = f.encode();
        body.extend(Frame::new(Vec::new()).encode());
        for step in [1, 2, 5, 13, body.len()] {
            let chunks: Vec<&[u8]> = body.chunks(step).collect();
            assert_eq!(
                decode(&chunks),
                vec![Ok(f.clone()), Ok(Frame::new(Vec::new()))],
                "step {step}"
            );
        }
    }

    #[test]
    fn corruption_is_a_decode_error_and_stops_decoding() {
        let good = every_type().encode();
        for (at, what) in [(1, "prelude CRC"), (9, "prelude CRC"), (20, "message CRC")] {
            let mut b = good.clone();
            b[at] ^= 0x40;
            b.extend(Frame::new(Vec::new()).encode());
            let out = decode(&[&b]);
            assert_eq!(out.len(), 1, "{what}: nothing after the error");
            assert!(
                out[0].as_ref().unwrap_err().contains("CRC"),
                "{what}: {out:?}"
            );
        }
        let cut = decode(&[&good[..good.len() - 3]]);
        assert!(
            cut[0]
                .as_ref()
                .unwrap_err()
                .contains("ended inside a frame")
        );
        // Lengths that cannot be (a header block longer than the frame) with valid CRCs.
        let mut b = Vec::new();
        b.extend_from_slice(&16u32.to_be_bytes());
        b.extend_from_slice(&100u32.to_be_bytes());
        b.extend_from_slice(&crc32fast::hash(&b).to_be_bytes());
        assert!(
            decode(&[&b])[0]
                .as_ref()
                .unwrap_err()
                .contains("out of range")
        );
        // Duplicate headers and unknown header types.
        let dup = Frame::new(Vec::new())
            .header("a", HeaderValue::Int(1))
            .header("a", HeaderValue::Int(2))
            .encode();
        assert!(
            decode(&[&dup])[0]
                .as_ref()
                .unwrap_err()
                .contains("duplicate")
        );
    }
}
