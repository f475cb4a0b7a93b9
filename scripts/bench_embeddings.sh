#!/usr/bin/env bash
# bench_embeddings.sh — ai-infer embedding throughput against Python onnxruntime, in one run,
# on one thread each, plus the batcher and memory measurements; prints the ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/models.sh install
eval "$(scripts/models.sh env)"
PY=$(scripts/models.sh python | tail -1)
export TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1
SENT=.cache/bench_sentences.jsonl
[ -f "$SENT" ] || "$PY" scripts/python/bench_embed_python.py --make-sentences "$SENT" "$AI_INFER_MODELS/all-MiniLM-L6-v2-fp32/tokenizer.json"
cargo build --release -q -p examples --example embed_bench
OUT=$(mktemp)
"$PY" scripts/python/bench_embed_python.py "$SENT" "$AI_INFER_MODELS" | tee "$OUT"
target/release/examples/embed_bench "$SENT" | tee -a "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
py = {r["model"]: r for r in rows if r["measure"] == "python_throughput"}
rs = {r["model"]: r for r in rows if r["measure"] == "throughput"}
print("\nmodel                               set      python/s    rust/s   rust/python")
for m in rs:
    for k in ["uniform_per_s", "mixed_per_s"]:
        print(f"{m:<35} {k.split('_')[0]:<8} {py[m][k]:9.1f} {rs[m][k]:9.1f}   {rs[m][k] / py[m][k]:5.2f}x")
fp, i8 = rs["all-MiniLM-L6-v2-fp32"], rs["all-MiniLM-L6-v2-int8"]
for m in rs:
    print(f"{m:<35} mixed, Rust given 32 texts per call (no cross-call sorting): {rs[m]['mixed_calls_of_32_per_s']:.1f}/s")
print(f"\nINT8 (dynamic) / FP32 throughput, uniform: {i8['uniform_per_s'] / fp['uniform_per_s']:.2f}x")
b = next(r for r in rows if r["measure"] == "batcher")
print(f"batcher: 64 concurrent single callers {b['concurrent_64_single_per_s']:.1f}/s vs batches of 32 {b['batches_of_32_per_s']:.1f}/s = {b['ratio']:.2f}")
m = next(r for r in rows if r["measure"] == "memory")
print(f"memory: RSS {m['rss_before_mib']:.1f} MiB before, {m['rss_after_10000_mib']:.1f} MiB after 10 000 requests (growth {m['growth_mib']:.1f} MiB)")
for name, r in rs.items():
    print(f"RSS added by loading {name}: {r['rss_model_mib']:.1f} MiB")
PY
rm -f "$OUT"
