#!/usr/bin/env python3
"""Reference state of a tiny Hawk model (lib/model/hawk.c), written independently in plain
torch ops with autograd, in float64.  It writes tests/ref/hawk/tiny.mp (format in
tests/ref/hawk/README): the config, a batch, the weights (rounded to float32, and the
reference computed from exactly those float32 values), the logits, the mean cross-entropy,
every parameter's gradient, and the losses of 10 AdamW steps.

    /usr/bin/python3 tests/ref/torch_hawk.py [OUT]      (python3-torch, python3-msgpack)

The model (Griffin's Hawk, De et al. 2024) as runnel defines it:
    x = wte[tokens] * sqrt(C)
    per layer:  x = x + recurrent(rmsnorm_1(x));  x = x + mlp(rmsnorm_2(x))
    logits = rmsnorm_f(x) @ wte.T
    recurrent(h) = (gelu(h Wg + bg) * rglru(conv(h Win + bin))) Wout + bout
    conv: causal depthwise, u'_t = b + sum_k w[k] u_{t-k}  (w[0] weighs the current input)
    rglru(x): r = sigmoid(x Wa + ba), i = sigmoid(x Wx + bx), log a = -8 r softplus(-lambda),
              h_t = a_t h_{t-1} + sqrt(1 - a_t^2) (i_t x_t), h_{-1} = 0, y = h
    mlp(h) = (gelu(h W1 + b1) * (h W2 + b2)) W3 + b3;  gelu is the tanh approximation
"""
import math
import sys

import msgpack
import torch
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/ref/hawk/tiny.mp"

# lru differs from C and mlp from both, so a transposed shape cannot pass unnoticed; T is
# long enough that the conv's full window and the recurrence both matter.
V, L, C, R, H, K = 11, 2, 8, 6, 12, 4
B, T = 2, 7
EPS = 1e-6
STEPS, LR, BETAS, ADAM_EPS, WD = 10, 1e-3, (0.9, 0.95), 1e-8, 0.1

gen = torch.Generator().manual_seed(1234)


def normal(shape, std):
    return torch.randn(shape, generator=gen, dtype=torch.float64) * std


def uniform(shape, lo, hi):
    return lo + (hi - lo) * torch.rand(shape, generator=gen, dtype=torch.float64)


# Parameters in runnel's declaration order: (name, value).  Values are generic rather than
# the model's initialization: nonzero biases, norm gains away from 1, and σ(Λ)^8 spread over
# [0.5, 0.999] so both fast and slow channels are exercised.
spec = [("wte.weight", normal((V, C), C ** -0.5))]
for l in range(L):
    p = f"h.{l}."
    lam_a = uniform((R,), 0.5, 0.999) ** (1 / 8)  # σ(Λ)
    spec += [
        (p + "norm_1.weight", 1 + normal((C,), 0.1)),
        (p + "rec.gate.weight", normal((C, R), C ** -0.5)),
        (p + "rec.gate.bias", normal((R,), 0.1)),
        (p + "rec.in.weight", normal((C, R), C ** -0.5)),
        (p + "rec.in.bias", normal((R,), 0.1)),
        (p + "rec.conv.weight", normal((K, R), K ** -0.5)),
        (p + "rec.conv.bias", normal((R,), 0.1)),
        (p + "rec.lru.a_gate.weight", normal((R, R), R ** -0.5)),
        (p + "rec.lru.a_gate.bias", normal((R,), 0.1)),
        (p + "rec.lru.x_gate.weight", normal((R, R), R ** -0.5)),
        (p + "rec.lru.x_gate.bias", normal((R,), 0.1)),
        (p + "rec.lru.lambda", torch.log(lam_a / (1 - lam_a))),
        (p + "rec.out.weight", normal((R, C), R ** -0.5)),
        (p + "rec.out.bias", normal((C,), 0.1)),
        (p + "norm_2.weight", 1 + normal((C,), 0.1)),
        (p + "mlp.fc1.weight", normal((C, H), C ** -0.5)),
        (p + "mlp.fc1.bias", normal((H,), 0.1)),
        (p + "mlp.fc2.weight", normal((C, H), C ** -0.5)),
        (p + "mlp.fc2.bias", normal((H,), 0.1)),
        (p + "mlp.fc3.weight", normal((H, C), H ** -0.5)),
        (p + "mlp.fc3.bias", normal((C,), 0.1)),
    ]
spec.append(("norm_f.weight", 1 + normal((C,), 0.1)))

# The C model computes in float32: start from the float32-rounded weights.
params = {n: v.float().double().requires_grad_() for n, v in spec}
names = [n for n, _ in spec]
decays = {n: params[n].dim() == 2 and n != "wte.weight" for n in names}

