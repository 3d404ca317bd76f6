#!/usr/bin/python3
"""Reference DPO loss and gradients on a tiny GPT-2 with LoRA adapters, for tests/unit/test_dpo.c.

Builds GPT-2 from plain torch operations (no runnel code, no transformers), in float64, with
seeded float32-exact weights, and writes tests/ref/dpo/tiny.mp.  Run it with Debian's
python3-torch and python3-msgpack:

    /usr/bin/python3 tests/ref/dpo/torch_dpo.py

The model has the names and layouts of Hugging Face's GPT-2 state dict (W stored (in, out)):
    x = wte[tokens] + wpe[0..T)
    per layer:  x += c_proj(attn(c_attn(ln_1(x))))      causal softmax(q k^T / sqrt(hs)) v
                x += mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))) gelu: tanh approximation
    logits = ln_f(x) wte^T;  LayerNorm eps 1e-5, biased variance
Every dense layer (c_attn, c_proj, mlp.c_fc, mlp.c_proj) carries a LoRA adapter,
    y = x W + b + s (x A) B,    A (in, r), B (r, out), s = alpha / r,
with r = 2, alpha = 3 and A, B drawn non-zero, so that both get gradient.

The batch holds P = 3 preference pairs, rows 2i (chosen) and 2i + 1 (rejected), each row a
sequence prompt + answer: its inputs the sequence less its last token (padded with 0), its
targets the sequence less its first, with the prompt's targets and the padding ignored.
log pi(row) is the sum of the log-softmax of the targets kept.  With the reference
log-probs ref(row) of the model without adapters,

    z_i = beta [(log pi(c_i) - log pi(r_i)) - (ref(c_i) - ref(r_i))]
    L   = mean_i [-(1 - eps) log sigmoid(z_i) - eps log sigmoid(-z_i)]

with beta = 0.5 and label smoothing eps = 0.1.  The fixture records the loss, the
implicit rewards beta (log pi - ref) of each row, and dL/dA, dL/dB of every adapter
(the base frozen).  A second case, "full", trains the base itself without adapters, its
reference log-probs the model's own minus fixed offsets (so that z != 0): it records the
loss and dL/dW of every tensor.
"""
import math
import os

import msgpack
import torch

V, L, C, NH, CONTEXT = 20, 2, 12, 2, 10
MLP = 4 * C
RANK, ALPHA = 2, 3.0
BETA, SMOOTHING = 0.5, 0.1
SEED = 20240602
IGNORE = 0xFFFFFFFF

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(SEED)


def normal(shape, mean, std):
    w = mean + std * torch.randn(shape, generator=gen, dtype=torch.float64)
    return w.to(torch.float32).to(torch.float64)


params = {}


def declare(name, shape, mean, std):
    params[name] = normal(shape, mean, std).requires_grad_(True)


declare("wte.weight", (V, C), 0.0, 0.5)
declare("wpe.weight", (CONTEXT, C), 0.0, 0.3)
LINEARS = []
for i in range(L):
    h = f"h.{i}."
    declare(h + "ln_1.weight", (C,), 1.0, 0.1)
    declare(h + "ln_1.bias", (C,), 0.0, 0.1)
    for name, n_in, n_out in (("attn.c_attn", C, 3 * C), ("attn.c_proj", C, C)):
        declare(h + name + ".weight", (n_in, n_out), 0.0, 0.2)
        declare(h + name + ".bias", (n_out,), 0.0, 0.1)
        LINEARS.append((h + name, n_in, n_out))
    declare(h + "ln_2.weight", (C,), 1.0, 0.1)
    declare(h + "ln_2.bias", (C,), 0.0, 0.1)
    for name, n_in, n_out in (("mlp.c_fc", C, MLP), ("mlp.c_proj", MLP, C)):
        declare(h + name + ".weight", (n_in, n_out), 0.0, 0.2)
        declare(h + name + ".bias", (n_out,), 0.0, 0.1)
        LINEARS.append((h + name, n_in, n_out))
declare("ln_f.weight", (C,), 1.0, 0.1)
declare("ln_f.bias", (C,), 0.0, 0.1)

adapters = {}
for name, n_in, n_out in LINEARS:
    adapters[name + ".lora_A"] = normal((n_in, RANK), 0.0, 0.3).requires_grad_(True)
    adapters[name + ".lora_B"] = normal((RANK, n_out), 0.0, 0.3).requires_grad_(True)

