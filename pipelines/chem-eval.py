#!/usr/bin/python3
"""chem-eval: add RDKit's QED, SA score and logP to records carrying SMILES.

    pipelines/chem-eval.py [--key smiles] <in.mp >out.mp

The BindGPT evaluation reports drug-likeness (QED, Bickerton et al. 2012) and synthetic
accessibility (SA, Ertl and Schuffenhauer 2009, 1 easy .. 10 hard) next to the docking
score, validity and uniqueness that runnel computes itself (dock-score, mol-check).
QED and SA are defined by RDKit's implementations, so this helper takes them from
python3-rdkit (SA from the sascorer.py that rdkit-data ships under
/usr/share/RDKit/Contrib/SA_Score).  Each record keeps its keys and gains:

    qed    float, RDKit's QED.qed
    sa     float, sascorer.calculateScore (absent when rdkit-data is missing)
    logp   float, Crippen logP (Descriptors.MolLogP)
    ro5    int, Lipinski violations: MW > 500, logP > 5, donors > 5, acceptors > 10

Records whose SMILES RDKit rejects get none of these keys.  Exits 69 when
python3-rdkit or python3-msgpack is missing, 65 on a record without the key.
"""
import argparse
import os
import sys

try:
    import msgpack
    from rdkit import Chem, RDLogger
    from rdkit.Chem import QED, Descriptors, Lipinski
except ImportError as e:
    print("chem-eval: %s (install python3-rdkit and python3-msgpack)" % e, file=sys.stderr)
    sys.exit(69)

SA_DIR = "/usr/share/RDKit/Contrib/SA_Score"
sascorer = None
if os.path.exists(os.path.join(SA_DIR, "sascorer.py")):
    sys.path.insert(0, SA_DIR)
    import sascorer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--key", default="smiles", help="the SMILES key (default smiles)")
    args = ap.parse_args()
    RDLogger.DisableLog("rdApp.*")
    out = sys.stdout.buffer
    for n, rec in enumerate(msgpack.Unpacker(sys.stdin.buffer, raw=False), 1):
        if not isinstance(rec, dict) or not isinstance(rec.get(args.key), str):
            print("chem-eval: <stdin>: record %d: no string \"%s\"" % (n, args.key), file=sys.stderr)
            return 65
        mol = Chem.MolFromSmiles(rec[args.key])
        if mol is not None:
            logp = Descriptors.MolLogP(mol)
            rec["qed"] = QED.qed(mol)
            if sascorer:
                rec["sa"] = sascorer.calculateScore(mol)
            rec["logp"] = logp
            rec["ro5"] = int(Descriptors.MolWt(mol) > 500) + int(logp > 5) + \
                int(Lipinski.NumHDonors(mol) > 5) + int(Lipinski.NumHAcceptors(mol) > 10)
        out.write(msgpack.packb(rec, use_bin_type=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
