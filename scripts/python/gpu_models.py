"""Make GPU-ready embedding models from an ONNX BERT export.

    python gpu_models.py SRC.onnx OUT.onnx [--fp16] [--fuse HEADS HIDDEN]

Adds mean pooling to the end of the graph (output `sentence_embedding`, [batch, hidden], float32)
so only one vector per text leaves the GPU instead of every token's. With --fuse, ONNX
Runtime's transformer optimizer fuses attention, layer norms and GELU into the kernels its CUDA
provider has; with --fp16 the weights and compute become float16 while inputs and outputs stay
int64/float32.
"""

import sys

import onnx
from onnx import TensorProto, helper


def optimise(src, heads, hidden, fp16):
    from onnxruntime.transformers import optimizer

    model = optimizer.optimize_model(
        src, model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0, use_gpu=True
    )
    if fp16:
        model.convert_float_to_float16(keep_io_types=True)
    return model.model


def add_mean_pooling(model):
    graph = model.graph
    ranked = [o for o in graph.output if len(o.type.tensor_type.shape.dim) == 3]
    named = [o for o in ranked if o.name == "last_hidden_state"]
    hidden_out = (named or ranked)[0]
    hidden = hidden_out.name
    mask = next(i.name for i in graph.input if i.name == "attention_mask")
    nodes = [
        helper.make_node("Cast", [mask], ["pool_mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["pool_axis_last"], value=helper.make_tensor("a", TensorProto.INT64, [1], [-1])),
        helper.make_node("Constant", [], ["pool_axis_seq"], value=helper.make_tensor("s", TensorProto.INT64, [1], [1])),
        helper.make_node("Constant", [], ["pool_eps"], value=helper.make_tensor("e", TensorProto.FLOAT, [], [1e-9])),
        helper.make_node("Unsqueeze", ["pool_mask_f", "pool_axis_last"], ["pool_mask_3d"]),
        helper.make_node("Mul", [hidden, "pool_mask_3d"], ["pool_masked"]),
        helper.make_node("ReduceSum", ["pool_masked", "pool_axis_seq"], ["pool_sum"], keepdims=0),
        helper.make_node("ReduceSum", ["pool_mask_3d", "pool_axis_seq"], ["pool_count"], keepdims=0),
        helper.make_node("Max", ["pool_count", "pool_eps"], ["pool_count_safe"]),
        helper.make_node("Div", ["pool_sum", "pool_count_safe"], ["sentence_embedding"]),
    ]
    graph.node.extend(nodes)
    dim = hidden_out.type.tensor_type.shape.dim[-1]
    out = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", dim.dim_value or "hidden"])
    del graph.output[:]
    graph.output.append(out)
    prune(graph)
    return model


def prune(graph):
    """Drop nodes (and initializers) nothing reaches the outputs through."""
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    inits = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def main():
    args = sys.argv[1:]
    src, dst = args[0], args[1]
    fp16 = "--fp16" in args
    if "--fuse" in args:
        i = args.index("--fuse")
        model = optimise(src, int(args[i + 1]), int(args[i + 2]), fp16)
    else:
        model = onnx.load(src)
    model = add_mean_pooling(model)
    domains = {o.domain for o in model.opset_import}
    if any(n.domain == "com.microsoft" for n in model.graph.node) and "com.microsoft" not in domains:
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"wrote {dst}: outputs {[o.name for o in model.graph.output]}")


if __name__ == "__main__":
    main()
