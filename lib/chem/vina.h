/* vina: the AutoDock Vina 1.2.3 scoring function, reproducing `vina --score_only`.
 *
 * Heavy atoms score in pairs closer than 8 A, as functions of the surface distance
 * d = r - R_i - R_j (X-Score radii):
 *
 *     gauss1       exp(-(d/0.5)^2)                          weight -0.035579
 *     gauss2       exp(-((d-3)/2)^2)                        weight -0.005156
 *     repulsion    d^2 when d < 0                           weight  0.840245
 *     hydrophobic  1 (d <= 0.5) .. 0 (d >= 1.5), both hydrophobic   -0.035069
 *     hydrogen     1 (d <= -0.7) .. 0 (d >= 0), donor-acceptor      -0.587439
 *
 * Exactness needs Vina's arithmetic, not just its formulas: the weighted sum is
 * tabulated over r^2 at 1/32 A^2 steps and a pair reads the mean of the two table
 * entries around its r^2 (no interpolation); a ligand atom's summed receptor energy
 * and each intramolecular pair energy, when positive, are damped to e*1000/(1000+e);
 * and the printed total is inter / (1 + 0.05846 * N_rot), where N_rot counts a
 * rotatable bond 0.5 for each side that has more than one heavy neighbour (a bond to
 * a terminal heavy atom counts 0.5, unlike TORSDOF).  Intramolecular pairs are those
 * whose distance a torsion can change and that are more than three bonds apart.
 *
 * Threads may score poses concurrently against one receptor. */
#ifndef RUNNEL_CHEM_VINA_H
#define RUNNEL_CHEM_VINA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chem/mol.h"

/* Vina's default weights. */
#define VINA_W_GAUSS1 (-0.035579)
#define VINA_W_GAUSS2 (-0.005156)
#define VINA_W_REPULSION 0.840245
#define VINA_W_HYDROPHOBIC (-0.035069)
#define VINA_W_HYDROGEN (-0.587439)
#define VINA_W_ROT 0.05846
#define VINA_CUTOFF 8.0

/* The pair potential between X-Score types t1 and t2 at distance r, from the
 * formulas (weighted sum of the five terms); what Vina tabulates. */
double vina_pair_energy(int t1, int t2, double r);
/* The pair energy as Vina reads it from its table at squared distance r2 < 64. */
double vina_pair_energy_table(int t1, int t2, double r2);
/* The same with the derivative dE/dr divided by r, linearly interpolated (as Vina's
 * optimizer reads it). */
double vina_pair_energy_deriv(int t1, int t2, double r2, double *dor);

/* The search box as Vina builds it from --center and --size: whole 0.375 A voxels
 * centred on the centre, so slightly larger than asked. */
typedef struct {
    double lo[3], hi[3];
} vina_box;
void vina_box_make(vina_box *b, const double center[3], const double size[3]);

/* A receptor ready for scoring: heavy atoms with X-Score types in a cell list. */
typedef struct vina_receptor vina_receptor;
/* m needs AutoDock types (PDBQT, or ad_assign() for PDB).  Bonds are perceived from
 * the coordinates as Vina does, for typing. */
vina_receptor *vina_receptor_new(const chem_mol *m);
void vina_receptor_free(vina_receptor *r);
size_t vina_receptor_atoms(const vina_receptor *r);

/* A ligand ready for scoring.  Built from a molecule with AutoDock types on every
 * atom and a torsion tree (PDBQT, or ligprep for SDF/SMILES). */
typedef struct {
    size_t n;               /* atoms, hydrogens included */
    uint8_t *xs;            /* (n) X-Score type, XS_NONE for hydrogens */
    uint32_t *pairs;        /* (n_pairs, 2) intramolecular pairs */
    size_t n_pairs;
    double n_rot;           /* Vina's N_rot */
    int n_torsions;         /* rotatable bonds of the tree */
} vina_ligand;

bool vina_ligand_build(vina_ligand *L, const chem_mol *m, chem_error *err);
void vina_ligand_free(vina_ligand *L);

typedef struct {
    double total;           /* "Estimated Free Energy of Binding" */
    double inter;           /* "Final Intermolecular Energy" (ligand-receptor) */
    double intra;           /* "Final Total Internal Energy" (= unbound energy) */
    double torsional;       /* "Torsional Free Energy": total - inter */
    double n_rot;
    /* Unweighted sums of each term over ligand-receptor heavy-atom pairs within
     * 8 A, from the formulas; their weighted sum is inter before table rounding
     * and damping. */
    double gauss1, gauss2, repulsion, hydrophobic, hydrogen;
} vina_score;

/* Score L with coordinates xyz (n x 3, in the molecule's atom order). */
void vina_score_pose(const vina_receptor *r, const vina_ligand *L, const double *xyz, vina_score *out);
/* Ligand-receptor energy of one atom of type t at p, damped; and its gradient when
 * grad is not NULL (for the optimizer). */
double vina_atom_energy(const vina_receptor *r, int t, const double p[3], double grad[3]);
/* The undamped sum of table energies between an atom of type t at p and the
 * receptor atoms within 8 A: what Vina stores at each point of a grid map. */
double vina_receptor_sum(const vina_receptor *r, int t, const double p[3]);

/* Vina's grid maps: per X-Score type, receptor energies at the points of the box
 * every 0.375 A, read by trilinear interpolation (what `vina --local_only` optimizes
 * on).  A type's map is filled the first time an atom of that type asks for it, so
 * one grid must not be shared between threads. */
typedef struct vina_grid vina_grid;
vina_grid *vina_grid_new(const vina_receptor *r, const vina_box *box);
void vina_grid_free(vina_grid *g);
/* Damped energy at p and its gradient, with Vina's penalty of 10^6 per A outside. */
double vina_grid_energy(vina_grid *g, int t, const double p[3], double grad[3]);

/* Intramolecular energy of L at xyz; adds dE/dxyz to grad when not NULL. */
double vina_intra_energy(const vina_ligand *L, const double *xyz, double *grad);

/* The first heavy atom of L outside the box (Vina's 0.0001 A margin), or -1. */
long vina_outside_box(const vina_box *b, const vina_ligand *L, const double *xyz);

#endif
