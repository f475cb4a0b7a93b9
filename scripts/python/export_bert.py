"""Export a BERT-style sentence-transformers checkpoint (safetensors) to FP32 ONNX.

usage: export_bert.py SOURCE_DIR OUT.onnx
Inputs input_ids, attention_mask, token_type_ids ([batch, sequence], int64);
output last_hidden_state ([batch, sequence, hidden], float32). Opset 17, CPU torch.
"""
import sys

import torch
from transformers import AutoModel, AutoTokenizer


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    tokenizer = AutoTokenizer.from_pretrained(src)
    model = AutoModel.from_pretrained(src).eval()
    enc = tokenizer(["hello world", "a somewhat longer sentence"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            model,
            tuple(enc[n] for n in names),
            out,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]},
            opset_version=17,
            do_constant_folding=True,
        )
    print("exported", out)


if __name__ == "__main__":
    main()
