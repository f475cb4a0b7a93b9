//! A missing ONNX Runtime library is a clear `Config` error, never a panic. (Own test binary:
//! the runtime loads once per process, so this must run where nothing loaded it first.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_core::ErrorKind;
use ai_infer::{ModelConfig, ModelFiles, ModelKind, OnnxEmbedder, RuntimeOptions, SessionOptions};

#[test]
fn missing_library_and_bad_model_dirs_are_config_errors() {
    let e = ai_infer::init_runtime(&RuntimeOptions {
        library: Some("/nonexistent/libonnxruntime.so".into()),
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.message().contains("/nonexistent/libonnxruntime.so"),
        "{e}"
    );

    // A file that is not a shared library.
    let dir = std::env::temp_dir().join(format!("ai-infer-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let e = ai_infer::init_runtime(&RuntimeOptions {
        library: Some(fake.clone()),
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.message().contains("could not load ONNX Runtime"), "{e}");

    // Model directories say what is missing.
    let e = ModelFiles::from_dir(&dir).unwrap_err();
    assert!(e.message().contains("model.onnx"), "{e}");
    std::fs::write(dir.join("model.onnx"), b"x").unwrap();
    std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
    let e = ModelFiles::from_dir(&dir).unwrap_err();
    assert!(e.message().contains("ai-infer.json"), "{e}");
    std::fs::write(dir.join("ai-infer.json"), br#"{"kind": "teleporter"}"#).unwrap();
    let e = ModelFiles::from_dir(&dir).unwrap_err();
    assert!(e.message().contains("not a valid model config"), "{e}");

    // Loading a model of the wrong kind is refused before touching the runtime.
    let files = ModelFiles {
        model: dir.join("model.onnx"),
        tokenizer: dir.join("tokenizer.json"),
        config: ModelConfig::new(ModelKind::CrossEncoder),
    };
    let e = OnnxEmbedder::load(&files, &SessionOptions::default()).unwrap_err();
    assert!(e.message().contains("not an embedding model"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
