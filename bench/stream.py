#!/usr/bin/python3
"""The peer of runnel's stream pass-through benchmark: read every record of a msgpack
stream and write it back, with python3-msgpack (Unpacker + packb), as fast as Python can."""
import sys

import msgpack

out = sys.stdout.buffer
unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, read_size=1 << 20)
buf = []
for rec in unpacker:
    buf.append(msgpack.packb(rec, use_bin_type=True))
    if len(buf) >= 4096:
        out.write(b"".join(buf))
        buf.clear()
out.write(b"".join(buf))
