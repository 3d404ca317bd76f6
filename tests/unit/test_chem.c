/* Unit tests of lib/chem's molecules: SMILES validity and descriptors against RDKit
 * (tests/ref/smiles/sample.tsv), canonical output, file readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chem/descriptors.h"
#include "chem/io.h"
#include "chem/smiles.h"
#include "chem/valence.h"
#include "check.h"

static void smiles_validity_agrees_with_rdkit_on_the_sample(void)
{
    FILE *f = fopen("tests/ref/smiles/sample.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[4096];
    chem_mol m;
    mol_init(&m);
    int n = 0, agree = 0, valid = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        bool ref = tab[1] == '1';
        chem_error err;
        bool got = smiles_valid(line, strlen(line), &m, &err);
        n++, valid += ref;
        if (got == ref)
            agree++;
        else
            printf("#   %s: RDKit %s, here %s (%s)\n", line, ref ? "valid" : "invalid",
                   got ? "valid" : "invalid", got ? "" : err.msg);
    }
    fclose(f);
    mol_free(&m);
    CHECK_EQ_INT(n, 550);
    CHECK_EQ_INT(agree, n);
    CHECK(valid > 300 && valid < n); /* both verdicts are exercised */
}

static void descriptors_agree_with_rdkit_on_the_sample(void)
{
    FILE *f = fopen("tests/ref/smiles/sample.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[4096];
    chem_mol m;
    mol_init(&m);
    int n = 0, agree = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        int ref[5];
        double mw;
        if (!tab || sscanf(tab + 1, "1 %d %d %d %d %d %lf", &ref[0], &ref[1], &ref[2], &ref[3],
                           &ref[4], &mw) != 6)
            continue;
        *tab = '\0';
        chem_error err;
        CHECK(smiles_valid(line, strlen(line), &m, &err));
        chem_descriptors d;
        mol_descriptors(&m, &d);
        int got[5] = {d.heavy_atoms, d.rotatable_bonds, d.rings, d.hbd, d.hba};
        bool same = fabs(d.mw - mw) < 0.0015;
        for (int k = 0; k < 5; k++)
            same &= got[k] == ref[k];
        n++, agree += same;
        if (!same)
            printf("#   %s: RDKit %d %d %d %d %d %.3f, here %d %d %d %d %d %.3f\n", line, ref[0],
                   ref[1], ref[2], ref[3], ref[4], mw, got[0], got[1], got[2], got[3], got[4],
                   d.mw);
    }
    fclose(f);
    mol_free(&m);
    CHECK(n > 300);
    /* Two fused heteroaromatics with a trivalent ring sulfur are typed differently;
     * everything else agrees. */
    CHECK(agree >= n - 2);
}

static bool invalid_with(const char *s, const char *what)
{
    chem_mol m;
    mol_init(&m);
    chem_error err = {{0}};
    bool ok = smiles_valid(s, strlen(s), &m, &err);
    mol_free(&m);
    if (ok || !strstr(err.msg, what))
        printf("#   %s: \"%s\"\n", s, ok ? "accepted" : err.msg);
    return !ok && strstr(err.msg, what);
}

static void malformed_smiles_name_the_offset_and_the_problem(void)
{
    CHECK(invalid_with("CC1CC", "offset 3: ring 1 not closed"));
    CHECK(invalid_with("CC(C", "offset 3: branch '(' not closed"));
    CHECK(invalid_with("CC)C", "offset 3: ')' without '('"));
    CHECK(invalid_with("CC=", "bond with no atom after it"));
    CHECK(invalid_with("C[Xx]", "unknown element"));
    CHECK(invalid_with("C[CH2", "not closed by ']'"));
    CHECK(invalid_with("C%1C", "'%' needs two digits"));
    CHECK(invalid_with("", "empty SMILES"));
    CHECK(invalid_with("C(C)(C)(C)(C)C", "valence 5"));
    CHECK(invalid_with("c1cccc1", "cannot kekulize"));
    CHECK(invalid_with("Cc", "aromatic but not in a ring"));
}

static void smiles_grammar_covers_brackets_rings_and_charges(void)
{
    chem_mol m;
    mol_init(&m);
    chem_error err;
    const char *s = "[13CH3:7][C@@H](N)C(=O)[O-].[Na+]";
    CHECK(smiles_valid(s, strlen(s), &m, &err));
    CHECK_EQ_INT(m.n_atoms, 7);
    CHECK_EQ_INT(m.atoms[0].isotope, 13);
    CHECK_EQ_INT(m.atoms[0].aclass, 7);
    CHECK_EQ_INT(m.atoms[0].hcount, 3);
    CHECK_EQ_INT(m.atoms[5].charge, -1);
    CHECK_EQ_INT(m.atoms[6].charge, 1);
    s = "C%12CCCCC%12"; /* %nn ring closure: cyclohexane */
    CHECK(smiles_valid(s, strlen(s), &m, &err));
    CHECK_EQ_INT(mol_ring_count(&m), 1);
    s = "c1cc[nH]c1"; /* pyrrole kekulizes only with the NH */
    CHECK(smiles_valid(s, strlen(s), &m, &err));
    CHECK_EQ_INT(m.atoms[1].hcount, 1);
    mol_free(&m);
}

