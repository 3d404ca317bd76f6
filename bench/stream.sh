#!/bin/bash
# Stream pass-through: read 1,000,000 records {"id":N,"text":"..."} and write them back.
# runnel: `take` with no limit (it copies records through lib/rec); peer: Python with
# python3-msgpack (Unpacker + packb), the same job.  Throughput in MB/s of input.
source "$(dirname "$0")/lib.bash"
input=$BENCH_TMP/stream.mp
[ -s "$input" ] || /usr/bin/python3 "$ROOT/bench/make_stream.py" 1000000 >"$input"
mb=$(awk -v b="$(stat -c %s "$input")" 'BEGIN {print b / 1e6}')
t_runnel=$(median_seconds 5 "take -n 100000000 $input")
t_python=$(median_seconds 5 "/usr/bin/python3 $ROOT/bench/stream.py <$input")
echo "# stream pass-through of 1,000,000 records ($mb MB): runnel ${t_runnel}s, python3-msgpack ${t_python}s"
figure stream_passthrough MB/s "$(awk -v m="$mb" -v t="$t_runnel" 'BEGIN {printf "%.0f", m / t}')" \
    "$(awk -v m="$mb" -v t="$t_python" 'BEGIN {printf "%.0f", m / t}')"
