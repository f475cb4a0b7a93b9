//! Names, places and organisations from a token-classification model through `ai-infer`
//! (feature `ner`).

use std::collections::HashMap;
use std::sync::Arc;

use ai_infer::TokenClassifier;

use super::{Finding, PiiKind, Recognizer};

/// A recognizer backed by a token-classification (NER) model, for example a BERT fine-tuned
/// on CoNLL or a PII model exported to ONNX. Labels such as `PER`, `LOC`, `ORG` (B-/I-
/// prefixes already merged by `ai-infer`) map to [`PiiKind`]s; unmapped labels become
/// `Custom` kinds named after them.
pub struct ModelRecognizer {
    model: Arc<TokenClassifier>,
    labels: HashMap<String, PiiKind>,
    min_score: f32,
}

impl std::fmt::Debug for ModelRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRecognizer")
            .field("labels", &self.labels)
            .field("min_score", &self.min_score)
            .finish()
    }
}

impl ModelRecognizer {
    /// Wrap `model` with the usual label names (`PER`/`PERSON`, `LOC`/`LOCATION`/`GPE`/
    /// `ADDRESS`, `ORG`/`ORGANIZATION`).
    pub fn new(model: Arc<TokenClassifier>) -> Self {
        let mut labels = HashMap::new();
        for (l, k) in [
            ("PER", PiiKind::Person),
            ("PERSON", PiiKind::Person),
            ("LOC", PiiKind::Location),
            ("LOCATION", PiiKind::Location),
            ("GPE", PiiKind::Location),
            ("ADDRESS", PiiKind::Location),
            ("ORG", PiiKind::Organization),
            ("ORGANIZATION", PiiKind::Organization),
        ] {
            labels.insert(l.to_owned(), k);
        }
        Self {
            model,
            labels,
            min_score: 0.5,
        }
    }

    /// Map the model's `label` to `kind`.
    pub fn label(mut self, label: &str, kind: PiiKind) -> Self {
        self.labels.insert(label.to_owned(), kind);
        self
    }

    /// Ignore entities the model scores below `score`.
    pub fn min_score(mut self, score: f32) -> Self {
        self.min_score = score;
        self
    }
}

impl Recognizer for ModelRecognizer {
    fn name(&self) -> &str {
        "model"
    }

    fn find(&self, text: &str, out: &mut Vec<Finding>) -> ai_core::Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        let predictions = self.model.predict_blocking(&[text.to_owned()])?;
        let Some(tokens) = predictions.first() else {
            return Ok(());
        };
        for e in ai_infer::merge_entities(text, tokens) {
            if e.score < self.min_score || e.label == "O" {
                continue;
            }
            let kind = self
                .labels
                .get(&e.label)
                .cloned()
                .unwrap_or_else(|| PiiKind::from_name(&e.label.to_ascii_uppercase()));
            out.push(Finding::new(
                kind,
                e.byte_start..e.byte_end,
                e.score,
                "model",
            ));
        }
        Ok(())
    }
}
