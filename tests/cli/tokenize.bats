#!/usr/bin/env bats
load helper

REF="$ROOT/tests/ref/gpt2"
CORPUS="$FIXTURES/tok/corpus.txt"

# mkrecs FILE PYTHON_LIST: write the records of a Python expression; bytes values become
# msgpack strings holding exactly those bytes, valid UTF-8 or not
mkrecs() {
    /usr/bin/python3 -c '
import ast, sys, msgpack
with open(sys.argv[1], "wb") as f:
    for r in eval(sys.argv[2]):
        f.write(msgpack.packb(r, use_bin_type=False))
' "$1" "$2"
}

# corpus FILE: the lines of the fixture corpus as records {"id": N, "text": LINE}
corpus() {
    /usr/bin/python3 -c '
import sys, msgpack
with open(sys.argv[1], "wb") as f:
    for i, line in enumerate(open(sys.argv[2], encoding="utf-8")):
        f.write(msgpack.packb({"id": i + 1, "text": line.rstrip("\n")}))
' "$1" "$CORPUS"
}

# show [FILE]: each record as one JSON line, keys in stream order; bytes that are not
# UTF-8 show as \xNN
show() {
    /usr/bin/python3 -c '
import json, sys, msgpack
def plain(v):
    if isinstance(v, bytes): return v.decode("utf-8", "backslashreplace")
    if isinstance(v, dict): return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    return v
f = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
for r in msgpack.Unpacker(f, raw=True):
    print(json.dumps(plain(r), ensure_ascii=False, separators=(",", ":")))
' "$@"
}

@test "tokenize learn: writes a model that info describes" {
    corpus in.mp
    run tokenize learn -v 300 -o m.tok in.mp
    assert_success
    assert_output ""
    tokenize info -m m.tok >out.mp
    run show out.mp
    assert_success
    read -r want <<'EOF'
{"vocab_size":300,"merges":43,"pattern":"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+","special":{"<|endoftext|>":299}}
EOF
    assert_output "$want"
    no_temp_files
}

@test "tokenize learn: deterministic; --special, --no-default-special, --pattern, --min-freq" {
    corpus in.mp
    tokenize learn -v 400 -o a.tok in.mp
    tokenize learn -v 400 -o b.tok <in.mp
    cmp a.tok b.tok
    tokenize learn -v 300 --special '<pad>' --special '<sep>' -o s.tok in.mp
    tokenize info -m s.tok >out.mp
    show out.mp >out.json
    run grep -o '"special".*' out.json
    assert_output '"special":{"<|endoftext|>":297,"<pad>":298,"<sep>":299}}'
    tokenize learn -v 300 --no-default-special -p bytes -o n.tok in.mp
    tokenize info -m n.tok >out.mp
    run show out.mp
    assert_output '{"vocab_size":300,"merges":44,"pattern":"","special":{}}'
    tokenize learn -v 300 -p gpt4 -o g.tok in.mp
    tokenize learn -v 300 -p '[a-z]+' -o r.tok in.mp
    tokenize info -m r.tok >out.mp
    show out.mp >out.json
    run grep -o '"pattern":"[^"]*"' out.json
    assert_output '"pattern":"[a-z]+"'
    # a high --min-freq stops early, with a warning
    run tokenize learn -v 5000 --min-freq 50 -o f.tok in.mp
    assert_success
    assert_output --partial "stopped at"
    tokenize info -m f.tok >out.mp
    run show out.mp
    assert_output --partial '"vocab_size":'
    refute_output --partial '"vocab_size":5000'
}

@test "tokenize encode/decode: text to tokens and back, other keys untouched" {
    mkrecs in.mp '[{"id": 1, "text": "The pipe joins two programs.", "meta": {"a": [1, 2]}},
                   {"text": "", "id": 2}, {"id": 3, "text": "café 日本語 🙂\ttab\n"}]'
    corpus c.mp
    tokenize learn -v 300 -o m.tok c.mp
    tokenize encode -m m.tok in.mp >tok.mp
    run show tok.mp
    assert_line --index 0 --regexp '^\{"id":1,"meta":\{"a":\[1,2\]\},"tokens":\[[0-9,]+\]\}$'
    assert_line --index 1 '{"id":2,"tokens":[]}'
    tokenize decode -m m.tok tok.mp >back.mp
    run show back.mp
    assert_output '{"id":1,"meta":{"a":[1,2]},"text":"The pipe joins two programs."}
{"id":2,"text":""}
{"id":3,"text":"café 日本語 🙂\ttab\n"}'
    # --keep-text and --keep-tokens keep the key read in place; -o writes a file
    tokenize encode -m m.tok --keep-text -o kept.mp in.mp
    run show kept.mp
    assert_line --index 1 '{"text":"","id":2,"tokens":[]}'
    tokenize decode -m m.tok --keep-tokens kept.mp >both.mp
    run show both.mp
    assert_line --index 1 '{"id":2,"tokens":[],"text":""}'
    no_temp_files
}

