#!/usr/bin/env bats
load helper

# A base model trained here on a small corpus, and prompt/response records.
setup_file() {
    cd "$BATS_FILE_TMPDIR"
    for i in $(seq 1 60); do
        printf '{"text":"where is the cat %d? the cat is on the mat. where is the dog? in the tree."}\n' "$i"
    done | json2mp >text.mp
    tokenize learn -v 300 -o bpe.tok text.mp 2>/dev/null
    tokenize encode -m bpe.tok text.mp >tokens.mp
    train --arch gpt --layers 2 --width 32 --heads 2 --context 48 --tokenizer bpe.tok \
        -B 4 -T 32 --steps 150 --lr 3e-3 -j 1 -o base.ckpt tokens.mp >/dev/null
    train --arch gpt --layers 2 --width 32 --heads 2 --context 48 --tokenizer bpe.tok \
        -B 4 -T 32 --steps 2 --lr 3e-3 -s 2 -j 1 -o other.ckpt tokens.mp >/dev/null
    for i in $(seq 1 40); do
        printf '{"id":%d,"prompt":"where is the cat %d?","response":" the dog is in the tree."}\n' "$i" "$i"
    done | json2mp >sft.mp
}

D=$BATS_FILE_TMPDIR

events() {
    mp2json "$1" | jq -c 'del(.tokens_per_s, .seconds)'
}

@test "lora-tune: setup and training records, an adapter naming its base, a merged model that prefers the responses" {
    lora-tune --base "$D/base.ckpt" --rank 4 --alpha 8 --targets attn -B 4 --steps 30 \
        --lr 1e-2 --val "$D/sft.mp" --eval-every 15 -o ad.tar --merged merged.ckpt -j 1 \
        "$D/sft.mp" >m.mp
    run jq -sr 'map(.event) | group_by(.) | map("\(.[0]) \(length)") | join(",")' \
        <(mp2json m.mp)
    assert_output "config 1,done 1,eval 2,setup 1,step 30"
    run jq -sr '.[0] | "\(.event) \(.method) \(.targets) \(.rank) \(.adapted_layers) \(.adapter_params)"' <(mp2json m.mp)
    # c_attn (32 x 96) and c_proj (32 x 32) of 2 layers: 4 (32 + 96) + 4 (32 + 32) each
    assert_output "setup lora attn 4 4 $((2 * (4 * 128 + 4 * 64)))"
    run jq -sr '.[1] | "\(.loss) \(.examples) \(.learning) \(.params > .learning)"' <(mp2json m.mp)
    assert_output "sft 40 $((2 * (4 * 128 + 4 * 64))) true"
    run jq -sr '[.[] | select(.event == "eval")] | .[1].val_loss < .[0].val_loss' <(mp2json m.mp)
    assert_output "true"
    run tar tf ad.tar
    assert_line --index 0 "adapter.mp"
    assert_line --index 1 "tensors/h.0.attn.c_attn.lora_A"
    # the base's hash is in the adapter and in the setup record
    hash=$(mp2json m.mp | jq -sr '.[0].base_hash')
    run bash -c "tar xOf ad.tar adapter.mp | mp2json | jq -r .base"
    assert_output "$hash"
    # the merged model gives the responses a higher log-probability than the base
    base=$(score -m "$D/base.ckpt" <(mp2json "$D/sft.mp" | jq -c '{prompt, text: .response}' | json2mp) |
        mp2json | jq -s 'map(.logprob) | add')
    tuned=$(score -m merged.ckpt <(mp2json "$D/sft.mp" | jq -c '{prompt, text: .response}' | json2mp) |
        mp2json | jq -s 'map(.logprob) | add')
    run jq -n "$tuned > $base + 40"
    assert_output "true"
    no_temp_files
}

@test "lora-tune: the same seed gives the same adapter; --adapter continues from it" {
    lora-tune --base "$D/base.ckpt" --rank 2 --steps 5 -j 1 -o a1.tar "$D/sft.mp" >/dev/null
    lora-tune --base "$D/base.ckpt" --rank 2 --steps 5 -j 1 -o a2.tar "$D/sft.mp" >/dev/null
    cmp a1.tar a2.tar
    lora-tune --base "$D/base.ckpt" --adapter a1.tar --steps 2 -j 1 -o a3.tar "$D/sft.mp" >m.mp
    run jq -sr '.[0] | "\(.rank) \(.targets)"' <(mp2json m.mp)
    assert_output "2 all"
}

