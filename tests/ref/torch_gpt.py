#!/usr/bin/python3
"""Reference state of a tiny GPT-2 for tests/unit/test_gpt.c and the AdamW check.

Builds GPT-2 from plain torch operations (no runnel code, no transformers), in float64,
with seeded weights, and writes tests/ref/gpt/tiny.mp: the weights, a batch, the logits,
the mean cross-entropy loss, every parameter's gradient, and the losses of 10 AdamW steps
on that batch.  Run it from anywhere with Debian's python3-torch and python3-msgpack:

    /usr/bin/python3 tests/ref/torch_gpt.py

The model (Hugging Face GPT-2, names and layouts of its state dict; W stored (in, out)):
    x = wte[tokens] + wpe[0..T)
    per layer:  x += c_proj(attn(c_attn(ln_1(x))))      causal softmax(q kᵀ / sqrt(hs)) v
                x += mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))) gelu: tanh approximation
    logits = ln_f(x) wteᵀ;  LayerNorm eps 1e-5, biased variance
Loss: mean over the targets that are not ignored of -log softmax(logits)[target].

AdamW, exactly (torch.optim.AdamW's semantics, checked against it below): at step t = 1..10,
with g the gradient of the loss at the current weights w, for each tensor
    m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2          (m, v start at 0)
    w = w - lr wd w          only for tensors with "decay" true (the 2-D matrices of the
                             blocks; not wte, wpe, biases, LayerNorm)
    w = w - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
lr 1e-3, b1 0.9, b2 0.95, eps 1e-8, wd 0.1, no gradient clipping, the same batch each step.
losses[k] is the loss at the weights after k updates (k = 0..9: the loss step k+1
computes); final_loss is the loss after the 10th update.

Format: a runnel record stream (msgpack maps back to back), dense arrays as
{"dtype": "f32", "shape": [...], "data": <little-endian bytes>}; see tests/ref/gpt/README.md.
"""
import math
import os

import msgpack
import numpy as np
import torch

