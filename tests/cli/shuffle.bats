#!/usr/bin/env bats
load helper

# numbered N FILE: N records {"i": k, "s": ..., "m": {"b": <bin>}} for k = 0..N-1: a
# nested map and binary data, so that more than flat values have to survive the trip
numbered() {
    /usr/bin/python3 -c '
import sys, msgpack
with open(sys.argv[2], "wb") as f:
    for k in range(int(sys.argv[1])):
        f.write(msgpack.packb({"i": k, "s": "r%d" % (k % 7), "m": {"b": bytes([k % 256])}}))
' "$1" "$2"
}

# order FILE: the "i" of each record, one a line
order() {
    /usr/bin/python3 -c '
import sys, msgpack
for r in msgpack.Unpacker(open(sys.argv[1], "rb")):
    print(r["i"])
' "$1"
}

@test "shuffle: the output is a permutation of the input, records unchanged" {
    numbered 1000 in.mp
    shuffle --seed 3 in.mp >out.mp
    # same bytes per record, different order
    /usr/bin/python3 -c '
import sys, msgpack
a = [msgpack.packb(r) for r in msgpack.Unpacker(open("in.mp", "rb"))]
b = [msgpack.packb(r) for r in msgpack.Unpacker(open("out.mp", "rb"))]
assert sorted(a) == sorted(b), "not a permutation"
assert a != b, "not shuffled"
'
    [ "$(stat -c %s in.mp)" = "$(stat -c %s out.mp)" ]
}

@test "shuffle: the same seed gives the same bytes, another seed another order" {
    numbered 500 in.mp
    shuffle --seed 7 in.mp >a.mp
    shuffle --seed 7 <in.mp >b.mp
    shuffle --seed 8 in.mp >c.mp
    shuffle in.mp >d.mp
    shuffle --seed 0 in.mp >e.mp
    cmp a.mp b.mp
    ! cmp -s a.mp c.mp
    cmp d.mp e.mp   # the default seed is 0
}

# For a uniform permutation an input position tells nothing about the output position.
# Cross-tabulate the deciles of both over 100,000 records: chi-square with 81 degrees of
# freedom has mean 81, sd 12.7; 150 is beyond 5 sd (p < 1e-7 for a correct shuffle).
@test "shuffle: output position is independent of input position (chi-square)" {
    numbered 100000 in.mp
    shuffle --seed 1 in.mp >out.mp
    order out.mp >order.txt
    run /usr/bin/python3 -c '
n = 100000
t = [[0] * 10 for _ in range(10)]
for pos, line in enumerate(open("order.txt")):
    t[int(line) * 10 // n][pos * 10 // n] += 1
e = n / 100
print(round(sum((c - e) ** 2 / e for row in t for c in row)))
'
    [ "$output" -lt 150 ]
}

# 100,000 records of about 20 bytes pass through the window: the arena of held records
# is compacted several times on the way.
@test "shuffle: --window moves no record earlier than N-1 places, and is local" {
    numbered 100000 in.mp
    shuffle --seed 2 --window 100 in.mp >out.mp
    order out.mp >order.txt
    run /usr/bin/python3 -c '
order = [int(l) for l in open("order.txt")]
assert sorted(order) == list(range(100000)), "not a permutation"
assert all(pos >= i - 99 for pos, i in enumerate(order)), "a record came out too early"
assert order != sorted(order), "not shuffled"
late = sum(pos - i > 5000 for pos, i in enumerate(order))
print(late)
'
    assert_success
    assert_output 0
}

@test "shuffle: --window on a stream that fits is the full shuffle" {
    numbered 300 in.mp
    shuffle --seed 5 in.mp >full.mp
    shuffle --seed 5 --window 300 in.mp >w300.mp
    shuffle --seed 5 --window 100000 in.mp >wbig.mp
    cmp full.mp w300.mp
    cmp full.mp wbig.mp
    shuffle --seed 5 --window 299 in.mp >w299.mp
    ! cmp -s full.mp w299.mp
}

@test "shuffle: gzip in, -z and -o out, empty in gives empty out" {
    numbered 100 in.mp
    gzip -k in.mp
    shuffle --seed 4 in.mp >plain.mp
    shuffle --seed 4 -z -o out.mp.gz in.mp.gz
    gzip -dc out.mp.gz | cmp - plain.mp
    no_temp_files
    run shuffle </dev/null
    assert_success
    assert_output ""
}

@test "shuffle: --help prints usage and exits 0" {
    run shuffle --help
    assert_success
    assert_output --partial "usage: shuffle"
}

@test "shuffle: bad flags exit 64" {
    run shuffle --bogus
    assert_failure 64
    run shuffle --seed x
    assert_failure 64
    assert_output --partial "--seed"
    run shuffle --window 0
    assert_failure 64
    assert_output --partial "--window"
    run shuffle a b
    assert_failure 64
}

@test "shuffle: a missing file exits 66" {
    run shuffle nowhere.mp
    assert_failure 66
    assert_output --partial "nowhere.mp"
}

@test "shuffle: bad records exit 65 and leave no output file" {
    numbered 10 in.mp
    cat in.mp >bad.mp
    bytes int.mp 05
    cat int.mp >>bad.mp
    run shuffle -o out.mp bad.mp
    assert_failure 65
    assert_output --partial "bad.mp: record 11: expected a map"
    [ ! -e out.mp ]
    head -c 30 in.mp >cut.mp
    run shuffle --window 2 -o out.mp cut.mp
    assert_failure 65
    assert_output --partial "truncated"
    [ ! -e out.mp ]
    no_temp_files
}
