//! Redaction with numbered placeholders and exact restore, also over a stream.
//!
//! ```
//! use ai_guard::redact::{Redactor, Vault};
//! let redactor = Redactor::default();
//! let mut vault = Vault::new();
//! let text = "Mail jane@example.com, then mail jane@example.com again.";
//! let safe = redactor.redact(text, &mut vault);
//! assert_eq!(safe.text, "Mail [EMAIL_1], then mail [EMAIL_1] again.");
//! assert_eq!(vault.restore(&safe.text), text);
//! // The model's answer comes back with the placeholders filled in again.
//! assert_eq!(vault.restore("I wrote to [EMAIL_1]."), "I wrote to jane@example.com.");
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::pii::{Finding, PiiDetector, PiiKind};

/// What replaces a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedactMode {
    /// `[EMAIL_1]`, `[PHONE_2]`: numbered per kind, the same value gets the same placeholder
    /// within a vault; restorable.
    Placeholder,
    /// Every character replaced by `*` except the last `keep` (`************1111`); not
    /// restorable.
    Mask {
        /// Characters left visible at the end.
        keep: usize,
    },
    /// `[EMAIL_9f86d081]`: a keyed SHA-256 of the value, stable across requests with the same
    /// key (to join logs without the value); restorable within the vault.
    Hash {
        /// The key mixed into the hash; keep it secret or the values can be guessed.
        key: Vec<u8>,
    },
    /// Removed; not restorable.
    Drop,
}

