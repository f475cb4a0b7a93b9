//! Ingestion, stores, filters, retrieval, context assembly and the pipeline, in memory with a
//! deterministic hashing embedder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use ai_core::testing::{ScriptedModel, Step};
use ai_core::{ChatResponse, EmbeddingModel, Reranker, Scored};
use ai_rag::chunk::RecursiveChunker;
use ai_rag::retrieve::{
    Bm25Retriever, MultiQueryRetriever, RerankRetriever, dedup, reciprocal_rank_fusion,
};
use ai_rag::store::{HnswConfig, MemoryStore, VectorStore};
use ai_rag::*;
use async_trait::async_trait;
use common::{HashEmbedder, docs};

mod common;

fn setup(store: Arc<dyn VectorStore>) -> (Ingestor, Arc<Bm25Index>) {
    let bm25 = Arc::new(Bm25Index::default());
    let ingestor = Ingestor::new(
        Arc::new(RecursiveChunker::new(60, 10)),
        Arc::new(HashEmbedder),
        store,
    )
    .with_bm25(bm25.clone());
    (ingestor, bm25)
}

#[tokio::test]
async fn ingestion_is_idempotent_and_replaces_changed_documents() {
    for store in [
        Arc::new(MemoryStore::exact()) as Arc<dyn VectorStore>,
        Arc::new(MemoryStore::hnsw(HnswConfig::default())),
    ] {
        let (ingestor, bm25) = setup(store.clone());
        let progress = Arc::new(parking_lot_free::Counter::default());
        let p = progress.clone();
        let ingestor = ingestor.on_progress(move |pr| p.set(pr.documents_done));
        let r = ingestor.ingest(docs()).await.unwrap();
        assert_eq!((r.added, r.updated, r.unchanged), (4, 0, 0));
        assert_eq!(progress.get(), 4);
        let count = store.count().await.unwrap();
        assert!(count >= 8, "documents were chunked: {count}");
        assert_eq!(count, bm25.len());

        let again = ingestor.ingest(docs()).await.unwrap();
        assert_eq!(
            (
                again.added,
                again.updated,
                again.unchanged,
                again.chunks_written
            ),
            (0, 0, 4, 0)
        );
        assert_eq!(store.count().await.unwrap(), count);

        let mut changed = docs();
        changed[0].text = "Refunds are no longer offered.".into();
        let r = ingestor.ingest(changed).await.unwrap();
        assert_eq!((r.updated, r.unchanged), (1, 3));
        let q = HashEmbedder
            .embed(&["refund original payment method".into()])
            .await
            .unwrap();
        let hits = store.search(&q[0], 20, None).await.unwrap();
        assert!(
            hits.iter()
                .all(|h| !h.chunk.text.contains("original payment")),
            "old chunks are gone"
        );
        assert!(bm25.search("original payment", 10, None).is_empty());

        assert!(ingestor.delete("refunds").await.unwrap() >= 1);
        let hits = store.search(&q[0], 20, None).await.unwrap();
        assert!(hits.iter().all(|h| h.chunk.document_id != "refunds"));
        assert_eq!(store.document_hash("refunds").await.unwrap(), None);
    }
}

