#!/usr/bin/env bats
load helper

# A base model trained here, and preference pairs whose chosen answer names the animal
# the prompt asks about.
setup_file() {
    cd "$BATS_FILE_TMPDIR"
    for i in $(seq 1 60); do
        printf '{"text":"where is the cat %d? the cat is on the mat. where is the dog? the dog is in the tree."}\n' "$i"
    done | json2mp >text.mp
    tokenize learn -v 300 -o bpe.tok text.mp 2>/dev/null
    tokenize encode -m bpe.tok text.mp >tokens.mp
    train --arch gpt --layers 2 --width 32 --heads 2 --context 48 --tokenizer bpe.tok \
        -B 4 -T 32 --steps 150 --lr 3e-3 -j 1 -o base.ckpt tokens.mp >/dev/null
    for i in $(seq 1 48); do
        if ((i % 2)); then a=cat b=dog; else a=dog b=cat; fi
        printf '{"id":%d,"prompt":"where is the %s %d?","chosen":" the %s is here.","rejected":" the %s is here."}\n' \
            "$i" "$a" "$i" "$a" "$b"
    done | json2mp >pairs.mp
    mp2json pairs.mp | head -32 | json2mp >train.mp
    mp2json pairs.mp | tail -16 | json2mp >valid.mp
}

D=$BATS_FILE_TMPDIR

@test "dpo: reward records, and held-out reward accuracy well above chance" {
    dpo --base "$D/base.ckpt" --rank 4 --beta 0.5 -B 4 --steps 60 --lr 3e-3 --val "$D/valid.mp" \
        --eval-every 30 -o ad.tar --merged merged.ckpt -j 1 "$D/train.mp" >m.mp
    run jq -sr 'map(.event) | group_by(.) | map("\(.[0]) \(length)") | join(",")' <(mp2json m.mp)
    assert_output "config 1,done 1,eval 2,setup 1,step 60"
    run jq -sr '.[1] | "\(.loss) \(.batch) \(.examples) \(.val_examples)"' <(mp2json m.mp)
    assert_output "dpo 8 32 16"
    # the first step starts at the reference: loss log 2, every reward 0
    run jq -sr '[.[] | select(.event == "step")][0] |
        "\(.loss - 0.6931471805599453 | fabs < 1e-6) \(.chosen_reward) \(.rejected_reward) \(.reward_accuracy)"' \
        <(mp2json m.mp)
    assert_output "true 0 0 0"
    run jq -sr '[.[] | select(.event == "eval")][-1] |
        (.val_reward_accuracy >= 0.9) and (.val_reward_margin > 0) and (.val_loss < 0.6)' \
        <(mp2json m.mp)
    assert_output "true"
    # the merged model prefers the held-out chosen answers to the rejected ones
    run bash -c "mp2json '$D/valid.mp' | jq -c '{prompt, text: .chosen}, {prompt, text: .rejected}' |
        json2mp | score -m merged.ckpt | mp2json | jq -s '[range(0; length; 2) as \$i |
        (.[\$i].logprob > .[\$i + 1].logprob)] | map(select(.)) | length'"
    assert_success
    [ "$output" -ge 14 ]
}

@test "dpo: full and QLoRA training, label smoothing" {
    dpo --base "$D/base.ckpt" --full --steps 3 --label-smoothing 0.1 -j 1 -o full.ckpt \
        "$D/train.mp" >m.mp
    run jq -sr '.[0].method' <(mp2json m.mp)
    assert_output "full"
    run tar tf full.ckpt tensors/wte.weight
    assert_success
    dpo --base "$D/base.ckpt" --qlora --rank 2 --steps 3 -j 1 -o q.tar "$D/train.mp" >q.mp
    run jq -sr '.[0] | "\(.method) \(.base_bits < 4.2)"' <(mp2json q.mp)
    assert_output "qlora true"
}

@test "dpo: pairs missing an answer, empty answers and foreign adapters exit 65" {
    printf '{"prompt":"a","chosen":"b"}\n' | json2mp >norej.mp
    run dpo --base "$D/base.ckpt" --steps 1 norej.mp
    assert_failure 65
    assert_output --partial 'norej.mp: record 1: no "rejected"'
    printf '{"prompt":"a","rejected":"b"}\n' | json2mp >nocho.mp
    run dpo --base "$D/base.ckpt" --steps 1 nocho.mp
    assert_failure 65
    assert_output --partial 'nocho.mp: record 1: no "chosen"'
    printf '{"prompt":"a","chosen":"","rejected":"b"}\n' | json2mp >empty.mp
    run dpo --base "$D/base.ckpt" --steps 1 empty.mp
    assert_failure 65
    assert_output --partial '"chosen" is empty'
    dpo --base "$D/base.ckpt" --rank 2 --steps 1 -j 1 -o a.tar "$D/train.mp" >/dev/null
    dpo --base "$D/base.ckpt" --full --steps 1 -j 1 -o moved.ckpt "$D/train.mp" >/dev/null
    run dpo --base moved.ckpt --adapter a.tar --steps 1 "$D/train.mp"
    assert_failure 65
    assert_output --partial "an adapter for another base"
    no_temp_files
}

@test "dpo: usage errors exit 64" {
    run dpo --base "$D/base.ckpt" --beta 0 "$D/train.mp"
    assert_failure 64
    run dpo --base "$D/base.ckpt" --label-smoothing 0.5 "$D/train.mp"
    assert_failure 64
    run dpo --base "$D/base.ckpt" --rank 40 "$D/train.mp"
    assert_failure 64
    run dpo "$D/train.mp"
    assert_failure 64
    run dpo --help
    assert_success
    assert_line --index 0 --partial "usage: dpo --base CKPT"
}
