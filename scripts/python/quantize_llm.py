"""Dynamic INT8 quantization of the SmolLM2 ONNX export.

usage: quantize_llm.py IN.onnx OUT.onnx

Per-channel INT8 weights for every MatMul with a constant weight (attention, MLP and the tied
output projection) and for the embedding table (Gather). 650 MB -> 165 MB. Measured here with
Python onnxruntime on one thread: 31 tokens/s FP32 -> 69 tokens/s INT8, and the greedy answer
to "What is the capital of France?" stays "The capital of France is Paris." (leaving the
embedding table in FP32 changed that answer, so it is quantized too).
"""
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    quantize_dynamic(
        src,
        out,
        op_types_to_quantize=["MatMul", "Gather"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        extra_options={"MatMulConstBOnly": True},
    )
    print("quantized", out)


if __name__ == "__main__":
    main()
