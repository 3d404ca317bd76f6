#!/usr/bin/env bats
load helper

REF="$ROOT/tests/ref/hf"
GPT2="$ROOT/tests/ref/gpt2"

# A GPT-2-sized vocabulary with GPT-2's own tokenizer: the weights (V 50257, C 8, one
# layer, context 64) are written here by tests/ref/hf/make_hf.py (standard library only).
setup_file() {
    cd "$BATS_FILE_TMPDIR"
    /usr/bin/python3 "$REF/make_hf.py" gpt2ish --vocab 50257 --layers 1 --width 8 --heads 2 \
        --context 64 --tokenizer "$GPT2"
    import-hf -o gpt2ish.tar gpt2ish
}

D=$BATS_FILE_TMPDIR

@test "import-hf: the tiny folder scores and samples as plain torch computes on its weights" {
    import-hf -o tiny.tar "$REF/tiny"
    run tar -tf tiny.tar
    assert_line "config.mp"
    assert_line "tensors/wte.weight"
    assert_line "tensors/h.1.mlp.c_proj.weight"
    refute_line "tokenizer.mp"               # the folder has no vocab.json, merges.txt
    refute_line --regexp "\\.attn\\.(masked_)?bias\$" # the mask buffers and lm_head are not weights
    refute_line --partial "lm_head"
    jq -c '{tokens}' "$REF/expected.jsonl" | json2mp | score -m tiny.tar --per-token -j 1 >out.mp
    run jq -n --slurpfile got <(mp2json out.mp) --slurpfile want "$REF/expected.jsonl" '
        [range(0; $want | length) as $i | $got[$i] as $g | $want[$i] as $w |
         (($g.logprob - $w.logprob) | fabs < 1e-4) and
         ([range(0; $w.token_logprobs | length) as $j |
           ($g.token_logprobs[$j] - $w.token_logprobs[$j]) | fabs < 1e-4] | all)] | all'
    assert_output "true"
    jq -c '{prompt_tokens: .tokens}' "$REF/expected.jsonl" | json2mp |
        sample -m tiny.tar --greedy -n 4 >out.mp
    run diff <(mp2json out.mp | jq -c .completion_tokens) <(jq -c .greedy "$REF/expected.jsonl")
    assert_success
}

@test "import-hf: F16 and BF16 weights are converted" {
    for dt in F16 BF16; do
        /usr/bin/python3 "$REF/make_hf.py" "$dt" --dtype "$dt"
        import-hf -o "$dt.tar" "$dt"
        jq -c '{tokens}' "$REF/expected.jsonl" | json2mp | score -m "$dt.tar" >"$dt.mp"
    done
    # the same seed rounded to each dtype: close to float32's log-probabilities, not equal
    run jq -n --slurpfile a <(mp2json F16.mp) --slurpfile b <(mp2json BF16.mp) \
        --slurpfile w "$REF/expected.jsonl" '
        [range(0; 3) as $i | ($a[$i].logprob - $w[$i].logprob | fabs),
                             ($b[$i].logprob - $w[$i].logprob | fabs)] |
        (all(. < 2)) and (any(. > 1e-4))'
    assert_output "true"
}

@test "import-hf: GPT-2's tokenizer comes along and encodes exactly as GPT-2's" {
    tar -xOf "$D/gpt2ish.tar" tokenizer.mp >gpt2.tok
    run /usr/bin/python3 -c '
import io, json, subprocess, sys, msgpack
cases = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
bad = 0
for allow in (False, True):
    sel = [c for c in cases if c["allow_special"] == allow]
    recs = b"".join(msgpack.packb({"text": c["text"]}) for c in sel)
    cmd = ["tokenize", "encode", "-m", sys.argv[1]] + ["--allow-special"] * allow
    out = subprocess.run(cmd, input=recs, capture_output=True, check=True).stdout
    got = list(msgpack.Unpacker(io.BytesIO(out), raw=False))
    bad += len(got) != len(sel)
    bad += sum(r["tokens"] != c["tokens"] for c, r in zip(sel, got))
print(len(cases), "cases,", bad, "mismatches")
' gpt2.tok "$GPT2/expected.jsonl"
    assert_success
    assert_output --regexp '^[0-9]+ cases, 0 mismatches$'
}

