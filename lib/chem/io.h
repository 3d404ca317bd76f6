/* io: molecule file formats — PDBQT, PDB, SDF/MOL (V2000 and V3000), XYZ.
 *
 * Readers work on text already in memory (a whole file or a string from a record) and
 * read one molecule per call, so multi-molecule files (SDF with $$$$, PDBQT and PDB
 * with MODEL/ENDMDL, concatenated XYZ frames) stream.  Each returns 1 when it read a
 * molecule, 0 at the end of the text, and -1 on bad input, with err holding
 * "NAME: line N: what" and the source moved past the bad molecule, so a caller can
 * mark it invalid and carry on.
 *
 * Writers append to a growable buffer: SDF V2000 for any molecule with coordinates,
 * PDBQT for a ligand with AutoDock types and a torsion tree (see ligprep.h). */
#ifndef RUNNEL_CHEM_IO_H
#define RUNNEL_CHEM_IO_H

#include "chem/mol.h"

typedef struct {
    const char *text;
    size_t len, pos;
    uint32_t line;     /* lines consumed so far */
    const char *name;  /* file name or record label, for messages */
} chem_src;

void chem_src_init(chem_src *s, const char *text, size_t len, const char *name);

int pdbqt_next(chem_src *s, chem_mol *m, chem_error *err);
int pdb_next(chem_src *s, chem_mol *m, chem_error *err);
int sdf_next(chem_src *s, chem_mol *m, chem_error *err);
int xyz_next(chem_src *s, chem_mol *m, chem_error *err);

enum chem_format { FMT_NONE, FMT_PDBQT, FMT_PDB, FMT_SDF, FMT_XYZ };
/* The format a file name's extension says (.pdbqt .pdb .ent .sdf .sd .mol .xyz, also
 * after .gz), FMT_NONE if none. */
int chem_format_of(const char *path);
int chem_next(int format, chem_src *s, chem_mol *m, chem_error *err);

typedef struct {
    char *p;
    size_t n, cap;
} chem_buf;
void buf_printf(chem_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(chem_buf *b);

void sdf_write(chem_buf *b, const chem_mol *m);
/* m needs AutoDock types on every atom; without a torsion tree it is written rigid. */
void pdbqt_write(chem_buf *b, const chem_mol *m);

/* Read a whole file (gzip is undone) into a NUL-terminated buffer; dies with 66 when
 * it cannot be opened and 74 on a read error. */
char *chem_slurp(const char *path, size_t *len);

#endif
