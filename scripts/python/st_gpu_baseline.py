"""sentence-transformers on the same GPU, for the ratio in docs/benchmarks.md.

    python st_gpu_baseline.py TOKENIZER_JSON SENTENCES_JSON

The GPU machine cannot download the real all-MiniLM-L6-v2 weights, so this builds a BERT of the
same shape (6 layers, 384 hidden, 12 heads, 1 536 intermediate, 30 522 tokens) with random
weights: the work per sentence, and so the speed, is the same. Prints one JSON line per run.
"""

import json
import sys
import tempfile
import time

import torch
from sentence_transformers import SentenceTransformer, models
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast


def main():
    tokenizer_json, sentences_json = sys.argv[1], sys.argv[2]
    sentences = json.load(open(sentences_json))
    texts = [sentences[i % len(sentences)] for i in range(16384)]
    with tempfile.TemporaryDirectory() as tmp:
        config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                            intermediate_size=1536, max_position_embeddings=512)
        BertModel(config).save_pretrained(tmp)
        tok = PreTrainedTokenizerFast(tokenizer_file=tokenizer_json, unk_token="[UNK]", sep_token="[SEP]",
                                      pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")
        tok.save_pretrained(tmp)
        word = models.Transformer(tmp, max_seq_length=256)
        pool = models.Pooling(word.get_word_embedding_dimension(), "mean")
        model = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cuda")
        for dtype in ["fp32", "fp16"]:
            if dtype == "fp16":
                model.half()
            for batch in [32, 128, 256]:
                model.encode(texts[:1024], batch_size=batch)
                torch.cuda.synchronize()
                start = time.perf_counter()
                model.encode(texts, batch_size=batch)
                torch.cuda.synchronize()
                rate = len(texts) / (time.perf_counter() - start)
                print(json.dumps({"measure": "sentence-transformers", "dtype": dtype, "batch": batch,
                                  "per_s": rate, "torch": torch.__version__,
                                  "gpu": torch.cuda.get_device_name(0)}), flush=True)


if __name__ == "__main__":
    main()
