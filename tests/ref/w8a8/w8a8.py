#!/usr/bin/python3
"""Independent reference for a W8A8 forward of one linear layer (lib/quant/qlinear.c),
written from the recipe's definition with numpy float32 arithmetic:

    weights     symmetric 8-bit, one scale per output channel: s = max|W[:, o]| / 127
    activations symmetric 8-bit, one scale per token (row of X): s = max|X[t, :]| / 127
    codes       round half away from zero of value / s, clipped to [-127, 127]
    Y           = Q(X) Q(W) + b, W stored (in, out), accumulated in float64

X, W and b come from a 64-bit LCG (top 24 bits / 2^24, exact in float32).  Writes
expected.bin, float32 little-endian: X (N, IN), W (IN, OUT), b (OUT), Q(W) (IN, OUT),
Q(X) (N, IN), Y (N, OUT)."""
import os

import numpy as np

N, IN, OUT = 8, 32, 16


def lcg(n, state=[7]):
    out = np.empty(n, dtype=np.float32)
    x = state[0]
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out[i] = np.float32((x >> 40) / float(1 << 24) - 0.5)
    state[0] = x
    return out


def quantize(v, axis):
    """Symmetric 8-bit fake quantization with one scale per slice along axis."""
    s = (np.abs(v).max(axis=axis, keepdims=True) / np.float32(127)).astype(np.float32)
    r = (v / s).astype(np.float32)
    q = np.clip(np.sign(r) * np.floor(np.abs(r) + np.float32(0.5)), -127, 127)
    return (s * q).astype(np.float32)


x = lcg(N * IN).reshape(N, IN) * np.float32(4)
w = lcg(IN * OUT).reshape(IN, OUT)
w[:, 3] *= np.float32(0.01)  # an output channel of small weights: its own scale matters
b = lcg(OUT)
wq = quantize(w, axis=0)  # over the inputs of each output channel
xq = quantize(x, axis=1)  # over the features of each token
y = (xq.astype(np.float64) @ wq.astype(np.float64) + b).astype(np.float32)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.bin"), "wb") as f:
    for a in (x, w, b, wq, xq, y):
        f.write(a.astype("<f4").tobytes())