@test "import-hf: the imported GPT-2 scores text and samples from a text prompt" {
    printf '%s\n' '{"id":1,"text":"hello world"}' | json2mp |
        score -m "$D/gpt2ish.tar" --per-token >out.mp
    # <|endoftext|> starts the sequence, so both tokens (31373, 995) are scored
    run jq -c '[.id, .n_tokens, (.token_logprobs | length), (.logprob < 0)]' <(mp2json out.mp)
    assert_output '[1,2,2,true]'
    printf '%s\n' '{"prompt":"The quick brown fox"}' | json2mp |
        sample -m "$D/gpt2ish.tar" -n 5 --seed 3 >out.mp
    run jq -c '[(.completion_tokens | length), (.completion | type), .finish]' <(mp2json out.mp)
    assert_output '[5,"string","length"]'
}

@test "import-hf: a token outside the vocabulary and a prompt longer than the context exit 65" {
    printf '{"prompt_tokens":[50257]}\n' | json2mp >in.mp
    run sample -m "$D/gpt2ish.tar" -n 2 in.mp
    assert_failure 65
    assert_output --partial "prompt_tokens"
    printf '{"tokens":[1,50300]}\n' | json2mp >in.mp
    run score -m "$D/gpt2ish.tar" in.mp
    assert_failure 65
    printf '{"prompt":"%s"}\n' "$(printf 'word %.0s' $(seq 1 70))" | json2mp >in.mp
    run sample -m "$D/gpt2ish.tar" -n 2 in.mp
    assert_failure 65
    assert_output --partial "context of 64"
}

@test "import-hf: a truncated or corrupt safetensors file exits 65 and writes nothing" {
    cp -r "$REF/tiny" cut
    head -c 30000 "$REF/tiny/model.safetensors" >cut/model.safetensors
    run import-hf -o out.tar cut
    assert_failure 65
    assert_output --partial "truncated"
    [ ! -e out.tar ]
    no_temp_files
    cp -r "$REF/tiny" bad
    printf 'X' | dd of=bad/model.safetensors bs=1 seek=20 conv=notrunc 2>/dev/null
    run import-hf -o out.tar bad
    assert_failure 65
    assert_output --partial "corrupt header"
    printf '\377\377\377\377\377\377\377\377' | dd of=bad/model.safetensors conv=notrunc 2>/dev/null
    run import-hf -o out.tar bad
    assert_failure 65
    assert_output --partial "corrupt header"
    [ ! -e out.tar ]
}

@test "import-hf: sizes that do not match config.json, and unknown architectures, exit 65" {
    cp -r "$REF/tiny" wide
    jq '.n_embd = 32' "$REF/tiny/config.json" >wide/config.json
    run import-hf -o out.tar wide
    assert_failure 65
    assert_output --partial "shape"
    jq '.model_type = "llama"' "$REF/tiny/config.json" >wide/config.json
    run import-hf -o out.tar wide
    assert_failure 65
    assert_output --partial "unknown architecture"
    jq '.layer_norm_epsilon = 1e-6' "$REF/tiny/config.json" >wide/config.json
    run import-hf -o out.tar wide
    assert_failure 65
    assert_output --partial "layer_norm_epsilon"
    jq '.activation_function = "relu"' "$REF/tiny/config.json" >wide/config.json
    run import-hf -o out.tar wide
    assert_failure 65
    assert_output --partial "gelu"
    # a tokenizer larger than the model's vocabulary
    cp "$D/gpt2ish/vocab.json" "$D/gpt2ish/merges.txt" wide/
    cp "$REF/tiny/config.json" wide/
    run import-hf -o out.tar wide
    assert_failure 65
    assert_output --partial "vocab_size"
    [ ! -e out.tar ]
}

@test "import-hf: missing folders and files exit 66" {
    run import-hf -o out.tar nowhere
    assert_failure 66
    mkdir empty
    run import-hf -o out.tar empty
    assert_failure 66
    assert_output --partial "config.json"
    cp -r "$REF/tiny" half
    cp "$D/gpt2ish/vocab.json" half/
    run import-hf -o out.tar half
    assert_failure 66
    assert_output --partial "merges.txt"
    rm half/vocab.json half/model.safetensors
    touch half/pytorch_model.bin
    run import-hf -o out.tar half
    assert_failure 66
    assert_output --partial "safetensors"
}

@test "import-hf: --help prints usage and exits 0; bad usage exits 64" {
    run import-hf --help
    assert_success
    assert_output --partial "usage: import-hf"
    run import-hf "$REF/tiny"
    assert_failure 64
    run import-hf -o out.tar
    assert_failure 64
    run import-hf -o out.tar a b
    assert_failure 64
    run import-hf --bogus
    assert_failure 64
}
