#!/bin/bash
# Docking and molecules: dock-score against AutoDock Vina 1.2.3 (Debian's autodock-vina)
# on the 1IEP tutorial complex (c-Abl kinase with imatinib, DATA/docking/vina_1iep), and
# mol-check against RDKit (python3-rdkit) on the ZINC250k and Lipophilicity SMILES.
#   dock_score_poses_per_s     1,000 poses (the crystal and docked poses moved by up to
#                              0.5 A and 0.3 rad) scored from one stream, receptor read
#                              once; peer: vina --score_only run per pose, start-up
#                              included (20 poses)
#   dock_score_max_abs_error   largest |score - vina's printed score| over those 20 poses
#   dock_minimize_poses_per_s  --minimize in a 26 A box at the tutorial centre (grid maps
#                              built once);
#                              peer: vina --local_only per pose (10 poses)
#   dock_minimize_max_abs_diff largest |optimized score - vina --local_only's| on them
#   smiles_valid_per_s         SMILES checked per second (validity, canonical SMILES and
#                              descriptors); peer: RDKit's MolFromSmiles alone
#   smiles_rdkit_disagreements SMILES whose validity differs from RDKit's (of 9,200)
# DATA defaults to ../shared/data beside the checkout.
given_tmp=${BENCH_TMP:-}
source "$(dirname "$0")/lib.bash"
[ -n "$given_tmp" ] || trap 'rm -rf "$BENCH_TMP"' EXIT
DATA=${DATA:-$ROOT/../shared/data}
dir=$BENCH_TMP/dock
mkdir -p "$dir/single"
if [ ! -d "$DATA/docking/vina_1iep" ]; then
    echo "# dock: $DATA/docking/vina_1iep is missing (set DATA): skipped"
    exit 0
fi
rec=$DATA/docking/vina_1iep/1iep_receptor.pdbqt
box="--center_x 15.190 --center_y 53.903 --center_z 16.917 --size_x 26 --size_y 26 --size_z 26"
rbox=15.190,53.903,16.917,26,26,26

/usr/bin/python3 - "$DATA/docking/vina_1iep" "$dir" <<'PY'
import math, os, random, sys
src, out = sys.argv[1], sys.argv[2]
rng = random.Random(1)
def models(path):
    cur, res = None, []
    for l in open(path).read().splitlines():
        if l.startswith("MODEL"): cur = []
        elif l.startswith("ENDMDL"): res.append(cur); cur = None
        elif cur is not None and not l.startswith("REMARK"): cur.append(l)
    return res
bases = [open(os.path.join(src, "1iep_ligand.pdbqt")).read().splitlines()]
bases += models(os.path.join(src, "1iep_ligand_vina_out.pdbqt"))
def moved(lines):
    rows = [i for i, l in enumerate(lines) if l.startswith(("ATOM", "HETATM"))]
    xyz = [[float(lines[i][30 + 8 * k:38 + 8 * k]) for k in range(3)] for i in rows]
    c = [sum(p[k] for p in xyz) / len(xyz) for k in range(3)]
    ax = [rng.gauss(0, 1) for _ in range(3)]; n = math.sqrt(sum(a * a for a in ax)); ax = [a / n for a in ax]
    t = rng.uniform(-0.3, 0.3); s, co = math.sin(t), math.cos(t)
    sh = [rng.uniform(-0.5, 0.5) for _ in range(3)]
    new = list(lines)
    for i, p in zip(rows, xyz):
        v = [p[k] - c[k] for k in range(3)]
        cr = [ax[1] * v[2] - ax[2] * v[1], ax[2] * v[0] - ax[0] * v[2], ax[0] * v[1] - ax[1] * v[0]]
        d = sum(ax[k] * v[k] for k in range(3))
        r = [v[k] * co + cr[k] * s + ax[k] * d * (1 - co) + c[k] + sh[k] for k in range(3)]
        new[i] = lines[i][:30] + "".join("%8.3f" % x for x in r) + lines[i][54:]
    return new
with open(os.path.join(out, "poses.pdbqt"), "w") as f:
    for n in range(1000):
        p = bases[n % len(bases)] if n < len(bases) else moved(bases[n % len(bases)])
        f.write("MODEL %d\n%s\nENDMDL\n" % (n + 1, "\n".join(l for l in p if not l.startswith(("MODEL", "ENDMDL")))))
        if n < 20:
            open(os.path.join(out, "single", "%02d.pdbqt" % n), "w").write("\n".join(p) + "\n")
PY

