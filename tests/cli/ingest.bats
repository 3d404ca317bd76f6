#!/usr/bin/env bats
load helper

DOCS="$FIXTURES/ingest/docs"

# records [FILE]: the stream as one JSON object a line, keys in stream order; bytes that
# are not UTF-8 show as \xNN
records() {
    /usr/bin/python3 -c '
import json, sys, msgpack
f = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
for r in msgpack.Unpacker(f, raw=True):
    print(json.dumps({k.decode(): v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v
                      for k, v in r.items()}, ensure_ascii=False, separators=(",", ":")))
' "$@"
}

@test "ingest: one record per file by default, id the path as given" {
    printf 'hello\n' >a.txt
    printf 'second\nfile' >b.txt
    ingest a.txt b.txt >out.mp
    run records out.mp
    assert_output '{"id":"a.txt","text":"hello\n"}
{"id":"b.txt","text":"second\nfile"}'
}

@test "ingest: --unit para gives paragraphs and the line each starts on" {
    cp "$DOCS/poem.txt" .
    ingest --unit para poem.txt >out.mp
    run records out.mp
    assert_output '{"id":"poem.txt:1","text":"The first paragraph\nruns over two lines."}
{"id":"poem.txt:6","text":"The second one follows blank\nand whitespace-only lines."}
{"id":"poem.txt:9","text":"The third has no final newline."}'
}

@test "ingest: --unit line drops CRLF endings and empty lines" {
    cp "$DOCS/sub/crlf.txt" .
    ingest --unit line crlf.txt >out.mp
    run records out.mp
    assert_output '{"id":"crlf.txt:1","text":"line one"}
{"id":"crlf.txt:2","text":"line two"}
{"id":"crlf.txt:4","text":"line four"}'
    # a whole file keeps its bytes exactly
    ingest crlf.txt >whole.mp
    run records whole.mp
    assert_output '{"id":"crlf.txt","text":"line one\r\nline two\r\n\r\nline four\r\n"}'
}

