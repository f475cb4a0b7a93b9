"""Microsoft Presidio's regex recognizers (no NLP model) on the same files as guard_bench.

usage: bench_pii_presidio.py FILE...   -> one JSON line per file with MB/s
Recognizers: e-mail, phone (phonenumbers), credit card, US SSN, IBAN, IP — the kinds ai-guard
recognizes by default — each called directly with no NLP artifacts, as Presidio does for
pattern recognizers.
"""
import json, os, sys, time

from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer, PhoneRecognizer,
    UsSsnRecognizer,
)

recognizers = [EmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(),
               IbanRecognizer(), IpRecognizer()]


def detect(text):
    n = 0
    for r in recognizers:
        n += len(r.analyze(text, r.supported_entities, None))
    return n


for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    pieces = [text[i:i + 8192] for i in range(0, len(text), 8192)]
    best, found = float("inf"), 0
    for _ in range(2):
        t = time.perf_counter()
        found = sum(detect(p) for p in pieces)
        best = min(best, time.perf_counter() - t)
    size = len(text.encode())
    print(json.dumps({"file": os.path.basename(path), "presidio_8kb_mb_s": round(size / best / 1e6, 2),
                      "presidio_findings": found}))
