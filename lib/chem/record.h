/* record: molecules in runnel records.
 *
 * A generator's output pairs a SMILES with the coordinates of its atoms; this reads
 * those coordinates from a record key holding [[x,y,z], ...], a flat [x,y,z,x,...] or
 * an f32/f64 tensor of shape (N, 3), one position per atom in the molecule's order. */
#ifndef RUNNEL_CHEM_RECORD_H
#define RUNNEL_CHEM_RECORD_H

#include "chem/mol.h"
#include "rec/rec.h"

/* Set m's coordinates from key; false with msg ("KEY: what") when the key is missing,
 * malformed or gives another number of positions than m has atoms. */
bool mol_coords_from_record(const rec *r, const char *key, chem_mol *m, char *msg, size_t cap);

#endif
