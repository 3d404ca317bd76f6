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
MODEL=(--arch gpt --layers 1 --width 16 --heads 2 --context 16 --tokenizer "$D/bpe.tok")
W8A8G8=(--w 8:per-row --a 8:per-token --g 8:per-token)

events() {
    mp2json "$1" | jq -c 'del(.tokens_per_s, .seconds)'
}

@test "train-quant: the recipe goes into the config record and the checkpoint; loss falls" {
    train-quant "${MODEL[@]}" "${W8A8G8[@]}" --m 8:per-row --v 8:per-row:asym -B 4 \
        --steps 20 --lr 1e-2 -j 1 -o ck.tar "$D/tokens.mp" >m.mp
    run jq -sr '.[0] | "\(.event) \(.recipe)"' <(mp2json m.mp)
    assert_output "config w=8:per-row a=8:per-row g=8:per-row m=8:per-row v=8:per-row:asym"
    run jq -sr '[.[] | select(.event == "step")] | .[0].loss > .[19].loss + 1' <(mp2json m.mp)
    assert_output "true"
    run bash -c "tar xOf ck.tar state/train.mp | mp2json | jq -r .recipe"
    assert_output "w=8:per-row a=8:per-row g=8:per-row m=8:per-row v=8:per-row:asym"
    # the moments are in the checkpoint as float32, like train's
    run bash -c "tar tf ck.tar | grep -c '^state/adam_[mv]/'"
    [ "$output" -gt 10 ]
}

@test "train-quant: low-bit moments take less optimizer memory; an empty recipe is train" {
    common=(--arch gpt --layers 2 --width 64 --heads 2 --context 16 --vocab 320 -B 2
            --steps 1 -j 1 "$D/tokens.mp")
    bytes() { train-quant "${common[@]}" "$@" | mp2json | jq 'select(.event == "config") |
              .optimizer_bytes'; }
    fp32=$(bytes)
    m8v8=$(bytes --m 8:per-row --v 8:per-row)
    m4v4=$(bytes --m 4:per-row --v 4:per-row)
    echo "fp32 $fp32 m8v8 $m8v8 m4v4 $m4v4"
    [ "$m8v8" -lt $((fp32 / 2)) ]
    [ "$m4v4" -lt "$m8v8" ]
    train-quant "${MODEL[@]}" -B 2 --steps 3 -j 1 -o q.tar "$D/tokens.mp" >q.mp
    train "${MODEL[@]}" -B 2 --steps 3 -j 1 -o t.tar "$D/tokens.mp" >t.mp
    cmp q.tar t.tar
    diff <(events q.mp | jq -c 'del(.optimizer_bytes)') <(events t.mp | jq -c 'del(.optimizer_bytes)')
}

@test "train-quant: a recipe file gives the same run as the flags" {
    printf '# W8A8G8, stochastic m\nw 8:per-row\na=8:per-token\n\ng 8:per-token  # grads\nm 4:per-group-8:stochastic\n' >r.txt
    train-quant "${MODEL[@]}" --recipe r.txt -B 2 --steps 4 -j 1 -o a.tar "$D/tokens.mp" >a.mp
    train-quant "${MODEL[@]}" "${W8A8G8[@]}" --m 4:per-group-8:stochastic -B 2 --steps 4 -j 1 \
        -o b.tar "$D/tokens.mp" >b.mp
    cmp a.tar b.tar
    diff <(events a.mp) <(events b.mp)
    # and the recipe changes the run
    train-quant "${MODEL[@]}" -B 2 --steps 4 -j 1 -o c.tar "$D/tokens.mp" >/dev/null
    ! cmp -s a.tar c.tar
}

@test "train-quant: a quantized run stopped and resumed ends bit-identical" {
    # the first 5 steps are warmup, whose learning rates do not depend on --steps
    args=("${MODEL[@]}" --w 8:per-row --a 4:per-token:stochastic --g 8:per-token
          --m 8:per-tensor --v 4:per-row:asym -B 4 --lr 3e-3 --warmup 5 --seed 5 -j 1)
    train-quant "${args[@]}" --steps 12 -o whole.tar "$D/tokens.mp" >/dev/null
    train-quant "${args[@]}" --steps 5 -o cut.tar "$D/tokens.mp" >/dev/null
    # resumed without recipe flags, it takes the checkpoint's
    train-quant --resume cut.tar -j 1 --steps 12 -o cut.tar "$D/tokens.mp" >r.mp
    run jq -sr '.[0] | "\(.start_step) \(.recipe)"' <(mp2json r.mp)
    assert_output "5 w=8:per-row a=4:per-row:stochastic g=8:per-row m=8:per-tensor v=4:per-row:asym"
    cmp whole.tar cut.tar
}

@test "train-quant: a resumed recipe must agree with the checkpoint's" {
    train-quant "${MODEL[@]}" --w 8:per-row -B 2 --steps 2 -o q.tar "$D/tokens.mp" >/dev/null
    run train-quant --resume q.tar --w 4:per-row --steps 3 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial 'the recipe "w=4:per-row" disagrees with "w=8:per-row"'
    # the same recipe spelled otherwise is the same recipe
    run train-quant --resume q.tar --w 8:per-channel --steps 3 "$D/tokens.mp"
    assert_success
    run train --resume q.tar --steps 3 "$D/tokens.mp"
    assert_failure 65
    assert_output --partial "train-quant"
    train "${MODEL[@]}" -B 2 --steps 2 -o f.tar "$D/tokens.mp" >/dev/null
    run train-quant --resume f.tar --a 8 --steps 3 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "fp32"
}

@test "train-quant: bad recipes exit 64 (flags) or 65 (a file), saying why" {
    run train-quant "${MODEL[@]}" --w 9 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "bits must be an integer from 2 to 8"
    run train-quant "${MODEL[@]}" --a 1:per-token "$D/tokens.mp"
    assert_failure 64
    run train-quant "${MODEL[@]}" --w 8:per-slice "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "unknown term"
    run train-quant "${MODEL[@]}" --m 6:per-row "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "4 or 8 bits"
    run train-quant "${MODEL[@]}" --w 8 --w 4 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "twice"
    # width 16: a group of 5 divides no layer's rows
    run train-quant "${MODEL[@]}" --a 8:per-group-5 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "h.0.attn.c_attn: a: the group size does not divide"
    run train-quant "${MODEL[@]}" --v 8:per-group-5 "$D/tokens.mp"
    assert_failure 64
    assert_output --partial "does not divide the rows of"
    printf 'w 8:per-row\nz 8\n' >bad.txt
    run train-quant "${MODEL[@]}" --recipe bad.txt "$D/tokens.mp"
    assert_failure 65
    assert_output --partial 'bad.txt: line 2: unknown recipe term "z"'
    run train-quant "${MODEL[@]}" --recipe nowhere.txt "$D/tokens.mp"
    assert_failure 66
}

@test "train-quant: --help prints usage and exits 0" {
    run train-quant --help
    assert_success
    assert_output --partial "usage: train-quant"
    assert_output --partial "--checkpoint-every"
}
