#!/usr/bin/env bats
load helper

JSON="$FIXTURES/json"

@test "mp2json: each record becomes a line of JSON" {
    # {"id":1,"text":"hi"} {"n":-1,"f":1.5,"b":true}
    bytes in.mp 82 a2 69 64 01 a4 74 65 78 74 a2 68 69 83 a1 6e ff a1 66 cb 3f f8 00 00 00 00 00 00 a1 62 c3
    run mp2json in.mp
    assert_success
    assert_output '{"id":1,"text":"hi"}
{"n":-1,"f":1.5,"b":true}'
}

@test "mp2json: values are exact and strings escaped" {
    # u64 max, i64 min, float32 0.1, float64 1.0, "a\0/\n"
    bytes in.mp 85 a1 75 cf ff ff ff ff ff ff ff ff a1 69 d3 80 00 00 00 00 00 00 00 \
        a1 66 ca 3d cc cc cd a1 64 cb 3f f0 00 00 00 00 00 00 a1 73 a4 61 00 2f 0a
    run mp2json in.mp
    assert_output '{"u":18446744073709551615,"i":-9223372036854775808,"f":0.1,"d":1.0,"s":"a\u0000/\n"}'
}

# An independent reference: Python's msgpack and json modules.
@test "mp2json: reads back with Python's json.loads to the values msgpack.unpackb gives" {
    json2mp "$JSON/plain.jsonl" >in.mp
    mp2json in.mp >out.jsonl
    run /usr/bin/python3 -c '
import json, msgpack, sys
got = [json.loads(l) for l in open(sys.argv[2])]
want = list(msgpack.Unpacker(open(sys.argv[1], "rb")))
sys.exit(got != want or len(got) != 5)' in.mp out.jsonl
    assert_success
}

@test "mp2json: binary data, bad UTF-8, non-string keys and NaN use the JSON forms" {
    # {"b":bin(00 ff),"s":str(ff),"m":{1:nil},"x":nan}
    bytes in.mp 84 a1 62 c4 02 00 ff a1 73 a1 ff a1 6d 81 01 c0 a1 78 cb 7f f8 00 00 00 00 00 00
    run mp2json in.mp
    assert_output '{"b":{"$bin":"AP8="},"s":{"$str":"/w=="},"m":{"$map":[[1,null]]},"x":{"$float":"nan"}}'
    run bash -c "mp2json in.mp | json2mp | cmp - in.mp"
    assert_success
}

@test "mp2json: a jq pipeline" {
    run bash -c "json2mp '$JSON/plain.jsonl' | mp2json | jq -c 'select(.id == 2) | {lang, n: (.text | length)}'"
    assert_success
    assert_output '{"lang":"café 😀 日本","n":42}'
}

@test "mp2json: --pretty indents, and json2mp reads it back" {
    # {"a":[1,{}],"b":"x"}
    bytes in.mp 82 a1 61 92 01 80 a1 62 a1 78
    run mp2json --pretty in.mp
    assert_output '{
  "a": [
    1,
    {}
  ],
  "b": "x"
}'
    run bash -c "mp2json --pretty in.mp | json2mp | cmp - in.mp"
    assert_success
}

@test "mp2json: --tensors shows a dense array's data as numbers" {
    # {"w":{"dtype":"f32","shape":[2],"data":bin(1.5, -2.0)}}
    bytes in.mp 81 a1 77 83 a5 64 74 79 70 65 a3 66 33 32 a5 73 68 61 70 65 91 02 \
        a4 64 61 74 61 c4 08 00 00 c0 3f 00 00 00 c0
    run mp2json --tensors in.mp
    assert_output '{"w":{"dtype":"f32","shape":[2],"data":[1.5,-2.0]}}'
    run mp2json in.mp
    assert_output '{"w":{"dtype":"f32","shape":[2],"data":{"$bin":"AADAPwAAAMA="}}}'
}

@test "mp2json: reads gzip input and writes an output file atomically" {
    json2mp "$JSON/forms.jsonl" | gzip >in.mp.gz
    run mp2json -o out.jsonl in.mp.gz
    assert_success
    run diff out.jsonl "$JSON/forms.jsonl"
    assert_success
    no_temp_files
}

@test "mp2json: empty input writes nothing" {
    run mp2json </dev/null
    assert_success
    assert_output ""
}

@test "mp2json: truncated msgpack exits 65 and leaves no output file" {
    bytes trunc.mp 81 a2 69 64 01 81 a2 69
    run mp2json -o out.jsonl trunc.mp
    assert_failure 65
    assert_output --partial "record 2 (byte 5): truncated"
    [ ! -e out.jsonl ]
    no_temp_files
    bytes int.mp 81 a1 61 01 05
    run mp2json int.mp
    assert_failure 65
    assert_output --partial "record 2: expected a map"
}

@test "mp2json: --help prints usage and exits 0" {
    run mp2json --help
    assert_success
    assert_output --partial "usage: mp2json"
}

@test "mp2json: bad flags exit 64, a missing file 66" {
    run mp2json --bogus
    assert_failure 64
    run mp2json -o
    assert_failure 64
    run mp2json nowhere.mp
    assert_failure 66
    assert_output --partial "nowhere.mp"
}
