#!/usr/bin/env bats
load helper

tomp() { /usr/bin/python3 -c 'import sys,json,msgpack
for l in sys.stdin: sys.stdout.buffer.write(msgpack.packb(json.loads(l)))'; }
tojson() { /usr/bin/python3 -c 'import sys,json,msgpack
for o in msgpack.Unpacker(sys.stdin.buffer, raw=False): print(json.dumps(o, sort_keys=True, default=lambda b: b.hex()))'; }

@test "mol-check: adds validity, canonical SMILES and descriptors, keeping other keys" {
    printf '%s\n' '{"id":1,"smiles":"OCC"}' '{"id":2,"smiles":"C1=CC=CC=C1"}' \
        '{"id":3,"smiles":"CC(=O)Nc1ccc(O)cc1"}' | tomp >in.mp
    mol-check in.mp >out.mp
    run tojson <out.mp
    assert_success
    assert_line --index 0 --partial '"canonical": "CCO", "hba": 1, "hbd": 1, "heavy_atoms": 3, "id": 1'
    assert_line --index 1 --partial '"canonical": "c1ccccc1"'
    # paracetamol as RDKit counts it: 11 heavy atoms, 1 rotatable bond, 1 ring, MW 151.165
    assert_line --index 2 --regexp '"heavy_atoms": 11, .*"mw": 151.16[0-9]*, .*"rings": 1, .*"rotatable_bonds": 1, .*"valid": true'
}

@test "mol-check: invalid SMILES say why; the summary counts validity and uniqueness" {
    printf 'CCO\nOCC ethanol\nc1cccc1\nC1CC\nc1ccccc1\n' >in.smi
    mol-check -l in.smi >out.mp
    run tojson <out.mp
    assert_line --index 2 --partial '"error": "cannot kekulize the aromatic system at atom 1 (C)"'
    assert_line --index 3 --partial '"error": "offset 2: ring 1 not closed"'
    mol-check -l -s in.smi >sum.mp
    run tojson <sum.mp
    assert_output '{"n": 5, "unique": 2, "uniqueness": 0.6666666666666666, "valid": 3, "validity": 0.6}'
}

@test "mol-check: agrees with RDKit on the committed sample" {
    cut -f1 "$ROOT/tests/ref/smiles/sample.tsv" >in.smi
    mol-check -l in.smi >out.mp
    run bash -c "cut -f2 '$ROOT/tests/ref/smiles/sample.tsv' | tr -d '\n'"
    want=$output
    run bash -c "/usr/bin/python3 -c 'import sys,msgpack
print(\"\".join(\"1\" if o[\"valid\"] else \"0\" for o in msgpack.Unpacker(sys.stdin.buffer, raw=False)))' <out.mp"
    assert_output "$want"
}

@test "mol-check: a record without the key exits 65; bad flags 64" {
    printf '%s\n' '{"text":"CCO"}' | tomp >in.mp
    run mol-check in.mp
    assert_failure 65
    assert_output --partial 'key "smiles" is missing'
    run mol-check --bogus
    assert_failure 64
    run mol-check -k text in.mp
    assert_success
}
