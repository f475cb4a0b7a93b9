//! PII detection: recognizers with validators, findings with byte and character offsets, and a
//! deterministic resolution of overlaps.
//!
//! ```
//! use ai_guard::pii::{PiiDetector, PiiKind};
//! let detector = PiiDetector::default();
//! let text = "Mail jane.doe@example.com or call +44 20 7946 0958.";
//! let found = detector.detect(text);
//! assert_eq!(found[0].kind, PiiKind::Email);
//! assert_eq!(&text[found[0].bytes.clone()], "jane.doe@example.com");
//! assert_eq!(found[1].kind, PiiKind::Phone);
//! ```

mod builtin;
mod card;
mod custom;
mod national;
#[cfg(feature = "ner")]
mod ner;
mod phone;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use builtin::BuiltinConfig;
pub use card::{CardBrand, card_brand, luhn_valid};
pub use custom::PatternRecognizer;
pub use national::{iban_valid, ssn_valid};
#[cfg(feature = "ner")]
pub use ner::ModelRecognizer;

/// What kind of personal data a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A telephone number (international or national format).
    Phone,
    /// A payment card number (Luhn and brand ranges checked).
    CreditCard,
    /// A US social security number.
    UsSsn,
    /// An international bank account number (mod-97 and country length checked).
    Iban,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A person's name (from a model).
    Person,
    /// A place or address (from a model).
    Location,
    /// An organisation (from a model).
    Organization,
    /// Anything else, named by a custom recognizer (upper case by convention).
    Custom(Arc<str>),
}

impl PiiKind {
    /// The name used in placeholders and metrics: `EMAIL`, `PHONE`, `CREDIT_CARD`, `US_SSN`,
    /// `IBAN`, `IP_ADDRESS`, `PERSON`, `LOCATION`, `ORGANIZATION`, or the custom name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::CreditCard => "CREDIT_CARD",
            Self::UsSsn => "US_SSN",
            Self::Iban => "IBAN",
            Self::IpAddress => "IP_ADDRESS",
            Self::Person => "PERSON",
            Self::Location => "LOCATION",
            Self::Organization => "ORGANIZATION",
            Self::Custom(name) => name,
        }
    }

    /// Parse a name written by [`PiiKind::as_str`]; unknown names become `Custom`.
    pub fn from_name(name: &str) -> Self {
        match name {
            "EMAIL" => Self::Email,
            "PHONE" => Self::Phone,
            "CREDIT_CARD" => Self::CreditCard,
            "US_SSN" => Self::UsSsn,
            "IBAN" => Self::Iban,
            "IP_ADDRESS" => Self::IpAddress,
            "PERSON" => Self::Person,
            "LOCATION" => Self::Location,
            "ORGANIZATION" => Self::Organization,
            other => Self::Custom(Arc::from(other)),
        }
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What it is.
    pub kind: PiiKind,
    /// Byte range in the text.
    pub bytes: Range<usize>,
    /// Character (Unicode scalar) range in the text.
    pub chars: Range<usize>,
    /// Confidence from 0 to 1 (checksum-validated values score highest).
    pub score: f32,
    /// The recognizer that found it.
    pub recognizer: Arc<str>,
}

impl Finding {
    /// A finding over `bytes`; the detector fills in `chars`.
    pub fn new(kind: PiiKind, bytes: Range<usize>, score: f32, recognizer: &str) -> Self {
        Self {
            kind,
            chars: 0..0,
            bytes,
            score,
            recognizer: Arc::from(recognizer),
        }
    }
}

/// Finds personal data of some kinds. Implement it to add patterns or models.
pub trait Recognizer: Send + Sync {
    /// A short name, reported in findings.
    fn name(&self) -> &str;
    /// Push the findings in `text` (byte offsets; character offsets are filled in later).
    /// An error (a model that failed) fails the whole detection: a guard must not pass text
    /// it could not check.
    fn find(&self, text: &str, out: &mut Vec<Finding>) -> ai_core::Result<()>;
}

/// The built-in recognizers plus any custom ones, with overlap resolution.
pub struct PiiDetector {
    builtin: Option<builtin::Builtin>,
    custom: Vec<Arc<dyn Recognizer>>,
    min_score: f32,
}

