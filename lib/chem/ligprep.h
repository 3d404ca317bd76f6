/* ligprep: a docking ligand from a molecule graph with coordinates, as Meeko prepares
 * one for AutoDock Vina.
 *
 * From an SDF molecule (or SMILES with coordinates) it kekulizes aromatic bonds,
 * works out implicit hydrogens, places the missing hydrogens of N and O (Vina needs
 * them to see donors; their exact position does not score), gives every atom an
 * AutoDock type, merges non-polar hydrogens into their carbons, and builds the torsion
 * tree: single bonds outside rings between atoms with other neighbours are rotatable,
 * except amide C-N bonds and bonds to triple-bonded atoms.  The root is the largest
 * rigid fragment.  The result scores (vina.h) and writes (pdbqt_write) like the PDBQT
 * Meeko would write. */
#ifndef RUNNEL_CHEM_LIGPREP_H
#define RUNNEL_CHEM_LIGPREP_H

#include "chem/mol.h"

bool ligprep(chem_mol *m, chem_error *err);

/* AutoDock types for a receptor read from PDB: bonds from the coordinates; N is an
 * acceptor (NA) only with no hydrogen and at most two neighbours; O is OA, S is SA,
 * hydrogens on N or O are HD.  Hydrogens should be present (donors need them). */
bool receptor_prepare(chem_mol *m, chem_error *err);

#endif
