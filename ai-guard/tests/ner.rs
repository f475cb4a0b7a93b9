//! The model-backed PII recognizer (feature `ner`) with the tiny token classifier provisioned
//! by `scripts/models.sh` (random weights: the test checks the plumbing — label mapping,
//! offsets, overlap with the built-in recognizers — not the model's quality).
#![cfg(feature = "ner")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use ai_guard::pii::{ModelRecognizer, PiiDetector, PiiKind, Recognizer};
use ai_infer::{ModelFiles, SessionOptions, TokenClassifier};

#[test]
fn model_entities_become_findings() {
    let dir = PathBuf::from(std::env::var("AI_INFER_MODELS").unwrap_or_else(|_| {
        panic!("AI_INFER_MODELS is not set: run `eval \"$(scripts/models.sh env)\"` (scripts/test.sh does)")
    }))
    .join("tiny-bert/token-classifier");
    let model = Arc::new(
        TokenClassifier::load(
            &ModelFiles::from_dir(dir).unwrap(),
            &SessionOptions::default(),
        )
        .unwrap(),
    );
    let text = "Jane Doe flew from Zürich to Lisbon, mail jane@example.com.";
    let expected = ai_infer::merge_entities(
        text,
        &model.predict_blocking(&[text.to_owned()]).unwrap()[0],
    );
    let recognizer = ModelRecognizer::new(model).min_score(0.0);
    let mut found = Vec::new();
    recognizer.find(text, &mut found).unwrap();
    let expected: Vec<_> = expected.into_iter().filter(|e| e.label != "O").collect();
    assert_eq!(found.len(), expected.len());
    for (f, e) in found.iter().zip(&expected) {
        assert_eq!(f.bytes, e.byte_start..e.byte_end);
        let want = match e.label.as_str() {
            "PER" => PiiKind::Person,
            "LOC" => PiiKind::Location,
            "ORG" => PiiKind::Organization,
            other => PiiKind::from_name(&other.to_ascii_uppercase()),
        };
        assert_eq!(f.kind, want);
        assert_eq!(&*f.recognizer, "model");
    }
    // Inside a detector: offsets stay valid and the e-mail is still found, whole.
    let detector = PiiDetector::default()
        .with(Arc::new(recognizer))
        .min_score(0.0);
    let all = detector.try_detect(text).unwrap();
    for f in &all {
        assert!(text.is_char_boundary(f.bytes.start) && text.is_char_boundary(f.bytes.end));
        assert_eq!(text[f.bytes.clone()].chars().count(), f.chars.len());
    }
    assert!(
        all.iter()
            .any(|f| f.kind == PiiKind::Email && &text[f.bytes.clone()] == "jane@example.com")
    );
}
