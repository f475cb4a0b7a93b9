"""Run llama.cpp's OpenAI-compatible HTTP server (from the `xllamacpp` wheel) on 127.0.0.1.

Used by scripts/services.sh; stops on SIGTERM or SIGINT.
"""
import argparse
import signal
import threading

import xllamacpp as xlc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--alias", default="smollm2-135m-instruct")
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--embedding", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=0, help="slots; default 1 for embeddings, 2 for chat")
    args = ap.parse_args()

    params = xlc.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    # The context is shared by the parallel slots: 2 slots of 2048 tokens for chat.
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel or (1 if args.embedding else 2)
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.endpoint_metrics = True
    params.model_alias = {args.alias}
    if args.embedding:
        params.embedding = True
        params.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN

    server = xlc.Server(params)
    print("listening on", server.listening_address, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


if __name__ == "__main__":
    main()