rate() { awk -v n="$1" -v t="$2" 'BEGIN {printf "%.1f", n / t}'; }
t_score=$(median_seconds 3 "dock-score -t -r $rec $dir/poses.pdbqt")
t_min=$(median_seconds 3 "dock-score -t -m --box $rbox -r $rec $dir/single/0*.pdbqt")
dock-score -t -r "$rec" "$dir"/single/*.pdbqt | tail -n +2 | cut -f2 >"$dir/ours.txt"
dock-score -t -m --box "$rbox" -r "$rec" "$dir"/single/0*.pdbqt | tail -n +2 | cut -f2 >"$dir/ours_min.txt"
p_score=- p_min=- err=- err_min=-
if command -v vina >/dev/null; then
    # shellcheck disable=SC2086
    t_vina=$(median_seconds 1 "for f in $dir/single/*.pdbqt; do vina --receptor $rec --ligand \$f --score_only $box; done")
    # shellcheck disable=SC2086
    t_vina_min=$(median_seconds 1 "for f in $dir/single/0*.pdbqt; do vina --receptor $rec --ligand \$f --local_only $box --out $dir/out.pdbqt; done")
    p_score=$(rate 20 "$t_vina") p_min=$(rate 10 "$t_vina_min")
    for f in "$dir"/single/*.pdbqt; do
        # shellcheck disable=SC2086
        vina --receptor "$rec" --ligand "$f" --score_only $box | awk -F: '/Estimated Free/ {split($2, a, " "); print a[1]}'
    done >"$dir/vina.txt"
    for f in "$dir"/single/0*.pdbqt; do
        # shellcheck disable=SC2086
        vina --receptor "$rec" --ligand "$f" --local_only $box --out "$dir/out.pdbqt" | awk -F: '/Estimated Free/ {split($2, a, " "); print a[1]}'
    done >"$dir/vina_min.txt"
    maxdiff() { paste "$1" "$2" | awk '{d = $1 - $2; d = d < 0 ? -d : d; m = d > m ? d : m} END {printf "%.4f", m}'; }
    err=$(maxdiff "$dir/ours.txt" "$dir/vina.txt")
    err_min=$(maxdiff "$dir/ours_min.txt" "$dir/vina_min.txt")
else
    echo "# vina is not installed (Debian package autodock-vina): no peer figures"
fi
figure dock_score_poses_per_s poses/s "$(rate 1000 "$t_score")" "$p_score"
figure dock_score_max_abs_error kcal/mol "$err" -
figure dock_minimize_poses_per_s poses/s "$(rate 10 "$t_min")" "$p_min"
figure dock_minimize_max_abs_diff kcal/mol "$err_min" -

mol=$DATA/molecules
if [ -f "$mol/zinc250k_jtvae/test.txt" ] && [ -f "$mol/lipophilicity/lipo.csv" ]; then
    { cat "$mol/zinc250k_jtvae/test.txt"; tail -n +2 "$mol/lipophilicity/lipo.csv" | cut -d, -f3; } >"$dir/all.smi"
    n=$(wc -l <"$dir/all.smi")
    t_mol=$(median_seconds 3 "mol-check -l $dir/all.smi")
    p_mol=- dis=-
    if /usr/bin/python3 -c 'import rdkit' 2>/dev/null; then
        t_rd=$(median_seconds 3 "/usr/bin/python3 -c 'import sys
from rdkit import Chem, RDLogger
RDLogger.DisableLog(\"rdApp.*\")
[Chem.MolFromSmiles(l.strip()) for l in open(sys.argv[1])]' $dir/all.smi")
        p_mol=$(rate "$n" "$t_rd")
        mol-check -l "$dir/all.smi" | /usr/bin/python3 -c 'import sys, msgpack
print("".join("1" if o["valid"] else "0" for o in msgpack.Unpacker(sys.stdin.buffer, raw=False)))' >"$dir/ours.v"
        /usr/bin/python3 -c 'import sys
from rdkit import Chem, RDLogger
RDLogger.DisableLog("rdApp.*")
print("".join("1" if Chem.MolFromSmiles(l.strip()) else "0" for l in open(sys.argv[1])))' "$dir/all.smi" >"$dir/rdkit.v"
        dis=$(paste <(fold -w1 "$dir/ours.v") <(fold -w1 "$dir/rdkit.v") | awk '$1 != $2' | wc -l)
    fi
    figure smiles_valid_per_s SMILES/s "$(rate "$n" "$t_mol")" "$p_mol"
    figure smiles_rdkit_disagreements SMILES "$dis" -
fi
