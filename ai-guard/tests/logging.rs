//! Guard decisions reach metrics and logs by name only (its own test binary: tracing caches
//! per-call-site interest, so other tests' threads must not touch the call sites first).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use ai_core::layers::Stack;
use ai_core::testing::{ScriptedModel, Step};
use ai_core::{ChatModel, ChatRequest, ChatResponse};
use ai_guard::{GuardLayer, GuardMode};

fn guarded(layer: GuardLayer, model: Arc<ScriptedModel>) -> Arc<dyn ChatModel> {
    Stack::new().layer(layer).build_chat(model)
}

fn reply(text: &str) -> Step {
    Step::Reply(ChatResponse::text_answer(text))
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn decisions_are_counted_and_logged_without_values() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    tracing::subscriber::with_default(subscriber, || {
        metrics::with_local_recorder(&recorder, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                let model = Arc::new(ScriptedModel::new(vec![reply("ok [EMAIL_1]")]));
                let m = guarded(GuardLayer::standard(GuardMode::Redact), model);
                m.generate(ChatRequest::user("mail secret.person@example.com"))
                    .await
                    .unwrap();
            });
        });
    });
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("input_pii"), "{logs}");
    assert!(
        !logs.contains("secret.person"),
        "values never reach logs: {logs}"
    );
    let counted: u64 = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == ai_guard::layer::DECISIONS)
        .filter(|(k, ..)| k.key().labels().any(|l| l.value() == "redacted"))
        .map(|(.., v)| match v {
            DebugValue::Counter(c) => c,
            _ => 0,
        })
        .sum();
    assert_eq!(counted, 1);
}
