#!/usr/bin/env bash
# bench_guard.sh FILE... — ai-guard's PII detector and injection scorer against Microsoft
# Presidio's regex recognizers (presidio-analyzer, no NLP model) on the same files, one
# thread each; prints MB/s and ratios.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -gt 0 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
VENV=.cache/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import presidio_analyzer" 2>/dev/null ||
  "$VENV/bin/pip" install -q --disable-pip-version-check "presidio-analyzer==2.2.366"
cargo build --release -q -p ai-guard --example guard_bench
# Also the first file with a realistic sentence carrying personal data every ~4 KB (sparse PII).
SPARSE=.cache/pii-sparse.txt
python3 - "$1" "$SPARSE" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
rows = [json.loads(l)["text"] for l in open("ai-guard/tests/data/pii_realistic.jsonl")]
out, i, k = [], 0, 0
while i < len(text):
    out.append(text[i:i + 4096]); i += 4096
    out.append(" " + rows[k % len(rows)] + " "); k += 1
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
set -- "$@" "$SPARSE"
OUT=$(mktemp)
"$VENV/bin/python" scripts/python/bench_pii_presidio.py "$@" >"$OUT"
target/release/examples/guard_bench "$@" | tee /dev/stderr >>"$OUT"
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
p = {r["file"]: r for r in rows if "presidio_8kb_mb_s" in r}
o = {r["file"]: r for r in rows if "pii_8kb_mb_s" in r}
print(f"\n{'file':<32} {'Presidio MB/s':>13} {'findings':>8} {'ai-guard MB/s':>13} {'findings':>8} {'ratio':>7} {'injection MB/s':>14}")
for f, r in o.items():
    q = p[f]
    print(f"{f:<32} {q['presidio_8kb_mb_s']:>13.2f} {q['presidio_findings']:>8} {r['pii_8kb_mb_s']:>13.1f} {r['pii_findings']:>8} {r['pii_8kb_mb_s']/q['presidio_8kb_mb_s']:>6.0f}x {r['injection_mb_s']:>14.1f}")
PY
rm -f "$OUT"
