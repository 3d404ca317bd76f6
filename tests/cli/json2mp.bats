#!/usr/bin/env bats
load helper

JSON="$FIXTURES/json"

@test "json2mp: each line becomes a record, in msgpack's shortest encodings" {
    printf '{"id":1,"text":"hi"}\n\n{"n":-1,"f":1.5,"b":true}\n' >in.jsonl
    run bash -c "json2mp in.jsonl | od -An -tx1 | tr -s ' \n' ' '"
    assert_success
    assert_output " 82 a2 69 64 01 a4 74 65 78 74 a2 68 69 83 a1 6e ff a1 66 cb 3f f8 00 00 00 00 00 00 a1 62 c3 "
}

# An independent reference: Python's json and msgpack modules.
@test "json2mp: writes the same bytes as Python's json.loads + msgpack.packb" {
    json2mp "$JSON/plain.jsonl" >out.mp
    run /usr/bin/python3 -c '
import json, msgpack, sys
want = b"".join(msgpack.packb(json.loads(l)) for l in open(sys.argv[1]))
sys.exit(open(sys.argv[2], "rb").read() != want)' "$JSON/plain.jsonl" out.mp
    assert_success
}

@test "json2mp: the JSON forms read back exactly to what mp2json wrote" {
    for f in plain forms; do
        run bash -c "json2mp '$JSON/$f.jsonl' | mp2json | diff - '$JSON/$f.jsonl'"
        assert_success
    done
    # and the values are what the forms say
    run /usr/bin/python3 -c '
import msgpack, sys, math
r = [dict(m) for m in msgpack.Unpacker(open(sys.argv[1], "rb"), raw=True, object_pairs_hook=list,
                                              strict_map_key=False)]
assert r[0][b"bin"] == b"\x00\x01\x02\xff" and r[0][b"raw"] == b"\xffab"
assert r[0][b"ext"] == msgpack.Timestamp(0x65a64500, 0)  # ext type -1
assert math.isinf(r[1][b"ninf"]) and r[1][b"ninf"] < 0 and math.isnan(r[1][b"nan"])
assert r[2][b"intkeys"] == [(1, b"one"), ([2], b"two"), (None, b"\0")]
assert r[2][b"lookalike"] == [(b"$bin", b"not base64")]
assert list(r[3]) == [b"id", b"\xc0\x80"]' <(json2mp "$JSON/forms.jsonl")
    assert_success
}

@test "json2mp: reads pretty-printed objects and gzip input" {
    jq . "$JSON/forms.jsonl" | gzip >pretty.json.gz
    run bash -c "json2mp pretty.json.gz | mp2json | diff - '$JSON/forms.jsonl'"
    assert_success
}

@test "json2mp: -z compresses, -o writes a file" {
    json2mp -z -o out.mp.gz "$JSON/plain.jsonl"
    run bash -c "gzip -dc out.mp.gz | mp2json | diff - '$JSON/plain.jsonl'"
    assert_success
    no_temp_files
}

@test "json2mp: --f32 stores floats as float32" {
    printf '{"x":0.1,"big":1e300}\n' >in.jsonl
    run bash -c "json2mp --f32 in.jsonl | od -An -tx1 | tr -s ' \n' ' '"
    assert_output " 82 a1 78 ca 3d cc cc cd a3 62 69 67 cb 7e 37 e4 3c 88 00 75 9c "
    run bash -c "json2mp --f32 in.jsonl | mp2json"
    assert_output '{"x":0.1,"big":1e+300}'
}

@test "json2mp: empty input is an empty stream" {
    run bash -c "printf '\n  \n' | json2mp | wc -c"
    assert_success
    assert_output "0"
}

@test "json2mp: a syntax error names its line and column" {
    printf '{"a":1}\n{"a":2}\n{"a":3,,}\n' >bad.jsonl
    run json2mp bad.jsonl
    assert_failure 65
    assert_output "json2mp: bad.jsonl: line 3, column 8: parse error: invalid object key (must be a string)"
}

@test "json2mp: a line that is not an object exits 65" {
    printf '{"a":1}\n[1,2]\n' >arr.jsonl
    run json2mp arr.jsonl
    assert_failure 65
    assert_output "json2mp: arr.jsonl: line 2, column 1: expected an object, found an array"
    printf '{"a":1}\n"text"\n' >str.jsonl
    run json2mp str.jsonl
    assert_failure 65
    assert_output --partial "line 2, column 6: expected an object, found a string"
}

@test "json2mp: integers out of range and bad forms exit 65" {
    printf '{"a":99999999999999999999999}\n' >int.jsonl
    run json2mp int.jsonl
    assert_failure 65
    assert_output "json2mp: int.jsonl: line 1, column 6: integer 99999999999999999999999 is out of range"
    printf '{"a":1e400}\n' >float.jsonl
    run json2mp float.jsonl
    assert_failure 65
    assert_output --partial "line 1, column 6: 1e400 is out of range for a float"
    printf '{}\n{"a":{"$bin":"not base64"}}\n' >bin.jsonl
    run json2mp bin.jsonl
    assert_failure 65
    assert_output --partial "line 2, column 26: \"\$bin\" must be a base64 string"
}

@test "json2mp: a failed run leaves no output file" {
    printf '{"a":1}\n{"a":2}\n{"a":\n' >cut.jsonl
    run json2mp -o out.mp cut.jsonl
    assert_failure 65
    assert_output --partial "line 4, column 1: parse error: premature EOF"
    [ ! -e out.mp ]
    no_temp_files
}

@test "json2mp: --help prints usage and exits 0" {
    run json2mp --help
    assert_success
    assert_output --partial "usage: json2mp"
}

@test "json2mp: bad flags exit 64, a missing file 66" {
    run json2mp --bogus
    assert_failure 64
    run json2mp a.json b.json
    assert_failure 64
    run json2mp nowhere.json
    assert_failure 66
    assert_output --partial "nowhere.json"
}