static const char *canonical(const char *s, chem_buf *b)
{
    chem_mol m;
    mol_init(&m);
    chem_error err;
    b->n = 0;
    if (!smiles_valid(s, strlen(s), &m, &err))
        buf_printf(b, "invalid");
    else
        smiles_write(b, &m);
    buf_printf(b, "%c", '\0');
    mol_free(&m);
    return b->p;
}

static void canonical_smiles_do_not_depend_on_atom_order_or_kekule_form(void)
{
    chem_buf a = {0}, b = {0};
    static const char *const same[][2] = {
        {"OCC", "CCO"},
        {"C1=CC=CC=C1", "c1ccccc1"},
        {"Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1O"},
        {"c1ccc2ccccc2c1", "C1=CC=C2C=CC=CC2=C1"},
        {"Cn1cnc2c1c(=O)n(C)c(=O)n2C", "O=C1N(C)C(=O)c2n(C)cnc2N1C"}, /* caffeine */
        {"[NH3+]CC([O-])=O", "[O-]C(=O)C[NH3+]"},
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        const char *x = canonical(same[i][0], &a), *y = canonical(same[i][1], &b);
        if (strcmp(x, y) != 0)
            printf("#   %s -> %s but %s -> %s\n", same[i][0], x, same[i][1], y);
        CHECK_STR(x, y);
    }
    CHECK(strcmp(canonical("CCO", &a), canonical("COC", &b)) != 0);
    /* Reading the output back gives the output again. */
    const char *once = canonical("CC(=O)Nc1ccc(O)cc1", &a);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", once);
    CHECK_STR(canonical(copy, &b), copy);
    buf_free(&a), buf_free(&b);
}

static void descriptors_match_rdkit_on_known_drugs(void)
{
    /* Values from RDKit 2022.09: HeavyAtomCount, NumRotatableBonds, RingCount,
     * NumHDonors, NumHAcceptors, MolWt. */
    static const struct {
        const char *smiles;
        int heavy, rot, rings, hbd, hba;
        double mw;
    } ref[] = {
        {"CC(=O)Nc1ccc(O)cc1", 11, 1, 1, 2, 2, 151.165},                       /* paracetamol */
        {"CC(C)Cc1ccc(C(C)C(=O)O)cc1", 15, 4, 1, 1, 1, 206.285},               /* ibuprofen */
        {"Cn1cnc2c1c(=O)n(C)c(=O)n2C", 14, 0, 2, 0, 6, 194.194},               /* caffeine */
        {"C1C2CC3CC1CC(C2)C3", 10, 0, 4, 0, 0, 136.238},                       /* adamantane */
    };
    chem_mol m;
    mol_init(&m);
    chem_error err;
    for (size_t i = 0; i < sizeof ref / sizeof *ref; i++) {
        CHECK(smiles_valid(ref[i].smiles, strlen(ref[i].smiles), &m, &err));
        chem_descriptors d;
        mol_descriptors(&m, &d);
        CHECK_EQ_INT(d.heavy_atoms, ref[i].heavy);
        CHECK_EQ_INT(d.rotatable_bonds, ref[i].rot);
        CHECK_EQ_INT(d.rings, ref[i].rings);
        CHECK_EQ_INT(d.hbd, ref[i].hbd);
        CHECK_EQ_INT(d.hba, ref[i].hba);
        CHECK_NEAR(d.mw, ref[i].mw, 0.001);
        CHECK_EQ_INT(d.ro5_violations, 0);
    }
    mol_free(&m);
}

