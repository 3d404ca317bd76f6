#!/usr/bin/python3
"""The PyTorch peer of bench/nn.sh: runnel's gpt and hawk built as an eager PyTorch user
would, timed at training steps and at cached sampling.

    torch_bench.py train  --arch gpt|hawk --config S|M --threads N [--steps N]
    torch_bench.py sample --arch gpt|hawk --config S|M --threads N [--tokens N] [--sequences N]

prints one line "tokens_per_s X": for train the median over the timed steps of B T / the
step's wall time (forward, cross-entropy, backward, gradient clipping, AdamW); for sample,
batch 1, the tokens generated after a one-token prompt (N sequences, each from a fresh
state) over the time taken, drawing each from the softmax (torch.multinomial) and feeding
it back through a KV cache (gpt) or the recurrent state (hawk).  OMP_WAIT_POLICY is left to the caller (it must be set before
the process starts).

The models are the ones tests/ref/torch_gpt.py and tests/ref/torch_hawk.py define (and
runnel computes): GPT-2 with the tanh GELU, LayerNorm eps 1e-5 and the head tied to wte;
Hawk with RMSNorm, the gated MLP of width 3C, a causal depthwise conv of width 4 and the
RG-LRU, run step by step over time as an eager implementation does.  float32 throughout,
AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.1 on matrices, foreach), clip 1.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {  # V, L, NH, C, T, B
    "S": (256, 4, 4, 128, 128, 16),
    "M": (4096, 6, 6, 384, 256, 8),
}


class GPTBlock(nn.Module):
    def __init__(self, C, NH, T):
        super().__init__()
        self.NH = NH
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def attn(self, x):
        B, T, C = x.shape
        hs = C // self.NH
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.NH, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    def step(self, x, cache, pos):
        """x (1, C) at position pos; cache (2, NH, T, hs) keys and values so far."""
        C = x.shape[-1]
        hs = C // self.NH
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=-1)
        cache[0, :, pos] = k.view(self.NH, hs)
        cache[1, :, pos] = v.view(self.NH, hs)
        keys, values = cache[0, :, : pos + 1], cache[1, :, : pos + 1]  # (NH, pos+1, hs)
        att = (keys @ q.view(self.NH, hs, 1)).squeeze(-1) / math.sqrt(hs)  # (NH, pos+1)
        y = (att.softmax(-1).unsqueeze(1) @ values).reshape(1, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, L, NH, C, T):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(GPTBlock(C, NH, T) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.T, self.NH = T, NH

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.T

    def new_state(self):
        C = self.wte.weight.shape[1]
        return [torch.zeros(2, self.NH, self.T, C // self.NH) for _ in self.h]

    def step(self, token, state, pos):
        x = self.wte.weight[token].view(1, -1) + self.wpe.weight[pos].view(1, -1)
        for b, cache in zip(self.h, state):
            x = b.step(x, cache, pos)
        return (self.ln_f(x) @ self.wte.weight.T).view(-1)


class RMSNorm(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight


class HawkBlock(nn.Module):
    K = 4

    def __init__(self, C):
        super().__init__()
        R, H = C, 3 * C
        self.norm_1, self.norm_2 = RMSNorm(C), RMSNorm(C)
        self.gate, self.inp = nn.Linear(C, R), nn.Linear(C, R)
        self.conv_w = nn.Parameter(torch.randn(self.K, R) * self.K ** -0.5)
        self.conv_b = nn.Parameter(torch.zeros(R))
        self.a_gate, self.x_gate = nn.Linear(R, R), nn.Linear(R, R)
        self.lam = nn.Parameter(torch.rand(R) * 2 + 2)
        self.out = nn.Linear(R, C)
        self.fc1, self.fc2, self.fc3 = nn.Linear(C, H), nn.Linear(C, H), nn.Linear(H, C)

    def mlp(self, h):
        return self.fc3(F.gelu(self.fc1(h), approximate="tanh") * self.fc2(h))

    def lru_inputs(self, u):
        r, i = torch.sigmoid(self.a_gate(u)), torch.sigmoid(self.x_gate(u))
        log_a = -8.0 * r * F.softplus(-self.lam)
        a = torch.exp(log_a)
        return a, torch.sqrt(1 - a * a) * (i * u)

    def forward(self, x):
        B, T, _ = x.shape
        h = self.norm_1(x)
        g = F.gelu(self.gate(h), approximate="tanh")
        u = self.inp(h)
        up = F.pad(u, (0, 0, self.K - 1, 0))  # zeros before the start
        u = self.conv_b + sum(self.conv_w[k] * up[:, self.K - 1 - k: self.K - 1 - k + T]
                              for k in range(self.K))
        a, b = self.lru_inputs(u)
        state, ys = torch.zeros_like(b[:, 0]), []
        for t in range(T):
            state = a[:, t] * state + b[:, t]
            ys.append(state)
        x = x + self.out(g * torch.stack(ys, 1))
        return x + self.mlp(self.norm_2(x))

    def step(self, x, st):
        """x (1, C); st = [past conv inputs (K-1, R), lru state (R)], updated."""
        h = self.norm_1(x)
        g = F.gelu(self.gate(h), approximate="tanh")
        u = self.inp(h).view(-1)
        window = torch.cat([st[0], u.view(1, -1)])  # oldest first, newest last
        uc = self.conv_b + (self.conv_w.flip(0) * window).sum(0)
        st[0] = window[1:]
        a, b = self.lru_inputs(uc)
        st[1] = a * st[1] + b
        x = x + self.out(g * st[1].view(1, -1))
        return x + self.mlp(self.norm_2(x))


class Hawk(nn.Module):
    def __init__(self, V, L, NH, C, T):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.h = nn.ModuleList(HawkBlock(C) for _ in range(L))
        self.norm_f = RMSNorm(C)
        self.scale = math.sqrt(C)

    def forward(self, idx):
        x = self.wte(idx) * self.scale
        for b in self.h:
            x = b(x)
        return self.norm_f(x) @ self.wte.weight.T

    def new_state(self):
        C = self.wte.weight.shape[1]
        return [[torch.zeros(HawkBlock.K - 1, C), torch.zeros(C)] for _ in self.h]

    def step(self, token, state, pos):
        x = self.wte.weight[token].view(1, -1) * self.scale
        for b, st in zip(self.h, state):
            x = b.step(x, st)
        return (self.norm_f(x) @ self.wte.weight.T).view(-1)


def build(arch, config):
    V, L, NH, C, T, B = CONFIGS[config]
    torch.manual_seed(1)
    model = (GPT if arch == "gpt" else Hawk)(V, L, NH, C, T)
    return model, V, T, B


def train(model, V, T, B, steps):
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    gen = torch.Generator().manual_seed(2)
    rates = []
    for s in range(steps):
        data = torch.randint(0, V, (B, T + 1), generator=gen)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(data[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), data[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s >= 2:  # the first steps allocate and warm up
            rates.append(B * T / (time.perf_counter() - t0))
    return statistics.median(rates)


@torch.inference_mode()
def sample(model, V, T, tokens, sequences):
    gen = torch.Generator().manual_seed(3)
    model.step(0, model.new_state(), 0)  # warm up
    t0 = time.perf_counter()
    for _ in range(sequences):
        state, token = model.new_state(), 0
        for pos in range(tokens):
            logits = model.step(token, state, pos)
            token = int(torch.multinomial(logits.softmax(-1), 1, generator=gen))
    return sequences * tokens / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("train", "sample"))
    ap.add_argument("--arch", choices=("gpt", "hawk"), required=True)
    ap.add_argument("--config", choices=tuple(CONFIGS), required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=0, help="default: the context less one")
    ap.add_argument("--sequences", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, V, T, B = build(a.arch, a.config)
    if a.what == "train":
        rate = train(model, V, T, B, a.steps)
    else:
        rate = sample(model, V, T, a.tokens or T - 1, a.sequences)
    print(f"tokens_per_s {rate:.1f}")


if __name__ == "__main__":
    main()
