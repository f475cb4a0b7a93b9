//! The pgvector store against a real PostgreSQL 16 + pgvector 0.8.5 (scripts/services.sh).
//! Compiled only with the `live-tests` feature; then it requires the server.
#![cfg(feature = "live-tests")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use ai_core::{EmbeddingModel, ErrorKind};
use ai_rag::chunk::RecursiveChunker;
use ai_rag::store::{PgOptions, PgVectorStore, VectorStore};
use ai_rag::{Document, Filter, Ingestor, StoredChunk};
use common::{HashEmbedder, docs};

fn url() -> String {
    std::env::var("AI_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("AI_TEST_PG_URL is not set: run scripts/services.sh start (scripts/test.sh does)")
    })
}

async fn store(name: &str) -> PgVectorStore {
    let table = format!("t_{name}_{}", std::process::id());
    PgVectorStore::connect(&url(), PgOptions::new(table, 64))
        .await
        .unwrap()
}

async fn drop_table(name: &str) {
    let (client, conn) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS t_{name}_{}",
            std::process::id()
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn idempotent_ingestion_replacement_and_deletion() {
    let s = Arc::new(store("ingest").await);
    let ingestor = Ingestor::new(
        Arc::new(RecursiveChunker::new(60, 10)),
        Arc::new(HashEmbedder),
        s.clone(),
    );
    let r = ingestor.ingest(docs()).await.unwrap();
    assert_eq!(r.added, 4);
    let count = s.count().await.unwrap();
    assert_eq!(count, r.chunks_written);
    let again = ingestor.ingest(docs()).await.unwrap();
    assert_eq!((again.unchanged, again.chunks_written), (4, 0));
    let mut changed = docs();
    changed[1].text = "Shipping is now free and takes one day.".into();
    let r = ingestor.ingest(changed).await.unwrap();
    assert_eq!(r.updated, 1);
    let q = HashEmbedder
        .embed(&["standard delivery business days".into()])
        .await
        .unwrap();
    let hits = s.search(&q[0], 50, None).await.unwrap();
    assert!(hits.iter().all(|h| !h.chunk.text.contains("business days")));
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let deleted = ingestor.delete("shipping").await.unwrap();
    assert!(deleted >= 1);
    assert_eq!(s.document_hash("shipping").await.unwrap(), None);
    drop_table("ingest").await;
}

#[tokio::test]
async fn filters_are_exact_selective_and_injection_safe() {
    let s = Arc::new(store("filter").await);
    let ingestor = Ingestor::new(
        Arc::new(RecursiveChunker::new(200, 0)),
        Arc::new(HashEmbedder),
        s.clone(),
    );
    ingestor.ingest(docs()).await.unwrap();
    // 1 500 rows of another tenant make "globex" selective for the HNSW index.
    let filler: Vec<Document> = (0..1500)
        .map(|i| {
            Document::new(
                format!("f{i}"),
                format!("filler {i} about password reset and delivery"),
            )
            .with("tenant", "other")
        })
        .collect();
    ingestor.ingest(filler).await.unwrap();
    let q = HashEmbedder
        .embed(&["password reset delivery".into()])
        .await
        .unwrap();
    let globex = Filter::eq("tenant", "globex");
    let hits = s.search(&q[0], 2, Some(&globex)).await.unwrap();
    assert_eq!(
        hits.len(),
        2,
        "iterative scan fills k despite the selective filter"
    );
    assert!(hits.iter().all(|h| h.chunk.metadata["tenant"] == "globex"));
    let mixed = Filter::And(vec![
        Filter::In("tenant".into(), vec!["acme".into(), "globex".into()]),
        Filter::eq("lang", "en"),
    ]);
    let hits = s.search(&q[0], 10, Some(&mixed)).await.unwrap();
    assert_eq!(hits.len(), 4);

    let before = s.count().await.unwrap();
    let table = format!("t_filter_{}", std::process::id());
    for evil in [
        Filter::eq("tenant", format!("x'); DROP TABLE {table}; --")),
        Filter::eq(format!("tenant' OR 1=1; DROP TABLE {table}; --"), "acme"),
        Filter::In(
            "tenant".into(),
            vec![
                serde_json::json!({"$ne": null}),
                serde_json::json!("' OR ''='"),
            ],
        ),
    ] {
        let hits = s.search(&q[0], 10, Some(&evil)).await.unwrap();
        assert!(hits.is_empty(), "{evil:?} matched {hits:?}");
    }
    assert_eq!(s.count().await.unwrap(), before, "the table is intact");
    drop_table("filter").await;
}

#[tokio::test]
async fn bad_configuration_and_input_are_clear_errors() {
    let e = PgVectorStore::connect(&url(), PgOptions::new("x; DROP TABLE y", 64))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = PgVectorStore::connect("postgres://nobody@127.0.0.1:1/none", PgOptions::new("t", 3))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    let s = store("dims").await;
    let e = s.search(&[1.0, 2.0], 3, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    let chunk = StoredChunk {
        id: "a#0".into(),
        document_id: "a".into(),
        index: 0,
        text: "x".into(),
        bytes: 0..1,
        chars: 0..1,
        metadata: Default::default(),
        content_hash: "h".into(),
        embedding: vec![1.0; 5],
    };
    assert_eq!(
        s.upsert(vec![chunk]).await.unwrap_err().kind(),
        ErrorKind::BadRequest
    );
    drop_table("dims").await;
}
