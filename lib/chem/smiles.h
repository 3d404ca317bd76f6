/* smiles: the OpenSMILES grammar in and canonical SMILES out.
 *
 * smiles_parse() reads one SMILES: organic-subset atoms (B C N O P S F Cl Br I and
 * aromatic b c n o p s), bracket atoms with isotope, element, chirality (accepted and
 * dropped), hydrogen count, charge and class, bonds - = # $ : / \, branches, ring
 * closures 0-9 and %nn, and '.' between fragments.  Errors name the character offset
 * (from 1): an unclosed ring or branch, a ')' without '(', a bond with nothing after
 * it, an unknown element.  The molecule it returns is only parsed: mol_sanitize()
 * (valence.h) decides whether RDKit would accept it and sets implicit hydrogens.
 *
 * smiles_write() writes a sanitized molecule as canonical SMILES: the same molecule
 * gives the same string whatever its atom order and whether it was written aromatic
 * or Kekule (aromaticity is perceived afresh, valence.h).  Stereochemistry is not
 * kept. */
#ifndef RUNNEL_CHEM_SMILES_H
#define RUNNEL_CHEM_SMILES_H

#include "chem/io.h"
#include "chem/mol.h"

bool smiles_parse(const char *s, size_t len, chem_mol *m, chem_error *err);
/* Parse and sanitize: the validity check. */
bool smiles_valid(const char *s, size_t len, chem_mol *m, chem_error *err);
void smiles_write(chem_buf *b, const chem_mol *m);

#endif
