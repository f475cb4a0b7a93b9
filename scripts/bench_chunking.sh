#!/usr/bin/env bash
# bench_chunking.sh FILE... — ai-rag's recursive chunker (1 000 / 200) against LangChain's
# RecursiveCharacterTextSplitter and the text-splitter crate, in one run; prints MB/s and ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
VENV=.cache/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import langchain_text_splitters" 2>/dev/null ||
  "$VENV/bin/pip" install -q --disable-pip-version-check "langchain-text-splitters==0.3.8"
cargo build --release -q -p ai-rag --example chunk_bench
OUT=$(mktemp)
"$VENV/bin/python" scripts/python/bench_chunk_langchain.py "$@" >"$OUT"
target/release/examples/chunk_bench "$@" | tee /dev/stderr | grep '^{' >>"$OUT"
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lc = {r["file"]: r for r in rows if "langchain_whole_mb_s" in r}
us = {r["file"]: r for r in rows if "ours_whole_mb_s" in r}
print(f"\n{'file':<36} {'LangChain whole':>15} {'ours whole':>10} {'ratio':>7} {'LangChain 8KB':>13} {'ours 8KB':>9} {'ratio':>7}")
tot = {"lw": 0, "ow": 0, "ld": 0, "od": 0, "n": 0}
for f, r in us.items():
    l = lc[f]
    print(f"{f:<36} {l['langchain_whole_mb_s']:>15.1f} {r['ours_whole_mb_s']:>10.1f} {r['ours_whole_mb_s']/l['langchain_whole_mb_s']:>6.1f}x"
          f" {l['langchain_docs_mb_s']:>13.1f} {r['ours_docs_mb_s']:>9.1f} {r['ours_docs_mb_s']/l['langchain_docs_mb_s']:>6.1f}x")
    n = r["bytes"]
    tot["n"] += n
    for k, v in (("lw", n / l["langchain_whole_mb_s"]), ("ow", n / r["ours_whole_mb_s"]), ("ld", n / l["langchain_docs_mb_s"]), ("od", n / r["ours_docs_mb_s"])):
        tot[k] += v
print(f"{'all files (total bytes / total time)':<36} {tot['n']/tot['lw']:>15.1f} {tot['n']/tot['ow']:>10.1f} {tot['lw']/tot['ow']:>6.1f}x {tot['n']/tot['ld']:>13.1f} {tot['n']/tot['od']:>9.1f} {tot['ld']/tot['od']:>6.1f}x")
PY
rm -f "$OUT"
