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

@test "score: logprob, n_tokens and ppl added, other keys kept; seen text scores higher" {
    printf '%s\n' '{"id":1,"text":"the cat sat on the mat"}' \
        '{"id":2,"text":"mat the on sat cat the"}' | json2mp >in.mp
    score -m "$D/model.tar" in.mp >out.mp
    run jq -c '[.id, .text, (.logprob < 0), .n_tokens, (.ppl >= 1)]' <(mp2json out.mp)
    assert_output '[1,"the cat sat on the mat",true,6,true]
[2,"mat the on sat cat the",true,7,true]'
    run jq -s '.[0].logprob > .[1].logprob + 5' <(mp2json out.mp)
    assert_output "true"
    # ppl is exp(-logprob / n_tokens)
    run jq '((.ppl | log) + .logprob / .n_tokens) | fabs < 1e-9' <(mp2json out.mp)
    assert_output "true
true"
}

@test "score: --per-token log-probs sum to logprob; a prompt conditions but is not scored" {
    printf '%s\n' '{"text":"the cat sat on the mat"}' \
        '{"prompt":"the cat","text":" sat on the mat"}' | json2mp >in.mp
    score -m "$D/model.tar" --per-token in.mp >out.mp
    run jq '(.token_logprobs | add) - .logprob | fabs < 1e-4' <(mp2json out.mp)
    assert_output "true
true"
    # the same tokens after the same context have the same log-probabilities
    run jq -sc '[.[0].token_logprobs[-4:], .[1].token_logprobs] | map(map(. * 1000 | round))
        | .[0] == .[1]' <(mp2json out.mp)
    assert_output "true"
    # tokens and prompt_tokens give what text and prompt encode to
    tokenize encode -m "$D/bpe.tok" --keep-text in.mp | mp2json |
        jq -c '{tokens}' | json2mp >tok.mp
    score -m "$D/model.tar" tok.mp >tokout.mp
    run jq -s '.[0].logprob' <(mp2json tokout.mp)
    want=$(jq -s '.[0].logprob' <(mp2json out.mp))
    assert_output "$want"
}

@test "score: the batch size does not change the records written" {
    for i in 1 2 3 4 5; do printf '{"text":"the dog ran %d"}\n' $i; done | json2mp >in.mp
    score -m "$D/model.tar" -B 2 -j 1 in.mp >b2.mp
    score -m "$D/model.tar" -B 8 -j 1 in.mp >b8.mp
    run jq -c '[.n_tokens, (.logprob * 1e4 | round)]' <(mp2json b2.mp)
    expected=$output
    run jq -c '[.n_tokens, (.logprob * 1e4 | round)]' <(mp2json b8.mp)
    assert_output "$expected"
    run jq -s length <(mp2json b8.mp)
    assert_output 5
}

@test "score: --int8 log-probs within 0.02 nats per token of float32's; the batch size changes nothing" {
    printf '%s\n' '{"id":1,"text":"the cat sat on the mat"}' \
        '{"text":"a dog ran after the cat, and the cat ran up tree 3."}' '{"text":"the cat"}' \
        '{"text":"mat the on sat cat the"}' '{"text":"the cat sat on the mat 12 times."}' |
        json2mp >in.mp
    score -m "$D/model.tar" --per-token in.mp >f.mp
    score -m "$D/model.tar" --per-token --int8 -B 2 in.mp >q2.mp
    score -m "$D/model.tar" --per-token --int8 -B 8 in.mp >q8.mp
    cmp q2.mp q8.mp # rows of several lengths: the model is re-planned between batches
    run jq -c '[.id, .n_tokens]' <(mp2json q2.mp)
    expected=$(jq -c '[.id, .n_tokens]' <(mp2json f.mp))
    assert_output "$expected"
    # the mean absolute difference per token: small, and not zero (the layers are int8)
    run jq -n --slurpfile a <(mp2json f.mp) --slurpfile b <(mp2json q2.mp) \
        '[range(0; $a | length) as $i | range(0; $a[$i].token_logprobs | length) as $j
          | $a[$i].token_logprobs[$j] - $b[$i].token_logprobs[$j] | fabs]
         | add / length | . > 0 and . < 0.02'
    assert_output "true"
}

@test "score: a text longer than the context exits 65 naming the record" {
    printf '{"tokens":[1,2]}\n{"tokens":[%s]}\n' "$(seq -s, 1 30)" | json2mp >in.mp
    run score -m "$D/model.tar" -o out.mp in.mp
    assert_failure 65
    assert_output --partial "record 2"
    assert_output --partial "context"
    [ ! -e out.mp ]
    no_temp_files
}

@test "score: bad records exit 65" {
    printf '{"tokens":[1,100000]}\n' | json2mp >in.mp
    run score -m "$D/model.tar" in.mp
    assert_failure 65
    assert_output --partial "tokens"
    printf '{"id":3}\n' | json2mp >in.mp
    run score -m "$D/model.tar" in.mp
    assert_failure 65
    assert_output --partial "text"
}

@test "score: --help prints usage and exits 0; bad flags exit 64" {
    run score --help
    assert_success
    assert_output --partial "usage: score"
    run score --bogus
    assert_failure 64
    run score in.mp
    assert_failure 64
    run score -m "$D/model.tar" -B 0
    assert_failure 64
}

@test "score: missing files exit 66; damaged checkpoints 65" {
    run score -m nowhere.tar </dev/null
    assert_failure 66
    run score -m "$D/model.tar" nowhere.mp
    assert_failure 66
    head -c 2000 "$D/model.tar" >cut.tar
    run score -m cut.tar </dev/null
    assert_failure 65
    assert_output --partial "cut.tar"
}
