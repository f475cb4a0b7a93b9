//! Retrieval quality on a BEIR-format directory, and ingestion throughput.
//!
//! ```text
//! eval "$(scripts/models.sh env)"
//! cargo run --release -p ai-rag --example beir_eval -- DIR [--pg POSTGRES_URL]
//! ```
//!
//! Prints nDCG@10, Recall@100 and MRR@10 for BM25, dense (all-MiniLM-L6-v2 INT8 through
//! `ai-infer`, exact search) and hybrid (reciprocal rank fusion of the two, 100 candidates
//! each). Every document is one chunk (titles prepended to texts). Defaults only: BM25 k1 = 1.2,
//! b = 0.75, RRF k = 60 — nothing was tuned on the data reported. Also prints ingestion
//! throughput into memory (and into pgvector with `--pg`) against the embedder alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ai_core::EmbeddingModel;
use ai_infer::{ModelFiles, OnnxEmbedder, SessionOptions};
use ai_rag::chunk::RecursiveChunker;
use ai_rag::eval::{Scores, load_beir, score};
use ai_rag::retrieve::Bm25Retriever;
use ai_rag::store::{MemoryStore, VectorStore};
use ai_rag::{Bm25Index, DenseRetriever, Document, HybridRetriever, Ingestor, Retriever};

fn print(name: &str, s: &Scores) {
    println!(
        "{name:<8} nDCG@10 {:.4}   Recall@100 {:.4}   MRR@10 {:.4}   ({} queries)",
        s.ndcg_at_10, s.recall_at_100, s.mrr_at_10, s.queries
    );
}

async fn rankings(
    r: &dyn Retriever,
    queries: &[(String, String)],
) -> ai_core::Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for (id, text) in queries {
        let hits = r.retrieve(text, 100, None).await?;
        let mut docs: Vec<String> = Vec::new();
        for h in hits {
            if !docs.contains(&h.chunk.document_id) {
                docs.push(h.chunk.document_id);
            }
        }
        out.insert(id.clone(), docs);
    }
    Ok(out)
}

async fn run() -> ai_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .ok_or_else(|| ai_core::AiError::config("usage: beir_eval DIR [--pg URL]"))?;
    let pg = args
        .iter()
        .position(|a| a == "--pg")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let data = load_beir(std::path::Path::new(dir))?;
    println!(
        "{} documents, {} queries, {} judged",
        data.corpus.len(),
        data.queries.len(),
        data.qrels.len()
    );
    let models = std::env::var("AI_INFER_MODELS").unwrap_or_else(|_| ".cache/models".into());
    let embedder = OnnxEmbedder::load(
        &ModelFiles::from_dir(format!("{models}/all-MiniLM-L6-v2-int8"))?,
        &SessionOptions::with_threads(2),
    )?;
    let docs: Vec<Document> = data
        .corpus
        .iter()
        .map(|(id, title, text)| {
            let body = if title.is_empty() {
                text.clone()
            } else {
                format!("{title}\n{text}")
            };
            Document::new(id.clone(), body)
        })
        .collect();

    // The embedder alone, on the same texts: the ceiling for ingestion.
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let start = Instant::now();
    for part in texts.chunks(256) {
        embedder.embed(part).await?;
    }
    let ceiling = texts.len() as f64 / start.elapsed().as_secs_f64();

    let store = Arc::new(MemoryStore::exact());
    let bm25 = Arc::new(Bm25Index::default());
    let chunker = Arc::new(RecursiveChunker::new(100_000, 0));
    let embedder: Arc<dyn EmbeddingModel> = Arc::new(embedder);
    let ingestor = Ingestor::new(chunker.clone(), embedder.clone(), store.clone())
        .with_bm25(bm25.clone())
        .on_progress(progress_bar("memory", docs.len()));
    let start = Instant::now();
    let report = ingestor.ingest(docs.clone()).await?;
    let memory_rate = docs.len() as f64 / start.elapsed().as_secs_f64();
    println!(
        "ingestion into memory: {memory_rate:.1} documents/s ({} chunks); embedder alone {ceiling:.1} texts/s ({:.0}% of the ceiling)",
        report.chunks_written,
        100.0 * memory_rate / ceiling
    );
    if let Some(url) = pg {
        let table = format!("beir_{}", std::process::id());
        let pg_store = Arc::new(
            ai_rag::store::PgVectorStore::connect(&url, ai_rag::store::PgOptions::new(table, 384))
                .await?,
        );
        let ingestor = Ingestor::new(chunker, embedder.clone(), pg_store.clone())
            .on_progress(progress_bar("pgvector", docs.len()));
        let start = Instant::now();
        ingestor.ingest(docs.clone()).await?;
        let pg_rate = docs.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "ingestion into pgvector: {pg_rate:.1} documents/s ({} rows; {:.0}% of the ceiling)",
            pg_store.count().await?,
            100.0 * pg_rate / ceiling
        );
    }

    let bm25_r: Arc<dyn Retriever> = Arc::new(Bm25Retriever::new(bm25));
    let dense_r: Arc<dyn Retriever> = Arc::new(DenseRetriever::new(store, embedder));
    let hybrid_r = HybridRetriever::new(vec![bm25_r.clone(), dense_r.clone()], 100);
    print(
        "BM25",
        &score(&data, &rankings(bm25_r.as_ref(), &data.queries).await?),
    );
    print(
        "dense",
        &score(&data, &rankings(dense_r.as_ref(), &data.queries).await?),
    );
    print(
        "hybrid",
        &score(&data, &rankings(&hybrid_r, &data.queries).await?),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beir_eval failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// An `indicatif` bar fed by the ingestion's progress callback (drawn on stderr, hidden when
/// stderr is not a terminal).
fn progress_bar(label: &str, total: usize) -> impl Fn(ai_rag::Progress) + Send + Sync + 'static {
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>9} [{bar:30}] {pos}/{len} documents, {msg} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    move |p: ai_rag::Progress| {
        bar.set_position(p.documents_done as u64);
        bar.set_message(format!("{} chunks", p.chunks_written));
        if p.documents_done >= p.documents_total {
            bar.finish_and_clear();
        }
    }
}
