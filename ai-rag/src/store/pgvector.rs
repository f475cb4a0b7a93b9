//! PostgreSQL + pgvector store (feature `pgvector`).
//!
//! One table per store: chunk columns, `metadata JSONB` and `embedding vector(dim)`, with an
//! HNSW index on cosine distance, a GIN index on the metadata and a B-tree on the document id.
//! Every value — filter keys and values included — is bound as a query parameter; the only
//! text formatted into SQL is the table name, which is checked to be a plain identifier.
//! Filtered searches use pgvector 0.8's iterative index scans, and fall back to an exact scan of
//! the matching rows when the index walk still ends short, so they return `k` rows whenever `k`
//! rows match.

use std::time::Duration;

use ai_core::{AiError, ErrorKind, Result};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use pgvector::Vector;
use tokio_postgres::types::ToSql;

use super::VectorStore;
use crate::document::{Filter, Hit, Metadata, StoredChunk, normalize};

/// Connection and index settings.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Table name (letters, digits and `_`, not starting with a digit, at most 63 bytes).
    pub table: String,
    /// Embedding dimensions.
    pub dimensions: usize,
    /// Pool size.
    pub max_connections: usize,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Per-statement timeout set on every connection.
    pub statement_timeout: Duration,
    /// HNSW build parameter `m`.
    pub hnsw_m: usize,
    /// HNSW build parameter `ef_construction`.
    pub hnsw_ef_construction: usize,
    /// `hnsw.ef_search` for queries.
    pub ef_search: usize,
}

impl PgOptions {
    /// Defaults for `table` with `dimensions`-long vectors.
    pub fn new(table: impl Into<String>, dimensions: usize) -> Self {
        Self {
            table: table.into(),
            dimensions,
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            hnsw_m: 16,
            hnsw_ef_construction: 64,
            ef_search: 100,
        }
    }
}

/// A [`VectorStore`] in PostgreSQL with pgvector.
pub struct PgVectorStore {
    pool: Pool,
    table: String,
    dimensions: usize,
    ef_search: usize,
}

impl std::fmt::Debug for PgVectorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgVectorStore")
            .field("table", &self.table)
            .field("dimensions", &self.dimensions)
            .finish_non_exhaustive()
    }
}

fn db(e: impl std::fmt::Display) -> AiError {
    AiError::new(ErrorKind::Unavailable, format!("PostgreSQL: {e}")).with_provider("postgres")
}

fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Build a WHERE clause for `filter`, pushing parameters (keys and JSON values) to `params`.
/// Parameters are numbered from `first`.
fn filter_sql(
    filter: &Filter,
    params: &mut Vec<Box<dyn ToSql + Sync + Send>>,
    first: usize,
) -> String {
    match filter {
        Filter::Eq(k, v) => {
            params.push(Box::new(k.clone()));
            params.push(Box::new(v.clone()));
            let (a, b) = (first + params.len() - 2, first + params.len() - 1);
            format!("(metadata -> ${a}::text) = ${b}::jsonb")
        }
        Filter::In(k, vs) => {
            if vs.is_empty() {
                return "FALSE".into();
            }
            let parts: Vec<String> = vs
                .iter()
                .map(|v| filter_sql(&Filter::Eq(k.clone(), v.clone()), params, first))
                .collect();
            format!("({})", parts.join(" OR "))
        }
        Filter::And(fs) => {
            if fs.is_empty() {
                return "TRUE".into();
            }
            let parts: Vec<String> = fs.iter().map(|f| filter_sql(f, params, first)).collect();
            format!("({})", parts.join(" AND "))
        }
        Filter::Or(fs) => {
            if fs.is_empty() {
                return "FALSE".into();
            }
            let parts: Vec<String> = fs.iter().map(|f| filter_sql(f, params, first)).collect();
            format!("({})", parts.join(" OR "))
        }
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

impl PgVectorStore {
    /// Connect to `url` (`postgres://user@host:port/db`), create the extension, table and
    /// indexes if missing.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self> {
        if !valid_identifier(&options.table) {
            return Err(AiError::config(format!(
                "`{}` is not a valid table name (letters, digits and _ only)",
                options.table
            )));
        }
        if options.dimensions == 0 || options.dimensions > 16_000 {
            return Err(AiError::config("dimensions must be between 1 and 16000"));
        }
        let mut cfg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| AiError::config(format!("invalid PostgreSQL URL: {e}")))?;
        cfg.connect_timeout(options.connect_timeout);
        cfg.options(format!(
            "-c statement_timeout={}",
            options.statement_timeout.as_millis()
        ));
        let manager = Manager::from_config(
            cfg,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| AiError::config(format!("cannot create the connection pool: {e}")))?;
        let store = Self {
            pool,
            table: options.table.clone(),
            dimensions: options.dimensions,
            ef_search: options.ef_search,
        };
        let t = &store.table;
        let client = store.pool.get().await.map_err(db)?;
        client
            .batch_execute(&format!(
                "CREATE EXTENSION IF NOT EXISTS vector;
                 CREATE TABLE IF NOT EXISTS {t} (
                    id TEXT PRIMARY KEY,
                    document_id TEXT NOT NULL,
                    chunk_index BIGINT NOT NULL,
                    text TEXT NOT NULL,
                    byte_start BIGINT NOT NULL, byte_end BIGINT NOT NULL,
                    char_start BIGINT NOT NULL, char_end BIGINT NOT NULL,
                    metadata JSONB NOT NULL DEFAULT '{{}}',
                    content_hash TEXT NOT NULL,
                    embedding vector({dim}) NOT NULL);
                 CREATE INDEX IF NOT EXISTS {t}_document ON {t} (document_id);
                 CREATE INDEX IF NOT EXISTS {t}_metadata ON {t} USING gin (metadata);
                 CREATE INDEX IF NOT EXISTS {t}_embedding ON {t}
                    USING hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = {efc});",
                dim = options.dimensions,
                m = options.hnsw_m,
                efc = options.hnsw_ef_construction,
            ))
            .await
            .map_err(db)?;
        Ok(store)
    }

    fn check_dims(&self, v: &[f32], what: &str) -> Result<()> {
        if v.len() != self.dimensions {
            return Err(AiError::new(
                ErrorKind::BadRequest,
                format!(
                    "{what} has {} dimensions; the table holds {}",
                    v.len(),
                    self.dimensions
                ),
            ));
        }
        Ok(())
    }

    async fn write(&self, delete_document: Option<&str>, chunks: Vec<StoredChunk>) -> Result<()> {
        let docs: Vec<String> = delete_document.map(str::to_string).into_iter().collect();
        self.write_many(&docs, chunks).await
    }

    /// In one transaction: delete the chunks of `delete_documents`, then upsert `chunks`.
    async fn write_many(
        &self,
        delete_documents: &[String],
        chunks: Vec<StoredChunk>,
    ) -> Result<()> {
        for c in &chunks {
            self.check_dims(&c.embedding, &format!("chunk `{}`", c.id))?;
        }
        let mut client = self.pool.get().await.map_err(db)?;
        let tx = client.transaction().await.map_err(db)?;
        if !delete_documents.is_empty() {
            tx.execute(
                &format!("DELETE FROM {} WHERE document_id = ANY($1)", self.table),
                &[&delete_documents],
            )
            .await
            .map_err(db)?;
        }
        let stmt = tx
            .prepare(&format!(
                "INSERT INTO {} (id, document_id, chunk_index, text, byte_start, byte_end, char_start, char_end, metadata, content_hash, embedding)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET document_id = EXCLUDED.document_id, chunk_index = EXCLUDED.chunk_index,
                   text = EXCLUDED.text, byte_start = EXCLUDED.byte_start, byte_end = EXCLUDED.byte_end,
                   char_start = EXCLUDED.char_start, char_end = EXCLUDED.char_end, metadata = EXCLUDED.metadata,
                   content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding",
                self.table
            ))
            .await
            .map_err(db)?;
        for mut c in chunks {
            normalize(&mut c.embedding);
            let metadata = serde_json::Value::Object(c.metadata);
            tx.execute(
                &stmt,
                &[
                    &c.id,
                    &c.document_id,
                    &to_i64(c.index),
                    &c.text,
                    &to_i64(c.bytes.start),
                    &to_i64(c.bytes.end),
                    &to_i64(c.chars.start),
                    &to_i64(c.chars.end),
                    &metadata,
                    &c.content_hash,
                    &Vector::from(c.embedding),
                ],
            )
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }
}

#[async_trait]
impl VectorStore for PgVectorStore {
    async fn upsert(&self, chunks: Vec<StoredChunk>) -> Result<()> {
        self.write(None, chunks).await
    }

