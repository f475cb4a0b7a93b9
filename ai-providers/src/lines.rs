//! Splitting a streamed body into lines (NDJSON, and streams that are one JSON object per
//! `data:` line), exact however the bytes are chunked.

use ai_core::{AiError, Result};

/// Longest line accepted (a guard against a runaway body).
pub const MAX_LINE: usize = 16 << 20;

/// Splits a byte stream into lines across chunk boundaries.
#[derive(Debug, Default)]
pub struct LineDecoder {
    buf: Vec<u8>,
}

fn too_long() -> AiError {
    AiError::decode(format!("a stream line is longer than {MAX_LINE} bytes"), "")
}

impl LineDecoder {
    /// Feed a chunk; complete non-empty lines (trimmed) go to `out` in order — a line that is
    /// not UTF-8 as a `Decode` error in its place, so the outcome does not depend on how the
    /// body was split.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Result<String>>) {
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if self.buf.len() + i > MAX_LINE {
                out.push(Err(too_long()));
                self.buf.clear();
                return;
            }
            self.buf.extend_from_slice(&rest[..i]);
            rest = &rest[i + 1..];
            self.flush(out);
        }
        if self.buf.len() + rest.len() > MAX_LINE {
            out.push(Err(too_long()));
            self.buf.clear();
            return;
        }
        self.buf.extend_from_slice(rest);
    }

    /// The end of the body: a last line without a newline.
    pub fn finish(&mut self, out: &mut Vec<Result<String>>) {
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<Result<String>>) {
        let line = std::mem::take(&mut self.buf);
        match String::from_utf8(line) {
            Ok(text) => {
                let t = text.trim();
                if t.len() == text.len() {
                    if !text.is_empty() {
                        out.push(Ok(text));
                    }
                } else if !t.is_empty() {
                    out.push(Ok(t.to_owned()));
                }
            }
            Err(e) => out.push(Err(AiError::decode(
                "a stream line is not UTF-8",
                e.to_string(),
            ))),
        }
    }
}
