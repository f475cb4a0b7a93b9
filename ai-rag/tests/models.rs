//! Chunking and answering with real models provisioned by `scripts/models.sh install` (feature
//! `model-tests`): token-aware sizing with MiniLM's tokenizer, semantic chunking and
//! extractive answers with the in-process MiniLM embedder.
#![cfg(feature = "model-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use ai_core::EmbeddingModel;
use ai_infer::{ModelFiles, OnnxEmbedder, SessionOptions};
use ai_rag::chunk::{Chunk, Chunker, RecursiveChunker, SemanticChunker, Sizer, TokenSizer};
use ai_rag::store::MemoryStore;
use ai_rag::*;

fn minilm() -> PathBuf {
    PathBuf::from(std::env::var("AI_INFER_MODELS").unwrap_or_else(|_| {
        panic!("AI_INFER_MODELS is not set: run `eval \"$(scripts/models.sh env)\"` after `scripts/models.sh install` (scripts/test.sh does both)")
    }))
    .join("all-MiniLM-L6-v2-int8")
}

fn embedder() -> Arc<dyn EmbeddingModel> {
    Arc::new(
        OnnxEmbedder::load(
            &ModelFiles::from_dir(minilm()).unwrap(),
            &SessionOptions::default(),
        )
        .unwrap(),
    )
}

fn lossless(text: &str, chunks: &[Chunk]) {
    let mut rebuilt = String::new();
    for (i, c) in chunks.iter().enumerate() {
        let end = chunks.get(i + 1).map_or(text.len(), |n| n.bytes.start);
        rebuilt.push_str(&text[c.bytes.start..end]);
    }
    assert_eq!(rebuilt, text);
}

#[test]
fn token_aware_chunks_fit_the_model_window() {
    let text = include_str!("data/moby_dick_part.txt");
    let sizer = Arc::new(TokenSizer::from_file(&minilm().join("tokenizer.json")).unwrap());
    let chunks = RecursiveChunker::new(256, 32)
        .sizer(sizer.clone())
        .chunk(text);
    assert!(chunks.len() > 10);
    lossless(text, &chunks);
    let sizes: Vec<usize> = chunks.iter().map(|c| sizer.size(c.text(text))).collect();
    assert!(sizes.iter().all(|&n| n <= 256), "{sizes:?}");
    // Filled, not fragmented: most chunks use more than half the window.
    let full = sizes.iter().filter(|&&n| n > 128).count();
    assert!(full * 4 >= chunks.len() * 3, "{sizes:?}");
    // Tokens, not characters: the same limit in characters gives far smaller chunks.
    let by_chars = RecursiveChunker::new(256, 32).chunk(text);
    assert!(by_chars.len() > chunks.len() * 2);
}

#[tokio::test]
async fn semantic_chunks_split_where_the_topic_changes() {
    let cooking = "Knead the dough for ten minutes until it is smooth. Let the dough rise in a warm place for an hour. \
                   Bake the bread at two hundred degrees until the crust is golden. Cool the loaf on a rack before slicing it. ";
    let space = "The rocket reached orbit nine minutes after launch. Its second stage fired again to raise the orbit. \
                 The satellite unfolded its solar panels above the Pacific. Ground stations received its first telemetry. ";
    let text = format!("{cooking}{space}{cooking}");
    let chunks = SemanticChunker::new(embedder(), 2000)
        .percentile(80.0)
        .chunk(&text)
        .await
        .unwrap();
    lossless(&text, &chunks);
    let starts: Vec<usize> = chunks.iter().map(|c| c.bytes.start).collect();
    assert!(
        starts.contains(&cooking.len()) && starts.contains(&(cooking.len() + space.len())),
        "boundaries at the topic changes: {starts:?} (expected {} and {})",
        cooking.len(),
        cooking.len() + space.len()
    );
}

#[tokio::test]
async fn extractive_answers_from_the_projects_docs() {
    let docs = vec![
        Document::new("operations.md", include_str!("../../docs/operations.md")),
        Document::new("providers.md", include_str!("../../docs/providers.md")),
    ];
    let embedder = embedder();
    let store = Arc::new(MemoryStore::exact());
    Ingestor::new(
        Arc::new(chunk::MarkdownChunker::new(600, 0)),
        embedder.clone(),
        store.clone(),
    )
    .ingest(docs.clone())
    .await
    .unwrap();
    let rag = RagPipeline::extractive(
        Arc::new(DenseRetriever::new(store, embedder.clone())),
        Extractive::new(embedder),
        ContextBuilder::new(800),
    )
    .top_k(4);
    let answer = rag
        .answer("How are API keys kept out of logs?", None)
        .await
        .unwrap();
    assert!(!answer.quotes.is_empty());
    for q in &answer.quotes {
        let doc = docs.iter().find(|d| d.id == q.document_id).unwrap();
        assert_eq!(&doc.text[q.bytes.clone()], q.text);
    }
    assert!(
        answer.quotes.iter().any(|q| q.text.contains("API keys")),
        "{:?}",
        answer.quotes
    );
}
