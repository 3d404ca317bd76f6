#!/bin/bash
# LoRA and QLoRA on config M (vocab 4096, 6 layers, 6 heads, width 384, context 256,
# batch 8), fine-tuning on prompt/response records of 64 + 193 random token ids (rows of
# T = 256, the prompt's 64 targets ignored), THREADS threads (default 2; on a machine busy
# with other work, 1 measures the arithmetic rather than the waits of OpenMP's threads):
#   lora_step_ratio_M   the step time of LoRA (r = 8, alpha 16, every dense layer, no
#                       dropout) over that of full fine-tuning, each the median over the
#                       steps after the first of `lora-tune`'s step records, median of
#                       ROUNDS interleaved rounds; peer: the same ratio in eager PyTorch
#                       (bench/torch_lora.py: the same model, LoRA on every nn.Linear,
#                       the rest requires_grad False), when python3-torch is installed;
#                       a comment gives the floor that the arithmetic sets to the ratio
#   lora_step_M         the LoRA step itself, seconds, runnel against PyTorch
#   qlora_base_memory_M the bytes the QLoRA base (every dense layer in NF4, as
#                       `lora-tune --qlora` reports them) over the same layers in float32
#                       (no peer: bitsandbytes is not packaged for Debian)
# ROUNDS (default 3) and THREADS are environment variables.
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT
dir=$BENCH_TMP/lora
mkdir -p "$dir"
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
STEPS=5
echo "# load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores, $THREADS threads"

/usr/bin/python3 - "$dir" <<'PY'
import random, struct, sys

def pack(obj):  # msgpack of a map of str -> list of uint (ids < 65536) or a str
    out = bytearray([0x80 | len(obj)])
    for k, v in obj.items():
        out += bytes([0xa0 | len(k)]) + k.encode()
        out += b"\xdc" + struct.pack(">H", len(v))
        for x in v:
            out += b"\xcd" + struct.pack(">H", x)
    return bytes(out)

r = random.Random(1)
with open(sys.argv[1] + "/sft.mp", "wb") as f:
    for _ in range(64):
        f.write(pack({"prompt_tokens": [r.randrange(4096) for _ in range(64)],
                      "response_tokens": [r.randrange(4096) for _ in range(193)]}))
with open(sys.argv[1] + "/tokens.mp", "wb") as f:
    f.write(pack({"tokens": [r.randrange(4096) for _ in range(4096)]}))
PY
train --arch gpt --config M --vocab 4096 -B 1 -T 64 --steps 1 -j "$THREADS" -o "$dir/base.ckpt" \
    "$dir/tokens.mp" >/dev/null || exit 1

# step seconds: the median of B T / tokens_per_s over the steps after the first
step_seconds() {
    lora-tune --base "$dir/base.ckpt" "$@" -B 8 -T 256 --steps $STEPS -j "$THREADS" "$dir/sft.mp" |
        mp2json | jq -r 'select(.event == "step" and .step > 1) | 2048 / .tokens_per_s' |
        sort -g | awk '{a[NR]=$1} END {printf "%.4f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'
}
median() { sort -g | awk '{a[NR]=$1} END {printf "%.4f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
ratios=() loras=() fulls=()
for ((k = 0; k < ROUNDS; k++)); do
    full=$(step_seconds --full)
    lora=$(step_seconds --lora --rank 8 --alpha 16 --dropout 0)
    fulls+=("$full") loras+=("$lora")
    ratios+=("$(awk -v a="$lora" -v b="$full" 'BEGIN {printf "%.4f", a / b}')")
    echo "# round $((k + 1)): full $full s, LoRA $lora s per step"
done
ratio=$(printf '%s\n' "${ratios[@]}" | median)
lora=$(printf '%s\n' "${loras[@]}" | median)
full=$(printf '%s\n' "${fulls[@]}" | median)

peer_ratio=- peer_lora=-
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    out=$(/usr/bin/python3 "$ROOT/bench/torch_lora.py" --threads "$THREADS" --steps $STEPS)
    peer_full=$(echo "$out" | awk '$1 == "full" {print $2}')
    peer_lora=$(echo "$out" | awk '$1 == "lora" {print $2}')
    peer_ratio=$(awk -v a="$peer_lora" -v b="$peer_full" 'BEGIN {printf "%.4f", a / b}')
    echo "# PyTorch: full $peer_full s, LoRA $peer_lora s per step"
else
    echo "# python3-torch is not installed: no peer figures"
fi
echo "# runnel: full $full s, LoRA $lora s per step (medians of $ROUNDS rounds)"
# What a LoRA step cannot skip: the forward and every input gradient (the adapters of the
# first layer need the gradients of all the layers above); it skips the weight gradients
# of the blocks and the tied embedding.  Flops per token, multiply-adds counted twice;
# attention's products over the keys each query block of 64 rows needs (160 of 256 on
# average), its backward twice its forward.
floor=$(awk 'BEGIN {
    V = 4096; L = 6; C = 384; T = 256; r = 8; keys = 160
    blocks = L * 2 * 12 * C * C; head = 2 * V * C; att = L * 4 * keys * C
    adapters = L * 2 * r * ((C + 3 * C) + (C + C) + (C + 4 * C) + (4 * C + C))
    full = (blocks + head + att) + (blocks + head + 2 * att) + (blocks + head)
    lora = (blocks + head + att + adapters) + (blocks + head + 2 * att + 2 * adapters)
    printf "%.3f", lora / full }')
echo "# the ratio's arithmetic floor: a LoRA step does $floor of a full step's flops"
figure lora_step_ratio_M ratio "$ratio" "$peer_ratio"
figure lora_step_M s "$lora" "$peer_lora"

setup=$(lora-tune --base "$dir/base.ckpt" --qlora --rank 8 -B 1 -T 256 --steps 1 -j "$THREADS" \
    "$dir/sft.mp" | mp2json | jq -c 'select(.event == "setup")')
bytes=$(echo "$setup" | jq .base_bytes)
fp32=$(echo "$setup" | jq .base_fp32_bytes)
echo "# QLoRA base: $bytes bytes in NF4 for $fp32 in float32, $(echo "$setup" | jq .base_bits) bits per weight"
figure qlora_base_memory_M ratio "$(awk -v a="$bytes" -v b="$fp32" 'BEGIN {printf "%.4f", a / b}')"
