#!/usr/bin/env python3
"""Reference outputs of runnel's PRNG (lib/base/rng.c), written from the published
algorithms: splitmix64 fills the state, xoshiro256** generates.  tests/unit/test_base.c
pins the values this prints."""
M = (1 << 64) - 1


def mix(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M
    return x ^ (x >> 31)


def seed(sd):
    state = []
    for _ in range(4):
        sd = (sd + 0x9E3779B97F4A7C15) & M
        state.append(mix(sd))
    return state


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def next_u64(s):
    result = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


for sd in (0, 12345):
    s = seed(sd)
    print(sd, " ".join("0x%016x" % next_u64(s) for _ in range(3)))
