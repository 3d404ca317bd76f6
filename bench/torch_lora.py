#!/usr/bin/python3
"""The PyTorch peer of bench/lora.sh: the step time of full fine-tuning and of LoRA on the
same GPT-2 model, built as an eager PyTorch user would.

    torch_lora.py --threads N [--steps N] [--rank R]

prints two lines, "full S" and "lora S": the median wall time in seconds of the training
steps after the first (forward, the cross-entropy of the response tokens, backward,
gradient clipping, AdamW over what learns).  The model is config M (vocab 4096, 6 layers,
6 heads, width 384, context 256), batch 8 x 256 with the first 64 targets of each row
ignored as a prompt, float32.  LoRA puts y += (alpha / r) (x A) B on every nn.Linear
(c_attn, c_proj, c_fc, mlp_proj), A Kaiming-uniform and B zero (as peft), r = 8 and
alpha 16, and freezes every other parameter (requires_grad False), so autograd skips their
weight gradients, as runnel does.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, L, NH, C, T, B, PROMPT = 4096, 6, 6, 384, 256, 8, 64


class LoRALinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.base = nn.Linear(n_in, n_out)
        self.A = self.B = None

    def adapt(self, r, alpha):
        n_in, n_out = self.base.in_features, self.base.out_features
        self.A = nn.Parameter(torch.empty(n_in, r).uniform_(-1 / math.sqrt(n_in),
                                                           1 / math.sqrt(n_in)))
        self.B = nn.Parameter(torch.zeros(r, n_out))
        self.scale = alpha / r

    def forward(self, x):
        y = self.base(x)
        if self.A is not None:
            y = y + self.scale * ((x @ self.A) @ self.B)
        return y


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = LoRALinear(C, 3 * C), LoRALinear(C, C)
        self.c_fc, self.mlp_proj = LoRALinear(C, 4 * C), LoRALinear(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def attn(self, x):
        hs = C // NH
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(~self.mask, float("-inf")).softmax(dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.T


def step_times(lora, steps, rank):
    torch.manual_seed(1)
    model = GPT()
    if lora:
        for p in model.parameters():
            p.requires_grad_(False)
        for m in model.modules():
            if isinstance(m, LoRALinear):
                m.adapt(rank, 2.0 * rank)
    learning = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(learning, lr=1e-4, betas=(0.9, 0.95), eps=1e-8,
                            weight_decay=0.0, foreach=True)
    gen = torch.Generator().manual_seed(2)
    times = []
    for _ in range(steps):
        tokens = torch.randint(0, V, (B, T), generator=gen)
        targets = torch.randint(0, V, (B, T), generator=gen)
        targets[:, :PROMPT] = -100
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(tokens).view(-1, V), targets.view(-1), ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(learning, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rank", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"full {step_times(False, a.steps, a.rank):.4f}")
    print(f"lora {step_times(True, a.steps, a.rank):.4f}")


if __name__ == "__main__":
    main()
