#!/usr/bin/env bash
# bench_generation.sh — in-process SmolLM2 generation (ai-infer, ONNX FP32 and 4-bit) against
# llama.cpp (xllamacpp, the same model's Q4_1 GGUF), with 1 and 2 threads, the same prompt and
# the same number of generated tokens (end-of-sequence ignored), greedy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOKENS=${TOKENS:-128}
PROMPT="Write a short story about a lighthouse keeper who finds a message in a bottle."
scripts/services.sh install
scripts/models.sh install
eval "$(scripts/models.sh env)"
VENV=.cache/venv
cargo build --release -q -p examples --example gen_bench
OUT=$(mktemp)
for threads in 1 2; do
  port=$((18190 + threads))
  OMP_WAIT_POLICY=PASSIVE "$VENV/bin/python" scripts/llama_server.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf \
    --port "$port" --threads "$threads" --parallel 1 >.cache/logs/bench-llama-$threads.log 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
  best=0
  for run in 1 2 3 4; do
    body=$(printf '{"model":"m","messages":[{"role":"user","content":"%s"}],"max_tokens":%d,"temperature":0,"ignore_eos":true,"cache_prompt":false}' "$PROMPT" "$TOKENS")
    curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'content-type: application/json' -d "$body" >"$OUT.llama"
    python3 - "$OUT.llama" "$threads" "$run" >>"$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["timings"]
if sys.argv[3] != "1":  # the first run warms up
    print(json.dumps({"engine": "llama.cpp", "model": "Q4_1 GGUF", "threads": int(sys.argv[2]),
                      "prompt_tokens": t["prompt_n"], "generated": t["predicted_n"],
                      "prefill_ms": t["prompt_ms"], "decode_tokens_per_s": t["predicted_per_second"]}))
PY
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  for model in smollm2-135m-instruct-fp32 smollm2-135m-instruct-int4; do
    target/release/examples/gen_bench "$model" "$threads" "$TOKENS" >>"$OUT"
  done
done
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
best = {}
for r in rows:
    k = (r["engine"], r["model"], r["threads"])
    if k not in best or r["decode_tokens_per_s"] > best[k]["decode_tokens_per_s"]:
        best[k] = r
print(f"{'engine':<10} {'model':<28} {'threads':>7} {'prompt':>6} {'gen':>4} {'prefill ms':>10} {'tokens/s':>9} {'vs llama.cpp':>12}")
for (e, m, t), r in sorted(best.items(), key=lambda x: (x[0][2], x[0][0])):
    ref = best.get(("llama.cpp", "Q4_1 GGUF", t))
    ratio = r["decode_tokens_per_s"] / ref["decode_tokens_per_s"] if ref else 0
    print(f"{e:<10} {m:<28} {t:>7} {r['prompt_tokens']:>6} {r['generated']:>4} {r['prefill_ms']:>10.1f} {r['decode_tokens_per_s']:>9.1f} {ratio:>11.2f}x"
          + (f"  (RSS +{r['rss_model_mib']:.0f} MiB)" if "rss_model_mib" in r else ""))
PY
rm -f "$OUT" "$OUT.llama"
