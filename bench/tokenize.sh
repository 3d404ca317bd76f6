#!/bin/bash
# Tokenizer: runnel's tokenize (byte-level BPE, single-threaded) against Debian's
# sentencepiece (spm_train and spm_encode, --model_type=bpe, --num_threads=1), each
# learning its own 4096-token vocabulary from the same 1 MB of English text: the lines of
# the fortunes package, whitespace runs collapsed to one space.  Collapsing first means
# sentencepiece's default normalization (NFKC, removing extra whitespace) leaves the text
# as it is, so both tokenizers encode the same bytes, losslessly.  runnel reads records
# {"id", "text"}, one a line; sentencepiece the plain lines.
#   tokenize_learn            MB/s of training text, learning 4096 tokens (median of 3)
#   tokenize_encode           MB/s encoding 5 MB (the text 5 times) to ids (median of 3)
#   tokenize_bytes_per_token  text bytes / tokens, on the training text (higher is better)
#   tokenize_bytes_per_token_raw  the same on the lines as they are (indentation, runs of
#                             spaces): sentencepiece then drops whitespace that runnel keeps
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT # run alone: lib.bash made it
dir=$BENCH_TMP/tokenize
mkdir -p "$dir"
fortunes=/usr/share/games/fortunes
if [ ! -d "$fortunes" ]; then
    echo "# tokenize: $fortunes is missing (Debian package fortunes): skipped"
    exit 0
fi

# text.txt/text.mp: the collapsed lines, up to 1,000,000 bytes; raw.*: the same lines as
# they are; enc.*: text.* five times
/usr/bin/python3 - "$fortunes" "$dir" <<'EOF'
import os, sys, msgpack
src, out = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(src) if not n.endswith((".dat", ".u8")))
def fortune_lines():
    for name in names:
        path = os.path.join(src, name)
        if os.path.isfile(path):
            yield from open(path, "rb").read().split(b"\n")
lines, size = [], 0
for raw in fortune_lines():
    text = b" ".join(raw.split())
    if not text or text == b"%":
        continue
    if size + len(text) + 1 > 1000000:
        break
    lines.append((raw.rstrip(b"\r"), text))
    size += len(text) + 1
for kind, col in (("text", 1), ("raw", 0)):
    with open(f"{out}/{kind}.txt", "wb") as t, open(f"{out}/{kind}.mp", "wb") as m:
        for i, line in enumerate(lines):
            t.write(line[col] + b"\n")
            m.write(msgpack.packb({"id": i + 1, "text": line[col]}, use_bin_type=False))
for ext in ("txt", "mp"):
    with open(f"{out}/enc.{ext}", "wb") as f:
        f.write(open(f"{out}/text.{ext}", "rb").read() * 5)
EOF

mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.3f", b / 1e6}'; }
rate() { awk -v m="$1" -v t="$2" 'BEGIN {printf "%.2f", m / t}'; }
text_mb=$(mb "$dir/text.txt")
enc_mb=$(mb "$dir/enc.txt")

# bytes per token: the text's bytes (newlines not counted) over the tokens of its lines
text_bytes() { tr -d '\n' <"$1" | wc -c; }
runnel_tokens() { # MODEL RECORDS
    tokenize encode -m "$1" "$2" | /usr/bin/python3 -c '
import sys, msgpack
print(sum(len(r[b"tokens"]) for r in msgpack.Unpacker(sys.stdin.buffer, raw=True)))'
}
spm_tokens() { spm_encode --model="$1" --output_format=id --input="$2" | wc -w; }
ratio() { awk -v b="$1" -v n="$2" 'BEGIN {printf "%.4f", b / n}'; }

learn="tokenize learn -v 4096 -o $dir/runnel.tok $dir/text.mp"
t_learn=$(median_seconds 3 "$learn")
t_encode=$(median_seconds 3 "tokenize encode -m $dir/runnel.tok $dir/enc.mp")
tokenize learn -v 4096 -o "$dir/raw.tok" "$dir/raw.mp"
bpt=$(ratio "$(text_bytes "$dir/text.txt")" "$(runnel_tokens "$dir/runnel.tok" "$dir/text.mp")")
bpt_raw=$(ratio "$(text_bytes "$dir/raw.txt")" "$(runnel_tokens "$dir/raw.tok" "$dir/raw.mp")")

p_learn=- p_encode=- p_bpt=- p_bpt_raw=- t_spm_learn=- t_spm_encode=-
if command -v spm_train >/dev/null && command -v spm_encode >/dev/null; then
    spm="spm_train --model_type=bpe --vocab_size=4096 --num_threads=1 --minloglevel=2"
    t_spm_learn=$(median_seconds 3 "$spm --input=$dir/text.txt --model_prefix=$dir/spm 2>/dev/null")
    t_spm_encode=$(median_seconds 3 "spm_encode --model=$dir/spm.model --output_format=id --input=$dir/enc.txt")
    $spm --input="$dir/raw.txt" --model_prefix="$dir/spm_raw" 2>/dev/null
    p_learn=$(rate "$text_mb" "$t_spm_learn")
    p_encode=$(rate "$enc_mb" "$t_spm_encode")
    p_bpt=$(ratio "$(text_bytes "$dir/text.txt")" "$(spm_tokens "$dir/spm.model" "$dir/text.txt")")
    p_bpt_raw=$(ratio "$(text_bytes "$dir/raw.txt")" "$(spm_tokens "$dir/spm_raw.model" "$dir/raw.txt")")
else
    echo "# sentencepiece is not installed (Debian package sentencepiece): no peer figures"
fi

echo "# tokenize vs sentencepiece, BPE, 4096 tokens, 1 thread each, on $text_mb MB of fortunes"
echo "# learn: runnel ${t_learn}s, sentencepiece ${t_spm_learn}s"
echo "# encode $enc_mb MB: runnel ${t_encode}s, sentencepiece ${t_spm_encode}s"
echo "# bytes per token: runnel $bpt, sentencepiece $p_bpt;" \
     "on the raw lines runnel $bpt_raw, sentencepiece $p_bpt_raw (whitespace it drops)"
figure tokenize_learn MB/s "$(rate "$text_mb" "$t_learn")" "$p_learn"
figure tokenize_encode MB/s "$(rate "$enc_mb" "$t_encode")" "$p_encode"
figure tokenize_bytes_per_token bytes/token "$bpt" "$p_bpt"
figure tokenize_bytes_per_token_raw bytes/token "$bpt_raw" "$p_bpt_raw"
rm -rf "$dir"
