#!/bin/bash
# The neural core against eager PyTorch (bench/torch_bench.py, the same models), measured in
# the same run and interleaved, round by round, so that a busy machine slows both alike.
#
#   config S: vocab 256, 4 layers, 4 heads, width 128, context 128, batch 16
#   config M: vocab 4096, 6 layers, 6 heads, width 384, context 256, batch 8
#
# runnel runs with 2 threads (-j 2) in the environment it is given.  PyTorch runs at its own
# fastest setting for each figure: 1 or 2 threads, OMP_WAIT_POLICY=passive or not, chosen
# by one probe run of each before the timed rounds; the figure's comment names it.
#   nn_train_{gpt,hawk}_{S,M}   training tokens/s: the median over the steps after the
#                               second of B T / the step's wall time (runnel: the step
#                               records of `train`), median of ROUNDS runs
#   nn_mfu_gpt_M                model FLOPs utilisation of training M, in % of the sgemm
#                               peak measured in this run (bench/sgemm_peak.c, OpenBLAS, 2
#                               threads, best of its runs): tokens/s x (6 N + 12 L C T)
#                               flops per token, N = L 12 C^2 + V C (the blocks' matrices
#                               and the tied head's product), as the PaLM paper counts
#   nn_sample_{gpt,hawk}_{S,M}  batch 1, cached: tokens/s generating the context less one
#                               token after a one-token prompt, SEQS sequences (runnel:
#                               `sample` on SEQS records, less the time of a run that
#                               generates one token, i.e. without loading and start-up)
#   nn_sample_gpt_{S,M}_bound   the same runnel figure against its bound: sampling a token
#                               reads every weight once, so it cannot go faster than the
#                               machine reads the weights' bytes (bench/read_bandwidth.c,
#                               2 threads, a buffer of that size, best of its passes)
#   nn_train_gpt_M_peak_rss     peak resident memory (MB) of `train` on M against the plan
#                               (peer column): 4 bytes x (parameters, gradients and two
#                               AdamW moments: 4 P; and the activations as gpt.c lays
#                               them out for B 8, T 256); the ratio is what the plan omits
# ROUNDS (default 3) and SEQS (default 8) are environment variables.
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT # run alone: lib.bash made it
dir=$BENCH_TMP/nn
mkdir -p "$dir"
ROUNDS=${ROUNDS:-3}
SEQS=${SEQS:-8}
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
[ "$have_torch" = 1 ] || echo "# python3-torch is not installed: no peer figures"

echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
median() { sort -g | awk '{a[NR]=$1} END {if (NR) printf "%.1f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# random token documents for each vocabulary
/usr/bin/python3 - "$dir" <<'EOF'
import random, sys, msgpack
r = random.Random(1)
for V, name in ((256, "S"), (4096, "M")):
    with open(f"{sys.argv[1]}/tokens_{name}.mp", "wb") as f:
        for _ in range(64):
            f.write(msgpack.packb({"tokens": [r.randrange(V) for _ in range(1024)]}))
EOF
batch() { [ "$1" = S ] && echo 16 || echo 8; }
context() { [ "$1" = S ] && echo 128 || echo 256; }
width() { [ "$1" = S ] && echo 128 || echo 384; }

cc -std=c11 -O2 "$ROOT/bench/sgemm_peak.c" $(pkg-config --cflags --libs openblas) -o "$dir/sgemm_peak"
cc -std=c11 -O2 -fopenmp "$ROOT/bench/read_bandwidth.c" -o "$dir/read_bandwidth"
peaks=()

# ---- runnel and torch, one run each ----

runnel_train() { # ARCH CONFIG STEPS [env...]
    local arch=$1 cfg=$2 steps=$3; shift 3
    env "$@" train --arch "$arch" --config "$cfg" -B "$(batch "$cfg")" -T "$(context "$cfg")" \
        --steps "$steps" -j 2 "$dir/tokens_$cfg.mp" | mp2json |
        jq 'select(.event == "step" and .step > 2) | .tokens_per_s' | median
}

torch_run() { # SETTING (threads:policy) ARGS...
    local threads=${1%%:*} policy=${1#*:}; shift
    local envs=()
    [ "$policy" = passive ] && envs=(OMP_WAIT_POLICY=passive)
    env "${envs[@]}" /usr/bin/python3 "$ROOT/bench/torch_bench.py" "$@" --threads "$threads" |
        awk '{print $2}'
}

# the fastest of torch's four settings for one figure (ARGS as torch_bench.py takes)
torch_best() {
    local best="" rate=0 r
    for s in 1:active 1:passive 2:active 2:passive; do
        r=$(torch_run "$s" "$@")
        if awk -v a="$r" -v b="$rate" 'BEGIN {exit !(a > b)}'; then best=$s; rate=$r; fi
    done
    echo "$best"
}

setting_name() { # 1:passive -> "1 thread(s), OMP_WAIT_POLICY=passive"
    local policy="OMP_WAIT_POLICY unset"
    [ "${1#*:}" = passive ] && policy="OMP_WAIT_POLICY=passive"
    echo "${1%%:*} thread(s), $policy"
}

sample_ckpt() { # ARCH CONFIG: a checkpoint to sample from (one training step)
    local ck=$dir/$1_$2.ckpt
    [ -s "$ck" ] || train --arch "$1" --config "$2" -B 1 -T 8 --steps 1 -j 2 \
        -o "$ck" "$dir/tokens_$2.mp" >/dev/null
    echo "$ck"
}

runnel_sample() { # ARCH CONFIG
    local ck n t_all t_one
    ck=$(sample_ckpt "$1" "$2")
    n=$(($(context "$2") - 1))
    for ((i = 0; i < SEQS; i++)); do echo '{"prompt_tokens":[0]}'; done | json2mp >"$dir/prompts.mp"
    echo '{"prompt_tokens":[0]}' | json2mp >"$dir/prompt1.mp"
    t_all=$(median_seconds 1 "sample -m $ck -n $n -j 2 $dir/prompts.mp")
    t_one=$(median_seconds 1 "sample -m $ck -n 1 -j 2 $dir/prompt1.mp")
    awk -v n=$((n * SEQS)) -v a="$t_all" -v b="$t_one" 'BEGIN {printf "%.1f\n", n / (a - b)}'
}

# ---- training ----

declare -A mine peer passive how
train_figure() { # ARCH CONFIG STEPS
    local arch=$1 cfg=$2 steps=$3 key="train_$1_$2" set="" r=() t=() p=()
    [ "$have_torch" = 1 ] && set=$(torch_best train --arch "$arch" --config "$cfg" --steps 5)
    for ((k = 0; k < ROUNDS; k++)); do
        r+=("$(runnel_train "$arch" "$cfg" "$steps")")
        [ -n "$set" ] && t+=("$(torch_run "$set" train --arch "$arch" --config "$cfg" --steps "$steps")")
        [ "$arch" = gpt ] && p+=("$(runnel_train "$arch" "$cfg" "$steps" OMP_WAIT_POLICY=passive)")
        peaks+=("$("$dir/sgemm_peak" 2 1536 1)")
    done
    mine[$key]=$(printf '%s\n' "${r[@]}" | median)
    peer[$key]=-
    [ -n "$set" ] && peer[$key]=$(printf '%s\n' "${t[@]}" | median) && how[$key]=$(setting_name "$set")
    [ "$arch" = gpt ] && passive[$key]=$(printf '%s\n' "${p[@]}" | median)
    echo "# $key: runnel ${r[*]}; torch (${how[$key]:-absent}) ${t[*]-}"
    [ "$arch" = gpt ] && echo "# $key: runnel with OMP_WAIT_POLICY=passive ${p[*]}"
}
train_figure gpt S 10
train_figure gpt M 6
train_figure hawk S 10
train_figure hawk M 6

# ---- sampling ----

sample_figure() { # ARCH CONFIG
    local arch=$1 cfg=$2 key="sample_$1_$2" set="" r=() t=()
    [ "$have_torch" = 1 ] && set=$(torch_best sample --arch "$arch" --config "$cfg" --sequences 1)
    for ((k = 0; k < ROUNDS; k++)); do
        r+=("$(runnel_sample "$arch" "$cfg")")
        [ -n "$set" ] && t+=("$(torch_run "$set" sample --arch "$arch" --config "$cfg" --sequences "$SEQS")")
    done
    mine[$key]=$(printf '%s\n' "${r[@]}" | median)
    peer[$key]=-
    [ -n "$set" ] && peer[$key]=$(printf '%s\n' "${t[@]}" | median) && how[$key]=$(setting_name "$set")
    echo "# $key: runnel ${r[*]}; torch (${how[$key]:-absent}) ${t[*]-}"
}
for arch in gpt hawk; do for cfg in S M; do sample_figure $arch $cfg; done; done

# the bound of batch-1 sampling: tokens/s = read bandwidth / bytes of the weights a token
# reads (all but the position embedding's other rows)
declare -A bound
for cfg in S M; do
    weight_bytes=$(train --arch gpt --config "$cfg" --params |
        awk -v pos=$(($(context "$cfg") * $(width "$cfg"))) '{print 4 * ($1 - pos)}')
    gbs=$("$dir/read_bandwidth" 2 "$(awk -v b="$weight_bytes" 'BEGIN {print b / 1e6}')")
    bound[$cfg]=$(awk -v g="$gbs" -v b="$weight_bytes" 'BEGIN {printf "%.1f", g * 1e9 / b}')
    echo "# sample_gpt_$cfg: $weight_bytes bytes of weights per token, read at $gbs GB/s: at most ${bound[$cfg]} tokens/s"
done

# ---- memory of training M ----

rss_kb=$(/usr/bin/python3 - "$dir/tokens_M.mp" <<'EOF'
import resource, subprocess, sys
subprocess.run(["train", "--arch", "gpt", "--config", "M", "-B", "8", "-T", "256", "--steps",
                "3", "-j", "2", sys.argv[1]], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
)
params=$(train --arch gpt --config M --params)
# gpt.c's layout() for training: per layer 8 NC + 4 N + 2 N M + B NH T^2; encoded, ln_f and
# their statistics, logits N V, lse; the shared gradients 6 NC + 2 N M + B NH T^2
plan_mb=$(awk -v P="$params" 'BEGIN {
    V = 4096; L = 6; NH = 6; C = 384; T = 256; B = 8; M = 4 * C; N = B * T
    layer = 8 * N * C + 4 * N + 2 * N * M + B * NH * T * T
    acts = L * layer + 2 * N * C + 3 * N + N * V + 6 * N * C + 2 * N * M + B * NH * T * T
    printf "%.1f", 4 * (4 * P + acts) / 1e6 }')
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k * 1024 / 1e6}')

# ---- figures ----

peak=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
flops=$(awk 'BEGIN {V = 4096; L = 6; C = 384; T = 256; N = L * 12 * C * C + V * C
                    printf "%.0f", 6 * N + 12 * L * C * T}')
mfu() { [ "$1" = - ] && echo - || awk -v r="$1" -v f="$flops" -v p="$peak" 'BEGIN {printf "%.1f", 100 * r * f / 1e9 / p}'; }
echo "# sgemm peak (OpenBLAS, 2 threads, best of ${#peaks[@]}): $peak GFLOP/s; training M counts $flops flops/token"
for k in train_gpt_S train_gpt_M; do
    echo "# $k with OMP_WAIT_POLICY=passive: runnel ${passive[$k]} tokens/s"
done
for k in train_gpt_S train_gpt_M train_hawk_S train_hawk_M sample_gpt_S sample_gpt_M \
         sample_hawk_S sample_hawk_M; do
    [ -n "${how[$k]:-}" ] && echo "# $k: PyTorch at its fastest here: ${how[$k]}"
done
echo "# peak RSS training M: $rss_mb MB; planned $plan_mb MB ($params parameters)"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in train_gpt_S train_gpt_M train_hawk_S train_hawk_M; do
    figure "nn_$k" tokens/s "${mine[$k]}" "${peer[$k]}"
done
figure nn_mfu_gpt_M % "$(mfu "${mine[train_gpt_M]}")" "$(mfu "${peer[train_gpt_M]}")"
for k in sample_gpt_S sample_gpt_M sample_hawk_S sample_hawk_M; do
    figure "nn_$k" tokens/s "${mine[$k]}" "${peer[$k]}"
done
for cfg in S M; do
    figure "nn_sample_gpt_${cfg}_bound" tokens/s "${mine[sample_gpt_$cfg]}" "${bound[$cfg]}"
done
figure nn_train_gpt_M_peak_rss MB "$rss_mb" "$plan_mb"
figure nn_sgemm_peak GFLOP/s "$peak"
rm -rf "$dir"