V, L, C, NH, CONTEXT = 50, 2, 24, 3, 16
MLP = 4 * C
B, T = 2, 12
SEED = 20240601
IGNORE = 0xFFFFFFFF  # runnel's MODEL_IGNORE
ADAMW = dict(lr=1e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
STEPS = 10

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(SEED)


def normal(shape, mean, std):
    """Seeded normal values, rounded to float32 so that the C model holds them exactly."""
    w = mean + std * torch.randn(shape, generator=gen, dtype=torch.float64)
    return w.to(torch.float32).to(torch.float64)


# Weights larger than GPT-2's initialization, so that attention is peaked, gelu bends and
# every path carries gradient worth comparing.  Declaration order = runnel's order.
params = {}
decay = {}


def declare(name, shape, mean, std, is_decay=False):
    params[name] = normal(shape, mean, std).requires_grad_(True)
    decay[name] = is_decay


declare("wte.weight", (V, C), 0.0, 0.5)
declare("wpe.weight", (CONTEXT, C), 0.0, 0.3)
for i in range(L):
    h = f"h.{i}."
    declare(h + "ln_1.weight", (C,), 1.0, 0.1)
    declare(h + "ln_1.bias", (C,), 0.0, 0.1)
    declare(h + "attn.c_attn.weight", (C, 3 * C), 0.0, 0.2, True)
    declare(h + "attn.c_attn.bias", (3 * C,), 0.0, 0.1)
    declare(h + "attn.c_proj.weight", (C, C), 0.0, 0.2, True)
    declare(h + "attn.c_proj.bias", (C,), 0.0, 0.1)
    declare(h + "ln_2.weight", (C,), 1.0, 0.1)
    declare(h + "ln_2.bias", (C,), 0.0, 0.1)
    declare(h + "mlp.c_fc.weight", (C, MLP), 0.0, 0.2, True)
    declare(h + "mlp.c_fc.bias", (MLP,), 0.0, 0.1)
    declare(h + "mlp.c_proj.weight", (MLP, C), 0.0, 0.2, True)
    declare(h + "mlp.c_proj.bias", (C,), 0.0, 0.1)
declare("ln_f.weight", (C,), 1.0, 0.1)
declare("ln_f.bias", (C,), 0.0, 0.1)

tokens = torch.randint(0, V, (B, T), generator=gen)
targets = torch.randint(0, V, (B, T), generator=gen)
ignored = torch.zeros(B, T, dtype=torch.bool)
ignored[0, 3] = ignored[1, T - 1] = True  # two positions add no loss


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def attention(qkv):
    hs = C // NH
    q, k, v = qkv.split(C, dim=-1)  # (B, T, C) each
    # (B, NH, T, hs)
    q, k, v = (t.reshape(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(hs)  # (B, NH, T, T)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    y = torch.softmax(scores, dim=-1) @ v  # (B, NH, T, hs)
    return y.transpose(1, 2).reshape(B, T, C)


def forward(p):
    x = p["wte.weight"][tokens] + p["wpe.weight"][:T]
    for i in range(L):
        h = f"h.{i}."
        a = layer_norm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        x = x + attention(qkv) @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        a = layer_norm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        f = gelu(a @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + f @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    x = layer_norm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["wte.weight"].T  # (B, T, V)


def loss_of(logits):
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    keep = ~ignored
    return -(logp[keep]).sum() / keep.sum()


logits = forward(params)
loss = loss_of(logits)
loss.backward()
grads = {n: p.grad.detach().clone() for n, p in params.items()}


def adamw_losses(use_torch_optim):
    """Losses of STEPS AdamW steps from the fixture's weights, and the loss after them."""
    w = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
    lr, b1, b2, eps, wd = (ADAMW[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay"))
    if use_torch_optim:
        opt = torch.optim.AdamW(
            [
                {"params": [w[n] for n in w if decay[n]], "weight_decay": wd},
                {"params": [w[n] for n in w if not decay[n]], "weight_decay": 0.0},
            ],
            lr=lr, betas=(b1, b2), eps=eps)
    m = {n: torch.zeros_like(p) for n, p in w.items()}
    v = {n: torch.zeros_like(p) for n, p in w.items()}
    losses = []
    for t in range(1, STEPS + 1):
        for p in w.values():
            p.grad = None
        step_loss = loss_of(forward(w))
        step_loss.backward()
        losses.append(step_loss.item())
        if use_torch_optim:
            opt.step()
            continue
        with torch.no_grad():
            for n, p in w.items():
                g = p.grad
                m[n] = b1 * m[n] + (1 - b1) * g
                v[n] = b2 * v[n] + (1 - b2) * g * g
                if decay[n]:
                    p -= lr * wd * p
                p -= lr * (m[n] / (1 - b1**t)) / (torch.sqrt(v[n] / (1 - b2**t)) + eps)
    with torch.no_grad():
        final = loss_of(forward(w)).item()
    return losses, final


losses, final_loss = adamw_losses(False)
check_losses, check_final = adamw_losses(True)
assert np.allclose(losses + [final_loss], check_losses + [check_final], rtol=1e-12, atol=0)


def tensor(x, dtype="f32"):
    a = x.detach().numpy().astype("<f4" if dtype == "f32" else "<u4")
    return {"dtype": dtype, "shape": list(a.shape), "data": a.tobytes()}


def u32s(x):
    return [int(v) for v in x.reshape(-1)]


records = [
    {"kind": "config", "vocab": V, "layers": L, "width": C, "heads": NH, "context": CONTEXT,
     "mlp": MLP, "batch": B, "time": T, "seed": SEED},
    {"kind": "batch", "tokens": u32s(tokens),
     "targets": u32s(torch.where(ignored, torch.tensor(IGNORE), targets))},
    {"kind": "output", "loss": loss.item(), "logits": tensor(logits)},
]
for n, p in params.items():
    records.append({"kind": "param", "name": n, "decay": decay[n], "weight": tensor(p),
                    "grad": tensor(grads[n])})
records.append({"kind": "adamw", **ADAMW, "steps": STEPS, "losses": losses,
                "final_loss": final_loss})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt", "tiny.mp")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out + ".tmp", "wb") as f:
    for r in records:
        f.write(msgpack.packb(r, use_bin_type=True))
os.rename(out + ".tmp", out)
print(f"{out}: {len(records)} records, {os.path.getsize(out)} bytes, loss {loss.item():.6f}, "
      f"after {STEPS} AdamW steps {final_loss:.6f}")
