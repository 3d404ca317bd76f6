#!/usr/bin/env bats
load helper

# A tiny gpt trained here on 80 sentences, with its tokenizer.
setup_file() {
    cd "$BATS_FILE_TMPDIR"
    for i in $(seq 1 80); do
        printf '{"text":"the cat sat on the mat %d times. a dog ran after the cat, and the cat ran up tree %d."}\n' \
            "$i" $((i % 7))
    done | json2mp >text.mp
    tokenize learn -v 320 -o bpe.tok text.mp 2>/dev/null
    tokenize encode -m bpe.tok text.mp >tokens.mp
    train --arch gpt --layers 1 --width 32 --heads 2 --context 24 --tokenizer bpe.tok \
        -B 4 -T 24 --steps 60 --lr 1e-2 -j 1 -o model.tar tokens.mp >/dev/null
}

D=$BATS_FILE_TMPDIR

prompts() {
    printf '{"id":1,"prompt":"the cat"}\n{"id":2,"prompt":"a dog","lang":"en"}\n{"prompt_tokens":[1,2]}\n'
}

# rebuild DIR TAR: a tar of DIR's members in the order the checkpoint has them
rebuild() {
    (cd "$1" && tar cf "../$2" $(tar tf "$D/model.tar"))
}

@test "sample: completions with the other keys kept" {
    prompts | json2mp >p.mp
    sample -m "$D/model.tar" -n 8 --seed 3 p.mp >out.mp
    run jq -c '[.id, .lang, .prompt, (.completion_tokens | length), .finish,
        (.completion | type)]' <(mp2json out.mp)
    assert_output '[1,null,"the cat",8,"length","string"]
[2,"en","a dog",8,"length","string"]
[null,null,null,8,"length","string"]'
    # the completion is the text of the tokens
    mp2json out.mp | jq -c '{tokens: .completion_tokens, text: .completion}' | head -1 |
        jq -c '{tokens}' | json2mp | tokenize decode -m "$D/bpe.tok" >dec.mp
    run diff <(mp2json dec.mp | jq -r .text) <(mp2json out.mp | head -1 | jq -r .completion)
    assert_success
}

@test "sample: the same seed gives the same text, another seed another; greedy is fixed" {
    prompts | json2mp >p.mp
    sample -m "$D/model.tar" -n 12 --seed 3 --temperature 1.5 p.mp >a.mp
    sample -m "$D/model.tar" -n 12 --seed 3 --temperature 1.5 p.mp >b.mp
    sample -m "$D/model.tar" -n 12 --seed 4 --temperature 1.5 p.mp >c.mp
    cmp a.mp b.mp
    ! cmp -s a.mp c.mp
    sample -m "$D/model.tar" -n 12 --greedy --seed 1 p.mp >g1.mp
    sample -m "$D/model.tar" -n 12 --greedy --seed 2 p.mp >g2.mp
    cmp g1.mp g2.mp
    sample -m "$D/model.tar" -n 12 --top-k 1 --seed 9 p.mp >k1.mp
    cmp g1.mp k1.mp
}

@test "sample: --stop cuts the text before the stop string; --stop-token ends" {
    printf '{"prompt":"the cat"}\n' | json2mp >p.mp
    sample -m "$D/model.tar" -n 20 --greedy p.mp >free.mp
    text=$(mp2json free.mp | jq -r .completion)
    [[ "$text" == *" the"* ]]
    sample -m "$D/model.tar" -n 20 --greedy --stop " the" p.mp >stop.mp
    run jq -r '"\(.finish)|\(.completion)"' <(mp2json stop.mp)
    assert_output "stop|${text%% the*}"
    first=$(mp2json free.mp | jq '.completion_tokens[0]')
    sample -m "$D/model.tar" -n 20 --greedy --stop-token "$first" p.mp >tok.mp
    run jq -c '[.finish, .completion_tokens]' <(mp2json tok.mp)
    assert_output '["stop",[]]'
}

