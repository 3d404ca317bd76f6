#!/usr/bin/env bats
load helper

@test "take: passes the first N records after skipping K" {
    # three records {"id":1} {"id":2} {"id":3}
    bytes in.mp 81 a2 69 64 01 81 a2 69 64 02 81 a2 69 64 03
    run bash -c "take -n 2 --skip 1 in.mp | od -An -tx1 | tr -s ' \n' ' '"
    assert_success
    assert_output " 81 a2 69 64 02 81 a2 69 64 03 "
}

@test "take: reads gzip input and writes an output file atomically" {
    bytes in.mp 81 a2 69 64 01 81 a2 69 64 02
    gzip -k in.mp
    run take -n 1 -o out.mp in.mp.gz
    assert_success
    run od -An -tx1 out.mp
    assert_output --partial "81 a2 69 64 01"
    no_temp_files
}

@test "take: concatenated gzip members are one stream; bytes after a member exit 65" {
    bytes a.mp 81 a2 69 64 01
    bytes b.mp 81 a2 69 64 02
    gzip -k a.mp b.mp
    cat a.mp.gz b.mp.gz >ab.mp.gz
    run bash -c "take ab.mp.gz | od -An -tx1 | tr -s ' \n' ' '"
    assert_success
    assert_output " 81 a2 69 64 01 81 a2 69 64 02 "
    { cat a.mp.gz; printf 'junk'; } >junk.mp.gz
    run take junk.mp.gz
    assert_failure 65
    assert_output --partial "junk.mp.gz: bad gzip data: data after the end"
    head -c 12 a.mp.gz >cut.mp.gz
    run take cut.mp.gz
    assert_failure 65
    assert_output --partial "cut.mp.gz: bad gzip data: unexpected end of file"
}

@test "take: a record written to a pipe is passed on before the writer ends" {
    # the writer holds the pipe open for 20 s after its record: take -n 1 must not wait
    # for more input to fill a buffer, plain or gzip
    bytes a.mp 81 a2 69 64 01
    mkfifo p
    for z in cat "gzip -c"; do
        ( $z <a.mp; exec sleep 20 ) >p 3>&- &
        SECONDS=0
        run take -n 1 p
        kill $!
        assert_success
        [ "$SECONDS" -lt 10 ]
        run od -An -tx1 <<<"$output"
        assert_output --partial "81 a2 69 64 01"
    done
}

@test "take: a large record written to a pipe in pieces is passed on once whole" {
    # 3 MB of one record in three writes a second apart, then the writer holds the pipe
    # open: the reader reads on while bytes are ready but decodes before it would wait
    /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(b"\x81\xa1x\xdb" + (3000000).to_bytes(4, "big") + b"y" * 3000000)' >big.mp
    mkfifo p
    ( head -c 1000000 big.mp; sleep 1; tail -c +1000001 big.mp | head -c 1000000; sleep 1
      tail -c +2000001 big.mp; exec sleep 20 ) >p 3>&- &
    SECONDS=0
    take -n 1 p >out.mp
    kill $!
    [ "$SECONDS" -lt 10 ]
    cmp out.mp big.mp
}

@test "take: -n 0 writes nothing; empty input is an empty stream" {
    bytes in.mp 81 a2 69 64 01
    run take -n 0 in.mp
    assert_success
    assert_output ""
    run take </dev/null
    assert_success
    assert_output ""
}

@test "take: --help prints usage and exits 0" {
    run take --help
    assert_success
    assert_output --partial "usage: take"
}

@test "take: bad flags exit 64" {
    run take --bogus
    assert_failure 64
    run take -n -1
    assert_failure 64
    assert_output --partial "--count"
}

@test "take: a missing file exits 66" {
    run take nowhere.mp
    assert_failure 66
    assert_output --partial "nowhere.mp"
}

@test "take: truncated msgpack, a non-map record and a gigabyte length exit 65" {
    bytes trunc.mp 81 a2 69 64 01 81 a2 69
    run take trunc.mp
    assert_failure 65
    assert_output --partial "record 2 (byte 5): truncated"
    bytes int.mp 05
    run take int.mp
    assert_failure 65
    assert_output --partial "record 1: expected a map"
    bytes huge.mp 81 a2 69 64 01 df ff ff ff ff
    run take huge.mp
    assert_failure 65
    bytes hugestr.mp 81 a2 69 64 db ff ff ff f0 61 62
    run take hugestr.mp
    assert_failure 65
    assert_output --partial "truncated"
}

@test "take: a gzip stream cut short exits 65 and leaves no output file" {
    bytes in.mp 81 a2 69 64 01 81 a2 69 64 02
    gzip -c in.mp | head -c 12 >cut.mp.gz
    run take -o out.mp cut.mp.gz
    assert_failure 65
    assert_output --partial "gzip"
    [ ! -e out.mp ]
    no_temp_files
}
