#!/usr/bin/env bash
# bench_tokenize.sh — ai-infer's WordPiece fast path against the `tokenizers` crate (its general
# path), in one process: texts per second on one thread and on every core, for the embedding
# benchmark's sentences, a novel and a set of prompt-injection prompts (many scripts, emoji).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/models.sh install
eval "$(scripts/models.sh env)"
PY=$(scripts/models.sh python | tail -1)
SENT=.cache/bench_sentences.jsonl
TOK="$AI_INFER_MODELS/all-MiniLM-L6-v2-fp32/tokenizer.json"
[ -f "$SENT" ] || "$PY" scripts/python/bench_embed_python.py --make-sentences "$SENT" "$TOK"
cargo build --release -q -p examples --example tokenize_bench --features mimalloc
OUT=$(mktemp)
target/release/examples/tokenize_bench "$TOK" "$SENT" ai-rag/tests/data/moby_dick_part.txt \
  ai-guard/tests/data/injection_dev.jsonl | tee "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
print()
print("set                    threads  fast share  tokens  general/s     fast/s   ratio   pairs: general/s     fast/s   ratio")
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"{r['set']:<22} {r['threads']:>7} {r['fast_path_share']:>11.2f} {r['mean_tokens']:>7.0f} "
          f"{r['general_per_s']:>10.0f} {r['fast_per_s']:>10.0f} {r['ratio']:>6.1f}x"
          f"   {r['pairs_general_per_s']:>16.0f} {r['pairs_fast_per_s']:>10.0f} {r['pairs_ratio']:>6.1f}x")
PY
rm -f "$OUT"