tokens = torch.randint(0, V, (B, T), generator=gen)
targets = torch.randint(0, V, (B, T), generator=gen)


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def gelu(x):
    return F.gelu(x, approximate="tanh")


def causal_conv(u, w, b):
    # torch's conv1d is a cross-correlation whose last tap meets the current input, so
    # runnel's taps (w[0] = current) are flipped; left padding K-1 makes it causal.
    weight = w.flip(0).t().unsqueeze(1)  # (R, 1, K)
    y = F.conv1d(F.pad(u.transpose(1, 2), (K - 1, 0)), weight, b, groups=R)
    return y.transpose(1, 2)


def rglru(x, p):
    r = torch.sigmoid(x @ params[p + "a_gate.weight"] + params[p + "a_gate.bias"])
    i = torch.sigmoid(x @ params[p + "x_gate.weight"] + params[p + "x_gate.bias"])
    log_a = -8.0 * r * F.softplus(-params[p + "lambda"])
    a = torch.exp(log_a)
    gated = torch.sqrt(-torch.expm1(2 * log_a)) * (i * x)
    h = torch.zeros(x.shape[0], R, dtype=x.dtype)
    ys = []
    for t in range(x.shape[1]):
        h = a[:, t] * h + gated[:, t]
        ys.append(h)
    return torch.stack(ys, 1)


def recurrent(h, p):
    g = gelu(h @ params[p + "gate.weight"] + params[p + "gate.bias"])
    u = h @ params[p + "in.weight"] + params[p + "in.bias"]
    u = causal_conv(u, params[p + "conv.weight"], params[p + "conv.bias"])
    y = rglru(u, p + "lru.")
    return (g * y) @ params[p + "out.weight"] + params[p + "out.bias"]


def mlp(h, p):
    a = gelu(h @ params[p + "fc1.weight"] + params[p + "fc1.bias"])
    b = h @ params[p + "fc2.weight"] + params[p + "fc2.bias"]
    return (a * b) @ params[p + "fc3.weight"] + params[p + "fc3.bias"]


def forward(tok):
    wte = params["wte.weight"]
    x = wte[tok] * math.sqrt(C)
    for l in range(L):
        p = f"h.{l}."
        x = x + recurrent(rmsnorm(x, params[p + "norm_1.weight"]), p + "rec.")
        x = x + mlp(rmsnorm(x, params[p + "norm_2.weight"]), p + "mlp.")
    return rmsnorm(x, params["norm_f.weight"]) @ wte.t()


def cross_entropy(logits):
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))


def tensor(t):
    a = t.detach().numpy().astype("<f4")
    return {"dtype": "f32", "shape": list(a.shape), "data": a.tobytes()}


records = [
    {"kind": "config", "arch": "hawk", "vocab": V, "layers": L, "width": C, "lru": R,
     "mlp": H, "conv": K, "context": T},
    {"kind": "batch", "batch": B, "time": T, "tokens": tokens.flatten().tolist(),
     "targets": targets.flatten().tolist()},
]
records += [{"kind": "param", "name": n, "decay": decays[n], "value": tensor(params[n])}
            for n in names]

logits = forward(tokens)
loss = cross_entropy(logits)
loss.backward()
records.append({"kind": "logits", "value": tensor(logits)})
records.append({"kind": "loss", "loss": loss.item()})
records += [{"kind": "grad", "name": n, "value": tensor(params[n].grad)} for n in names]

# AdamW from the same weights: losses[k] is the loss before the k-th update (losses[0] is
# the loss above).
opt = torch.optim.AdamW(
    [{"params": [params[n] for n in names if decays[n]], "weight_decay": WD},
     {"params": [params[n] for n in names if not decays[n]], "weight_decay": 0.0}],
    lr=LR, betas=BETAS, eps=ADAM_EPS)
losses = []
for _ in range(STEPS):
    opt.zero_grad()
    step_loss = cross_entropy(forward(tokens))
    losses.append(step_loss.item())
    step_loss.backward()
    opt.step()
records.append({"kind": "adamw", "lr": LR, "beta1": BETAS[0], "beta2": BETAS[1],
                "eps": ADAM_EPS, "weight_decay": WD, "clip": 0.0, "losses": losses})

with open(OUT, "wb") as f:
    for rec in records:
        f.write(msgpack.packb(rec, use_bin_type=True))
print(f"{OUT}: {len(records)} records, loss {loss.item():.6f}, "
      f"after {STEPS} AdamW steps {losses[-1]:.6f}")
