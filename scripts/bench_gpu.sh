#!/usr/bin/env bash
# bench_gpu.sh — embedding throughput on an NVIDIA GPU (ONNX Runtime's CUDA provider).
#
#   scripts/bench_gpu.sh pack [OUT]   # here: build everything the GPU machine needs into OUT
#                                     # (default .cache/gpu-payload): payload.tar.xz split in
#                                     # 58 MiB parts, with its sha256
#   scripts/bench_gpu.sh run DIR      # on the GPU machine, DIR = the unpacked payload: runs
#                                     # embed_gpu_bench, then sentence-transformers on the same
#                                     # GPU when python3 has it
#
# The payload holds: the embed_gpu_bench binary (built with --features cuda), ONNX Runtime with
# its CUDA provider from the PyPI onnxruntime-gpu==1.31.1 wheel (needs CUDA 13 and cuDNN 9 on the
# GPU machine), all-MiniLM-L6-v2 as FP16 (attention/GELU/layer-norm fused) and INT8-weight
# models with mean pooling inside the graph (scripts/python/gpu_models.py), ~100-token
# sentences and FP32 CPU reference embeddings of the first 256.
#
# On the GPU machine, CUDA's and cuDNN's libraries must be on LD_LIBRARY_PATH, or named in
# CUDA_LIB_DIRS (colon-separated); run adds the PyTorch wheel's nvidia/* folders when it finds
# them. docs/benchmarks.md has the results and the machine.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${AI_CACHE_DIR:-$REPO/.cache}
MODELS=$CACHE/models
TVENV=$CACHE/torch-venv
ORT_GPU_VERSION=1.31.1

log() { printf '[bench-gpu] %s\n' "$*" >&2; }

gpu_model() { # SRC NAME ARGS...
  local src=$1 name=$2
  shift 2
  local dir=$MODELS/$name
  if [ ! -f "$dir/model.onnx" ]; then
    log "making $name"
    mkdir -p "$dir"
    cp "$MODELS/$src/tokenizer.json" "$dir/"
    printf '{\n  "kind": "embedding",\n  "pooling": "model",\n  "normalize": true,\n  "max_length": 256\n}\n' >"$dir/ai-infer.json"
    "$TVENV/bin/python" "$REPO/scripts/python/gpu_models.py" "$MODELS/$src/model.onnx" "$dir/model.onnx" "$@" >&2
  fi
}

pack() {
  local out=${1:-$CACHE/gpu-payload}
  "$REPO/scripts/models.sh" install
  gpu_model all-MiniLM-L6-v2-fp32 all-MiniLM-L6-v2-fp16-gpu --fp16 --fuse 12 384
  gpu_model all-MiniLM-L6-v2-int8-packaged all-MiniLM-L6-v2-int8-gpu

  local wheels=$CACHE/wheels
  mkdir -p "$wheels"
  local whl
  whl=$(ls "$wheels"/onnxruntime_gpu-$ORT_GPU_VERSION-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$whl" ]; then
    log "downloading onnxruntime-gpu==$ORT_GPU_VERSION"
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      -d "$wheels" "onnxruntime-gpu==$ORT_GPU_VERSION"
    whl=$(ls "$wheels"/onnxruntime_gpu-$ORT_GPU_VERSION-*.whl | head -1)
  fi

  log "building embed_gpu_bench (--features cuda)"
  (cd "$REPO" && cargo build --release -q -p examples --features cuda --example embed_gpu_bench)
  local target=${CARGO_TARGET_DIR:-$REPO/target}

  local stage=$CACHE/gpu-stage
  rm -rf "$stage" && mkdir -p "$stage/pay"
  unzip -q -j -o "$whl" "onnxruntime/capi/libonnxruntime.so.$ORT_GPU_VERSION" \
    'onnxruntime/capi/libonnxruntime_providers_shared.so' \
    'onnxruntime/capi/libonnxruntime_providers_cuda.so' -d "$stage/pay"
  cp "$target/release/examples/embed_gpu_bench" "$stage/pay/"
  strip "$stage/pay/embed_gpu_bench"
  for m in all-MiniLM-L6-v2-fp16-gpu all-MiniLM-L6-v2-int8-gpu; do
    cp -r "$MODELS/$m" "$stage/pay/"
  done
  "$TVENV/bin/python" - "$CACHE/bench_sentences.jsonl" "$MODELS/all-MiniLM-L6-v2-fp32" "$stage/pay" <<'PY'
import json, sys
import numpy as np, onnxruntime as ort
from tokenizers import Tokenizer
sentences_file, model_dir, out = sys.argv[1:]
sentences = json.loads(open(sentences_file).readline())
json.dump(sentences, open(f"{out}/sentences.json", "w"))
tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
tok.enable_truncation(256)
tok.enable_padding()
sess = ort.InferenceSession(f"{model_dir}/model.onnx", providers=["CPUExecutionProvider"])
refs = []
for i in range(0, 256, 32):
    enc = tok.encode_batch(sentences[i:i + 32])
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in [x.name for x in sess.get_inputs()]:
        feeds["token_type_ids"] = np.zeros_like(ids)
    hidden = sess.run(None, feeds)[0]
    m = mask[..., None].astype(np.float32)
    v = (hidden * m).sum(1) / m.sum(1)
    refs.extend((v / np.linalg.norm(v, axis=1, keepdims=True)).tolist())
json.dump(refs, open(f"{out}/reference.json", "w"))
PY
  cp "$MODELS/all-MiniLM-L6-v2-fp32/tokenizer.json" "$stage/pay/tokenizer.json"

  log "compressing"
  rm -rf "$out" && mkdir -p "$out"
  tar -C "$stage" -cf - pay | xz -T0 -6 >"$out/payload.tar.xz"
  (cd "$out" && sha256sum payload.tar.xz >payload.sha256 && split -b 58m -d payload.tar.xz p && rm payload.tar.xz)
  ls -la "$out" >&2
}

run() {
  local dir=${1:?usage: bench_gpu.sh run DIR}
  dir=$(cd "$dir" && pwd)
  local extra=${CUDA_LIB_DIRS:-}
  for site in /opt/torch/.venv/lib/python3*/site-packages; do
    [ -d "$site/nvidia" ] || continue
    for lib in "$site"/nvidia/*/lib; do extra=$extra:$lib; done
  done
  export LD_LIBRARY_PATH=$dir${extra:+:$extra}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export ORT_DYLIB_PATH=$dir/libonnxruntime.so.$ORT_GPU_VERSION
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  nproc
  timeout 420 "$dir/embed_gpu_bench" "$dir"
  if [ "${SKIP_BASELINE:-0}" != 1 ] && python3 -c "import sentence_transformers, torch; assert torch.cuda.is_available()" 2>/dev/null; then
    PYTHONUNBUFFERED=1 python3 "$REPO/scripts/python/st_gpu_baseline.py" "$dir/tokenizer.json" "$dir/sentences.json"
  else
    log "python3 has no sentence-transformers with CUDA here; baseline skipped"
  fi
}

case "${1:-}" in
  pack) pack "${2:-}" ;;
  run) run "${2:-}" ;;
  *) echo "usage: $0 pack [OUT] | run DIR" >&2; exit 2 ;;
esac
