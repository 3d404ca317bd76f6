#!/usr/bin/python3
"""Write N records {"id": i, "text": "..."} (text of 40-120 bytes from a fixed seed) to
stdout: the input of the stream pass-through benchmark."""
import random
import sys

import msgpack

n = int(sys.argv[1])
rng = random.Random(1)
words = "the of and to in is was that for on with as by at from his her it be are".split()
out = sys.stdout.buffer
chunk = []
for i in range(n):
    text = " ".join(rng.choice(words) for _ in range(rng.randint(12, 30)))
    chunk.append(msgpack.packb({"id": i, "text": text}))
    if len(chunk) == 10000:
        out.write(b"".join(chunk))
        chunk.clear()
out.write(b"".join(chunk))
