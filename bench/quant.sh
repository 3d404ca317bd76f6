#!/bin/bash
# Quantized training (train-quant) against fp32 training of the same model, on config M
# of the neural core (vocab 4096, 6 layers, 6 heads, width 384, context 256, batch 8),
# random tokens, 2 threads.  The peer column is fp32 (train-quant with an empty recipe,
# which is train):
#
#   quant_step_w8a8g8          seconds per step with --w 8:per-row --a 8:per-token
#                              --g 8:per-token: the median over the steps after the second
#                              of ROUNDS runs, fp32 and W8A8G8 runs interleaved so that a
#                              busy machine slows both alike (target: ratio <= 1.30)
#   quant_opt_bytes_{m8v8,m4v4}  AdamW's state in bytes, exact, from the optimizer
#                              (train-quant's config record: optimizer_bytes), per-row scales
#   quant_peak_rss_{m8v8,m4v4} peak resident memory (MB, /usr/bin/time %M) of 2 steps
# ROUNDS (default 3) is an environment variable.
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT # run alone: lib.bash made it
dir=$BENCH_TMP/quant
mkdir -p "$dir"
ROUNDS=${ROUNDS:-3}
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
median() { sort -g | awk '{a[NR]=$1} END {if (NR) printf "%.4g\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# random token documents over the vocabulary of M
awk 'BEGIN {srand(1); for (d = 0; d < 32; d++) {printf "{\"tokens\":["; for (i = 0; i < 1024; i++)
     printf "%s%d", i ? "," : "", int(rand() * 4096); print "]}"}}' | json2mp >"$dir/tokens.mp"
M=(--arch gpt --config M -B 8 -j 2)

# seconds per step of each step after the second: B T / tokens_per_s
step_times() { # ARGS...
    train-quant "${M[@]}" "$@" "$dir/tokens.mp" | mp2json |
        jq -r 'select(.event == "step" and .step > 2) | 2048 / .tokens_per_s'
}
: >"$dir/fp32.t"
: >"$dir/w8a8g8.t"
for ((r = 0; r < ROUNDS; r++)); do
    step_times --steps 6 >>"$dir/fp32.t"
    step_times --steps 6 --w 8:per-row --a 8:per-token --g 8:per-token >>"$dir/w8a8g8.t"
done
fp32=$(median <"$dir/fp32.t")
w8=$(median <"$dir/w8a8g8.t")
echo "# seconds per step of M (B 8, T 256): fp32 $fp32, W8A8G8 $w8 ($(wc -l <"$dir/fp32.t") steps each)"
figure quant_step_w8a8g8 s "$w8" "$fp32"

# optimizer state and peak memory
opt_bytes() { train-quant "${M[@]}" --steps 0 "$@" "$dir/tokens.mp" | mp2json |
    jq 'select(.event == "config") | .optimizer_bytes'; }
peak_mb() { /usr/bin/time -f %M -o "$dir/rss" train-quant "${M[@]}" --steps 2 "$@" \
    "$dir/tokens.mp" >/dev/null && awk '{printf "%.0f\n", $1 / 1024}' "$dir/rss"; }
b32=$(opt_bytes)
r32=$(peak_mb)
for bits in 8 4; do
    rec=(--m $bits:per-row --v $bits:per-row)
    b=$(opt_bytes "${rec[@]}")
    r=$(peak_mb "${rec[@]}")
    echo "# m${bits}v${bits}: optimizer $b bytes against $b32, peak RSS $r MB against $r32"
    figure quant_opt_bytes_m${bits}v${bits} bytes "$b" "$b32"
    figure quant_peak_rss_m${bits}v${bits} MB "$r" "$r32"
done