@test "sample: generation stops at the context; a longer prompt exits 65 unless --truncate-left" {
    printf '{"prompt_tokens":[1,2,3,4,5,6,7,8,9,10]}\n' | json2mp >p.mp
    sample -m "$D/model.tar" -n 100 --greedy -j 1 p.mp >out.mp
    # a context of 24 holds the 10 prompt tokens and 14 more: 15 can be drawn
    run jq -c '[.finish, (.completion_tokens | length)]' <(mp2json out.mp)
    assert_output '["context",15]'
    printf '{"prompt_tokens":[%s]}\n' "$(seq -s, 1 30)" | json2mp >long.mp
    run sample -m "$D/model.tar" long.mp
    assert_failure 65
    assert_output --partial "record 1"
    assert_output --partial "context"
    sample -m "$D/model.tar" -n 3 --truncate-left long.mp >cut.mp
    run jq -c '[.finish, (.completion_tokens | length)]' <(mp2json cut.mp)
    assert_output '["context",1]'
}

@test "sample: --int8 completes as the float32 model does here; a seed gives the same text" {
    prompts | json2mp >p.mp
    sample -m "$D/model.tar" -n 8 --greedy p.mp >f.mp
    sample -m "$D/model.tar" -n 8 --greedy --int8 p.mp >q.mp
    run jq -c '[.id, .lang, .completion_tokens, .finish]' <(mp2json q.mp)
    expected=$(jq -c '[.id, .lang, .completion_tokens, .finish]' <(mp2json f.mp))
    assert_output "$expected"
    [ "$(mp2json q.mp | jq -s 'map(.completion_tokens | length) | add')" -ge 20 ]
    sample -m "$D/model.tar" -n 12 --seed 3 --temperature 1.5 --int8 p.mp >a.mp
    sample -m "$D/model.tar" -n 12 --seed 3 --temperature 1.5 --int8 p.mp >b.mp
    cmp a.mp b.mp
    run jq -s -c 'map((.completion_tokens | length) as $n
        | .finish == "length" and $n == 12 or .finish == "stop" and $n < 12)' <(mp2json a.mp)
    assert_output '[true,true,true]'
}

@test "sample: --help prints usage and exits 0" {
    run sample --help
    assert_success
    assert_output --partial "usage: sample"
}

@test "sample: bad flags exit 64" {
    run sample --bogus
    assert_failure 64
    run sample p.mp
    assert_failure 64
    assert_output --partial "-m"
    run sample -m "$D/model.tar" --top-p 2
    assert_failure 64
    run sample -m "$D/model.tar" --stop-token 100000 </dev/null
    assert_failure 64
}

@test "sample: bad prompts exit 65" {
    printf '{"prompt_tokens":[1,100000]}\n' | json2mp >p.mp
    run sample -m "$D/model.tar" p.mp
    assert_failure 65
    assert_output --partial "prompt_tokens"
    printf '{"text":"no prompt"}\n' | json2mp >p.mp
    run sample -m "$D/model.tar" p.mp
    assert_failure 65
    assert_output --partial "prompt"
}

@test "sample: a missing checkpoint exits 66, a missing input too" {
    run sample -m nowhere.tar </dev/null
    assert_failure 66
    assert_output --partial "nowhere.tar"
    run sample -m "$D/model.tar" nowhere.mp
    assert_failure 66
}

@test "sample: damaged checkpoints exit 65 naming the member" {
    prompts | json2mp >p.mp
    head -c 5000 "$D/model.tar" >cut.tar
    run sample -m cut.tar p.mp
    assert_failure 65
    assert_output --partial "cut.tar"
    mkdir x && (cd x && tar xf "$D/model.tar")
    cp -r x y
    head -c 100 x/tensors/wpe.weight >short && mv short x/tensors/wpe.weight
    rebuild x short.tar
    run sample -m short.tar -o out.mp p.mp
    assert_failure 65
    assert_output --partial "tensors/wpe.weight: 100 bytes, expected 3072"
    [ ! -e out.mp ]
    mp2json y/config.mp | jq -c '.arch = "transformer"' | json2mp >y/c && mv y/c y/config.mp
    rebuild y arch.tar
    run sample -m arch.tar p.mp
    assert_failure 65
    assert_output --partial "config.mp"
    assert_output --partial "transformer"
    no_temp_files
}
