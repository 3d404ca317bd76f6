#!/usr/bin/python3
"""Make the pose fixtures that tests/ref/vina/make_fixtures.sh scores with AutoDock Vina.

    poses.py OUTDIR DATA

DATA is ../shared/data (the docking and molecules folders).  Writes into OUTDIR:
  1iep_pocket.pdbqt    1IEP receptor atoms within 12 A of any imatinib atom
  1iep_pocketH.pdb     the same receptor as PDB with hydrogens (the tutorial's
                       1iep_receptorH.pdb), atoms within 10 A: enough to type and
                       score every receptor atom within 8 A of the crystal pose
  deb_pocket.pdbqt     Debian's autopkgtest receptor, trimmed the same way
  poses_1iep.pdbqt     MODEL blocks: the crystal pose, Vina's four docked poses, rigid
                       moves (many clash), torsion changes (intramolecular clashes), and
                       CDK2 ligands (Open Babel PDBQT: rotatable bonds to terminal heavy
                       atoms, hydroxyls) placed in the pocket at random orientations
  poses_deb.pdbqt      the Debian ligand and moves of it
Deterministic: numpy's generator with a fixed seed.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np

out, data = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(20261127)


def atoms(lines):
    return [i for i, l in enumerate(lines) if l.startswith(("ATOM  ", "HETATM"))]


def coords(lines):
    return np.array([[float(lines[i][30 + 8 * k:38 + 8 * k]) for k in range(3)] for i in atoms(lines)])


def with_coords(lines, xyz):
    new = list(lines)
    for row, i in enumerate(atoms(lines)):
        l = new[i]
        new[i] = l[:30] + "".join("%8.3f" % v for v in xyz[row]) + l[54:]
    return new


def trim(receptor_lines, ligand_xyz, radius):
    keep = []
    for l in receptor_lines:
        if not l.startswith(("ATOM  ", "HETATM")):
            continue
        p = np.array([float(l[30 + 8 * k:38 + 8 * k]) for k in range(3)])
        if np.min(np.linalg.norm(ligand_xyz - p, axis=1)) < radius:
            keep.append(l)
    return keep


def rotation(angle_max):
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    a = rng.uniform(-angle_max, angle_max)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


def rigid_move(xyz, shift, angle):
    c = xyz.mean(axis=0)
    return (xyz - c) @ rotation(angle).T + c + rng.normal(size=3) * shift


def branches(lines):
    """(from_serial, to_serial, serials moved) for every BRANCH of a PDBQT ligand."""
    out, stack = [], []
    for l in lines:
        if l.startswith("BRANCH"):
            a, b = map(int, l.split()[1:3])
            stack.append((a, b, []))
        elif l.startswith("ENDBRANCH"):
            a, b, moved = stack.pop()
            out.append((a, b, moved))
            if stack:
                stack[-1][2].extend(moved)
        elif l.startswith(("ATOM  ", "HETATM")) and stack:
            stack[-1][2].append(int(l[6:11]))
    return out


def twist(lines, xyz, count):
    serial = [int(lines[i][6:11]) for i in atoms(lines)]
    row = {s: r for r, s in enumerate(serial)}
    xyz = xyz.copy()
    for a, b, moved in [branches(lines)[i] for i in rng.permutation(len(branches(lines)))[:count]]:
        p, q = xyz[row[a]], xyz[row[b]]
        axis = (q - p) / np.linalg.norm(q - p)
        ang = rng.uniform(-np.pi, np.pi)
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rot = np.eye(3) + np.sin(ang) * k + (1 - np.cos(ang)) * k @ k
        for s in moved:
            xyz[row[s]] = (xyz[row[s]] - q) @ rot.T + q
    return xyz


def model_block(lines, n):
    body = [l for l in lines if not l.startswith(("MODEL", "ENDMDL"))]
    return ["MODEL %d" % n] + body + ["ENDMDL"]


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read().splitlines()


def split_models(lines):
    models, cur = [], None
    for l in lines:
        if l.startswith("MODEL"):
            cur = []
        elif l.startswith("ENDMDL"):
            models.append(cur)
            cur = None
        elif cur is not None:
            cur.append(l)
    return models


dock = os.path.join(data, "docking")
lig = read(os.path.join(dock, "vina_1iep/1iep_ligand.pdbqt"))
rec = read(os.path.join(dock, "vina_1iep/1iep_receptor.pdbqt"))
lig_xyz = coords(lig)
with open(os.path.join(out, "1iep_pocket.pdbqt"), "w") as f:
    f.write("\n".join(trim(rec, lig_xyz, 12.0)) + "\n")
with open(os.path.join(out, "1iep_pocketH.pdb"), "w") as f:
    f.write("\n".join(trim(read(os.path.join(dock, "vina_1iep/1iep_receptorH.pdb")), lig_xyz, 10.0)) + "\n")

poses = [lig] + [[l for l in m if not l.startswith("REMARK")]
                 for m in split_models(read(os.path.join(dock, "vina_1iep/1iep_ligand_vina_out.pdbqt")))]
for i in range(15):
    poses.append(with_coords(lig, rigid_move(lig_xyz, 0.3 + 0.05 * i, 0.05 + 0.02 * i)))
for i in range(15):
    poses.append(with_coords(lig, twist(lig, lig_xyz, 1 + i % 4)))

# CDK2 ligands from Open Babel, centred on imatinib's centroid at random orientations.
with tempfile.TemporaryDirectory() as tmp:
    sdf = os.path.join(data, "molecules/sdf3d/cdk2.sdf")
    subprocess.run(["obabel", sdf, "-opdbqt", "-O", os.path.join(tmp, "c.pdbqt"), "-m"],
                   check=True, capture_output=True)
    for k in range(1, 21):
        c = read(os.path.join(tmp, "c%d.pdbqt" % k))
        c = [l for l in c if not l.startswith("REMARK")]
        xyz = coords(c)
        xyz = (xyz - xyz.mean(axis=0)) @ rotation(np.pi).T + lig_xyz.mean(axis=0) + rng.normal(size=3)
        poses.append(with_coords(c, xyz))

with open(os.path.join(out, "poses_1iep.pdbqt"), "w") as f:
    for n, p in enumerate(poses, 1):
        f.write("\n".join(model_block(p, n)) + "\n")

deb = read(os.path.join(dock, "debian_vina_testdata/ligand.pdbqt"))
deb = [l for l in deb if not l.startswith("REMARK")]
deb_xyz = coords(deb)
with open(os.path.join(out, "deb_pocket.pdbqt"), "w") as f:
    f.write("\n".join(trim(read(os.path.join(dock, "debian_vina_testdata/protein.pdbqt.gz")), deb_xyz, 12.0)) + "\n")
deb_poses = [deb] + [with_coords(deb, rigid_move(deb_xyz, 0.5, 0.2)) for _ in range(3)] + \
            [with_coords(deb, twist(deb, deb_xyz, 2)) for _ in range(3)]
with open(os.path.join(out, "poses_deb.pdbqt"), "w") as f:
    for n, p in enumerate(deb_poses, 1):
        f.write("\n".join(model_block(p, n)) + "\n")
