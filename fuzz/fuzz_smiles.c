/* Fuzz the SMILES path: arbitrary bytes parsed and sanitized; a valid molecule is
 * written as canonical SMILES, which must parse again (not always sanitize: RDKit's
 * leniency with over-valent aromatic atoms lets through molecules whose Kekule form is
 * not valid), and its descriptors are computed.  Readers never exit, so any crash, hang or
 * sanitizer report is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chem/descriptors.h"
#include "chem/smiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chem_mol m;
    mol_init(&m);
    chem_error err;
    if (smiles_valid((const char *)data, size, &m, &err)) {
        chem_descriptors d;
        mol_descriptors(&m, &d);
        chem_buf out = {0};
        smiles_write(&out, &m);
        if (!smiles_parse(out.p ? out.p : "", out.n, &m, &err))
            abort(); /* canonical output must at least parse */
        buf_free(&out);
    }
    mol_free(&m);
    return 0;
}
