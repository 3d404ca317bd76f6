#!/usr/bin/python3
"""Write a Hugging Face-style GPT-2 model folder with seeded weights, as transformers saves
a GPT2LMHeadModel, for import-hf's tests.  Python's standard library only: the
safetensors file is written by hand (no safetensors or torch package needed).

    /usr/bin/python3 tests/ref/hf/make_hf.py OUTDIR [--vocab V] [--layers L] [--width C]
        [--heads NH] [--context T] [--seed S] [--dtype F32|F16|BF16] [--tokenizer DIR]

OUTDIR/config.json        GPT-2's keys (model_type "gpt2", gelu_new, layer_norm_epsilon 1e-5)
OUTDIR/model.safetensors  8-byte little-endian header length, the JSON header, the data.
    Every name carries the "transformer." prefix; each block has the causal-mask
    buffers attn.bias (1, 1, T, T) and attn.masked_bias (a scalar) of older checkpoints;
    lm_head.weight is a copy of wte.weight (the tied head); tensors are laid out in name
    order, not declaration order, so a reader must go by name.
OUTDIR/vocab.json, merges.txt  with --tokenizer DIR: DIR's vocab.json.gz and merges.txt.gz
    (tests/ref/gpt2 has GPT-2's own), uncompressed.

Weights (larger than GPT-2's initialization, so that every path matters): matrices
N(0, 0.2), wte N(0, 0.5), wpe N(0, 0.3), LayerNorm gains 1 + N(0, 0.1), biases N(0, 0.1),
drawn in declaration order from random.Random(seed) and rounded to the dtype.

tests/ref/hf/tiny/ was made with the defaults:
    /usr/bin/python3 tests/ref/hf/make_hf.py tests/ref/hf/tiny
"""
import argparse
import gzip
import json
import os
import random
import shutil
import struct


def declare(V, L, C, T):
    """(name, shape, mean, std) of GPT-2's tensors, in declaration order."""
    out = [("wte.weight", (V, C), 0.0, 0.5), ("wpe.weight", (T, C), 0.0, 0.3)]
    for i in range(L):
        h = f"h.{i}."
        out += [
            (h + "ln_1.weight", (C,), 1.0, 0.1), (h + "ln_1.bias", (C,), 0.0, 0.1),
            (h + "attn.c_attn.weight", (C, 3 * C), 0.0, 0.2),
            (h + "attn.c_attn.bias", (3 * C,), 0.0, 0.1),
            (h + "attn.c_proj.weight", (C, C), 0.0, 0.2), (h + "attn.c_proj.bias", (C,), 0.0, 0.1),
            (h + "ln_2.weight", (C,), 1.0, 0.1), (h + "ln_2.bias", (C,), 0.0, 0.1),
            (h + "mlp.c_fc.weight", (C, 4 * C), 0.0, 0.2), (h + "mlp.c_fc.bias", (4 * C,), 0.0, 0.1),
            (h + "mlp.c_proj.weight", (4 * C, C), 0.0, 0.2), (h + "mlp.c_proj.bias", (C,), 0.0, 0.1),
        ]
    out += [("ln_f.weight", (C,), 1.0, 0.1), ("ln_f.bias", (C,), 0.0, 0.1)]
    return out


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def pack(values, dtype):
    """Little-endian bytes of values in dtype (BF16: float32 rounded to nearest even)."""
    if dtype == "F32":
        return struct.pack(f"<{len(values)}f", *values)
    if dtype == "F16":
        return struct.pack(f"<{len(values)}e", *values)
    words = struct.unpack(f"<{len(values)}I", struct.pack(f"<{len(values)}f", *values))
    return struct.pack(f"<{len(values)}H",
                       *(((w + 0x7FFF + (w >> 16 & 1)) >> 16) & 0xFFFF for w in words))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--context", type=int, default=16)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32")
    ap.add_argument("--tokenizer")
    a = ap.parse_args()
    V, L, C, NH, T = a.vocab, a.layers, a.width, a.heads, a.context
    rng = random.Random(a.seed)
    tensors = {}  # name -> (dtype, shape, bytes)
    for name, shape, mean, std in declare(V, L, C, T):
        values = [mean + std * rng.gauss(0.0, 1.0) for _ in range(count(shape))]
        tensors["transformer." + name] = (a.dtype, list(shape), pack(values, a.dtype))
    tensors["lm_head.weight"] = tensors["transformer.wte.weight"]
    for i in range(L):
        mask = [1.0 if c <= r else 0.0 for r in range(T) for c in range(T)]
        tensors[f"transformer.h.{i}.attn.bias"] = ("F32", [1, 1, T, T], pack(mask, "F32"))
        tensors[f"transformer.h.{i}.attn.masked_bias"] = ("F32", [], pack([-1e4], "F32"))

    header = {"__metadata__": {"format": "pt"}}
    data = bytearray()
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # as safetensors pads the header to 8 bytes
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

    config = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1,
        "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_ctx": T, "n_embd": C, "n_head": NH, "n_inner": None, "n_layer": L,
        "n_positions": T, "reorder_and_upcast_attn": False, "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
        "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
        "summary_type": "cls_index", "summary_use_proj": True, "torch_dtype": "float32",
        "use_cache": True, "vocab_size": V,
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    if a.tokenizer:
        for name in ("vocab.json", "merges.txt"):
            with gzip.open(os.path.join(a.tokenizer, name + ".gz"), "rb") as src, \
                    open(os.path.join(a.out, name), "wb") as dst:
                shutil.copyfileobj(src, dst)


if __name__ == "__main__":
    main()
