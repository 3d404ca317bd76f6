#!/usr/bin/python3
"""Make tests/ref/smiles/sample.tsv: SMILES with RDKit's verdict on each.

    make_sample.py DATA > sample.tsv        (DATA is ../shared/data)

Rows are "SMILES<TAB>1<TAB>descriptors" when RDKit 2022.09 (Debian python3-rdkit) parses
and sanitizes it, "SMILES<TAB>0" when it does not.  The descriptors, tab-separated, are
RDKit's HeavyAtomCount, NumRotatableBonds, RingCount, NumHDonors, NumHAcceptors and
MolWt (3 decimals).  The sample: 250 ZINC250k molecules and 100
MoleculeNet Lipophilicity ones, then 200 of them damaged by one random edit (a deleted,
inserted or replaced character), which RDKit splits into valid and invalid.  A fixed
seed makes the file reproducible.
"""
import csv
import os
import random
import sys

from rdkit import Chem, RDLogger
from rdkit.Chem import Descriptors, Lipinski

RDLogger.DisableLog("rdApp.*")
data = sys.argv[1]
rng = random.Random(6)

with open(os.path.join(data, "molecules/zinc250k_jtvae/test.txt")) as f:
    zinc = [l.strip() for l in f if l.strip()]
with open(os.path.join(data, "molecules/lipophilicity/lipo.csv")) as f:
    lipo = [row["smiles"] for row in csv.DictReader(f)]
real = rng.sample(zinc, 250) + rng.sample(lipo, 100)

alphabet = "CNOSPFclnos()[]=#123456789%+-H@/\\."
damaged = []
while len(damaged) < 200:
    s = rng.choice(real)
    i = rng.randrange(len(s))
    kind = rng.randrange(3)
    if kind == 0:
        t = s[:i] + s[i + 1:]
    elif kind == 1:
        t = s[:i] + rng.choice(alphabet) + s[i:]
    else:
        t = s[:i] + rng.choice(alphabet) + s[i + 1:]
    if t and t != s and "\t" not in t:
        damaged.append(t)

for s in real + damaged:
    m = Chem.MolFromSmiles(s)
    if m is None:
        print("%s\t0" % s)
    else:
        print("%s\t1\t%d\t%d\t%d\t%d\t%d\t%.3f" % (
            s, m.GetNumHeavyAtoms(), Descriptors.NumRotatableBonds(m), Descriptors.RingCount(m),
            Lipinski.NumHDonors(m), Lipinski.NumHAcceptors(m), Descriptors.MolWt(m)))
