"""4-bit weight quantization of the SmolLM2 ONNX export (ONNX Runtime's MatMulNBits).

usage: quantize_llm.py IN.onnx OUT.onnx

Every MatMul with a constant weight (attention, MLP and the tied output projection) becomes a
MatMulNBits node: symmetric 4-bit weights in blocks of 64, computed with 8-bit integer kernels
(accuracy level 4). The embedding table stays FP32. 650 MB -> 198 MB.

Measured here with Python onnxruntime, greedy, 64 tokens: FP32 31 tokens/s on one thread;
dynamic INT8 (MatMul + Gather) 69; 4-bit blocks of 32: 76; blocks of 64: 93; blocks of 128:
108 but it answered "What is the capital of France?" wrongly, where blocks of 64 still answer
"The capital of France is Paris." with the FP32 model's greedy tokens.
"""
import sys

import onnx
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    quantizer = MatMulNBitsQuantizer(onnx.load(src), block_size=64, is_symmetric=True, accuracy_level=4)
    quantizer.process()
    quantizer.model.save_model_to_file(out, use_external_data_format=False)
    print("quantized", out)


if __name__ == "__main__":
    main()
