#!/usr/bin/env bats
load helper

# docs N FILE [FIRST]: N records {"id": "doc-K", "n": K} for K = FIRST.. (default 0)
docs() {
    /usr/bin/python3 -c '
import sys, msgpack
n, first = int(sys.argv[1]), int(sys.argv[3]) if len(sys.argv) > 3 else 0
with open(sys.argv[2], "wb") as f:
    for k in range(first, first + n):
        f.write(msgpack.packb({"id": "doc-%d" % k, "n": k}))
' "$@"
}

# splits FILE: "ID SPLIT" a line, in stream order
splits() {
    /usr/bin/python3 -c '
import sys, msgpack
for r in msgpack.Unpacker(open(sys.argv[1], "rb")):
    print(r.get("id"), r["split"])
' "$1"
}

@test "holdout: adds split as the last key, replacing one already there, keeping the rest" {
    # {"id":"a","split":"old","n":1}
    bytes in.mp 83 a2 69 64 a1 61 a5 73 70 6c 69 74 a3 6f 6c 64 a1 6e 01
    run bash -c "holdout in.mp | od -An -tx1 | tr -s ' \n' ' '"
    # {"id":"a","n":1,"split":"train"}
    assert_output " 83 a2 69 64 a1 61 a1 6e 01 a5 73 70 6c 69 74 a5 74 72 61 69 6e "
}

# The mapping is a contract (holdout(1)): check it against a separate implementation of
# hash64 (FNV-1a, then the splitmix64 finalizer) and the documented thresholds.
@test "holdout: splits match the documented hash mapping" {
    docs 3000 in.mp
    holdout --valid 0.2 --test 0.1 in.mp >a.mp
    holdout --valid 0.3 --test 0.25 --salt 12345 in.mp >b.mp
    splits a.mp >a.txt
    splits b.mp >b.txt
    run /usr/bin/python3 -c '
M = (1 << 64) - 1
def mix64(x):
    x ^= x >> 30; x = x * 0xbf58476d1ce4e5b9 & M
    x ^= x >> 27; x = x * 0x94d049bb133111eb & M
    return x ^ x >> 31
def hash64(data, seed):
    h = 0xcbf29ce484222325 ^ mix64(seed)
    for b in data:
        h = (h ^ b) * 0x100000001b3 & M
    return mix64(h ^ len(data))
def split(id, salt, valid, test):
    u = (hash64(id.encode(), salt) >> 11) * 2.0 ** -53
    return "test" if u < test else "valid" if u < test + valid else "train"
bad = 0
for name, salt, valid, test in (("a.txt", 0, 0.2, 0.1), ("b.txt", 12345, 0.3, 0.25)):
    for line in open(name):
        id, got = line.split()
        bad += got != split(id, salt, valid, test)
print(bad)
'
    assert_output 0
}

# 10,000 records: the count in a split of fraction p is binomial with sd sqrt(n p (1-p));
# allow 5 sd (valid 0.1: 1000 +- 150; test 0.2: 2000 +- 200).
@test "holdout: split sizes are near the requested fractions" {
    docs 10000 in.mp
    holdout --valid 0.1 --test 0.2 in.mp >out.mp
    splits out.mp | awk '{print $2}' | sort | uniq -c >counts.txt
    valid=$(awk '$2 == "valid" {print $1}' counts.txt)
    test=$(awk '$2 == "test" {print $1}' counts.txt)
    train=$(awk '$2 == "train" {print $1}' counts.txt)
    [ "$((valid + test + train))" -eq 10000 ]
    [ "$valid" -gt 850 ] && [ "$valid" -lt 1150 ]
    [ "$test" -gt 1800 ] && [ "$test" -lt 2200 ]
    # the defaults are 0.05 and 0.05: 500 +- 109 each
    holdout in.mp >def.mp
    splits def.mp >def.txt
    run grep -c ' valid$' def.txt
    [ "$output" -gt 391 ] && [ "$output" -lt 609 ]
}

@test "holdout: an id keeps its split when records are reordered or added" {
    docs 2000 in.mp
    holdout in.mp >a.mp
    splits a.mp | sort >a.txt
    # half of them again, in reverse order, among 2000 new ones
    docs 3000 more.mp 1000
    /usr/bin/python3 -c '
import msgpack
rs = list(msgpack.Unpacker(open("more.mp", "rb")))
open("reversed.mp", "wb").write(b"".join(msgpack.packb(r) for r in reversed(rs)))
'
    holdout reversed.mp >b.mp
    splits b.mp | sort >b.txt
    join a.txt b.txt | awk '$2 != $3' >changed.txt
    [ ! -s changed.txt ]
    [ "$(join a.txt b.txt | wc -l)" -eq 1000 ]
}