    async fn delete_document(&self, document_id: &str) -> Result<usize> {
        let client = self.pool.get().await.map_err(db)?;
        let n = client
            .execute(
                &format!("DELETE FROM {} WHERE document_id = $1", self.table),
                &[&document_id],
            )
            .await
            .map_err(db)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    async fn replace_document(&self, document_id: &str, chunks: Vec<StoredChunk>) -> Result<()> {
        self.write(Some(document_id), chunks).await
    }

    async fn replace_documents(&self, documents: Vec<(String, Vec<StoredChunk>)>) -> Result<()> {
        let ids: Vec<String> = documents.iter().map(|(id, _)| id.clone()).collect();
        let chunks = documents.into_iter().flat_map(|(_, c)| c).collect();
        self.write_many(&ids, chunks).await
    }

    async fn search(&self, query: &[f32], k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        self.check_dims(query, "the query")?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut q = query.to_vec();
        normalize(&mut q);
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> =
            vec![Box::new(Vector::from(q)), Box::new(to_i64(k))];
        let where_sql = match filter {
            Some(f) => format!("WHERE {}", filter_sql(f, &mut params, 1)),
            None => String::new(),
        };
        let sql = format!(
            "SELECT id, document_id, chunk_index, text, byte_start, byte_end, char_start, char_end, metadata, content_hash,
                    1 - (embedding <=> $1) AS score
             FROM {} {where_sql} ORDER BY embedding <=> $1 LIMIT $2",
            self.table
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let mut client = self.pool.get().await.map_err(db)?;
        let mut rows = {
            let tx = client.transaction().await.map_err(db)?;
            // Keep scanning the index until enough rows pass the filter (pgvector 0.8).
            tx.batch_execute(&format!(
                "SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = {};",
                self.ef_search.max(k).min(1000)
            ))
            .await
            .map_err(db)?;
            let rows = tx.query(&sql, &refs).await.map_err(db)?;
            tx.commit().await.map_err(db)?;
            rows
        };
        if rows.len() < k && filter.is_some() {
            // The graph walk can end before k matches are found (a selective filter over
            // clustered or duplicated vectors); an exact scan of the matching rows cannot.
            let tx = client.transaction().await.map_err(db)?;
            tx.batch_execute("SET LOCAL enable_indexscan = off;")
                .await
                .map_err(db)?;
            rows = tx.query(&sql, &refs).await.map_err(db)?;
            tx.commit().await.map_err(db)?;
        }
        let mut hits = Vec::with_capacity(rows.len());
        for r in rows {
            let metadata: serde_json::Value = r.try_get(8).map_err(db)?;
            let score: f64 = r.try_get(10).map_err(db)?;
            hits.push(Hit {
                chunk: StoredChunk {
                    id: r.try_get(0).map_err(db)?,
                    document_id: r.try_get(1).map_err(db)?,
                    index: to_usize(r.try_get(2).map_err(db)?),
                    text: r.try_get(3).map_err(db)?,
                    bytes: to_usize(r.try_get(4).map_err(db)?)..to_usize(r.try_get(5).map_err(db)?),
                    chars: to_usize(r.try_get(6).map_err(db)?)..to_usize(r.try_get(7).map_err(db)?),
                    metadata: match metadata {
                        serde_json::Value::Object(m) => m,
                        _ => Metadata::new(),
                    },
                    content_hash: r.try_get(9).map_err(db)?,
                    embedding: Vec::new(),
                },
                score: score as f32,
            });
        }
        // Relaxed ordering may return rows slightly out of order.
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.chunk.id.cmp(&b.chunk.id))
        });
        Ok(hits)
    }

    async fn count(&self) -> Result<usize> {
        let client = self.pool.get().await.map_err(db)?;
        let row = client
            .query_one(&format!("SELECT count(*) FROM {}", self.table), &[])
            .await
            .map_err(db)?;
        let n: i64 = row.try_get(0).map_err(db)?;
        Ok(to_usize(n))
    }

    async fn document_hash(&self, document_id: &str) -> Result<Option<String>> {
        let client = self.pool.get().await.map_err(db)?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT content_hash FROM {} WHERE document_id = $1 LIMIT 1",
                    self.table
                ),
                &[&document_id],
            )
            .await
            .map_err(db)?;
        row.map(|r| r.try_get(0).map_err(db)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_filter_sql() {
        assert!(valid_identifier("chunks_v1"));
        for bad in ["", "1abc", "a-b", "a b", "x; DROP TABLE t", "\"q\""] {
            assert!(!valid_identifier(bad), "{bad}");
        }
        let mut params = Vec::new();
        let f = Filter::And(vec![
            Filter::eq("tenant", "x' OR '1'='1"),
            Filter::In("lang".into(), vec!["en".into(), "de".into()]),
        ]);
        let sql = filter_sql(&f, &mut params, 3);
        assert_eq!(
            sql,
            "((metadata -> $3::text) = $4::jsonb AND ((metadata -> $5::text) = $6::jsonb OR (metadata -> $7::text) = $8::jsonb))"
        );
        assert_eq!(params.len(), 6);
        assert!(!sql.contains("OR '1'"), "values never reach the SQL text");
    }
}
