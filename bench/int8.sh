#!/bin/bash
# int8 inference (`sample --int8`, `score --int8`: lib/quant/int8_linear.h) against float32,
# the same tools without the flag, measured in the same run and interleaved round by round
# so that a busy machine slows both alike.  Everything runs with -j 2.
#   int8_sample_{gpt,hawk}_M  batch 1: tokens/s generating 255 tokens after a one-token
#                             prompt, for SEQS prompts, on a config M checkpoint (vocab
#                             4096, 6 layers, width 384) trained one step as bench/nn.sh
#                             does; less the time of a run that generates one token
#                             (loading, and quantizing for --int8).  Median of ROUNDS.
#   int8_score_gpt_M          tokens/s of score on 64 records of 256 random tokens, -B 8,
#                             start-up included (products of 2048 rows: the n > 1
#                             kernel against sgemm)
#   int8_score_loss_delta     mean loss per token of `score --int8` less that of `score`,
#                             in nats, on the demo's validation text (build/demo, else made
#                             here with the demo's recipe, pipelines/demo.mk) cut in
#                             windows of the context, with a gpt of the demo's size
#                             (4 layers, width 128, context 128) trained STEPS steps of
#                             16 x 128 tokens on the demo's training text
# ROUNDS (default 3), SEQS (default 8) and STEPS (default 300) are environment variables.
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT # run alone: lib.bash made it
dir=$BENCH_TMP/int8
mkdir -p "$dir"
ROUNDS=${ROUNDS:-3}
SEQS=${SEQS:-8}
STEPS=${STEPS:-300}
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
median() { sort -g | awk '{a[NR]=$1} END {if (NR) printf "%.1f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# ---- speed on config M ----

/usr/bin/python3 - "$dir/tokens_M.mp" <<'EOF'
import random, sys, msgpack
r = random.Random(1)
with open(sys.argv[1], "wb") as f:
    for _ in range(64):
        f.write(msgpack.packb({"tokens": [r.randrange(4096) for _ in range(1024)]}))
EOF
/usr/bin/python3 - "$dir/tokens_M.mp" "$dir/score_M.mp" <<'EOF'
import msgpack, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    for r in msgpack.Unpacker(f):
        out.write(msgpack.packb({"tokens": r["tokens"][:256]}))
EOF
for ((i = 0; i < SEQS; i++)); do echo '{"prompt_tokens":[0]}'; done | json2mp >"$dir/prompts.mp"
echo '{"prompt_tokens":[0]}' | json2mp >"$dir/prompt1.mp"
for arch in gpt hawk; do
    train --arch $arch --config M -B 1 -T 8 --steps 1 -j 2 -o "$dir/${arch}_M.ckpt" \
        "$dir/tokens_M.mp" >/dev/null
done

sample_rate() { # CKPT [--int8]: tokens/s
    local t_all t_one
    t_all=$(median_seconds 1 "sample -m $1 -n 255 -j 2 $2 $dir/prompts.mp")
    t_one=$(median_seconds 1 "sample -m $1 -n 1 -j 2 $2 $dir/prompt1.mp")
    awk -v n=$((255 * SEQS)) -v a="$t_all" -v b="$t_one" 'BEGIN {printf "%.1f\n", n / (a - b)}'
}

score_rate() { # CKPT [--int8]: tokens/s
    local t
    t=$(median_seconds 1 "score -m $1 -B 8 -j 2 $2 $dir/score_M.mp")
    awk -v t="$t" 'BEGIN {printf "%.1f\n", 64 * 256 / t}'
}

declare -A mine peer
speed_figure() { # KEY RATE-FUNCTION CKPT
    local key=$1 fn=$2 ck=$3 q=() f=()
    for ((k = 0; k < ROUNDS; k++)); do
        f+=("$($fn "$ck")")
        q+=("$($fn "$ck" --int8)")
    done
    mine[$key]=$(printf '%s\n' "${q[@]}" | median)
    peer[$key]=$(printf '%s\n' "${f[@]}" | median)
    echo "# $key: int8 ${q[*]}; float32 ${f[*]} tokens/s"
}
speed_figure sample_gpt_M sample_rate "$dir/gpt_M.ckpt"
speed_figure sample_hawk_M sample_rate "$dir/hawk_M.ckpt"
speed_figure score_gpt_M score_rate "$dir/gpt_M.ckpt"

# ---- the loss on real text ----

demo=$ROOT/build/demo
if [ ! -s "$demo/train.tokens.mp" ] || [ ! -s "$demo/valid.tokens.mp" ] || [ ! -s "$demo/bpe.tok" ]; then
    demo=$dir/demo
    echo "# no tokens in build/demo: making them with pipelines/demo.mk in $demo"
    make -s -C "$ROOT" -f pipelines/demo.mk OUT="$demo" BIN="$ROOT/bin" \
        "$demo/train.tokens.mp" "$demo/valid.tokens.mp" >/dev/null || demo=
fi
delta=-
if [ -n "$demo" ]; then
    ck=$dir/demo_gpt.ckpt
    train --arch gpt --layers 4 --width 128 --heads 4 --context 128 -B 16 --steps "$STEPS" \
        --lr 3e-3 --warmup 25 --seed 1 -j 2 --tokenizer "$demo/bpe.tok" -o "$ck" \
        "$demo/train.tokens.mp" >/dev/null
    # windows of 128 tokens: with <|endoftext|> before them they fill the context
    mp2json "$demo/valid.tokens.mp" |
        jq -c '.tokens as $t | range(0; $t | length; 128) | {tokens: $t[.:. + 128]}' |
        json2mp >"$dir/windows.mp"
    mean_loss() { # [--int8]
        score -m "$ck" -B 8 -j 2 "$@" "$dir/windows.mp" | mp2json |
            jq -rs '(map(.logprob) | add) as $l | (map(.n_tokens) | add) as $n
                    | "\(-$l / $n) \($n)"'
    }
    read -r loss_f32 n_tokens < <(mean_loss)
    read -r loss_int8 _ < <(mean_loss --int8)
    delta=$(awk -v a="$loss_int8" -v b="$loss_f32" 'BEGIN {printf "%.5f", a - b}')
    echo "# demo gpt, $STEPS steps: mean loss over $n_tokens validation tokens: float32 $loss_f32, int8 $loss_int8 nats/token"
else
    echo "# no demo text (pipelines/demo.mk needs Debian's fortunes package): no loss figure"
fi

echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in sample_gpt_M sample_hawk_M score_gpt_M; do
    figure "int8_$k" tokens/s "${mine[$k]}" "${peer[$k]}"
done
figure int8_score_loss_delta nats/token "$delta"
rm -rf "$dir"
