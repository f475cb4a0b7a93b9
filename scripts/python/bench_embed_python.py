"""The Python baseline for the embedding benchmark: onnxruntime driven the usual way
(tokenizers encode_batch with padding, session.run, mean pooling and normalisation in numpy),
batches of 32 in input order, one intra-op thread.

usage: bench_embed_python.py SENTENCES_FILE MODELS_DIR      (prints JSON lines)
Also: bench_embed_python.py --make-sentences OUT_FILE TOKENIZER_JSON
"""
import json
import random
import sys
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

WORDS = ("service request latency database customer invoice shipping payment model token "
         "embedding vector search index query answer quickly carefully because although while "
         "the a of to and in for on with as by from at this that these those is was were be "
         "report policy account refund order delivery warehouse weather river city mountain "
         "engineer student doctor garden kitchen window morning evening yesterday tomorrow").split()


def make_sentences(out: str, tokenizer_json: str) -> None:
    tok = Tokenizer.from_file(tokenizer_json)
    tok.no_padding()
    tok.no_truncation()  # the file truncates at 128, which would make 200-token targets unreachable
    rng = random.Random(7)

    def sentence(tokens: int) -> str:
        # 98 words: most are one token, four are two or three ("latency", "invoice",
        # "embedding", "refund"), so "uniform" texts are 100-120 tokens with [CLS] and [SEP]
        # (mean 110) and "mixed" ones 8-240. Kept as is so results stay comparable across runs.
        return " ".join(rng.choice(WORDS) for _ in range(max(tokens - 2, 1)))

    uniform = [sentence(100) for _ in range(256)]
    mixed = [sentence(rng.randint(8, 200)) for _ in range(256)]
    with open(out, "w") as f:
        f.write(json.dumps(uniform) + "\n" + json.dumps(mixed) + "\n")


def bench(path: str, models: str) -> None:
    lines = open(path).read().splitlines()
    uniform, mixed = json.loads(lines[0]), json.loads(lines[1])
    for name in ["all-MiniLM-L6-v2-fp32", "all-MiniLM-L6-v2-int8", "all-MiniLM-L6-v2-int8-packaged"]:
        tok = Tokenizer.from_file(f"{models}/{name}/tokenizer.json")
        tok.enable_truncation(256)
        tok.enable_padding()
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(f"{models}/{name}/model.onnx", so, providers=["CPUExecutionProvider"])

        def embed(batch):
            enc = tok.encode_batch(batch)
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            out = sess.run(None, {"input_ids": ids, "attention_mask": mask,
                                  "token_type_ids": np.zeros_like(ids)})[0]
            m = mask[..., None].astype(np.float32)
            pooled = (out * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

        def rate(sents, rounds=2):
            embed(sents[:32])
            t0 = time.perf_counter()
            n = 0
            for _ in range(rounds):
                for i in range(0, len(sents), 32):
                    embed(sents[i:i + 32])
                    n += len(sents[i:i + 32])
            return n / (time.perf_counter() - t0)

        print(json.dumps({"measure": "python_throughput", "model": name,
                          "uniform_per_s": rate(uniform), "mixed_per_s": rate(mixed)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--make-sentences":
        make_sentences(sys.argv[2], sys.argv[3])
    else:
        bench(sys.argv[1], sys.argv[2])
