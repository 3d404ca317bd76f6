/* mol: a molecule as atoms, bonds and (for docking ligands) a torsion tree.
 *
 * One structure serves every reader and writer in lib/chem: SMILES and SDF fill the
 * graph (elements, charges, bond orders, implicit hydrogens), PDB, PDBQT and XYZ fill
 * coordinates and, for PDBQT, AutoDock types and the BRANCH tree.  Atoms are numbered
 * from 0 in input order; `line` keeps where each came from, for messages.
 *
 * Readers never exit: they return false and leave a message "where: what" in a
 * chem_error, so a stream can mark one bad molecule invalid and go on. */
#ifndef RUNNEL_CHEM_MOL_H
#define RUNNEL_CHEM_MOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char msg[320];
} chem_error;

/* Fill err with "<fmt>" and return false (so readers can `return chem_fail(...)`). */
bool chem_fail(chem_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum { AD_NONE = 255 };    /* atom without an AutoDock type */
enum { NODE_NONE = -1 };

typedef struct {
    double xyz[3];
    double q;           /* partial charge (PDBQT), 0 otherwise */
    uint8_t z;          /* atomic number; 0 for a wildcard or unknown */
    uint8_t ad;         /* AutoDock type (ad_type in adtype.h) or AD_NONE */
    int8_t charge;      /* formal charge */
    uint8_t hcount;     /* implicit hydrogens (not present as atoms) */
    bool aromatic;      /* written lower-case in SMILES, or typed A/NA/... */
    bool bracket;       /* SMILES: written in brackets (H count is explicit) */
    uint16_t isotope;   /* 0 when unspecified */
    uint16_t aclass;    /* SMILES atom class, 0 when absent */
    int32_t node;       /* torsion tree node (PDBQT), NODE_NONE otherwise */
    uint32_t serial;    /* atom number in the file (PDB/PDBQT), else index + 1 */
    uint32_t line;      /* input line (files) or character offset + 1 (SMILES) */
    char name[5];       /* PDB atom name, trimmed */
    char resname[4];
    char chain;
    int32_t resseq;
} chem_atom;

enum { BOND_AROMATIC = 5 }; /* orders 1-4 are single to quadruple */

typedef struct {
    uint32_t a, b;
    uint8_t order;      /* 1, 2, 3, 4 or BOND_AROMATIC */
} chem_bond;

/* A torsion tree node: the ROOT (parent -1) or a BRANCH that turns about the bond
 * from -> to, `from` in the parent node and `to` in this one. */
typedef struct {
    int32_t parent;
    uint32_t from, to;
} chem_node;

typedef struct {
    chem_atom *atoms;
    size_t n_atoms, cap_atoms;
    chem_bond *bonds;
    size_t n_bonds, cap_bonds;
    chem_node *nodes;   /* PDBQT ligands only; n_nodes == 0 otherwise */
    size_t n_nodes, cap_nodes;
    int torsdof;        /* PDBQT TORSDOF, -1 when absent */
    char title[81];
    bool has_coords;    /* coordinates came with the input (not SMILES) */
} chem_mol;

void mol_init(chem_mol *m);
void mol_free(chem_mol *m);
void mol_clear(chem_mol *m);
chem_atom *mol_add_atom(chem_mol *m);
void mol_add_bond(chem_mol *m, uint32_t a, uint32_t b, uint8_t order);
void mol_add_node(chem_mol *m, int32_t parent, uint32_t from, uint32_t to);
/* Index of the bond between a and b, or -1. */
long mol_find_bond(const chem_mol *m, uint32_t a, uint32_t b);

/* Neighbour lists built from the bonds: nbr[start[i] .. start[i+1]) are atom i's
 * neighbours and nbond[...] the matching bond indices. */
typedef struct {
    uint32_t *start, *nbr, *nbond;
} chem_adj;
void adj_build(chem_adj *g, const chem_mol *m);
void adj_free(chem_adj *g);
static inline uint32_t adj_degree(const chem_adj *g, uint32_t i) { return g->start[i + 1] - g->start[i]; }

/* Elements: symbol <-> atomic number (1..118), standard atomic weight. */
int element_from_symbol(const char *s, size_t len); /* 0 if unknown; case-sensitive */
const char *element_symbol(int z);
double element_mass(int z);

#endif
