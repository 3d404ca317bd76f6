#!/usr/bin/env bats
load helper

# A corpus made here: 80 short sentences, a BPE tokenizer learned on them, their tokens.
setup_file() {
    cd "$BATS_FILE_TMPDIR"
    for i in $(seq 1 80); do
        printf '{"text":"the cat sat on the mat %d times. a dog ran after the cat, and the cat ran up tree %d."}\n' \
            "$i" $((i % 7))
    done | json2mp >text.mp
    tokenize learn -v 320 -o bpe.tok text.mp 2>/dev/null
    tokenize encode -m bpe.tok text.mp >tokens.mp
}

D=$BATS_FILE_TMPDIR
MODEL=(--arch gpt --layers 1 --width 16 --heads 2 --context 16)

# events FILE: the metric records as compact JSON without the timing keys
events() {
    mp2json "$1" | jq -c 'del(.tokens_per_s, .seconds)'
}

@test "train: metric records, a falling loss, and a checkpoint listing its tensors in order" {
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 4 -T 16 --steps 20 --lr 1e-2 \
        --val "$D/tokens.mp" --eval-every 10 --eval-windows 8 -o ck.tar -j 1 \
        "$D/tokens.mp" >metrics.mp
    run jq -sr 'map(.event) | group_by(.) | map("\(.[0]) \(length)") | join(",")' \
        <(mp2json metrics.mp)
    assert_output "config 1,done 1,eval 2,step 20"
    # the vocabulary is the tokenizer's, its last id <|endoftext|>
    vocab=$(mp2json "$D/bpe.tok" | jq '.vocab | length')
    run jq -sr '.[0] | "\(.arch) \(.vocab) \(.eot) \(.batch) \(.seq_len) \(.params > 0)"' \
        <(mp2json metrics.mp)
    assert_output "gpt $vocab $((vocab - 1)) 4 16 true"
    run jq -sr '[.[] | select(.event == "step")] | (.[0].loss > .[19].loss + 1) and
        (.[19].lr - 1e-3 | fabs < 1e-12) and (.[0].grad_norm > 0)' <(mp2json metrics.mp)
    assert_output "true"
    run jq -sr '.[-1] | "\(.event) \(.step) \(.val_loss > 0) \(.seconds >= 0)"' <(mp2json metrics.mp)
    assert_output "done 20 true true"
    run bash -c "tar tf ck.tar | head -6"
    assert_output "config.mp
tokenizer.mp
state/train.mp
tensors/wte.weight
tensors/wpe.weight
tensors/h.0.ln_1.weight"
    # a tensor is raw float32: wte is (vocab, 16)
    run bash -c "tar xOf ck.tar tensors/wte.weight | wc -c"
    assert_output "$((vocab * 16 * 4))"
    no_temp_files
}

@test "train: hawk trains with the same tool" {
    run train --arch hawk --layers 1 --width 16 --context 16 --tokenizer "$D/bpe.tok" \
        -B 2 -T 8 --steps 3 -j 1 -o hawk.tar "$D/tokens.mp"
    assert_success
    run tar tf hawk.tar tensors/h.0.rec.lru.lambda
    assert_success
}

@test "train: --params prints the parameter count, matching the config record" {
    run train "${MODEL[@]}" --tokenizer "$D/bpe.tok" --params
    assert_success
    count=$output
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" --steps 1 -B 1 -T 4 "$D/tokens.mp" >m.mp
    run jq -r 'select(.event == "config") | .params' <(mp2json m.mp)
    assert_output "$count"
    run train --arch hawk --config S --params
    assert_success
    [ "$output" -gt 100000 ]
}

@test "train: the same seed and threads give bit-identical checkpoints and losses" {
    for k in 1 2; do
        train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 2 -T 16 --steps 6 --accum 2 \
            --warmup 2 --seed 7 -j 2 -o run$k.tar "$D/tokens.mp" >run$k.mp
    done
    cmp run1.tar run2.tar
    diff <(events run1.mp) <(events run2.mp)
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 2 -T 16 --steps 6 --accum 2 \
        --warmup 2 --seed 8 -j 2 -o run3.tar "$D/tokens.mp" >/dev/null
    ! cmp -s run1.tar run3.tar
}

@test "train: a run killed with SIGKILL and resumed ends bit-identical to an uninterrupted one" {
    args=(--arch gpt --layers 2 --width 32 --heads 2 --context 32 --tokenizer "$D/bpe.tok"
          -B 4 -T 32 --steps 600 --lr 3e-3 --warmup 20 --seed 5 -j 1
          --checkpoint-every 25 --val "$D/tokens.mp" --eval-every 100 --eval-windows 4)
    train "${args[@]}" -o whole.tar "$D/tokens.mp" >/dev/null
    train "${args[@]}" -o cut.tar "$D/tokens.mp" >/dev/null &
    pid=$!
    while [ ! -e cut.tar ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
    kill -9 $pid
    wait $pid || true
    step=$(tar xOf cut.tar state/train.mp | mp2json | jq .step)
    echo "killed after step $step"
    [ "$step" -lt 600 ]
    train --resume cut.tar -o cut.tar -j 1 --val "$D/tokens.mp" "$D/tokens.mp" >/dev/null
    cmp whole.tar cut.tar
}

@test "train: --resume continues from the saved step; flags given override" {
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 2 -T 8 --steps 4 -o ck.tar \
        "$D/tokens.mp" >/dev/null
    train --resume ck.tar --steps 6 -o ck.tar "$D/tokens.mp" >m.mp
    run jq -sr '"\(.[0].start_step) \(.[0].steps) \(.[0].batch) \([.[] | select(.event ==
        "step") | .step] | join(" "))"' <(mp2json m.mp)
    assert_output "4 6 2 5 6"
    run train --resume ck.tar --arch hawk "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "--arch"
}