# Three pairs: (prompt, chosen, rejected) of token ids; the longest row is T + 1 tokens.
pairs = [
    ([3, 7, 1], [4, 4, 9, 2], [5, 11]),
    ([8], [12, 6, 6], [13, 2, 19, 17, 10]),
    ([15, 2, 2, 9], [1, 0], [18, 3, 3]),
]
rows = []
for prompt, chosen, rejected in pairs:
    rows.append((prompt, chosen))
    rows.append((prompt, rejected))
B = len(rows)
T = max(len(p) + len(a) for p, a in rows) - 1
tokens = torch.zeros(B, T, dtype=torch.long)
targets = torch.zeros(B, T, dtype=torch.long)
kept = torch.zeros(B, T, dtype=torch.bool)
for b, (prompt, answer) in enumerate(rows):
    seq = prompt + answer
    for t in range(len(seq) - 1):
        tokens[b, t] = seq[t]
        targets[b, t] = seq[t + 1]
        kept[b, t] = t + 1 >= len(prompt)


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def attention(qkv):
    hs = C // NH
    q, k, v = qkv.split(C, dim=-1)
    q, k, v = (t.reshape(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(hs)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    y = torch.softmax(scores, dim=-1) @ v
    return y.transpose(1, 2).reshape(B, T, C)


def dense(p, a, name, x):
    y = x @ p[name + ".weight"] + p[name + ".bias"]
    if a is not None:
        y = y + (ALPHA / RANK) * ((x @ a[name + ".lora_A"]) @ a[name + ".lora_B"])
    return y


def forward(p, a):
    x = p["wte.weight"][tokens] + p["wpe.weight"][:T]
    for i in range(L):
        h = f"h.{i}."
        z = layer_norm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        x = x + dense(p, a, h + "attn.c_proj", attention(dense(p, a, h + "attn.c_attn", z)))
        z = layer_norm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        x = x + dense(p, a, h + "mlp.c_proj", gelu(dense(p, a, h + "mlp.c_fc", z)))
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["wte.weight"].T


def row_logp(logits):
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (logp * kept).sum(-1)  # (B)


def dpo(policy, ref):
    rewards = BETA * (policy - ref)
    z = rewards[0::2] - rewards[1::2]
    losses = -(1 - SMOOTHING) * torch.nn.functional.logsigmoid(z) \
        - SMOOTHING * torch.nn.functional.logsigmoid(-z)
    return losses.mean(), rewards


with torch.no_grad():
    ref_lora = row_logp(forward(params, None))
loss_lora, rewards_lora = dpo(row_logp(forward(params, adapters)), ref_lora)
loss_lora.backward()

offsets = torch.tensor([0.3, -0.2, -0.4, 0.5, 0.1, 0.25])
for p in params.values():
    p.grad = None
with torch.no_grad():
    ref_full = row_logp(forward(params, None)) - offsets
loss_full, rewards_full = dpo(row_logp(forward(params, None)), ref_full)
loss_full.backward()


def tensor(x):
    a = x.detach().numpy().astype("<f4")
    return {"dtype": "f32", "shape": list(a.shape), "data": a.tobytes()}


def u32s(x, mask=None):
    flat = x.reshape(-1).tolist()
    if mask is not None:
        flat = [v if k else IGNORE for v, k in zip(flat, mask.reshape(-1).tolist())]
    return [int(v) for v in flat]


records = [
    {"kind": "config", "vocab": V, "layers": L, "width": C, "heads": NH, "context": CONTEXT,
     "mlp": MLP, "rows": B, "time": T, "rank": RANK, "alpha": ALPHA, "beta": BETA,
     "label_smoothing": SMOOTHING, "seed": SEED},
    {"kind": "batch", "tokens": u32s(tokens), "targets": u32s(targets, kept)},
    {"kind": "lora", "loss": loss_lora.item(), "ref": ref_lora.tolist(),
     "rewards": rewards_lora.tolist()},
    {"kind": "full", "loss": loss_full.item(), "ref": ref_full.tolist(),
     "rewards": rewards_full.tolist()},
]
for n, p in params.items():
    records.append({"kind": "param", "name": n, "weight": tensor(p), "grad": tensor(p.grad)})
for n, a in adapters.items():
    records.append({"kind": "adapter", "name": n, "weight": tensor(a), "grad": tensor(a.grad)})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.mp")
with open(out + ".tmp", "wb") as f:
    for r in records:
        f.write(msgpack.packb(r, use_bin_type=True))
os.rename(out + ".tmp", out)
print(f"{out}: {len(records)} records, {os.path.getsize(out)} bytes; LoRA loss "
      f"{loss_lora.item():.6f}, full loss {loss_full.item():.6f}")