/// Placeholders and the values they stand for, for one request. Its `Debug` shows only the
/// number of entries: values never reach logs.
#[derive(Clone, Default)]
pub struct Vault {
    by_value: HashMap<(PiiKind, String), String>,
    by_token: HashMap<String, String>,
    counters: HashMap<PiiKind, usize>,
    longest: usize,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("entries", &self.by_token.len())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many placeholders it holds.
    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }

    fn token_for(
        &mut self,
        kind: &PiiKind,
        value: &str,
        mode: &RedactMode,
        source: &str,
    ) -> String {
        if let Some(t) = self.by_value.get(&(kind.clone(), value.to_owned())) {
            return t.clone();
        }
        let token = match mode {
            RedactMode::Hash { key } => {
                let mut h = Sha256::new();
                h.update(key);
                h.update([0]);
                h.update(value.as_bytes());
                let digest = hex::encode(h.finalize());
                let mut len = 8;
                loop {
                    let t = format!("[{}_{}]", kind.as_str(), &digest[..len]);
                    if !source.contains(&t) && self.by_token.get(&t).is_none_or(|v| v == value) {
                        break t;
                    }
                    if len >= digest.len() {
                        break format!("[{}_{}_{}]", kind.as_str(), digest, self.by_token.len());
                    }
                    len += 8;
                }
            }
            _ => loop {
                let n = self.counters.entry(kind.clone()).or_insert(0);
                *n += 1;
                let t = format!("[{}_{}]", kind.as_str(), n);
                // A token the text already contains would be "restored" wrongly.
                if !source.contains(&t) && !self.by_token.contains_key(&t) {
                    break t;
                }
            },
        };
        self.longest = self.longest.max(token.len());
        self.by_value
            .insert((kind.clone(), value.to_owned()), token.clone());
        self.by_token.insert(token.clone(), value.to_owned());
        token
    }

    /// `text` with every placeholder of this vault replaced by its value; anything else is
    /// left as it is.
    pub fn restore(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            match self.token_at(tail) {
                Some((len, value)) => {
                    out.push_str(value);
                    rest = &tail[len..];
                }
                None => {
                    out.push('[');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The placeholder starting `s` (which starts with `[`), with its length.
    fn token_at(&self, s: &str) -> Option<(usize, &str)> {
        let window = &s.as_bytes()[..s.len().min(self.longest)];
        let close = window.iter().position(|&c| c == b']')?;
        self.by_token
            .get(&s[..close + 1])
            .map(|v| (close + 1, v.as_str()))
    }

    /// Whether `s` (starting with `[`, no `]` yet) may still grow into a placeholder.
    fn could_start_token(&self, s: &str) -> bool {
        s.len() < self.longest && self.by_token.keys().any(|t| t.starts_with(s))
    }

    /// A restorer for a streamed answer.
    pub fn stream_restorer(self: &Arc<Self>) -> StreamRestorer {
        StreamRestorer {
            vault: self.clone(),
            pending: String::new(),
        }
    }
}

/// Restores placeholders in a stream of text chunks that may split them anywhere. Text is
/// released as soon as it cannot be the start of a placeholder; only a possible beginning of
/// one (`[EMA`) is held back.
///
/// ```
/// use std::sync::Arc;
/// use ai_guard::redact::{Redactor, Vault};
/// let mut vault = Vault::new();
/// let _ = Redactor::default().redact("call +44 20 7946 0958", &mut vault);
/// let vault = Arc::new(vault);
/// let mut r = vault.stream_restorer();
/// let mut out = String::new();
/// for chunk in ["I called [PH", "ONE_", "1] at noon [sic]."] {
///     out.push_str(&r.push(chunk));
/// }
/// out.push_str(&r.finish());
/// assert_eq!(out, "I called +44 20 7946 0958 at noon [sic].");
/// ```
#[derive(Debug)]
pub struct StreamRestorer {
    vault: Arc<Vault>,
    pending: String,
}

impl StreamRestorer {
    /// Add a chunk; returns the text that is safe to emit now.
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        let mut out = String::with_capacity(self.pending.len());
        let mut consumed = 0;
        let p = &self.pending;
        while let Some(rel) = p[consumed..].find('[') {
            let open = consumed + rel;
            out.push_str(&p[consumed..open]);
            let tail = &p[open..];
            if let Some((len, value)) = self.vault.token_at(tail) {
                out.push_str(value);
                consumed = open + len;
            } else if !tail.contains(']') && self.vault.could_start_token(tail) {
                // Maybe the start of a placeholder: wait for more.
                consumed = open;
                self.pending = self.pending[consumed..].to_owned();
                return out;
            } else {
                out.push('[');
                consumed = open + 1;
            }
        }
        out.push_str(&p[consumed..]);
        self.pending.clear();
        out
    }

    /// The end of the stream: whatever was held back, as it is.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

/// The result of redacting a text.
#[derive(Debug, Clone)]
pub struct Redacted {
    /// The text to send on.
    pub text: String,
    /// What was found (offsets refer to the original text).
    pub findings: Vec<Finding>,
}

/// Replaces personal data found by a [`PiiDetector`].
#[derive(Debug, Clone)]
pub struct Redactor {
    detector: Arc<PiiDetector>,
    mode: RedactMode,
    kinds: Option<Vec<PiiKind>>,
}

impl Default for Redactor {
    /// The default detector, placeholders, every kind.
    fn default() -> Self {
        Self::new(Arc::new(PiiDetector::default()))
    }
}

impl Redactor {
    /// Redact what `detector` finds, with placeholders.
    pub fn new(detector: Arc<PiiDetector>) -> Self {
        Self {
            detector,
            mode: RedactMode::Placeholder,
            kinds: None,
        }
    }

    /// Choose how findings are replaced.
    pub fn mode(mut self, mode: RedactMode) -> Self {
        self.mode = mode;
        self
    }

    /// Redact only these kinds.
    pub fn only(mut self, kinds: Vec<PiiKind>) -> Self {
        self.kinds = Some(kinds);
        self
    }

    /// The detector in use.
    pub fn detector(&self) -> &PiiDetector {
        &self.detector
    }

    /// Redact `text`, recording placeholders in `vault` (share one vault across the messages
    /// of a request so the same value gets the same placeholder everywhere).
    pub fn redact(&self, text: &str, vault: &mut Vault) -> Redacted {
        let findings = self.detector.detect(text);
        self.apply(text, findings, vault)
    }

    /// [`Redactor::redact`] that fails when a recognizer fails instead of passing text it
    /// could not check.
    ///
    /// # Errors
    /// A custom recognizer's error.
    pub fn try_redact(&self, text: &str, vault: &mut Vault) -> ai_core::Result<Redacted> {
        let findings = self.detector.try_detect(text)?;
        Ok(self.apply(text, findings, vault))
    }

    /// Replace `findings` (sorted, disjoint, as [`PiiDetector`] returns them) in `text`.
    pub fn apply(&self, text: &str, findings: Vec<Finding>, vault: &mut Vault) -> Redacted {
        let findings: Vec<Finding> = match &self.kinds {
            Some(k) => findings
                .into_iter()
                .filter(|f| k.contains(&f.kind))
                .collect(),
            None => findings,
        };
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for f in &findings {
            out.push_str(&text[pos..f.bytes.start]);
            let value = &text[f.bytes.clone()];
            match &self.mode {
                RedactMode::Placeholder | RedactMode::Hash { .. } => {
                    out.push_str(&vault.token_for(&f.kind, value, &self.mode, text));
                }
                RedactMode::Mask { keep } => {
                    let n = value.chars().count();
                    for (i, c) in value.chars().enumerate() {
                        out.push(if i + keep >= n { c } else { '*' });
                    }
                }
                RedactMode::Drop => {}
            }
            pos = f.bytes.end;
        }
        out.push_str(&text[pos..]);
        Redacted {
            text: out,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let text = "card 4111 1111 1111 1111 and a@b.co";
        let mut v = Vault::new();
        let masked = Redactor::default()
            .mode(RedactMode::Mask { keep: 4 })
            .redact(text, &mut v);
        assert_eq!(masked.text, "card ***************1111 and **b.co");
        assert!(v.is_empty());
        let dropped = Redactor::default()
            .mode(RedactMode::Drop)
            .redact(text, &mut v);
        assert_eq!(dropped.text, "card  and ");
        let hashed = Redactor::default()
            .mode(RedactMode::Hash { key: b"k".to_vec() })
            .redact(text, &mut v);
        assert!(
            hashed.text.starts_with("card [CREDIT_CARD_"),
            "{}",
            hashed.text
        );
        assert_eq!(v.restore(&hashed.text), text);
        let again = Redactor::default()
            .mode(RedactMode::Hash { key: b"k".to_vec() })
            .redact(text, &mut Vault::new());
        assert_eq!(again.text, hashed.text, "stable across vaults with one key");
        let only = Redactor::default()
            .only(vec![PiiKind::Email])
            .redact(text, &mut Vault::new());
        assert_eq!(only.text, "card 4111 1111 1111 1111 and [EMAIL_1]");
    }

    #[test]
    fn placeholders_already_in_the_text_are_not_reused() {
        let text = "[EMAIL_1] is a placeholder; mine is x@y.org";
        let mut v = Vault::new();
        let r = Redactor::default().redact(text, &mut v);
        assert_eq!(r.text, "[EMAIL_1] is a placeholder; mine is [EMAIL_2]");
        assert_eq!(v.restore(&r.text), text);
        assert_eq!(format!("{v:?}"), "Vault { entries: 1, .. }");
    }
}
