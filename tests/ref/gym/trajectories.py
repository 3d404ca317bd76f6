#!/usr/bin/env python3
"""Reference trajectories of Gymnasium's classic-control environments for lib/rl.

An independent pure-Python transcription of the step functions of Gymnasium's
CartPole-v1, MountainCar-v0, Acrobot-v1 and Pendulum-v1 (gymnasium/envs/classic_control/
{cartpole,mountain_car,acrobot,pendulum}.py, Farama-Foundation/Gymnasium), with the
TimeLimit wrapper's truncation (max_episode_steps 500, 200, 500, 200).  Gymnasium itself is
not installable here, so this file is the reference: it follows Gymnasium's arithmetic
term by term, in float64 as Gymnasium keeps its internal state, and rounds observations to
float32 as Gymnasium returns them.  Differences from running Gymnasium:

- initial states are fixed here (written into the output), not drawn from numpy's
  generator;
- math.sin and math.cos stand for numpy's, which may differ in the last bit;
- Acrobot's reset state is float32 in Gymnasium: the fixed initial states below are
  float32 values;
- Pendulum's torque is a Python float (Gymnasium under NumPy 2 computes the torque terms
  in float32 when the action array is float32).

Writes tests/ref/gym/trajectories.json: one JSON object per line with the environment,
the initial state, the actions, and after every step the state, the observation, the
reward, terminated and truncated.  tests/unit/test_rl_env.c compares lib/rl with it.

    python3 tests/ref/gym/trajectories.py >tests/ref/gym/trajectories.json
"""
import json
import math
import struct
import sys