@test "tokenize encode: special-token strings are text unless --allow-special" {
    corpus c.mp
    tokenize learn -v 300 --special '<pad>' -o m.tok c.mp
    mkrecs in.mp '[{"text": "a<|endoftext|>b<pad>"}]'
    tokenize encode -m m.tok in.mp >out.mp
    run show out.mp
    refute_output --regexp '[[,](298|299)[],]'
    tokenize encode -m m.tok --allow-special in.mp >out.mp
    run show out.mp
    assert_output '{"tokens":[97,298,98,299]}'
    # either way decoding gives the text back
    for flag in "" --allow-special; do
        tokenize encode -m m.tok $flag in.mp | tokenize decode -m m.tok >out.mp
        run show out.mp
        assert_output '{"text":"a<|endoftext|>b<pad>"}'
    done
}

@test "tokenize: any bytes round-trip exactly, invalid UTF-8 and NUL included" {
    corpus c.mp
    mkrecs in.mp '[{"text": b"\xff\xfe invalid \xc3( and \x00 nul \xe2\x82 cut"},
                   {"text": bytes(range(256)) * 3}, {"text": b"ok \xf0\x9f\x99\x82 \xed\xa0\x80"}]'
    for p in gpt2 gpt4 bytes; do
        tokenize learn -v 320 -p $p -o m.tok c.mp
        tokenize encode -m m.tok in.mp | tokenize decode -m m.tok >back.mp
        cmp in.mp back.mp
    done
}

@test "tokenize import-gpt2: GPT-2's merges reproduce the reference tokenizer exactly" {
    [ -e "$REF/merges.txt.gz" ] && [ -e "$REF/vocab.json.gz" ]
    tokenize import-gpt2 "$REF/vocab.json.gz" "$REF/merges.txt.gz" -o gpt2.tok
    tokenize info -m gpt2.tok >out.mp
    show out.mp >out.json
    run grep -o '"vocab_size":[0-9]*,"merges":[0-9]*' out.json
    assert_output '"vocab_size":50257,"merges":50000'
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
    for c, r in zip(sel, got):
        if r["tokens"] != c["tokens"]:
            bad += 1
            print("mismatch:", repr(c["text"]), r["tokens"], "expected", c["tokens"])
print(len(cases), "cases,", bad, "mismatches")
' gpt2.tok "$REF/expected.jsonl"
    assert_success
    assert_output --regexp '^[0-9]+ cases, 0 mismatches$'
}

@test "tokenize export-gpt2: reproduces GPT-2's merges.txt and vocab.json byte for byte" {
    [ -e "$REF/merges.txt.gz" ] && [ -e "$REF/vocab.json.gz" ]
    tokenize import-gpt2 "$REF/vocab.json.gz" "$REF/merges.txt.gz" -o gpt2.tok
    tokenize export-gpt2 -m gpt2.tok vocab.json merges.txt
    gzip -dc "$REF/merges.txt.gz" | cmp - merges.txt
    gzip -dc "$REF/vocab.json.gz" | cmp - vocab.json
    no_temp_files
}

@test "tokenize export-gpt2 then import-gpt2 gives back a learned model" {
    corpus c.mp
    tokenize learn -v 350 --special '<pad>' -o m.tok c.mp
    tokenize export-gpt2 -m m.tok v.json m.txt
    head -1 m.txt | grep -qx '#version: 0.2'
    tokenize import-gpt2 v.json m.txt -o back.tok
    cmp m.tok back.tok
}

@test "tokenize import-gpt2: missing files exit 66, bad ones 65" {
    corpus c.mp
    tokenize learn -v 300 -o m.tok c.mp
    tokenize export-gpt2 -m m.tok v.json m.txt
    run tokenize import-gpt2 nowhere.json m.txt -o x.tok
    assert_failure 66
    assert_output --partial "nowhere.json"
    printf '{"a": 1,' >bad.json
    run tokenize import-gpt2 bad.json m.txt -o x.tok
    assert_failure 65
    assert_output --partial "bad.json: not valid JSON"
    printf '{"a": [1]}' >nested.json
    run tokenize import-gpt2 nested.json m.txt -o x.tok
    assert_failure 65
    assert_output --partial "expected an object mapping tokens to ids"
    { cat m.txt; echo "zz qq"; } >more.txt
    run tokenize import-gpt2 v.json more.txt -o x.tok
    assert_failure 65
    assert_output --partial "more.txt: line 45:"
    [ ! -e x.tok ]
    no_temp_files
}

