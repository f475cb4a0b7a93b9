#!/usr/bin/env bash
# test.sh — the whole test suite, from a fresh clone: formatting, lints, unit, doc and
# integration tests, including the ones against real peers (llama.cpp server started here).
#
# Everything it needs is installed by scripts/services.sh into .cache/ (gitignored).
# Set AI_TEST_KEEP_SERVICES=1 to leave the servers running afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s ==\n' "$*"; }

step "toolchain"
cargo --version
rustfmt --version
cargo clippy --version

step "formatting"
cargo fmt --all -- --check

step "real peers (llama.cpp + SmolLM2-135M, chat and embeddings; PostgreSQL 16 + pgvector)"
scripts/services.sh start
if [ "${AI_TEST_KEEP_SERVICES:-0}" != 1 ]; then
  trap 'scripts/services.sh stop' EXIT
fi
eval "$(scripts/services.sh env)"

step "models for ai-infer (ONNX Runtime library, MiniLM FP32/INT8, tiny test models)"
scripts/models.sh install
eval "$(scripts/models.sh env)"

step "clippy (all targets, all features, warnings denied)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests (unit, doc, recorded traffic, faults, live peers)"
# Two test threads at most: the machine has two cores and the llama.cpp server two slots.
RUST_TEST_THREADS=${RUST_TEST_THREADS:-2} cargo test --workspace --all-features --locked

step "guard evaluations on the development data (ai-guard/tests/data)"
cargo run --release --locked -q -p ai-guard --example eval_pii -- ai-guard/tests/data/pii_presidio_cases.jsonl
cargo run --release --locked -q -p ai-guard --example eval_injection -- ai-guard/tests/data/injection_dev.jsonl

step "platform load test (20 000 requests at concurrency 256 through /ai/chat, mock model)"
cargo run --release --locked -q -p examples --example platform -- --load 20000 --concurrency 256

step "done"
