"""LangChain's RecursiveCharacterTextSplitter (1 000 / 200) throughput on files, whole and as
8 KB documents, printed as JSON lines for scripts/bench_chunking.sh."""
import json
import os
import sys
import time

from langchain_text_splitters import RecursiveCharacterTextSplitter


def rate(nbytes, fn):
    fn()
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < 1.0:
        fn()
        runs += 1
    return nbytes * runs / (time.perf_counter() - start) / 1e6


def main() -> None:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    for path in sys.argv[1:]:
        text = open(path, encoding="utf-8").read()
        data = text.encode("utf-8")
        docs, start = [], 0
        while start < len(data):
            end = min(start + 8192, len(data))
            while end < len(data) and (data[end] & 0xC0) == 0x80:
                end += 1
            docs.append(data[start:end].decode("utf-8"))
            start = end
        n = len(data)
        whole = rate(n, lambda: splitter.split_text(text))
        per_doc = rate(n, lambda: [splitter.split_text(d) for d in docs])
        print(json.dumps({"file": os.path.basename(path), "bytes": n, "langchain_whole_mb_s": whole,
                          "langchain_docs_mb_s": per_doc}), flush=True)


if __name__ == "__main__":
    main()
