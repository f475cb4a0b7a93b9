#!/usr/bin/env bash
# demo.sh — run the main demo with no API key: starts the local llama.cpp server (installing
# it and the SmolLM2-135M model into .cache/ on first use), runs the demo, stops the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=0
if ! scripts/services.sh status >/dev/null 2>&1; then
  scripts/services.sh start
  started=1
fi
if [ "$started" = 1 ] && [ "${AI_DEMO_KEEP_SERVICES:-0}" != 1 ]; then
  trap 'scripts/services.sh stop' EXIT
fi
eval "$(scripts/services.sh env)"
export AI_DEMO_BASE_URL=${AI_DEMO_BASE_URL:-$AI_TEST_LLAMACPP_URL}
cargo run --quiet --locked -p examples --example demo
