"""Convert SmolLM2-135M-Instruct from its GGUF file to ONNX with a KV cache, plus its tokenizer.

usage: convert_smollm2.py MODEL.gguf OUT_DIR

Writes OUT_DIR/fp32/{model.onnx, tokenizer.json, ai-infer.json} and OUT_DIR/reference.json (greedy
token ids from the PyTorch model below, in FP32, for a few prompts). The graph:

  inputs  input_ids [batch, seq] int64, attention_mask [batch, past + seq] int64,
          position_ids [batch, seq] int64, past.{i}.key / past.{i}.value [batch, 3, past, 64]
  outputs logits [batch, 1, 49152] (last position only), present.{i}.key / present.{i}.value

Weights are dequantized from the GGUF (Q4_1 / Q8_0) to FP32. llama.cpp stores the query and key
projections permuted for its interleaved rotary embedding; they are permuted back so the model
below uses the usual rotate-half form. The PyTorch model is checked against transformers'
LlamaForCausalLM on the same weights before export.
"""
import json
import os
import sys

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

torch.set_grad_enabled(False)


def field(reader, key):
    f = reader.fields[key]
    if f.types and f.types[0].name == "STRING" and len(f.data) == 1:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if f.types and f.types[0].name == "ARRAY":
        out = []
        for i in f.data:
            part = f.parts[i]
            out.append(bytes(part).decode("utf-8") if part.dtype == np.uint8 else part.tolist()[0])
        return out
    return f.parts[f.data[0]].tolist()[0]


def unpermute(w: np.ndarray, heads: int) -> np.ndarray:
    """Undo llama.cpp's permutation of Q/K rows (interleaved rope -> rotate-half rope)."""
    out_dim, in_dim = w.shape
    return w.reshape(heads, out_dim // heads // 2, 2, in_dim).swapaxes(1, 2).reshape(out_dim, in_dim)


class Llama(torch.nn.Module):
    def __init__(self, w: dict, cfg: dict):
        super().__init__()
        self.cfg = cfg
        t = lambda a: torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)), requires_grad=False)
        self.embed = t(w["token_embd.weight"])
        self.norm = t(w["output_norm.weight"])
        self.layers = []
        for i in range(cfg["layers"]):
            p = lambda n: t(w[f"blk.{i}.{n}.weight"])
            layer = {n: p(n) for n in ["attn_norm", "ffn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                                        "ffn_gate", "ffn_up", "ffn_down"]}
            for n, v in layer.items():
                self.register_parameter(f"l{i}_{n}", v)
            self.layers.append(layer)
        hd = cfg["head_dim"]
        self.register_buffer("inv_freq", 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd)))

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg["eps"]) * w

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cfg = self.cfg
        b, t = input_ids.shape
        h, kvh, hd = cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
        x = torch.nn.functional.embedding(input_ids, self.embed)
        freqs = position_ids.float()[..., None] * self.inv_freq  # [b, t, hd/2]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]  # [b, 1, t, hd]
        p = past[0].shape[2]
        s = p + t
        # Causal mask over past + new positions, combined with the padding mask.
        q_pos = torch.arange(t)[:, None] + p
        k_pos = torch.arange(s)[None, :]
        allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
        mask = torch.where(allowed, torch.zeros((), dtype=torch.float32), torch.full((), -1e9))
        presents = []
        for i, L in enumerate(self.layers):
            y = self.rms(x, L["attn_norm"])
            q = (y @ L["attn_q"].T).view(b, t, h, hd).transpose(1, 2)
            k = (y @ L["attn_k"].T).view(b, t, kvh, hd).transpose(1, 2)
            v = (y @ L["attn_v"].T).view(b, t, kvh, hd).transpose(1, 2)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            k = torch.cat((past[2 * i], k), dim=2)
            v = torch.cat((past[2 * i + 1], v), dim=2)
            presents += [k, v]
            # Grouped-query attention: each key/value head serves h // kvh query heads. (expand +
            # reshape rather than repeat_interleave, which exports with a fixed shape.)
            rep = h // kvh
            kr = k[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, h, -1, hd)
            vr = v[:, :, None].expand(-1, -1, rep, -1, -1).reshape(b, h, -1, hd)
            att = (q @ kr.transpose(-1, -2)) / (hd ** 0.5) + mask
            o = (att.softmax(-1) @ vr).transpose(1, 2).reshape(b, t, h * hd)
            x = x + o @ L["attn_output"].T
            y = self.rms(x, L["ffn_norm"])
            x = x + (torch.nn.functional.silu(y @ L["ffn_gate"].T) * (y @ L["ffn_up"].T)) @ L["ffn_down"].T
        x = self.rms(x[:, -1:, :], self.norm)
        return (x @ self.embed.T, *presents)


def empty_past(cfg, b=1):
    return [torch.zeros(b, cfg["kv_heads"], 0, cfg["head_dim"]) for _ in range(2 * cfg["layers"])]


def greedy(model, cfg, ids, max_new, eos):
    past = empty_past(cfg)
    inp = torch.tensor([ids])
    pos = torch.arange(len(ids))[None]
    out = []
    total = len(ids)
    for _ in range(max_new):
        res = model(inp, torch.ones(1, total, dtype=torch.long), pos, *past)
        nxt = int(res[0][0, -1].argmax())
        past = list(res[1:])
        if nxt in eos:
            break
        out.append(nxt)
        inp = torch.tensor([[nxt]])
        pos = torch.tensor([[total]])
        total += 1
    return out


