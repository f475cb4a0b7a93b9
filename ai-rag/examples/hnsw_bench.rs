//! The in-memory HNSW index against exact search (recall@10) and hnswlib (queries per second
//! at the same recall), on data written by `scripts/python/bench_hnsw_python.py make`.
//!
//! ```text
//! scripts/bench_hnsw.sh            # data, hnswlib and this program in one run
//! cargo run --release -p ai-rag --example hnsw_bench -- DIR
//! ```

use std::time::Instant;

use ai_rag::store::{Hnsw, HnswConfig};

fn read_f32(path: &str) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn read_i32(path: &str) -> Vec<i32> {
    std::fs::read(path)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: hnsw_bench DIR");
        std::process::exit(2);
    };
    let truth = read_i32(&format!("{dir}/truth.i32"));
    let queries = read_f32(&format!("{dir}/queries.f32"));
    let base = read_f32(&format!("{dir}/base.f32"));
    let nq = truth.len() / 10;
    if nq == 0 || !queries.len().is_multiple_of(nq) {
        eprintln!("bad data in {dir}");
        std::process::exit(1);
    }
    let dim = queries.len() / nq;
    let n = base.len() / dim;
    let cfg = HnswConfig {
        m: 16,
        ef_construction: 200,
        ef_search: 10,
        seed: 100,
    };
    let start = Instant::now();
    let mut g = Hnsw::new(dim, cfg);
    for i in 0..n {
        g.insert(&base, i as u32);
    }
    let build = start.elapsed().as_secs_f64();
    let memory_mib = (g.link_bytes() + base.len() * 4) as f64 / 1048576.0;
    for ef in [10, 20, 40, 80, 160, 320] {
        let start = Instant::now();
        let mut hits = 0;
        for (qi, q) in queries.chunks(dim).enumerate() {
            let found = g.search(&base, q, 10, ef);
            let t = &truth[qi * 10..qi * 10 + 10];
            hits += found
                .iter()
                .take(10)
                .filter(|(id, _)| t.contains(&(*id as i32)))
                .count();
        }
        let dt = start.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({"engine": "ai-rag", "ef": ef, "recall": hits as f64 / (nq * 10) as f64,
                "qps": nq as f64 / dt, "build_s": build, "memory_mib": memory_mib, "n": n, "dim": dim})
        );
    }
}
