"""runnel_trace: write a deep-RL training trace that runnel's diagnose(1) reads.

A trace is a stream of msgpack records (runnel-trace(5)): a "config" record, then one
"episode" record per finished episode and "update" records for gradient steps.  Write one
from any Python training loop (PyTorch, Gymnasium) and diagnose it:

    from runnel_trace import Trace, TracedEnv, LayerMonitor

    trace = Trace("run.trace", env="CartPole-v1", agent="dqn", gamma=0.99, lr=1e-3,
                  total_steps=100_000, max_episode_steps=500, reward_threshold=475,
                  n_actions=2, seed=1)
    env = TracedEnv(gymnasium.make("CartPole-v1"), trace)   # episode records
    monitor = LayerMonitor(q_network)                         # per-layer statistics
    ...
    monitor.before_step()            # just before optimizer.step()
    optimizer.step()
    trace.update(env.steps, loss=loss.item(), epsilon=eps, target_updated=copied,
                 layers=monitor.layers())
    ...
    trace.close()

and then `diagnose --text run.trace`.  Only python3-msgpack is needed; LayerMonitor also
needs PyTorch.  Every key except event and step is optional: pass what your program has.
"""
import math

import msgpack

__all__ = ["Trace", "EpisodeStats", "TracedEnv", "LayerMonitor"]