def build_tokenizer(reader) -> Tokenizer:
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(reader, "tokenizer.ggml.merges")]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    # llama.cpp's "smollm" pre-tokenizer: every digit alone, then the GPT-2 byte-level split.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == 3])
    return tok


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    reader = GGUFReader(src)
    cfg = {
        "layers": field(reader, "llama.block_count"),
        "hidden": field(reader, "llama.embedding_length"),
        "heads": field(reader, "llama.attention.head_count"),
        "kv_heads": field(reader, "llama.attention.head_count_kv"),
        "rope_theta": float(field(reader, "llama.rope.freq_base")),
        "eps": float(field(reader, "llama.attention.layer_norm_rms_epsilon")),
        "vocab": field(reader, "llama.vocab_size"),
        "context": field(reader, "llama.context_length"),
    }
    cfg["head_dim"] = cfg["hidden"] // cfg["heads"]
    weights = {}
    for t in reader.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float32)
        weights[t.name] = a.reshape([int(d) for d in reversed(t.shape)]) if a.ndim == 1 and len(t.shape) > 1 else a
    for i in range(cfg["layers"]):
        weights[f"blk.{i}.attn_q.weight"] = unpermute(weights[f"blk.{i}.attn_q.weight"], cfg["heads"])
        weights[f"blk.{i}.attn_k.weight"] = unpermute(weights[f"blk.{i}.attn_k.weight"], cfg["kv_heads"])
    model = Llama(weights, cfg).eval()

    # Cross-check against transformers' implementation on the same weights.
    try:
        from transformers import LlamaConfig, LlamaForCausalLM
        hf = LlamaForCausalLM(LlamaConfig(
            vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], intermediate_size=field(reader, "llama.feed_forward_length"),
            num_hidden_layers=cfg["layers"], num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"],
            rms_norm_eps=cfg["eps"], rope_theta=cfg["rope_theta"], tie_word_embeddings=True,
            max_position_embeddings=cfg["context"])).eval()
        sd = {"model.embed_tokens.weight": weights["token_embd.weight"], "model.norm.weight": weights["output_norm.weight"],
              "lm_head.weight": weights["token_embd.weight"]}
        names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                 "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                 "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
        for i in range(cfg["layers"]):
            for g, h in names.items():
                sd[f"model.layers.{i}.{h}.weight"] = weights[f"blk.{i}.{g}.weight"]
        hf.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=False)
        ids = torch.tensor([[1, 520, 3045, 314, 260, 2447, 30, 2]])
        ours = model(ids, torch.ones_like(ids), torch.arange(ids.shape[1])[None], *empty_past(cfg))[0][0, -1]
        theirs = hf(ids).logits[0, -1]
        diff = float((ours - theirs).abs().max())
        print("max |logit difference| against transformers:", diff)
        assert diff < 1e-3, diff
    except ImportError:
        print("transformers not available: skipped the cross-check")

    tokenizer = build_tokenizer(reader)
    template = field(reader, "tokenizer.chat_template")
    eos = [field(reader, "tokenizer.ggml.eos_token_id")]
    bos = field(reader, "tokenizer.ggml.bos_token_id")
    os.makedirs(f"{out}/fp32", exist_ok=True)
    tokenizer.save(f"{out}/fp32/tokenizer.json")
    ai_config = {"kind": "causal-lm", "max_length": cfg["context"], "chat_template": template,
                 "eos_token_ids": eos, "bos_token_id": bos, "layers": cfg["layers"],
                 "kv_heads": cfg["kv_heads"], "head_dim": cfg["head_dim"]}
    with open(f"{out}/fp32/ai-infer.json", "w") as f:
        json.dump(ai_config, f, indent=2)

    L = cfg["layers"]
    names = ["input_ids", "attention_mask", "position_ids"] + [f"past.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    outputs = ["logits"] + [f"present.{i}.{kv}" for i in range(L) for kv in ("key", "value")]
    dummy_past = [torch.zeros(1, cfg["kv_heads"], 2, cfg["head_dim"]) for _ in range(2 * L)]
    dummy = (torch.tensor([[1, 2, 3]]), torch.ones(1, 5, dtype=torch.long), torch.tensor([[2, 3, 4]]), *dummy_past)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "total"},
            "position_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
    for i in range(L):
        for kv in ("key", "value"):
            axes[f"past.{i}.{kv}"] = {0: "batch", 2: "past"}
            axes[f"present.{i}.{kv}"] = {0: "batch", 2: "total"}
    torch.onnx.export(model, dummy, f"{out}/fp32/model.onnx", input_names=names, output_names=outputs,
                      dynamic_axes=axes, opset_version=17, do_constant_folding=True)

    # Greedy references (token ids) from the PyTorch model, for the Rust test.
    prompts = ["What is the capital of France?", "Name three colours of the rainbow.",
               "Write a haiku about the sea.", "What is 12 times 7?"]
    refs = []
    for p in prompts:
        text = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                f"<|im_start|>user\n{p}<|im_end|>\n<|im_start|>assistant\n")
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        gen = greedy(model, cfg, ids, 24, set(eos))
        refs.append({"prompt": p, "prompt_ids": ids, "greedy_ids": gen, "text": tokenizer.decode(gen)})
        print(p, "->", tokenizer.decode(gen))
    with open(f"{out}/reference.json", "w") as f:
        json.dump(refs, f, indent=1)


if __name__ == "__main__":
    main()