@test "lora-tune: QLoRA keeps its base in about 4.1 bits per weight" {
    lora-tune --base "$D/base.ckpt" --qlora --rank 2 --steps 3 -j 1 -o q.tar \
        --merged q.ckpt "$D/sft.mp" >m.mp
    run jq -sr '.[0] | "\(.method) \(.base_bits > 4.1 and .base_bits < 4.2) \(.base_fp32_bytes)"' \
        <(mp2json m.mp)
    # c_attn, c_proj, c_fc, mlp.c_proj of 2 layers: 2 (32 96 + 32 32 + 2 32 128) floats
    assert_output "qlora true $((2 * (3072 + 1024 + 8192) * 4))"
    run bash -c "tar xOf q.tar adapter.mp | mp2json | jq -c '{nf4, rank}'"
    assert_output '{"nf4":true,"rank":2}'
    run score -m q.ckpt <(mp2json "$D/sft.mp" | jq -c '{prompt, text: .response}' | json2mp)
    assert_success
}

@test "lora-tune: full fine-tuning writes a model" {
    lora-tune --base "$D/base.ckpt" --full --steps 3 -j 1 -o full.ckpt "$D/sft.mp" >m.mp
    run jq -sr '.[0] | "\(.method) \(.rank)"' <(mp2json m.mp)
    assert_output "full null"
    run jq -sr '.[1] | .params == .learning' <(mp2json m.mp)
    assert_output "true"
    run bash -c "tar tf full.ckpt | head -3"
    assert_output "config.mp
tokenizer.mp
tensors/wte.weight"
}

@test "lora-tune: an adapter for another base exits 65" {
    lora-tune --base "$D/base.ckpt" --rank 2 --steps 1 -j 1 -o a.tar "$D/sft.mp" >/dev/null
    run lora-tune --base "$D/other.ckpt" --adapter a.tar --steps 1 -j 1 "$D/sft.mp"
    assert_failure 65
    assert_output --partial "a.tar: an adapter for another base"
}

@test "lora-tune: bad records exit 65 naming the record" {
    printf '{"prompt":"a"}\n' | json2mp >noresp.mp
    run lora-tune --base "$D/base.ckpt" --steps 1 noresp.mp
    assert_failure 65
    assert_output --partial 'noresp.mp: record 1: no "response"'
    printf '{"prompt":"a","response":"b"}\n{"prompt":"a","response":""}\n' | json2mp >empty.mp
    run lora-tune --base "$D/base.ckpt" --steps 1 empty.mp
    assert_failure 65
    assert_output --partial 'empty.mp: record 2: "response" is empty'
    long=$(printf 'the cat is on the mat %.0s' $(seq 1 20))
    printf '{"prompt":"%s","response":"b"}\n' "$long" | json2mp >long.mp
    run lora-tune --base "$D/base.ckpt" --steps 1 long.mp
    assert_failure 65
    assert_output --partial "leaves no room for a response in the model's context of 48 tokens"
    printf '{"prompt":"where is the cat?","response":"on the mat."}\n' | json2mp >ok.mp
    run lora-tune --base "$D/base.ckpt" -T 3 --steps 1 ok.mp
    assert_failure 65
    assert_output --partial "ok.mp: record 1: the prompt takes"
}

@test "lora-tune: usage errors exit 64, missing files 66" {
    run lora-tune --steps 1 "$D/sft.mp"
    assert_failure 64
    assert_output --partial "--base CKPT"
    run lora-tune --base "$D/base.ckpt" --rank 33 --steps 1 "$D/sft.mp"
    assert_failure 64
    assert_output --partial "rank 33 does not fit layer h.0.attn.c_attn (32 x 96)"
    run lora-tune --base "$D/base.ckpt" --full --rank 4 "$D/sft.mp"
    assert_failure 64
    run lora-tune --base "$D/base.ckpt" --targets ffn "$D/sft.mp"
    assert_failure 64
    run lora-tune --base "$D/base.ckpt" --lora --qlora "$D/sft.mp"
    assert_failure 64
    run lora-tune --base "$D/base.ckpt" -T 49 "$D/sft.mp"
    assert_failure 64
    run lora-tune --base missing.ckpt "$D/sft.mp"
    assert_failure 66
    run lora-tune --base "$D/base.ckpt" missing.mp
    assert_failure 66
    run lora-tune --base "$D/base.ckpt" --adapter missing.tar "$D/sft.mp"
    assert_failure 66
    run lora-tune -h
    assert_success
    assert_line --index 0 --partial "usage: lora-tune --base CKPT"
}
