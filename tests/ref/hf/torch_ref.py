#!/usr/bin/python3
"""Expected outputs of the GPT-2 folder tests/ref/hf/tiny, computed independently of runnel:
the safetensors file parsed here by hand (json + struct), the model built from plain torch
operations in float64 (Hugging Face's GPT-2: tanh GELU, LayerNorm eps 1e-5, causal
attention scaled by 1/sqrt(head size), output head tied to wte).  Writes
tests/ref/hf/expected.jsonl, one record per token sequence:

    {"tokens": [...],            the sequence
     "token_logprobs": [...],    log p(tokens[i] | tokens[:i]) for i >= 1 (what `score`
                                 gives a model without <|endoftext|>: the first token only
                                 conditions)
     "logprob": sum of them,
     "last_logits": [...],       the logits (V) after the whole sequence
     "greedy": [...]}            the next 4 tokens by argmax, fed back (what `sample
                                 --greedy -n 4` continues the sequence with)

    /usr/bin/python3 tests/ref/hf/torch_ref.py      (Debian's python3-torch)
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        values = struct.unpack(f"<{(end - b) // 4}f", data[b:end])
        out[name] = torch.tensor(values, dtype=torch.float64).reshape(e["shape"])
    return out


cfg = json.load(open(os.path.join(HERE, "tiny", "config.json")))
V, L, C, NH, T = (cfg[k] for k in ("vocab_size", "n_layer", "n_embd", "n_head", "n_positions"))
W = {k.removeprefix("transformer."): v
     for k, v in read_safetensors(os.path.join(HERE, "tiny", "model.safetensors")).items()}
assert torch.equal(W["lm_head.weight"], W["wte.weight"])


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * w + b


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def forward(tokens):
    """Logits (n, V) of a sequence of n tokens."""
    n, hs = len(tokens), C // NH
    x = W["wte.weight"][torch.tensor(tokens)] + W["wpe.weight"][:n]
    causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
    for i in range(L):
        h = f"h.{i}."
        a = layer_norm(x, W[h + "ln_1.weight"], W[h + "ln_1.bias"])
        q, k, v = (a @ W[h + "attn.c_attn.weight"] + W[h + "attn.c_attn.bias"]).split(C, -1)
        q, k, v = (t.reshape(n, NH, hs).transpose(0, 1) for t in (q, k, v))  # (NH, n, hs)
        s = (q @ k.transpose(-1, -2) / math.sqrt(hs)).masked_fill(~causal, float("-inf"))
        y = (torch.softmax(s, -1) @ v).transpose(0, 1).reshape(n, C)
        x = x + y @ W[h + "attn.c_proj.weight"] + W[h + "attn.c_proj.bias"]
        a = layer_norm(x, W[h + "ln_2.weight"], W[h + "ln_2.bias"])
        f = gelu_new(a @ W[h + "mlp.c_fc.weight"] + W[h + "mlp.c_fc.bias"])
        x = x + f @ W[h + "mlp.c_proj.weight"] + W[h + "mlp.c_proj.bias"]
    x = layer_norm(x, W["ln_f.weight"], W["ln_f.bias"])
    return x @ W["lm_head.weight"].T


gen = torch.Generator().manual_seed(7)
sequences = [[5, 17, 42], torch.randint(0, V, (9,), generator=gen).tolist(),
             torch.randint(0, V, (T - 4,), generator=gen).tolist()]
with open(os.path.join(HERE, "expected.jsonl"), "w") as out:
    for seq in sequences:
        logp = torch.log_softmax(forward(seq), -1)
        token_logprobs = [logp[i - 1, seq[i]].item() for i in range(1, len(seq))]
        greedy, s = [], list(seq)
        for _ in range(4):
            nxt = int(torch.argmax(forward(s)[-1]))
            greedy.append(nxt)
            s.append(nxt)
        rec = {"tokens": seq, "token_logprobs": token_logprobs, "logprob": sum(token_logprobs),
               "last_logits": forward(seq)[-1].tolist(), "greedy": greedy}
        out.write(json.dumps(rec) + "\n")
print(f"{HERE}/expected.jsonl: {len(sequences)} sequences")
