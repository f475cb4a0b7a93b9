//! Custom patterns: a regular expression, an optional validator, and context words.

use regex::Regex;

use super::{Finding, PiiKind, Recognizer};

type Validator = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// A recognizer for a pattern of your own (employee ids, ticket numbers, internal hosts).
///
/// ```
/// use std::sync::Arc;
/// use ai_guard::pii::{PatternRecognizer, PiiDetector, PiiKind};
/// let employee = PatternRecognizer::new("employee_id", PiiKind::from_name("EMPLOYEE_ID"), r"\bEMP-\d{6}\b", 0.9)
///     .unwrap();
/// let detector = PiiDetector::default().with(Arc::new(employee));
/// let found = detector.detect("Ticket for EMP-123456, please.");
/// assert_eq!(found[0].kind.as_str(), "EMPLOYEE_ID");
/// ```
pub struct PatternRecognizer {
    name: String,
    kind: PiiKind,
    regex: Regex,
    score: f32,
    validator: Option<Validator>,
    context: Vec<String>,
    context_boost: f32,
}

impl std::fmt::Debug for PatternRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternRecognizer")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("regex", &self.regex.as_str())
            .field("score", &self.score)
            .finish()
    }
}

impl PatternRecognizer {
    /// Matches of `pattern` (Rust `regex` syntax) are `kind` with `score`.
    ///
    /// # Errors
    /// `Config` when the pattern does not compile.
    pub fn new(name: &str, kind: PiiKind, pattern: &str, score: f32) -> ai_core::Result<Self> {
        let regex = Regex::new(pattern).map_err(|e| {
            ai_core::AiError::config(format!("PII pattern `{name}` does not compile: {e}"))
        })?;
        Ok(Self {
            name: name.to_owned(),
            kind,
            regex,
            score,
            validator: None,
            context: Vec::new(),
            context_boost: 0.0,
        })
    }

    /// Keep only matches `f` accepts (a checksum, a lookup).
    pub fn validate(mut self, f: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.validator = Some(Box::new(f));
        self
    }

    /// Add `boost` to the score when one of `words` appears (case-insensitively) in the 48
    /// bytes before a match.
    pub fn context(mut self, words: &[&str], boost: f32) -> Self {
        self.context = words.iter().map(|w| w.to_lowercase()).collect();
        self.context_boost = boost;
        self
    }
}

impl Recognizer for PatternRecognizer {
    fn name(&self) -> &str {
        &self.name
    }

    fn find(&self, text: &str, out: &mut Vec<Finding>) -> ai_core::Result<()> {
        for m in self.regex.find_iter(text) {
            if m.is_empty() || self.validator.as_ref().is_some_and(|v| !v(m.as_str())) {
                continue;
            }
            let mut score = self.score;
            if !self.context.is_empty() {
                let mut from = m.start().saturating_sub(48);
                while !text.is_char_boundary(from) {
                    from += 1;
                }
                let window = text[from..m.start()].to_lowercase();
                if self.context.iter().any(|w| window.contains(w.as_str())) {
                    score = (score + self.context_boost).min(1.0);
                }
            }
            out.push(Finding::new(
                self.kind.clone(),
                m.range(),
                score,
                &self.name,
            ));
        }
        Ok(())
    }
}
