/* valence: rings, kekulization, implicit hydrogens and the validity check.
 *
 * The rules are RDKit's (2022.09), so that "valid" here means what RDKit's
 * MolFromSmiles accepts: every aromatic atom lies in a ring; the aromatic bonds can be
 * split into single and double bonds so that each aromatic atom that still lacks a
 * bond gets exactly one double bond; and no atom exceeds the largest valence of its
 * element once its charge is taken into account (N+ counts as 3 with four bonds).
 * Atoms outside brackets (SMILES organic subset, SDF atoms) then take the implicit
 * hydrogens that bring them to their smallest allowed valence. */
#ifndef RUNNEL_CHEM_VALENCE_H
#define RUNNEL_CHEM_VALENCE_H

#include "chem/mol.h"

/* ring[b] for each bond b: true when the bond lies in a ring (is not a bridge). */
void mol_ring_bonds(const chem_mol *m, bool *ring);
/* Rings as RDKit counts them: the smallest set, plus the rings its symmetrized set
 * adds (adamantane has 4, cubane 6). */
int mol_ring_count(const chem_mol *m);
/* Aromaticity from the bond orders (after kekulization), so Kekule and aromatic
 * inputs agree: a ring of 5 to 7 atoms is aromatic when every atom is sp2 and its pi
 * electrons number 4n+2 (a double bond within the ring system gives 1 wherever the
 * Kekule form put it, a lone pair of N, O, S, N- or C- 2, an exocyclic C=O 0), alone
 * or together with a ring fused to it.
 * Sets the atoms' aromatic flags and arom_bond[b] for bonds in aromatic rings. */
void mol_aromaticity(chem_mol *m, bool *arom_bond);
/* Sum of bond orders of atom i (aromatic bonds count 1, hydrogens given as atoms
 * count through their bonds) plus its implicit hydrogens. */
int mol_valence(const chem_mol *m, uint32_t i);

/* Hydrogens an atom of element z outside brackets takes at valence ev (its bonds),
 * or -1 when it exceeds every valence or the element takes any. */
int element_default_hydrogens(int z, int ev);

/* Give aromatic bonds (order BOND_AROMATIC) orders 1 and 2.  Aromatic flags stay. */
bool mol_kekulize(chem_mol *m, chem_error *err);
/* Check valences and set implicit hydrogens on atoms outside brackets. */
bool mol_assign_hydrogens(chem_mol *m, chem_error *err);
/* Both, after checking that aromatic atoms are in rings: RDKit's sanitization as far
 * as validity goes. */
bool mol_sanitize(chem_mol *m, chem_error *err);

#endif