/// A tiny counter without pulling a dependency into the test.
mod parking_lot_free {
    use std::sync::atomic::{AtomicUsize, Ordering};
    #[derive(Default)]
    pub struct Counter(AtomicUsize);
    impl Counter {
        pub fn set(&self, v: usize) {
            self.0.store(v, Ordering::SeqCst);
        }
        pub fn get(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }
}

#[tokio::test]
async fn filters_hold_and_selective_filters_still_fill_k() {
    let store = Arc::new(MemoryStore::hnsw(HnswConfig::default()));
    let (ingestor, _) = setup(store.clone());
    ingestor.ingest(docs()).await.unwrap();
    // Many more documents of another tenant, so "globex" is a selective filter.
    let filler: Vec<Document> = (0..300)
        .map(|i| {
            Document::new(
                format!("f{i}"),
                format!("filler text number {i} about delivery and refunds"),
            )
            .with("tenant", "other")
        })
        .collect();
    ingestor.ingest(filler).await.unwrap();
    let q = HashEmbedder
        .embed(&["delivery refunds".into()])
        .await
        .unwrap();
    let globex = Filter::eq("tenant", "globex");
    let total_globex = {
        let all = store.search(&q[0], 10_000, Some(&globex)).await.unwrap();
        all.len()
    };
    let hits = store.search(&q[0], 3, Some(&globex)).await.unwrap();
    assert_eq!(hits.len(), 3.min(total_globex));
    assert!(hits.iter().all(|h| h.chunk.metadata["tenant"] == "globex"));
    let either = Filter::Or(vec![
        Filter::eq("tenant", "globex"),
        Filter::eq("tenant", "acme"),
    ]);
    let hits = store.search(&q[0], 50, Some(&either)).await.unwrap();
    assert!(hits.iter().all(|h| h.chunk.metadata["tenant"] != "other"));
    let injection = Filter::eq("tenant", "x' OR '1'='1");
    assert!(
        store
            .search(&q[0], 10, Some(&injection))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn hybrid_fusion_rerank_and_multi_query() {
    let store = Arc::new(MemoryStore::exact());
    let (ingestor, bm25) = setup(store.clone());
    ingestor.ingest(docs()).await.unwrap();
    let dense: Arc<dyn Retriever> =
        Arc::new(DenseRetriever::new(store.clone(), Arc::new(HashEmbedder)));
    let lexical: Arc<dyn Retriever> = Arc::new(Bm25Retriever::new(bm25.clone()));
    let hybrid = HybridRetriever::new(vec![dense.clone(), lexical.clone()], 10);
    let hits = hybrid
        .retrieve("how long does express delivery take", 3, None)
        .await
        .unwrap();
    assert_eq!(hits[0].chunk.document_id, "shipping");
    // BM25 stems: "passwords" finds "password".
    let hits = lexical
        .retrieve("resetting passwords", 2, None)
        .await
        .unwrap();
    assert_eq!(hits[0].chunk.document_id, "passwords");

    struct Reverse;
    #[async_trait]
    impl Reranker for Reverse {
        async fn rerank(&self, _q: &str, docs: &[String]) -> ai_core::Result<Vec<Scored>> {
            // Prefers the shortest text.
            let mut s: Vec<Scored> = docs
                .iter()
                .enumerate()
                .map(|(i, d)| Scored {
                    index: i,
                    score: -(d.len() as f32),
                })
                .collect();
            s.sort_by(|a, b| b.score.total_cmp(&a.score));
            Ok(s)
        }
    }
    let reranked = RerankRetriever::new(Arc::new(hybrid), Arc::new(Reverse), 10);
    let hits = reranked.retrieve("delivery", 3, None).await.unwrap();
    assert!(
        hits.windows(2)
            .all(|w| w[0].chunk.text.len() <= w[1].chunk.text.len())
    );

    let model = Arc::new(ScriptedModel::new(vec![Step::Reply(
        ChatResponse::text_answer("1. warranty for electronics\n2. manufacturing defects coverage"),
    )]));
    let mq = MultiQueryRetriever::new(lexical, model.clone(), 2);
    assert_eq!(
        mq.expand("broken laptop").await,
        ["warranty for electronics", "manufacturing defects coverage"]
    );
    let hits = mq.retrieve("broken laptop", 2, None).await.unwrap();
    assert_eq!(
        hits[0].chunk.document_id, "warranty",
        "found only through the rewrites"
    );
}

#[test]
fn fusion_and_dedup() {
    let hit = |id: &str, text: &str| Hit {
        chunk: StoredChunk {
            id: id.into(),
            document_id: id.into(),
            index: 0,
            text: text.into(),
            bytes: 0..text.len(),
            chars: 0..text.len(),
            metadata: Default::default(),
            content_hash: String::new(),
            embedding: Vec::new(),
        },
        score: 0.0,
    };
    let a = vec![hit("x", "one"), hit("y", "two"), hit("z", "three")];
    let b = vec![hit("y", "two"), hit("z", "three"), hit("x", "one")];
    let fused = reciprocal_rank_fusion(&[a, b], 60.0);
    assert_eq!(fused[0].chunk.id, "y", "ranks 2 and 1 beat 1 and 3");
    let d = dedup(vec![
        hit("a", "Same  text"),
        hit("b", "same text"),
        hit("a", "other"),
    ]);
    assert_eq!(d.len(), 1);
}

#[tokio::test]
async fn context_budget_citations_and_pipeline() {
    let store = Arc::new(MemoryStore::exact());
    let (ingestor, bm25) = setup(store.clone());
    ingestor.ingest(docs()).await.unwrap();
    let retriever: Arc<dyn Retriever> = Arc::new(HybridRetriever::new(
        vec![
            Arc::new(DenseRetriever::new(store.clone(), Arc::new(HashEmbedder))),
            Arc::new(Bm25Retriever::new(bm25)),
        ],
        10,
    ));
    let hits = retriever
        .retrieve("refund delivery", 4, None)
        .await
        .unwrap();
    let small = ContextBuilder::new(20).build(&hits);
    assert!(small.used <= 20);
    assert!(small.sources.len() < hits.len());
    let ctx = ContextBuilder::new(1000).build(&hits);
    assert_eq!(ctx.sources.len(), hits.len());
    assert!(ctx.text.starts_with("[1] "));
    let cited = ctx.cited("Yes [2]. Also [1, 2] and [9] and [x].");
    assert_eq!(cited.iter().map(|s| s.number).collect::<Vec<_>>(), [2, 1]);

    let model = Arc::new(ScriptedModel::new(vec![Step::Reply(
        ChatResponse::text_answer("You can return items within thirty days [1]."),
    )]));
    let rag = RagPipeline::new(retriever.clone(), model.clone(), ContextBuilder::new(500))
        .top_k(3)
        .adjust_request(|r| r.extra("repetition_penalty", serde_json::json!(1.1)));
    let answer = rag
        .answer("How do refunds work?", Some(&Filter::eq("tenant", "acme")))
        .await
        .unwrap();
    assert_eq!(answer.citations.len(), 1);
    let src = &answer.citations[0];
    let doc = docs()
        .into_iter()
        .find(|d| d.id == src.document_id)
        .unwrap();
    assert_eq!(
        &doc.text[src.bytes.clone()],
        src.text,
        "citations map back to the document"
    );
    let sent = &model.requests()[0];
    assert_eq!(sent.messages[0].text(), DEFAULT_INSTRUCTIONS);
    let user = sent.messages[1].text();
    assert!(user.starts_with("Sources:\n\n[1] "), "{user}");
    assert!(user.ends_with("Question: How do refunds work?"), "{user}");
    assert_eq!(sent.temperature, Some(0.0));
    assert_eq!(sent.extra["repetition_penalty"], serde_json::json!(1.1));
    assert!(answer.quotes.is_empty());

    let model = Arc::new(ScriptedModel::new(vec![Step::Reply(
        ChatResponse::text_answer("I do not know."),
    )]));
    let rag = RagPipeline::new(retriever.clone(), model.clone(), ContextBuilder::new(500))
        .instructions("Answer like a pirate, citing [n].");
    let unsure = rag.answer("Warranty?", None).await.unwrap();
    assert!(unsure.citations.is_empty(), "no [n], no citations");
    assert_eq!(
        model.requests()[0].messages[0].text(),
        "Answer like a pirate, citing [n]."
    );
    assert!(
        answer
            .context
            .sources
            .iter()
            .all(|s| s.document_id == "refunds" || s.document_id == "shipping")
    );
}

#[tokio::test]
async fn extractive_answers_quote_exact_sentences() {
    let docs = vec![
        Document::new(
            "policy",
            "Our shop sells books. Refunds are paid within thirty days of delivery to the original card. \
             Gift cards cannot be refunded.\n\nShipping is free above fifty euros.",
        ),
        Document::new(
            "café",
            "Le café ouvre à huit heures. Delivery of croissants starts at nine o'clock.",
        ),
    ];
    let store = Arc::new(MemoryStore::exact());
    let ingestor = Ingestor::new(
        Arc::new(RecursiveChunker::new(80, 0)),
        Arc::new(HashEmbedder),
        store.clone(),
    );
    ingestor.ingest(docs.clone()).await.unwrap();
    let retriever: Arc<dyn Retriever> =
        Arc::new(DenseRetriever::new(store, Arc::new(HashEmbedder)));
    let rag = RagPipeline::extractive(
        retriever,
        Extractive::new(Arc::new(HashEmbedder)).sentences(2),
        ContextBuilder::new(1000),
    )
    .top_k(4);
    let answer = rag
        .answer("When are refunds paid after delivery?", None)
        .await
        .unwrap();
    assert!(!answer.quotes.is_empty() && answer.quotes.len() <= 2);
    assert!(answer.usage.is_none());
    for q in &answer.quotes {
        let doc = docs.iter().find(|d| d.id == q.document_id).unwrap();
        assert_eq!(
            &doc.text[q.bytes.clone()],
            q.text,
            "quotes map back exactly"
        );
        let by_chars: String = doc
            .text
            .chars()
            .skip(q.chars.start)
            .take(q.chars.len())
            .collect();
        assert_eq!(by_chars, q.text);
        assert!(answer.text.contains(&format!("{} [{}]", q.text, q.number)));
        assert!(answer.citations.iter().any(|c| c.number == q.number));
    }
    assert!(
        answer.quotes[0].text.starts_with("Refunds are paid"),
        "{:?}",
        answer.quotes
    );
    let scores: Vec<f32> = answer.quotes.iter().map(|q| q.score).collect();
    assert!(scores.iter().all(|&s| s >= 0.3), "{scores:?}");

    let strict = RagPipeline::extractive(
        Arc::new(DenseRetriever::new(
            Arc::new(MemoryStore::exact()),
            Arc::new(HashEmbedder),
        )),
        Extractive::new(Arc::new(HashEmbedder)).min_score(0.99),
        ContextBuilder::new(1000),
    );
    let none = strict.answer("Anything?", None).await.unwrap();
    assert!(none.quotes.is_empty() && none.citations.is_empty());
    assert_eq!(none.text, "The sources do not contain an answer.");
}

#[tokio::test]
async fn stores_save_and_load() {
    for store in [
        MemoryStore::exact(),
        MemoryStore::hnsw(HnswConfig::default()),
    ] {
        let store = Arc::new(store);
        let (ingestor, _) = setup(store.clone());
        ingestor.ingest(docs()).await.unwrap();
        ingestor.delete("warranty").await.unwrap();
        let path = std::env::temp_dir().join(format!(
            "ai-rag-store-{}-{}.bin",
            std::process::id(),
            fastrand_seed()
        ));
        store.save(&path).unwrap();
        let back = MemoryStore::load(&path).unwrap();
        assert_eq!(back.count().await.unwrap(), store.count().await.unwrap());
        let q = HashEmbedder
            .embed(&["password reset".into()])
            .await
            .unwrap();
        let a = store.search(&q[0], 3, None).await.unwrap();
        let b = back.search(&q[0], 3, None).await.unwrap();
        assert_eq!(
            a.iter().map(|h| &h.chunk.id).collect::<Vec<_>>(),
            b.iter().map(|h| &h.chunk.id).collect::<Vec<_>>()
        );
        std::fs::write(&path, b"AIRAGMS1 truncated").unwrap();
        assert!(MemoryStore::load(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}

fn fastrand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64)
}