impl fmt::Debug for PiiDetector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PiiDetector")
            .field("builtin", &self.builtin.as_ref().map(|b| &b.config))
            .field(
                "custom",
                &self.custom.iter().map(|r| r.name()).collect::<Vec<_>>(),
            )
            .field("min_score", &self.min_score)
            .finish()
    }
}

impl Default for PiiDetector {
    /// E-mail, phone (international, and national for [`BuiltinConfig`]'s regions), payment
    /// card, US SSN, IBAN and IP recognizers; findings scoring at least 0.5.
    fn default() -> Self {
        Self::new(BuiltinConfig::default())
    }
}

impl PiiDetector {
    /// The built-in recognizers configured by `config`.
    pub fn new(config: BuiltinConfig) -> Self {
        Self {
            builtin: Some(builtin::Builtin::new(config)),
            custom: Vec::new(),
            min_score: 0.5,
        }
    }

    /// No built-in recognizers: only those added with [`PiiDetector::with`].
    pub fn empty() -> Self {
        Self {
            builtin: None,
            custom: Vec::new(),
            min_score: 0.5,
        }
    }

    /// Add a recognizer.
    pub fn with(mut self, recognizer: Arc<dyn Recognizer>) -> Self {
        self.custom.push(recognizer);
        self
    }

    /// Drop findings scoring below `score`.
    pub fn min_score(mut self, score: f32) -> Self {
        self.min_score = score;
        self
    }

    /// Every finding in `text`, without overlaps, in text order.
    ///
    /// # Errors
    /// When a custom recognizer fails (the built-in ones cannot).
    pub fn try_detect(&self, text: &str) -> ai_core::Result<Vec<Finding>> {
        let mut all = Vec::new();
        if let Some(b) = &self.builtin {
            b.find(text, &mut all);
        }
        for r in &self.custom {
            r.find(text, &mut all)?;
        }
        Ok(self.finish(text, all))
    }

    /// [`PiiDetector::try_detect`] for detectors whose recognizers cannot fail (the built-in
    /// ones and patterns); a failing custom recognizer's findings are skipped and the failure
    /// is logged.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        let mut all = Vec::new();
        if let Some(b) = &self.builtin {
            b.find(text, &mut all);
        }
        for r in &self.custom {
            if let Err(e) = r.find(text, &mut all) {
                tracing::warn!(recognizer = r.name(), error = %e, "PII recognizer failed");
            }
        }
        self.finish(text, all)
    }

    fn finish(&self, text: &str, mut all: Vec<Finding>) -> Vec<Finding> {
        all.retain(|f| {
            f.score >= self.min_score
                && f.bytes.start < f.bytes.end
                && f.bytes.end <= text.len()
                && text.is_char_boundary(f.bytes.start)
                && text.is_char_boundary(f.bytes.end)
        });
        let mut kept = resolve_overlaps(all);
        fill_chars(text, &mut kept);
        kept
    }

    /// Whether any recognizer can fail (then use [`PiiDetector::try_detect`]).
    pub fn has_custom(&self) -> bool {
        !self.custom.is_empty()
    }
}

/// Keep a set of non-overlapping findings: higher score first, then the longer span, then the
/// earlier start, then the kind and recognizer names — so the result does not depend on the
/// order recognizers ran in. Returned in text order.
pub fn resolve_overlaps(mut all: Vec<Finding>) -> Vec<Finding> {
    all.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.bytes.end - b.bytes.start).cmp(&(a.bytes.end - a.bytes.start)))
            .then(a.bytes.start.cmp(&b.bytes.start))
            .then(a.kind.cmp(&b.kind))
            .then(a.recognizer.cmp(&b.recognizer))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(all.len());
    for f in all {
        if kept
            .iter()
            .all(|k| f.bytes.end <= k.bytes.start || f.bytes.start >= k.bytes.end)
        {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.bytes.start);
    kept
}

fn fill_chars(text: &str, findings: &mut [Finding]) {
    // Findings are sorted and disjoint: one walk over the text.
    let mut pos = 0;
    let mut count = 0;
    for f in findings {
        count += text[pos..f.bytes.start].chars().count();
        let len = text[f.bytes.clone()].chars().count();
        f.chars = count..count + len;
        count += len;
        pos = f.bytes.end;
    }
}