@test "holdout: integer ids are hashed by their decimal text" {
    /usr/bin/python3 -c '
import msgpack
with open("int.mp", "wb") as f, open("str.mp", "wb") as g:
    for k in list(range(-500, 500)) + [2**64 - 1, -2**63]:
        f.write(msgpack.packb({"id": k}))
        g.write(msgpack.packb({"id": str(k)}))
'
    holdout --valid 0.3 --test 0.3 int.mp >a.mp
    holdout --valid 0.3 --test 0.3 str.mp >b.mp
    splits a.mp >a.txt
    splits b.mp >b.txt
    cmp a.txt b.txt
    [ "$(awk '{print $2}' a.txt | sort -u | wc -l)" -eq 3 ]
}

@test "holdout: --salt changes the assignment, deterministically" {
    docs 1000 in.mp
    holdout --salt 1 in.mp >a.mp
    holdout --salt 1 in.mp >b.mp
    holdout --salt 2 in.mp >c.mp
    cmp a.mp b.mp
    ! cmp -s a.mp c.mp
}

@test "holdout: --keep writes only that split, as the full output marks it" {
    docs 2000 in.mp
    holdout --valid 0.2 in.mp >all.mp
    holdout --valid 0.2 --keep valid in.mp >valid.mp
    splits all.mp | grep ' valid$' >want.txt
    splits valid.mp >got.txt
    cmp want.txt got.txt
    [ -s got.txt ]
}

@test "holdout: --key hashes another key; 0 and 1 fractions are exact" {
    # {"id":1.5,"doc":"x"}: the float id is not read when --key names another key
    bytes in.mp 82 a2 69 64 cb 3f f8 00 00 00 00 00 00 a3 64 6f 63 a1 78
    run holdout --key doc in.mp
    assert_success
    docs 500 d.mp
    holdout --valid 0 --test 0 d.mp >a.mp
    [ "$(splits a.mp | grep -vc ' train$')" -eq 0 ]
    holdout --valid 0 --test 1 d.mp >b.mp
    [ "$(splits b.mp | grep -vc ' test$')" -eq 0 ]
    holdout --valid 0.7 --test 0.3 d.mp >c.mp
    [ "$(splits c.mp | grep -c ' train$')" -eq 0 ]
}

@test "holdout: a missing id or an id of the wrong type exits 65 naming the record" {
    docs 3 in.mp
    cat in.mp >noid.mp
    bytes x.mp 81 a1 6e 01   # {"n":1}
    cat x.mp >>noid.mp
    run holdout -o out.mp noid.mp
    assert_failure 65
    assert_output --partial 'noid.mp: record 4: key "id" is missing'
    [ ! -e out.mp ]
    bytes f.mp 81 a2 69 64 cb 3f f8 00 00 00 00 00 00   # {"id":1.5}
    run holdout f.mp
    assert_failure 65
    assert_output --partial 'record 1: key "id": expected a string or an integer, found a float'
    bytes b.mp 81 a2 69 64 c4 01 00                      # {"id":bin}
    run holdout b.mp
    assert_failure 65
    bytes n.mp 05
    run holdout -o out.mp n.mp
    assert_failure 65
    assert_output --partial "expected a map"
    [ ! -e out.mp ]
    no_temp_files
}

@test "holdout: --help prints usage and exits 0" {
    run holdout --help
    assert_success
    assert_output --partial "usage: holdout"
}

@test "holdout: bad flags and fractions exit 64" {
    run holdout --bogus
    assert_failure 64
    run holdout --valid 1.5
    assert_failure 64
    assert_output --partial "--valid"
    run holdout --test -0.1
    assert_failure 64
    run holdout --valid 0.6 --test 0.5
    assert_failure 64
    assert_output --partial "more than 1"
    run holdout --keep dev
    assert_failure 64
    assert_output --partial "--keep"
    run holdout --salt x
    assert_failure 64
}

@test "holdout: a missing file exits 66" {
    run holdout nowhere.mp
    assert_failure 66
    assert_output --partial "nowhere.mp"
}