def _clean(value):
    """Numbers, booleans, strings and lists of them as msgpack takes them (numpy and torch
    scalars become Python numbers)."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return _clean(value.tolist())
    if hasattr(value, "item"):
        return _clean(value.item())
    raise TypeError(f"runnel_trace: cannot write a value of type {type(value).__name__}")


class Trace:
    """A trace being written to a path (or a binary file object, e.g. sys.stdout.buffer).

    Keyword arguments given here are written as the config record.  Each record is
    flushed when written, so diagnose can read the trace while training runs."""

    def __init__(self, file, **config):
        if isinstance(file, str):
            self._file = open(file, "wb")
            self._own = True
        else:
            self._file = file
            self._own = False
        self._packer = msgpack.Packer(use_bin_type=True)
        self._last_step = 0
        if config:
            self.config(**config)

    def record(self, event, step, **keys):
        """Write one record with the given event, step and keys (None values are left out)."""
        step = int(step)
        if step < 0 or step < self._last_step:
            raise ValueError(f"runnel_trace: step {step} after step {self._last_step}")
        self._last_step = step
        rec = {"event": event, "step": step}
        rec.update({k: _clean(v) for k, v in keys.items() if v is not None})
        self._file.write(self._packer.pack(rec))
        self._file.flush()

    def config(self, step=0, **keys):
        """env, agent, gamma, lr, total_steps, max_episode_steps, reward_threshold,
        n_actions, seed, and anything else worth keeping."""
        self.record("config", step, **keys)

    def episode(self, step, **keys):
        """episode, return, length, terminated, truncated, action_counts, obs_min, obs_max,
        obs_mean, obs_std, reward_min, reward_max, final_obs (EpisodeStats makes them)."""
        self.record("episode", step, **keys)

    def update(self, step, **keys):
        """loss, value_loss, policy_loss, entropy, grad_norm, kl, q_mean, q_max, td_error,
        lr, epsilon, target_updated, target_updates, updates, layers."""
        self.record("update", step, **keys)

    def done(self, step, **keys):
        self.record("done", step, **keys)

    def close(self):
        self._file.flush()
        if self._own:
            self._file.close()


class EpisodeStats:
    """The statistics of one episode, from its observations, actions and rewards."""

    def __init__(self, n_actions=None):
        self.n_actions = n_actions
        self.reset()

    def reset(self):
        self.length = 0
        self.ret = 0.0
        self.counts = [0] * (self.n_actions or 0)
        self.rmin = math.inf
        self.rmax = -math.inf
        self.omin = math.inf
        self.omax = -math.inf
        self.osum = 0.0
        self.ocount = 0
        self.csum = None    # per component: sum and sum of squares over steps
        self.csq = None
        self.steps_seen = 0
        self.last_obs = None

    def observe(self, obs):
        """An observation the agent receives (the first after reset, then after each step)."""
        values = [float(v) for v in _flat(obs)]
        if self.csum is None:
            self.csum = [0.0] * len(values)
            self.csq = [0.0] * len(values)
        for i, v in enumerate(values[:len(self.csum)]):
            self.csum[i] += v
            self.csq[i] += v * v
        self.steps_seen += 1
        self.omin = min(self.omin, min(values, default=math.inf))
        self.omax = max(self.omax, max(values, default=-math.inf))
        self.osum += sum(values)
        self.ocount += len(values)
        self.last_obs = values

    def step(self, action, reward):
        """The action taken and the reward received for it."""
        reward = float(reward)
        self.length += 1
        self.ret += reward
        self.rmin = min(self.rmin, reward)
        self.rmax = max(self.rmax, reward)
        if self.n_actions:
            self.counts[int(action)] += 1

    def record(self, terminated, truncated):
        """The keys of the episode record."""
        n = self.steps_seen
        std = None
        if self.csum:
            var = [max(q / n - (s / n) ** 2, 0.0) for s, q in zip(self.csum, self.csq)]
            std = sum(math.sqrt(v) for v in var) / len(var)
        keys = {"return": self.ret, "length": self.length, "terminated": bool(terminated),
                "truncated": bool(truncated), "obs_std": std, "final_obs": self.last_obs}
        if self.ocount:
            keys.update(obs_min=self.omin, obs_max=self.omax, obs_mean=self.osum / self.ocount)
        if self.length:
            keys.update(reward_min=self.rmin, reward_max=self.rmax)
        if self.n_actions:
            keys["action_counts"] = list(self.counts)
        return keys


def _flat(x):
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _flat(v)
    else:
        yield x


class TracedEnv:
    """A Gymnasium environment that writes an episode record to trace at the end of every
    episode, with the statistics of what the agent saw (wrap it outside any observation or
    reward preprocessing you want the statistics to include).  env.steps counts the
    environment steps for the step key of your update records."""

    def __init__(self, env, trace):
        self.env = env
        self.trace = trace
        n = getattr(getattr(env, "action_space", None), "n", None)
        self.stats = EpisodeStats(int(n) if n is not None else None)
        self.steps = 0
        self.episodes = 0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.stats.reset()
        self.stats.observe(obs)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        self.stats.step(action, reward)
        self.stats.observe(obs)
        if terminated or truncated:
            self.episodes += 1
            self.trace.episode(self.steps, episode=self.episodes,
                               **self.stats.record(terminated, truncated))
        return obs, reward, terminated, truncated, info

    def __getattr__(self, name):
        return getattr(self.env, name)


class LayerMonitor:
    """Per-layer statistics of a PyTorch network for update records: weights, gradients,
    dead ReLU units, saturated tanh/sigmoid units, and the size of the last update.

    Call before_step() just before optimizer.step() (it keeps a copy of the weights) and
    layers() after it.  Activation statistics come from the network's last forward pass
    in training mode over a batch, through forward hooks on its activation modules."""

    def __init__(self, model):
        import torch  # only LayerMonitor needs PyTorch

        self._torch = torch
        self.linears = [(name, m) for name, m in model.named_modules()
                        if isinstance(m, torch.nn.Linear)]
        self.acts = {}
        self._before = None
        last = None  # the Linear layer an activation module follows
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.Linear):
                last = name
            elif isinstance(m, (torch.nn.ReLU, torch.nn.Tanh, torch.nn.Sigmoid)) and last:
                m.register_forward_hook(self._hook(last, m))

    def _hook(self, layer, module):
        torch = self._torch

        def hook(mod, inputs, out):
            if out.dim() < 2 or out.shape[0] < 2:
                return  # a single sample (acting) says nothing about dead units
            with torch.no_grad():
                flat = out.reshape(out.shape[0], -1)
                if isinstance(module, torch.nn.ReLU):
                    self.acts[layer] = ("frac_dead", (flat <= 0).all(dim=0).float().mean().item())
                else:
                    lo, hi = (-1.0, 1.0) if isinstance(module, torch.nn.Tanh) else (0.0, 1.0)
                    edge = 0.01 * (hi - lo)
                    sat = ((flat <= lo + edge) | (flat >= hi - edge)).float().mean().item()
                    self.acts[layer] = ("frac_saturated", sat)
        return hook

    def before_step(self):
        self._before = {name: m.weight.detach().clone() for name, m in self.linears}

    def layers(self):
        out = []
        for name, m in self.linears:
            w = m.weight.detach()
            d = {"name": name, "w_mean": w.mean().item(), "w_std": w.std().item(),
                 "w_maxabs": w.abs().max().item()}
            g = 0.0
            for p in (m.weight, m.bias):
                if p is not None and p.grad is not None:
                    g += p.grad.detach().pow(2).sum().item()
            d["g_norm"] = math.sqrt(g)
            if self._before is not None and name in self._before:
                norm = w.norm().item()
                d["update_ratio"] = (w - self._before[name]).norm().item() / norm if norm else None
            if name in self.acts:
                key, value = self.acts[name]
                d[key] = value
            out.append({k: v for k, v in d.items() if v is not None})
        return out
