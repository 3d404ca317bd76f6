/* descriptors: counts and weights that filters and rewards need, as RDKit defines them.
 *
 * On a sanitized molecule (valence.h), with aromaticity perceived afresh: heavy atoms;
 * rotatable bonds (RDKit's strict definition: single, not in a ring, between atoms
 * with another heavy neighbour, not to a triple-bonded atom, CF3, CCl3, CBr3 or
 * tert-butyl, and not the C-X bond of an amide, ester or amidine); rings (RDKit's
 * count); hydrogen-bond donors and acceptors (RDKit's CalcNumHBD and CalcNumHBA
 * patterns); average molecular weight with implicit hydrogens; and violations of
 * Lipinski's rule of five among weight > 500, donors > 5 and acceptors > 10 (the logP
 * criterion needs Crippen's contributions, which pipelines/chem-eval.py takes from
 * RDKit). */
#ifndef RUNNEL_CHEM_DESCRIPTORS_H
#define RUNNEL_CHEM_DESCRIPTORS_H

#include "chem/mol.h"

typedef struct {
    int heavy_atoms, rotatable_bonds, rings, hbd, hba, ro5_violations;
    double mw;
} chem_descriptors;

void mol_descriptors(const chem_mol *m, chem_descriptors *d);

#endif
