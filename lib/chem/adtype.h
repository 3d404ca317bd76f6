/* adtype: AutoDock atom types, X-Score types, and how AutoDock Vina 1.2.3 derives
 * one from the other.
 *
 * A PDBQT file gives each atom an AutoDock type (C, A, N, NA, OA, HD ...).  Vina turns
 * it into an X-Score type from the element and the bonds it perceives itself from the
 * coordinates: a carbon bonded to a heteroatom is C_P, otherwise C_H; N and O are
 * donors when bonded to an HD hydrogen, acceptors when typed NA or OA.  Hydrogens get
 * no X-Score type and never score.  xs_assign() reproduces that, bond perception
 * included, so an atom scores here exactly as it does in Vina.
 *
 * For molecules that come without AutoDock types (SDF, SMILES, PDB) ad_assign() types
 * them the way Meeko prepares ligands: aromatic carbons A, acceptor nitrogens NA,
 * oxygens OA, sulfur SA, hydrogens on N or O HD. */
#ifndef RUNNEL_CHEM_ADTYPE_H
#define RUNNEL_CHEM_ADTYPE_H

#include "chem/mol.h"

enum ad_type {
    AD_C, AD_A, AD_N, AD_O, AD_P, AD_S, AD_H, AD_F, AD_I, AD_NA, AD_OA, AD_SA, AD_HD,
    AD_Mg, AD_Mn, AD_Zn, AD_Ca, AD_Fe, AD_Cl, AD_Br, AD_Si, AD_At, AD_NTYPES,
};

enum xs_type {
    XS_C_H, XS_C_P, XS_N_P, XS_N_D, XS_N_A, XS_N_DA, XS_O_P, XS_O_D, XS_O_A, XS_O_DA,
    XS_S_P, XS_P_P, XS_F_H, XS_Cl_H, XS_Br_H, XS_I_H, XS_Si, XS_At, XS_Met_D, XS_NTYPES,
    XS_NONE = 255,
};

/* The AutoDock type named s (case-sensitive, "Se" reads as S); AD_NONE if unknown. */
int ad_from_name(const char *s);
const char *ad_name(int ad);
int ad_element(int ad);
/* Metals that Vina types Met_D although AutoDock has no type for them (Cu, Na, K ...). */
bool ad_is_extra_metal(int z);

const char *xs_name(int xs);
double xs_radius(int xs);
bool xs_is_hydrophobic(int xs);
bool xs_is_donor(int xs);
bool xs_is_acceptor(int xs);

/* Vina's bond perception: atoms i and j are bonded when fixed(i, j) (their distance
 * cannot change; NULL means always), they are closer than 1.1 times the sum of their
 * covalent radii, and no third fixed atom is closer to both than they are to each
 * other.  Replaces m's bonds (orders set to 1).  Uses a cell list, so a receptor of
 * 10^4 atoms takes milliseconds. */
typedef bool (*fixed_fn)(const void *ctx, uint32_t i, uint32_t j);
void vina_perceive_bonds(chem_mol *m, fixed_fn fixed, const void *ctx);

/* X-Score type of every atom of m from its AutoDock type and bonds (as Vina's
 * model::assign_types); XS_NONE for hydrogens.  xs has m->n_atoms entries. */
void xs_assign(const chem_mol *m, uint8_t *xs);

/* Give every atom of a molecule with a bond graph (from SDF, SMILES or PDB) an
 * AutoDock type.  Aromaticity is read from the atoms' aromatic flags. */
void ad_assign(chem_mol *m);

#endif