@test "ingest: tar.gz, tar.xz, zip, 7z and cpio members are ARCHIVE/MEMBER in archive order" {
    tar czf docs.tar.gz -C "$DOCS" poem.txt sub
    tar cJf docs.tar.xz -C "$DOCS" poem.txt sub
    bsdtar --format zip -cf docs.zip -C "$DOCS" poem.txt sub
    bsdtar --format 7zip -cf docs.7z -C "$DOCS" poem.txt sub
    bsdtar --format cpio -cf docs.cpio -C "$DOCS" poem.txt sub
    for a in docs.tar.gz docs.tar.xz docs.zip docs.7z docs.cpio; do
        ingest --unit para "$a" >out.mp
        run records out.mp
        assert_output "{\"id\":\"$a/poem.txt:1\",\"text\":\"The first paragraph\\nruns over two lines.\"}
{\"id\":\"$a/poem.txt:6\",\"text\":\"The second one follows blank\\nand whitespace-only lines.\"}
{\"id\":\"$a/poem.txt:9\",\"text\":\"The third has no final newline.\"}
{\"id\":\"$a/sub/crlf.txt:1\",\"text\":\"line one\\nline two\"}
{\"id\":\"$a/sub/crlf.txt:4\",\"text\":\"line four\"}"
    done
    # the directory entry sub/ gives no record; whole members keep their bytes
    ingest docs.zip >whole.mp
    run records whole.mp
    assert_line --index 1 '{"id":"docs.zip/sub/crlf.txt","text":"line one\r\nline two\r\n\r\nline four\r\n"}'
    assert_equal "${#lines[@]}" 2
}

@test "ingest: member names outside ASCII come out as UTF-8" {
    mkdir -p "tör" && printf 'x\n' >"tör/é.txt"
    tar cf u.tar "tör"
    bsdtar --format zip -cf u.zip "tör"
    bsdtar --format 7zip -cf u.7z "tör"
    LC_ALL=C ingest u.tar u.zip u.7z >out.mp
    run records out.mp
    assert_output '{"id":"u.tar/tör/é.txt","text":"x\n"}
{"id":"u.zip/tör/é.txt","text":"x\n"}
{"id":"u.7z/tör/é.txt","text":"x\n"}'
}

@test "ingest: .gz, .xz and .bz2 files are one member named by the path" {
    printf 'one\ntwo\n' >t.txt
    gzip -k t.txt && xz -k t.txt && bzip2 -k t.txt
    mkdir in && cp t.txt.gz in/
    ingest --unit line t.txt.gz t.txt.xz t.txt.bz2 in/t.txt.gz >out.mp
    run records out.mp
    assert_output '{"id":"t.txt.gz:1","text":"one"}
{"id":"t.txt.gz:2","text":"two"}
{"id":"t.txt.xz:1","text":"one"}
{"id":"t.txt.xz:2","text":"two"}
{"id":"t.txt.bz2:1","text":"one"}
{"id":"t.txt.bz2:2","text":"two"}
{"id":"in/t.txt.gz:1","text":"one"}
{"id":"in/t.txt.gz:2","text":"two"}'
}

@test "ingest: stdin is read with - or no file, archives included" {
    printf 'a\n\nb\n' | ingest --unit para >out.mp
    run records out.mp
    assert_output '{"id":"-:1","text":"a"}
{"id":"-:3","text":"b"}'
    tar czf docs.tgz -C "$DOCS" poem.txt
    ingest - <docs.tgz >out.mp
    records out.mp >out.json
    run cut -c1-19 out.json
    assert_output '{"id":"-/poem.txt",'
}

@test "ingest: text that some archive formats would claim stays text" {
    # libarchive's mtree reader bids on plain text like this, its uu filter decodes the
    # second; both must come through as written
    printf 'hello\n' >plain.txt
    printf '#mtree\n./etc/passwd type=file\n' >mtree.txt
    printf 'begin 644 x\n#:&5L;&\\*\n`\nend\n' >uu.txt
    ingest plain.txt mtree.txt uu.txt >out.mp
    run records out.mp
    assert_output '{"id":"plain.txt","text":"hello\n"}
{"id":"mtree.txt","text":"#mtree\n./etc/passwd type=file\n"}
{"id":"uu.txt","text":"begin 644 x\n#:&5L;&\\*\n`\nend\n"}'
}

@test "ingest: --sep % gives one record per fortune" {
    f=/usr/share/games/fortunes/computers
    [ -r "$f" ] || skip "fortunes not installed"
    # fortunes are separated by lines "%"; the file does not end with one
    seps=$(grep -c '^%$' "$f")
    [ "$(tail -n 1 "$f")" != "%" ]
    ingest --sep % "$f" >out.mp
    records out.mp >out.json
    run wc -l <out.json
    assert_output "$((seps + 1))"
    # the first fortune starts on line 1; no text holds a separator line
    run head -n 1 out.json
    assert_output --partial "{\"id\":\"$f:1\",\"text\":\"$(head -n 1 "$f" | sed 's/\\/\\\\/g')"
    run grep -c -e '"text":"%\\n' -e '\\n%\\n' -e '\\n%"' out.json
    assert_output 0
}

@test "ingest: --min-bytes drops short units; 0 keeps empty ones" {
    printf 'ab\n\nabcd\n%%\n' >t.txt
    ingest --unit line --min-bytes 3 t.txt >out.mp
    run records out.mp
    assert_output '{"id":"t.txt:3","text":"abcd"}'
    ingest --unit line --min-bytes 0 t.txt >out.mp
    run records out.mp
    assert_line --index 1 '{"id":"t.txt:2","text":""}'
    : >empty.txt
    ingest empty.txt >out.mp
    [ ! -s out.mp ]
    ingest --min-bytes 0 empty.txt >out.mp
    run records out.mp
    assert_output '{"id":"empty.txt","text":""}'
}

@test "ingest: bytes that are not UTF-8 pass through unchanged" {
    printf 'caf\xe9 \xff\x00x\n' >latin.txt
    run bash -c "ingest --unit line latin.txt | od -An -tx1 | tr -s ' \n' ' '"
    assert_output " 82 a2 69 64 ab 6c 61 74 69 6e 2e 74 78 74 3a 31 a4 74 65 78 74 a8 63 61 66 e9 20 ff 00 78 "
}

@test "ingest: -o writes atomically, -z compresses" {
    printf 'x\ny\n' >t.txt
    ingest --unit line -z -o out.mp.gz t.txt
    run od -An -tx1 -N2 out.mp.gz
    assert_output " 1f 8b"
    gzip -dc out.mp.gz >out.mp
    run records out.mp
    assert_output '{"id":"t.txt:1","text":"x"}
{"id":"t.txt:2","text":"y"}'
    no_temp_files
}

@test "ingest: --help prints usage and exits 0" {
    run ingest --help
    assert_success
    assert_output --partial "usage: ingest"
}

@test "ingest: bad flags exit 64" {
    run ingest --bogus
    assert_failure 64
    run ingest --unit word x
    assert_failure 64
    assert_output --partial "--unit"
    run ingest --unit line --sep % x
    assert_failure 64
    assert_output --partial "--sep"
    run ingest --min-bytes -1 x
    assert_failure 64
    run ingest --unit
    assert_failure 64
}

@test "ingest: a missing file or a directory exits 66" {
    run ingest nowhere.txt
    assert_failure 66
    assert_output --partial "nowhere.txt: cannot open"
    mkdir dir
    run ingest dir
    assert_failure 66
    assert_output --partial "dir: is a directory"
}

@test "ingest: a truncated gzip or corrupt archive exits 65 naming file and member" {
    seq 1 500000 >big.txt
    gzip -k big.txt
    head -c 500000 big.txt.gz >cut.txt.gz
    run ingest --unit line -o out.mp cut.txt.gz
    assert_failure 65
    assert_output --partial "cut.txt.gz: truncated gzip input"
    [ ! -e out.mp ]

    tar czf docs.tar.gz big.txt
    head -c 500000 docs.tar.gz >cut.tar.gz
    run ingest -o out.mp cut.tar.gz
    assert_failure 65
    assert_output --partial "cut.tar.gz: member big.txt:"

    bsdtar --format zip -cf docs.zip big.txt
    /usr/bin/python3 -c '
import sys; d = bytearray(open("docs.zip", "rb").read()); d[3000] ^= 0xff
open("bad.zip", "wb").write(d)'
    run ingest -o out.mp bad.zip
    assert_failure 65
    assert_output --partial "bad.zip: member big.txt:"

    # a tar whose header is damaged would read as plain bytes: its name says otherwise
    tar cf docs.tar big.txt
    printf 'XXXXXXXX' | dd of=docs.tar bs=1 seek=148 conv=notrunc 2>/dev/null
    run ingest -o out.mp docs.tar
    assert_failure 65
    assert_output --partial "docs.tar: named like an archive"
    [ ! -e out.mp ]
    no_temp_files
}

@test "ingest: inputs come in argument order, each counted from line 1" {
    printf 'a\nb\n' >1.txt
    printf 'c\n' >2.txt
    ingest --unit line 2.txt 1.txt 2.txt >out.mp
    records out.mp >out.json
    run tr -d '\n' <out.json
    assert_output '{"id":"2.txt:1","text":"c"}{"id":"1.txt:1","text":"a"}{"id":"1.txt:2","text":"b"}{"id":"2.txt:1","text":"c"}'
}