@test "tokenize: --help, --version and usage errors exit 64" {
    run tokenize --help
    assert_success
    assert_output --partial "usage: tokenize learn"
    run tokenize encode --help
    assert_success
    run tokenize --version
    assert_success
    assert_output --partial "tokenize (runnel)"
    run tokenize
    assert_failure 64
    run tokenize frobnicate
    assert_failure 64
    assert_output --partial "unknown subcommand 'frobnicate'"
    run tokenize encode --bogus
    assert_failure 64
    run tokenize encode in.mp
    assert_failure 64
    assert_output --partial "encode needs -m MODEL"
    run tokenize learn -o m.tok
    assert_failure 64
    assert_output --partial "-v N"
    run tokenize learn -v 256 -o m.tok
    assert_failure 64
    assert_output --partial "too small"
    run tokenize learn -v 257 --no-default-special --special x -o m.tok
    assert_failure 64
    run tokenize learn -v 300 -p '(' -o m.tok
    assert_failure 64
    assert_output --partial "pattern does not compile"
    run tokenize decode -m m.tok --keep-text
    assert_failure 64
    run tokenize info
    assert_failure 64
    run tokenize export-gpt2 -m m.tok only-one.json
    assert_failure 64
    [ ! -e m.tok ]
}

@test "tokenize: bad records exit 65 naming the record" {
    corpus c.mp
    tokenize learn -v 300 -o m.tok c.mp
    mkrecs nomap.mp '[{"text": "fine"}, 5]'
    run tokenize encode -m m.tok nomap.mp
    assert_failure 65
    assert_output --partial "record 2: expected a map"
    mkrecs wrong.mp '[{"text": 7}]'
    run tokenize encode -m m.tok wrong.mp
    assert_failure 65
    assert_output --partial 'record 1: key "text": expected a string, found an integer'
    mkrecs missing.mp '[{"text": "a"}, {"id": 2}, {"text": "b"}]'
    run tokenize learn -v 300 -o x.tok missing.mp
    assert_failure 65
    assert_output --partial 'record 2: key "text" is missing'
    [ ! -e x.tok ]
    run tokenize learn -v 300 --skip-missing -o x.tok missing.mp
    assert_success
    run tokenize encode -m m.tok missing.mp
    assert_failure 65
    tokenize encode -m m.tok --skip-missing missing.mp >out.mp
    run show out.mp
    assert_line --index 1 '{"id":2}'
    mkrecs none.mp '[{"id": 1}]'
    run tokenize learn -v 300 --skip-missing -o x.tok none.mp
    assert_failure 65
    assert_output --partial 'none.mp: no text to learn from'
    mkrecs empty.mp '[{"text": ""}]'
    run tokenize learn -v 300 -o x.tok empty.mp
    assert_failure 65
    run tokenize learn -v 300 -o x.tok </dev/null
    assert_failure 65
    assert_output --partial '<stdin>: no text to learn from'
    mkrecs range.mp '[{"tokens": [1, 2]}, {"tokens": [5, 300, 7]}]'
    run tokenize decode -m m.tok range.mp
    assert_failure 65
    assert_output --partial 'record 2: key "tokens"[1]: 300 is out of range (at most 299)'
    mkrecs strtok.mp '[{"tokens": "abc"}]'
    run tokenize decode -m m.tok strtok.mp
    assert_failure 65
    assert_output --partial 'record 1: key "tokens": expected an array'
}

@test "tokenize: a missing model exits 66, a damaged one 65" {
    mkrecs in.mp '[{"text": "a"}]'
    run tokenize encode -m nowhere.tok in.mp
    assert_failure 66
    assert_output --partial "nowhere.tok"
    corpus c.mp
    tokenize learn -v 300 -o m.tok c.mp
    head -c 700 m.tok >cut.tok
    run tokenize encode -m cut.tok in.mp
    assert_failure 65
    assert_output --partial "cut.tok"
    run tokenize info -m in.mp
    assert_failure 65
    assert_output --partial 'in.mp: bad model: not a BPE model'
    cat m.tok m.tok >two.tok
    run tokenize decode -m two.tok in.mp
    assert_failure 65
    assert_output --partial "two.tok: record 2: a model file holds one record"
    : >empty.tok
    run tokenize info -m empty.tok
    assert_failure 65
    # one changed byte inside a token: the merges no longer make the vocab
    /usr/bin/python3 -c '
import sys, msgpack
m = msgpack.unpackb(open(sys.argv[1], "rb").read())
m["vocab"][260] = m["vocab"][260][:-1] + b"?"
open(sys.argv[2], "wb").write(msgpack.packb(m))
' m.tok bent.tok
    run tokenize encode -m bent.tok in.mp
    assert_failure 65
    assert_output --partial "bent.tok: bad model: vocab[260] is not"
}

@test "tokenize: a failed run leaves no output file behind" {
    corpus c.mp
    tokenize learn -v 300 -o m.tok c.mp
    mkrecs in.mp '[{"text": "a"}, {"text": 1}]'
    run tokenize encode -m m.tok -o out.mp in.mp
    assert_failure 65
    [ ! -e out.mp ]
    run tokenize learn -v 300 -o new.tok in.mp
    assert_failure 65
    [ ! -e new.tok ]
    mkrecs bad.mp '[{"tokens": [1]}, {"tokens": [-1]}]'
    run tokenize decode -m m.tok -o out.mp bad.mp
    assert_failure 65
    [ ! -e out.mp ]
    no_temp_files
}
