#!/usr/bin/env python3
"""A PyTorch DQN on Gymnasium's CartPole-v1 that writes a runnel training trace.

    python3 python/example_dqn.py --steps 50000 -o run.trace
    diagnose --text run.trace

or, diagnosing while it trains:

    python3 python/example_dqn.py | diagnose --text

--bug plants one of the classic faults, to see what diagnose says about it:
  target     the target network is never updated
  epsilon    epsilon starts (and stays) at 0: no exploration
  obs        observations are multiplied by 1000
  terminal   bootstrapping through terminal states

Needs python3-torch and gymnasium; the trace is written with runnel_trace (beside this
file), which needs python3-msgpack."""
import argparse
import os
import random
import sys

import gymnasium
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runnel_trace import LayerMonitor, Trace, TracedEnv  # noqa: E402


class ScaledObservations:
    """The --bug obs environment: observations multiplied by a constant."""

    def __init__(self, env, scale):
        self.env, self.scale = env, scale

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs * self.scale, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs * self.scale, reward, terminated, truncated, info

    def __getattr__(self, name):
        return getattr(self.env, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bug", choices=["none", "target", "epsilon", "obs", "terminal"],
                    default="none")
    ap.add_argument("-o", "--output", default="-", help="trace file (default stdout)")
    args = ap.parse_args()
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    gamma, lr, batch, period, log_every = 0.99, 1e-3, 64, 500, 10
    out = sys.stdout.buffer if args.output == "-" else args.output
    trace = Trace(out, env="CartPole-v1", agent="dqn", gamma=gamma, lr=lr,
                  total_steps=args.steps, max_episode_steps=500, reward_threshold=475,
                  n_actions=2, seed=args.seed)
    env = gymnasium.make("CartPole-v1")
    if args.bug == "obs":
        env = ScaledObservations(env, 1000.0)
    env = TracedEnv(env, trace)  # the episode statistics of what the agent sees

    def net():
        return nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                             nn.Linear(64, 2))
    q, target = net(), net()
    target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=lr)
    monitor = LayerMonitor(q)
    buffer, losses, copies, updates = [], [], 0, 0

    obs, _ = env.reset(seed=args.seed)
    for step in range(1, args.steps + 1):
        eps = 0.0 if args.bug == "epsilon" else max(0.05, 1 - step / (0.25 * args.steps))
        if random.random() < eps:
            action = env.action_space.sample()
        else:
            with torch.no_grad():
                action = int(q(torch.tensor(obs, dtype=torch.float32)).argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        done = terminated and args.bug != "terminal"
        buffer.append((obs, action, reward, next_obs, float(done)))
        buffer = buffer[-50000:]
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
        if step < 200 or step % 4:
            continue
        s, a, r, s2, d = (torch.tensor(np.array(x), dtype=torch.float32)
                          for x in zip(*random.sample(buffer, batch)))
        with torch.no_grad():
            y = r + gamma * (1 - d) * target(s2).max(dim=1).values
        qs = q(s)
        qa = qs.gather(1, a.long().unsqueeze(1)).squeeze(1)
        loss = nn.functional.smooth_l1_loss(qa, y)
        opt.zero_grad()
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(q.parameters(), 10.0).item()
        monitor.before_step()
        opt.step()
        updates += 1
        if args.bug != "target" and updates % (period // 4) == 0:
            target.load_state_dict(q.state_dict())
            copies += 1
        losses.append(loss.item())
        if updates % log_every == 0:
            trace.update(step, updates=log_every, loss=sum(losses) / len(losses),
                         grad_norm=grad_norm, q_mean=qs.mean().item(), q_max=qs.max().item(),
                         td_error=(qa - y).abs().mean().item(), lr=lr, epsilon=eps,
                         target_updated=copies > 0, target_updates=copies,
                         layers=monitor.layers())
            losses, copies = [], 0
    trace.close()


if __name__ == "__main__":
    main()
