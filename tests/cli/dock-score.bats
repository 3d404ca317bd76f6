#!/usr/bin/env bats
load helper

REF="$ROOT/tests/ref/vina"
BOX=15.190,53.903,16.917,26,26,26

# tomp: JSON lines on stdin to msgpack records; tojson: the reverse
tomp() { /usr/bin/python3 -c 'import sys,json,msgpack
for l in sys.stdin: sys.stdout.buffer.write(msgpack.packb(json.loads(l)))'; }
tojson() { /usr/bin/python3 -c 'import sys,json,msgpack
for o in msgpack.Unpacker(sys.stdin.buffer, raw=False): print(json.dumps(o, sort_keys=True, default=lambda b: b.hex()))'; }

@test "dock-score: PDBQT poses score as vina --score_only printed them" {
    run bash -c "dock-score -t -r '$REF/1iep_pocket.pdbqt' '$REF/poses_1iep.pdbqt' | sed -n '2p;11p;42p'"
    assert_success
    # expected.tsv rows 1, 10 and 41: vina's totals -12.513, 7.145 and a clash
    assert_line --index 0 --partial "poses_1iep.pdbqt:1	-12.513	-17.634	-0.485	5.121	7.0"
    assert_line --index 1 --partial "poses_1iep.pdbqt:10	7.145"
    want=$(awk -F'\t' '$1=="1iep" && $2==41 {print $3}' "$REF/expected.tsv")
    assert_line --index 2 --partial "poses_1iep.pdbqt:41	$want	"
}

@test "dock-score: an SDF ligand and a PDB receptor give the PDBQT numbers" {
    # vina on Meeko's PDBQT of this ligand and the PDBQT receptor: -12.513
    run dock-score -t -r "$REF/1iep_pocketH.pdb" "$REF/1iep_ligand.sdf"
    assert_success
    assert_line --index 1 --partial "	-12.513	-17.634	-0.485	5.121	7.0"
}

@test "dock-score: records with pdbqt, molfile and smiles keep their other keys" {
    pose=$(awk '/^MODEL 1$/{f=1;next} /^ENDMDL/{if(f)exit} f' "$REF/poses_1iep.pdbqt")
    /usr/bin/python3 - "$REF/1iep_ligand.sdf" <<PY >in.jsonl
import json, sys
pose = open("/dev/stdin").read() if False else """$pose"""
print(json.dumps({"id": 1, "pdbqt": pose}))
print(json.dumps({"id": 2, "molfile": open(sys.argv[1]).read()}))
PY
    tomp <in.jsonl >in.mp
    dock-score -r "$REF/1iep_pocket.pdbqt" <in.mp >out.mp
    run tojson <out.mp
    assert_success
    assert_line --index 0 --regexp '"id": 1,.*"inter": -17.63.*"score": -12.513.*"valid": true'
    assert_line --index 1 --regexp '"id": 2,.*"score": -12.513.*"valid": true'
}

@test "dock-score: --box rejects a pose outside it, --keep-going marks it and goes on" {
    run dock-score -t --box 0,0,0,10,10,10 -r "$REF/1iep_pocket.pdbqt" "$REF/1iep_ligand.sdf"
    assert_failure 65
    assert_output --partial "1iep_ligand.sdf:1: atom 1 at (11.879, 62.272, 12.570) is outside the box"
    run dock-score -k --box 0,0,0,10,10,10 -r "$REF/1iep_pocket.pdbqt" "$REF/1iep_ligand.sdf" "$REF/poses_deb.pdbqt"
    assert_success
    dock-score -k --box $BOX -r "$REF/1iep_pocket.pdbqt" "$REF/1iep_ligand.sdf" >out.mp
    run tojson <out.mp
    assert_output --partial '"valid": true'
}

@test "dock-score: --minimize ends near vina --local_only and returns the pose" {
    # vina --local_only on model 10 of poses_1iep.pdbqt: -11.995 kcal/mol
    awk '/^MODEL 10$/{f=1;next} /^ENDMDL/{if(f)exit} f' "$REF/poses_1iep.pdbqt" >p10.pdbqt
    dock-score -m --box $BOX -r "$REF/1iep_pocket.pdbqt" p10.pdbqt >out.mp
    run tojson <out.mp
    assert_success
    score=$(echo "$output" | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["score"])')
    /usr/bin/python3 -c "import sys; sys.exit(abs($score - (-11.995)) > 0.3)"
    assert_output --partial '"pdbqt": "ROOT'
    assert_output --partial 'TORSDOF 7'
}

@test "dock-score: malformed PDBQT names file and line, exits 65" {
    printf 'ROOT\nATOM      1  C   UNL     1       1.000   2.0\nENDROOT\nTORSDOF 0\n' >bad.pdbqt
    run dock-score -r "$REF/1iep_pocket.pdbqt" bad.pdbqt
    assert_failure 65
    assert_output --partial "bad.pdbqt: line 2: atom record too short"
    printf 'ROOT\nATOM      1  C   UNL     1       1.000   2.000   3.000  1.00  0.00     0.000 C \nATOM      2  C   UNL     1       1.000   2.000   3.000  1.00  0.00     0.000 C \nENDROOT\nTORSDOF 0\n' >twin.pdbqt
    run dock-score -r "$REF/1iep_pocket.pdbqt" twin.pdbqt
    assert_failure 65
    assert_output --partial "twin.pdbqt:1: atoms 1 (line 2) and 2 (line 3) at the same position"
}

@test "dock-score: bad records fail, or are marked invalid with --keep-going" {
    printf '%s\n' '{"smiles":"C1CC","coords":[[0,0,0],[1.5,0,0],[3,0,0]]}' '{"name":"x"}' \
        '{"smiles":"CCO","coords":[[0,0,0],[1.5,0,0]]}' | tomp >in.mp
    run dock-score -r "$REF/1iep_pocket.pdbqt" <in.mp
    assert_failure 65
    assert_output --partial "record 1: smiles: offset 2: ring 1 not closed"
    dock-score -k -r "$REF/1iep_pocket.pdbqt" <in.mp >out.mp
    run tojson <out.mp
    assert_success
    assert_line --index 0 --partial '"error": "smiles: offset 2: ring 1 not closed"'
    assert_line --index 1 --partial 'no \"pdbqt\", \"molfile\" or \"smiles\" key'
    assert_line --index 2 --partial '"error": "coords: 2 positions for 3 atoms"'
}

@test "dock-score: SMILES with coordinates is prepared and scored" {
    # ethanol placed in the pocket, heavy atoms only: hydrogens are added
    printf '%s\n' '{"smiles":"CCO","coords":[[15.0,53.9,16.9],[16.5,53.9,16.9],[17.0,55.3,16.9]]}' | tomp >in.mp
    dock-score -r "$REF/1iep_pocket.pdbqt" <in.mp >out.mp
    run tojson <out.mp
    assert_success
    assert_output --regexp '"n_rot": 0.5.*"valid": true'
    score=$(echo "$output" | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["score"])')
    # the same positions as an f32 (3, 3) tensor give the same score
    /usr/bin/python3 -c 'import struct, sys, msgpack
xyz = [15.0, 53.9, 16.9, 16.5, 53.9, 16.9, 17.0, 55.3, 16.9]
t = {"dtype": "f32", "shape": [3, 3], "data": struct.pack("<9f", *xyz)}
sys.stdout.buffer.write(msgpack.packb({"smiles": "CCO", "coords": t}))' >t.mp
    dock-score -r "$REF/1iep_pocket.pdbqt" <t.mp >t_out.mp
    run tojson <t_out.mp
    assert_output --partial '"valid": true'
    score_t=$(echo "$output" | /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["score"])')
    /usr/bin/python3 -c "import sys; sys.exit(abs($score - $score_t) > 1e-3)"
}

@test "dock-score: usage errors exit 64, a missing receptor 66" {
    run dock-score
    assert_failure 64
    assert_output --partial "receptor is required"
    run dock-score -r r.pdbqt --box 1,2,3 x.pdbqt
    assert_failure 64
    run dock-score -r nowhere.pdbqt x.pdbqt
    assert_failure 66
    run dock-score --help
    assert_success
    assert_output --partial "usage: dock-score"
}