@test "train: --init starts a new run from a checkpoint's weights and tokenizer" {
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 4 -T 16 --steps 30 --lr 1e-2 -o base.tar \
        "$D/tokens.mp" >base.mp
    train --init base.tar -B 4 -T 16 --steps 3 --lr 1e-3 -o next.tar "$D/tokens.mp" >next.mp
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 4 -T 16 --steps 3 --lr 1e-3 \
        "$D/tokens.mp" >fresh.mp
    # a new run: from step 0 with the command line's settings, the base's model and vocabulary
    run jq -sr '"\(.[0].start_step) \(.[0].steps) \(.[0].lr) \(.[0].vocab)"' <(mp2json next.mp)
    assert_output "0 3 0.001 $(mp2json base.mp | jq -sr '.[0].vocab')"
    # its first loss is the trained model's, far below a fresh model's
    first() { mp2json "$1" | jq -s '[.[] | select(.event == "step")][0].loss'; }
    awk -v a="$(first next.mp)" -v b="$(first fresh.mp)" 'BEGIN {exit !(a < b - 1)}'
    # it saves a full checkpoint with the tokenizer, which --resume continues
    tar tf next.tar | grep -qx tokenizer.mp
    train --resume next.tar --steps 4 "$D/tokens.mp" >/dev/null
    run train --init base.tar --width 32 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "--width: a run from --init takes its model from base.tar"
    run train --init base.tar --resume next.tar "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "--resume and --init"
    run train --init nowhere.tar "$D/tokens.mp"
    assert_failure 66
}

@test "train: a diverged loss stops with 65 naming the step, keeping the checkpoint" {
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 2 -T 8 --steps 2 -o ck.tar \
        "$D/tokens.mp" >/dev/null
    mkdir x && (cd x && tar xf ../ck.tar)
    printf '\x00\x00\xc0\x7f' | dd of=x/tensors/wte.weight conv=notrunc status=none
    (cd x && tar cf ../nan.tar $(tar tf ../ck.tar))
    cp nan.tar before.tar
    run bash -c "train --resume nan.tar --steps 5 -o nan.tar '$D/tokens.mp' >/dev/null"
    assert_failure 65
    assert_output --partial "step 3: the loss is nan"
    cmp nan.tar before.tar
    no_temp_files
}

@test "train: --help prints usage and exits 0" {
    run train --help
    assert_success
    assert_output --partial "usage: train"
}

@test "train: bad flags exit 64" {
    run train --bogus
    assert_failure 64
    run train "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "--arch"
    run train --arch rnn "$D/tokens.mp"
    assert_failure 64
    run train "${MODEL[@]}" -T 17 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "context"
    run train "${MODEL[@]}" --lr -1 "$D/tokens.mp"
    assert_failure 64
    run train "${MODEL[@]}" --config XXL "$D/tokens.mp"
    assert_failure 64
    run train "${MODEL[@]}" --heads 3 "$D/tokens.mp"
    assert_failure 64
    run train "${MODEL[@]}" --checkpoint-every 5 "$D/tokens.mp"
    assert_failure 64
    run train "${MODEL[@]}" --eval-every 5 "$D/tokens.mp"
    assert_failure 64
}

@test "train: a token outside the vocabulary exits 65 naming the record" {
    printf '{"tokens":[1,2,3]}\n{"tokens":[4,400]}\n' | json2mp >bad.mp
    run train "${MODEL[@]}" --vocab 304 --steps 1 bad.mp
    assert_failure 65
    assert_output --partial "record 2"
    printf '{"text":"no tokens"}\n' | json2mp >notok.mp
    run train "${MODEL[@]}" --vocab 304 --steps 1 notok.mp
    assert_failure 65
    assert_output --partial "tokens"
}

@test "train: missing files exit 66" {
    run train "${MODEL[@]}" --vocab 304 nowhere.mp
    assert_failure 66
    assert_output --partial "nowhere.mp"
    run train --resume nowhere.tar "$D/tokens.mp"
    assert_failure 66
    run train "${MODEL[@]}" --tokenizer nowhere.tok "$D/tokens.mp"
    assert_failure 66
}

@test "train: resuming from a damaged checkpoint exits 65 and writes nothing" {
    train "${MODEL[@]}" --tokenizer "$D/bpe.tok" -B 2 -T 8 --steps 2 -o ck.tar \
        "$D/tokens.mp" >/dev/null
    head -c 3000 ck.tar >cut.tar
    run train --resume cut.tar -o out.tar "$D/tokens.mp"
    assert_failure 65
    assert_output --partial "cut.tar"
    [ ! -e out.tar ]
    # a model without training state cannot be resumed
    mkdir x && (cd x && tar xf ../ck.tar)
    (cd x && tar cf ../model.tar config.mp tokenizer.mp $(tar tf ../ck.tar | grep '^tensors/'))
    run train --resume model.tar -o out.tar "$D/tokens.mp"
    assert_failure 65
    assert_output --partial "state/train.mp"
    [ ! -e out.tar ]
    no_temp_files
}
