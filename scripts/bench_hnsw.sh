#!/usr/bin/env bash
# bench_hnsw.sh [N] — ai-rag's HNSW against hnswlib on N (default 100 000) normalised 384-d
# vectors, one thread each, same build parameters (M=16, ef_construction=200); prints recall@10
# and queries/s per ef, and the QPS ratio at matching recall.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N=${1:-100000}
VENV=.cache/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import hnswlib, numpy" 2>/dev/null ||
  "$VENV/bin/pip" install -q --disable-pip-version-check "hnswlib==0.8.0" "numpy==1.26.4"
DIR=.cache/hnsw-bench-$N
mkdir -p "$DIR"
[ -f "$DIR/truth.i32" ] || "$VENV/bin/python" scripts/python/bench_hnsw_python.py make "$DIR" "$N" 384
cargo build --release -q -p ai-rag --example hnsw_bench
OUT=$(mktemp)
"$VENV/bin/python" scripts/python/bench_hnsw_python.py run "$DIR" | tee "$OUT"
/usr/bin/time -f '{"engine": "ai-rag-process", "max_rss_mib": %M}' target/release/examples/hnsw_bench "$DIR" 2>>"$OUT.rss" | tee -a "$OUT"
python3 - "$OUT" "$OUT.rss" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rss = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
h = [r for r in rows if r["engine"] == "hnswlib"]
a = [r for r in rows if r["engine"] == "ai-rag"]
print(f"\n{'ef':>4} {'hnswlib recall':>14} {'qps':>8} {'ai-rag recall':>14} {'qps':>8} {'qps ratio':>9}")
for x, y in zip(h, a):
    print(f"{x['ef']:>4} {x['recall']:>14.4f} {x['qps']:>8.0f} {y['recall']:>14.4f} {y['qps']:>8.0f} {y['qps']/x['qps']:>8.2f}x")
print(f"build: hnswlib {h[0]['build_s']:.1f} s, ai-rag {a[0]['build_s']:.1f} s; ai-rag vectors+links {a[0]['memory_mib']:.0f} MiB"
      + (f", process max RSS {rss[0]['max_rss_mib']/1024:.0f} MiB" if rss else ""))
PY
rm -f "$OUT" "$OUT.rss"
