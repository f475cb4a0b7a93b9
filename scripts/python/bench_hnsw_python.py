"""hnswlib baseline for the HNSW benchmark, and the shared data.

usage: bench_hnsw_python.py make DIR [N] [DIM]   -> DIR/base.f32, DIR/queries.f32, DIR/truth.i32
       bench_hnsw_python.py run DIR              -> JSON lines (hnswlib, one thread)

Data: N normalised vectors around 1 000 random centres (Gaussian noise), 1 000 queries drawn the
same way, exact top-10 by inner product as ground truth. Build M=16, ef_construction=200.
"""
import json
import sys
import time

import numpy as np


def make(d: str, n: int, dim: int) -> None:
    rng = np.random.default_rng(42)
    centres = rng.standard_normal((1000, dim)).astype(np.float32)

    def draw(count):
        x = centres[rng.integers(0, len(centres), count)] + 0.7 * rng.standard_normal((count, dim)).astype(np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    base, queries = draw(n), draw(1000)
    truth = np.argsort(-(queries @ base.T), axis=1)[:, :10].astype(np.int32)
    base.tofile(f"{d}/base.f32")
    queries.tofile(f"{d}/queries.f32")
    truth.tofile(f"{d}/truth.i32")
    print(json.dumps({"made": d, "n": n, "dim": dim}))


def run(d: str) -> None:
    import hnswlib
    truth = np.fromfile(f"{d}/truth.i32", dtype=np.int32).reshape(-1, 10)
    queries = np.fromfile(f"{d}/queries.f32", dtype=np.float32).reshape(len(truth), -1)
    dim = queries.shape[1]
    base = np.fromfile(f"{d}/base.f32", dtype=np.float32).reshape(-1, dim)
    index = hnswlib.Index(space="ip", dim=dim)
    index.set_num_threads(1)
    index.init_index(max_elements=len(base), M=16, ef_construction=200, random_seed=100)
    t0 = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=1)
    build = time.perf_counter() - t0
    for ef in [10, 20, 40, 80, 160, 320]:
        index.set_ef(ef)
        t0 = time.perf_counter()
        labels = [index.knn_query(q, k=10, num_threads=1)[0][0] for q in queries]
        dt = time.perf_counter() - t0
        recall = float(np.mean([len(set(l) & set(t)) / 10 for l, t in zip(labels, truth)]))
        print(json.dumps({"engine": "hnswlib", "ef": ef, "recall": recall, "qps": len(queries) / dt,
                          "build_s": build}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 100_000, int(sys.argv[4]) if len(sys.argv) > 4 else 384)
    else:
        run(sys.argv[2])