static void sdf_reader_reads_v2000_v3000_and_charges(void)
{
    static const char v2000[] = "water\n  prog\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
        "    0.0000    0.0000    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "    0.9572    0.0000    0.0000 H   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "   -0.2400    0.9266    0.0000 H   0  0  0  0  0  0  0  0  0  0  0  0\n"
        "  1  2  1  0\n  1  3  1  0\nM  CHG  1   1  -1\nM  END\n> <id>\n7\n\n$$$$\n";
    static const char v3000[] = "\n  prog\n\n  0  0  0     0  0            999 V3000\n"
        "M  V30 BEGIN CTAB\nM  V30 COUNTS 2 1 0 0 0\nM  V30 BEGIN ATOM\n"
        "M  V30 1 C 0 0 0 0\nM  V30 2 N 1.47 0 0 0 CHG=1\nM  V30 END ATOM\n"
        "M  V30 BEGIN BOND\nM  V30 1 1 1 2\nM  V30 END BOND\nM  V30 END CTAB\nM  END\n$$$$\n";
    chem_src s;
    chem_mol m;
    mol_init(&m);
    chem_error err;
    chem_src_init(&s, v2000, strlen(v2000), "w.sdf");
    CHECK(sdf_next(&s, &m, &err) == 1);
    CHECK_EQ_INT(m.n_atoms, 3);
    CHECK_EQ_INT(m.n_bonds, 2);
    CHECK_EQ_INT(m.atoms[0].charge, -1);
    CHECK_STR(m.title, "water");
    CHECK(sdf_next(&s, &m, &err) == 0);
    chem_src_init(&s, v3000, strlen(v3000), "m.sdf");
    CHECK(sdf_next(&s, &m, &err) == 1);
    CHECK_EQ_INT(m.n_atoms, 2);
    CHECK_EQ_INT(m.atoms[1].charge, 1);
    CHECK_NEAR(m.atoms[1].xyz[0], 1.47, 1e-12);
    /* Written and read back. */
    chem_buf b = {0};
    sdf_write(&b, &m);
    chem_src_init(&s, b.p, b.n, "back");
    chem_mol back;
    mol_init(&back);
    CHECK(sdf_next(&s, &back, &err) == 1);
    CHECK_EQ_INT(back.n_bonds, 1);
    CHECK_EQ_INT(back.atoms[1].charge, 1);
    buf_free(&b);
    mol_free(&back);
    mol_free(&m);
}

static bool bad_input(int (*next)(chem_src *, chem_mol *, chem_error *), const char *text, const char *what)
{
    chem_src s;
    chem_mol m;
    mol_init(&m);
    chem_error err = {{0}};
    chem_src_init(&s, text, strlen(text), "bad");
    int got = next(&s, &m, &err);
    mol_free(&m);
    if (got != -1 || !strstr(err.msg, what))
        printf("#   got %d \"%s\", wanted \"%s\"\n", got, err.msg, what);
    return got == -1 && strstr(err.msg, what);
}

static void malformed_files_name_the_line(void)
{
    CHECK(bad_input(pdbqt_next, "ROOT\nATOM      1  C   UNL     1       1.000   2.0\nENDROOT\n",
                    "bad: line 2: atom record too short"));
    CHECK(bad_input(pdbqt_next,
                    "ATOM      1  C   UNL     1       1.000   x.000   3.000  1.00  0.00     0.000 C \n",
                    "line 1: atom 1: y coordinate \"x.000\""));
    CHECK(bad_input(pdbqt_next,
                    "ATOM      1  C   UNL     1       1.000   2.000   3.000  1.00  0.00     0.000 Qq\n",
                    "\"Qq\" is not an AutoDock atom type"));
    CHECK(bad_input(pdbqt_next, "ROOT\nENDROOT\nBRANCH   9  10\n", "no atom 9 in the enclosing branch"));
    CHECK(bad_input(
        pdb_next,
        "ATOM      1  XX  UNL     1       1.000   2.000   3.000  1.00  0.00          Xx\n",
        "unknown element \"Xx\""));
    CHECK(bad_input(sdf_next, "t\n\n\n  2  1  0  0  0  0  0  0  0  0999 V2000\n"
                              "    0.0000    0.0000    0.0000 C   0  0\n",
                    "2 atoms announced, 1 found"));
    CHECK(bad_input(sdf_next, "t\n\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n"
                              "    0.0000    0.0000    0.0000 Zz  0  0\nM  END\n",
                    "unknown element \"Zz\""));
    CHECK(bad_input(xyz_next, "2\ncomment\nC 0 0 0\n", "2 atoms announced, 1 found"));
}

int main(void)
{
    RUN(smiles_validity_agrees_with_rdkit_on_the_sample);
    RUN(malformed_smiles_name_the_offset_and_the_problem);
    RUN(smiles_grammar_covers_brackets_rings_and_charges);
    RUN(canonical_smiles_do_not_depend_on_atom_order_or_kekule_form);
    RUN(descriptors_match_rdkit_on_known_drugs);
    RUN(descriptors_agree_with_rdkit_on_the_sample);
    RUN(sdf_reader_reads_v2000_v3000_and_charges);
    RUN(malformed_files_name_the_line);
    return check_done();
}