def f32(x):
    """Round a float to the nearest float32, as np.array(..., dtype=np.float32) does."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---- CartPole-v1 ----

class CartPole:
    name = "CartPole-v1"
    max_steps = 500

    def __init__(self, state):
        self.gravity = 9.8
        self.masscart = 1.0
        self.masspole = 0.1
        self.total_mass = self.masspole + self.masscart
        self.length = 0.5
        self.polemass_length = self.masspole * self.length
        self.force_mag = 10.0
        self.tau = 0.02
        self.theta_threshold_radians = 12 * 2 * math.pi / 360
        self.x_threshold = 2.4
        self.state = list(state)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        costheta = math.cos(theta)
        sintheta = math.sin(theta)
        temp = (force + self.polemass_length * theta_dot**2 * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta**2 / self.total_mass))
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        x = x + self.tau * x_dot
        x_dot = x_dot + self.tau * xacc
        theta = theta + self.tau * theta_dot
        theta_dot = theta_dot + self.tau * thetaacc
        self.state = [x, x_dot, theta, theta_dot]
        terminated = (x < -self.x_threshold or x > self.x_threshold
                      or theta < -self.theta_threshold_radians
                      or theta > self.theta_threshold_radians)
        return [f32(v) for v in self.state], 1.0, terminated


# ---- MountainCar-v0 ----

def clip(x, lo, hi):
    return min(max(x, lo), hi)


class MountainCar:
    name = "MountainCar-v0"
    max_steps = 200

    def __init__(self, state):
        self.min_position = -1.2
        self.max_position = 0.6
        self.max_speed = 0.07
        self.goal_position = 0.5
        self.goal_velocity = 0
        self.force = 0.001
        self.gravity = 0.0025
        self.state = list(state)

    def step(self, action):
        position, velocity = self.state
        velocity += (action - 1) * self.force + math.cos(3 * position) * (-self.gravity)
        velocity = clip(velocity, -self.max_speed, self.max_speed)
        position += velocity
        position = clip(position, self.min_position, self.max_position)
        if position == self.min_position and velocity < 0:
            velocity = 0.0
        terminated = position >= self.goal_position and velocity >= self.goal_velocity
        self.state = [position, velocity]
        return [f32(v) for v in self.state], -1.0, terminated


# ---- Acrobot-v1 ----

class Acrobot:
    name = "Acrobot-v1"
    max_steps = 500
    dt = 0.2
    LINK_LENGTH_1 = 1.0
    LINK_MASS_1 = 1.0
    LINK_MASS_2 = 1.0
    LINK_COM_POS_1 = 0.5
    LINK_COM_POS_2 = 0.5
    LINK_MOI = 1.0
    MAX_VEL_1 = 4 * math.pi
    MAX_VEL_2 = 9 * math.pi
    AVAIL_TORQUE = [-1.0, 0.0, +1]

    def __init__(self, state):
        self.state = list(state)

    def dsdt(self, s_augmented):
        m1 = self.LINK_MASS_1
        m2 = self.LINK_MASS_2
        l1 = self.LINK_LENGTH_1
        lc1 = self.LINK_COM_POS_1
        lc2 = self.LINK_COM_POS_2
        I1 = self.LINK_MOI
        I2 = self.LINK_MOI
        g = 9.8
        a = s_augmented[-1]
        theta1, theta2, dtheta1, dtheta2 = s_augmented[:4]
        pi = math.pi
        d1 = (m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * math.cos(theta2)) + I1 + I2)
        d2 = m2 * (lc2**2 + l1 * lc2 * math.cos(theta2)) + I2
        phi2 = m2 * lc2 * g * math.cos(theta1 + theta2 - pi / 2.0)
        phi1 = (-m2 * l1 * lc2 * dtheta2**2 * math.sin(theta2)
                - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * math.sin(theta2)
                + (m1 * lc1 + m2 * l1) * g * math.cos(theta1 - pi / 2)
                + phi2)
        ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * math.sin(theta2) - phi2) / (
            m2 * lc2**2 + I2 - d2**2 / d1)
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]

    def rk4(self, y0, t):
        dt = t[1] - t[0]
        dt2 = dt / 2.0
        k1 = self.dsdt(y0)
        k2 = self.dsdt([y + dt2 * k for y, k in zip(y0, k1)])
        k3 = self.dsdt([y + dt2 * k for y, k in zip(y0, k2)])
        k4 = self.dsdt([y + dt * k for y, k in zip(y0, k3)])
        return [y + dt / 6.0 * (a + 2 * b + 2 * c + d)
                for y, a, b, c, d in zip(y0, k1, k2, k3, k4)][:4]

    def step(self, action):
        torque = self.AVAIL_TORQUE[action]
        ns = self.rk4(self.state + [torque], [0, self.dt])
        ns[0] = wrap(ns[0], -math.pi, math.pi)
        ns[1] = wrap(ns[1], -math.pi, math.pi)
        ns[2] = clip(ns[2], -self.MAX_VEL_1, self.MAX_VEL_1)
        ns[3] = clip(ns[3], -self.MAX_VEL_2, self.MAX_VEL_2)
        self.state = ns
        s = ns
        terminated = -math.cos(s[0]) - math.cos(s[1] + s[0]) > 1.0
        reward = -1.0 if not terminated else 0.0
        obs = [math.cos(s[0]), math.sin(s[0]), math.cos(s[1]), math.sin(s[1]), s[2], s[3]]
        return [f32(v) for v in obs], reward, terminated


def wrap(x, m, M):
    diff = M - m
    while x > M:
        x = x - diff
    while x < m:
        x = x + diff
    return x


# ---- Pendulum-v1 ----

def angle_normalize(x):
    return ((x + math.pi) % (2 * math.pi)) - math.pi


class Pendulum:
    name = "Pendulum-v1"
    max_steps = 200

    def __init__(self, state):
        self.max_speed = 8
        self.max_torque = 2.0
        self.dt = 0.05
        self.g = 10.0
        self.m = 1.0
        self.l = 1.0
        self.state = list(state)

    def step(self, u):
        th, thdot = self.state
        g, m, l, dt = self.g, self.m, self.l, self.dt
        u = clip(u, -self.max_torque, self.max_torque)
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * g / (2 * l) * math.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = clip(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * dt
        self.state = [newth, float(newthdot)]
        obs = [math.cos(newth), math.sin(newth), newthdot]
        return [f32(v) for v in obs], -costs, False


# ---- trajectories ----

def lcg(seed):
    """A small deterministic stream of integers for the action sequences."""
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x >> 33


def run(env, actions, init):
    steps = []
    for t, a in enumerate(actions, 1):
        obs, reward, terminated = env.step(a)
        truncated = t >= env.max_steps
        steps.append({"state": list(env.state), "obs": obs, "reward": reward,
                      "terminated": terminated, "truncated": truncated})
        if terminated or truncated:
            break
    return {"env": env.name, "init": list(init), "actions": actions[:len(steps)],
            "steps": steps}


def trajectories():
    out = []
    # CartPole: random pushes until the pole falls; then a run pushed one way, which leaves
    # the track or tips the pole within a few dozen steps.
    rnd = lcg(1)
    for init, acts in (([0.01, -0.02, 0.03, 0.04], [next(rnd) % 2 for _ in range(500)]),
                       ([-0.04, 0.0, -0.01, 0.02], [1] * 500)):
        out.append(run(CartPole(init), acts, init))
    # MountainCar: pushing with the velocity rocks the car into the left wall (the
    # inelastic collision, step 76) and then up to the goal; doing nothing is truncated at
    # 200 steps.
    init = [-0.55, 0.0]
    env = MountainCar(init)
    acts = []
    for _ in range(200):
        a = 2 if env.state[1] >= 0 else 0
        acts.append(a)
        if env.step(a)[2]:
            break
    out.append(run(MountainCar(init), acts, init))
    out.append(run(MountainCar([-0.45, 0.0]), [1] * 200, [-0.45, 0.0]))
    # Acrobot: torque following the second joint's velocity pumps energy until the free
    # end rises past the line (step 74); random torques for 60 steps; and a start beyond
    # the reset range, spinning, so the angles wrap around at +-pi.
    init = [f32(0.05), f32(-0.03), f32(0.02), f32(-0.07)]
    env = Acrobot(init)
    acts = []
    for _ in range(500):
        a = 2 if env.state[3] >= 0 else 0
        acts.append(a)
        if env.step(a)[2]:
            break
    out.append(run(Acrobot(init), acts, init))
    rnd = lcg(2)
    init = [f32(-0.09), f32(0.08), f32(-0.01), f32(0.06)]
    out.append(run(Acrobot(init), [next(rnd) % 3 for _ in range(60)], init))
    init = [3.1, -3.1, 2.0, -2.5]
    out.append(run(Acrobot(init), [next(rnd) % 3 for _ in range(30)], init))
    # Pendulum: torques in and beyond [-2, 2] until truncation at 200 steps.
    rnd = lcg(3)
    init = [3.0, -0.8]
    out.append(run(Pendulum(init), [(next(rnd) % 1001) / 200.0 - 2.5 for _ in range(200)],
                   init))
    return out


def main():
    for t in trajectories():
        json.dump(t, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
