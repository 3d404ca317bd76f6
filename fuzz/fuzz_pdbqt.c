/* Fuzz the molecule file readers and the Vina ligand builder: arbitrary bytes read as
 * PDBQT, SDF, PDB and XYZ; every molecule PDBQT gives is built into a scoring ligand
 * and scored against a small fixed receptor; every SDF molecule is prepared as a
 * ligand.  Readers report errors and never exit: a crash, hang or sanitizer report is
 * a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chem/io.h"
#include "chem/ligprep.h"
#include "chem/vina.h"

static vina_receptor *receptor;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char pocket[] =
        "ATOM      1  N   ALA A   1       0.000   0.000   0.000  1.00  0.00    -0.350 N \n"
        "ATOM      2  H   ALA A   1      -0.900   0.300   0.000  1.00  0.00     0.160 HD\n"
        "ATOM      3  CA  ALA A   1       1.450   0.000   0.000  1.00  0.00     0.180 C \n"
        "ATOM      4  O   ALA A   1       2.000   1.200   0.000  1.00  0.00    -0.270 OA\n"
        "ATOM      5  CB  ALA A   1       2.000  -1.300   0.500  1.00  0.00     0.040 C \n";
    chem_src s;
    chem_src_init(&s, pocket, strlen(pocket), "pocket");
    chem_mol m;
    mol_init(&m);
    chem_error err;
    if (pdbqt_next(&s, &m, &err) != 1)
        abort();
    receptor = vina_receptor_new(&m);
    mol_free(&m);
    return 0;
}

static void read_all(int format, const uint8_t *data, size_t size)
{
    chem_src s;
    chem_src_init(&s, (const char *)data, size, "fuzz");
    chem_mol m;
    mol_init(&m);
    chem_error err;
    for (int k = 0, got; k < 64 && (got = chem_next(format, &s, &m, &err)) != 0; k++) {
        if (got < 0)
            continue;
        if (format == FMT_SDF && !ligprep(&m, &err))
            continue;
        if (format == FMT_PDBQT || format == FMT_SDF) {
            vina_ligand L;
            if (!vina_ligand_build(&L, &m, &err))
                continue;
            double *xyz = malloc(3 * m.n_atoms * sizeof *xyz + 1);
            for (size_t i = 0; i < m.n_atoms; i++)
                memcpy(xyz + 3 * i, m.atoms[i].xyz, sizeof m.atoms[i].xyz);
            vina_score sc;
            vina_score_pose(receptor, &L, xyz, &sc);
            free(xyz);
            vina_ligand_free(&L);
            chem_buf b = {0};
            pdbqt_write(&b, &m);
            buf_free(&b);
        }
    }
    mol_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(FMT_PDBQT, data, size);
    read_all(FMT_SDF, data, size);
    read_all(FMT_PDB, data, size);
    read_all(FMT_XYZ, data, size);
    return 0;
}
