/* vina_opt: Vina's local optimization of a pose.
 *
 * The pose moves as Vina moves it: a position, an orientation (rotation vector
 * increments on the left) and one angle per rotatable bond of the torsion tree, so
 * bond lengths and angles never change.  BFGS with Vina's settings: an Armijo line
 * search halving the step up to 10 times, the inverse Hessian rescaled after the first
 * step, (25 + atoms) / 3 iterations, and the start kept if nothing improved.  The
 * receptor energy comes from Vina's grid maps when a grid is given (as in
 * `vina --local_only`), else from the pair sums with the interpolated table; the
 * intramolecular pairs are added. */
#ifndef RUNNEL_CHEM_VINA_OPT_H
#define RUNNEL_CHEM_VINA_OPT_H

#include "chem/mol.h"
#include "chem/vina.h"

/* Optimize the pose xyz (L->n x 3, m's atom order; m gives the torsion tree) in
 * place.  Without a grid the pair sums are used and box (required then) holds the
 * ligand in with Vina's penalty of 10^6 per A outside.  Returns the optimized energy
 * (inter + intra). */
double vina_minimize(const vina_receptor *r, vina_grid *grid, const vina_box *box,
                     const vina_ligand *L, const chem_mol *m, double *xyz);

/* Vina's --autobox for a ligand: centred on its atoms' mean, each side the ligand's
 * extent plus 4 A on both ends, rounded up to whole angstroms. */
void vina_autobox(const vina_ligand *L, const double *xyz, vina_box *box);

#endif
