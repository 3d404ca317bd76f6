#!/bin/sh
# Regenerate the Vina reference fixtures in this folder:
#   1iep_pocket.pdbqt 1iep_pocketH.pdb deb_pocket.pdbqt poses_1iep.pdbqt poses_deb.pdbqt
#                    (poses.py)
#   1iep_ligand.sdf  imatinib's crystal pose as SDF (Vina's tutorial): pose 1 of 1iep
#   expected.tsv  what AutoDock Vina 1.2.3 (Debian's autodock-vina) prints for each pose
#                 with --score_only: set, model, total, inter, intra, torsional, unbound
# Needs vina, obabel, python3-numpy and the data beside the checkout:
#   tests/ref/vina/make_fixtures.sh [DATA]     (DATA defaults to ../shared/data)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../../../shared/data}
[ -d "$data/docking" ] || { echo "make_fixtures: no $data/docking" >&2; exit 66; }
vina --version | grep -q 'v1.2.3' || { echo "make_fixtures: needs AutoDock Vina 1.2.3" >&2; exit 69; }
/usr/bin/python3 "$here/poses.py" "$here" "$data"
cp "$data/docking/vina_1iep/1iep_ligand.sdf" "$here/1iep_ligand.sdf"
chmod 644 "$here/1iep_ligand.sdf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Boxes: the 1IEP tutorial's centre (26 A wide, for the moved poses) and the Debian
# ligand (its autopkgtest box does not hold the ligand as given).
box_1iep="--center_x 15.190 --center_y 53.903 --center_z 16.917 --size_x 26 --size_y 26 --size_z 26"
box_deb="--center_x 20 --center_y 79 --center_z 63 --size_x 30 --size_y 30 --size_z 30"
printf 'set\tmodel\ttotal\tinter\tintra\ttorsional\tunbound\n' >"$here/expected.tsv"
for set in 1iep deb; do
    eval box=\$box_$set
    awk -v dir="$tmp" '/^MODEL/{n=$2; f=dir "/" n ".pdbqt"; next} /^ENDMDL/{close(f); next} {print > f}' \
        "$here/poses_$set.pdbqt"
    n=$(grep -c '^MODEL' "$here/poses_$set.pdbqt")
    for i in $(seq 1 "$n"); do
        # shellcheck disable=SC2086
        vina --receptor "$here/${set}_pocket.pdbqt" --ligand "$tmp/$i.pdbqt" --score_only $box \
            >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; exit 70; }
        awk -v set="$set" -v i="$i" -F: '
            /Estimated Free Energy/ {split($2, a, " "); t = a[1]}
            /Final Intermolecular/  {split($2, a, " "); e = a[1]}
            /Final Total Internal/  {split($2, a, " "); r = a[1]}
            /Torsional Free/        {split($2, a, " "); q = a[1]}
            /Unbound System/        {split($2, a, " "); u = a[1]}
            END {printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", set, i, t, e, r, q, u}' "$tmp/out" >>"$here/expected.tsv"
    done
done
