/* Unit tests of the Vina scoring function against AutoDock Vina 1.2.3's own numbers
 * (tests/ref/vina, made by make_fixtures.sh with Debian's autodock-vina). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chem/adtype.h"
#include "chem/io.h"
#include "chem/ligprep.h"
#include "chem/vina.h"
#include "chem/vina_opt.h"
#include "check.h"

#define REF "tests/ref/vina/"

static vina_receptor *receptor(const char *path)
{
    size_t len;
    char *text = chem_slurp(path, &len);
    chem_src s;
    chem_src_init(&s, text, len, path);
    chem_mol m;
    mol_init(&m);
    chem_error err;
    CHECK(pdbqt_next(&s, &m, &err) == 1);
    vina_receptor *r = vina_receptor_new(&m);
    mol_free(&m);
    free(text);
    return r;
}

static double *coords(const chem_mol *m)
{
    double *xyz = xmalloc(3 * m->n_atoms * sizeof *xyz);
    for (size_t i = 0; i < m->n_atoms; i++)
        memcpy(xyz + 3 * i, m->atoms[i].xyz, sizeof m->atoms[i].xyz);
    return xyz;
}

/* Score every pose of one fixture set; compare with what vina printed (3 decimals). */
static int compare_set(const char *set, FILE *expected, double *max_err)
{
    char path[256];
    snprintf(path, sizeof path, REF "%s_pocket.pdbqt", set);
    vina_receptor *r = receptor(path);
    snprintf(path, sizeof path, REF "poses_%s.pdbqt", set);
    size_t len;
    char *text = chem_slurp(path, &len);
    chem_src s;
    chem_src_init(&s, text, len, path);
    chem_mol m;
    mol_init(&m);
    chem_error err;
    int n = 0;
    char line[256];
    rewind(expected);
    while (fgets(line, sizeof line, expected)) {
        char name[16];
        int model;
        double ref[5];
        if (sscanf(line, "%15s %d %lf %lf %lf %lf %lf", name, &model, &ref[0], &ref[1], &ref[2], &ref[3],
                   &ref[4]) != 7 ||
            strcmp(name, set) != 0)
            continue;
        CHECK(pdbqt_next(&s, &m, &err) == 1);
        vina_ligand L;
        CHECK(vina_ligand_build(&L, &m, &err));
        double *xyz = coords(&m);
        vina_score sc;
        vina_score_pose(r, &L, xyz, &sc);
        double got[5] = {sc.total, sc.inter, sc.intra, sc.torsional, sc.intra};
        for (int k = 0; k < 5; k++) {
            double e = fabs(got[k] - ref[k]);
            max_err[k] = e > max_err[k] ? e : max_err[k];
            if (e > 0.0006)
                printf("#   %s model %d component %d: %.4f vs vina %.3f\n", set, model, k, got[k], ref[k]);
        }
        free(xyz);
        vina_ligand_free(&L);
        n++;
    }
    CHECK(pdbqt_next(&s, &m, &err) == 0);
    mol_free(&m);
    free(text);
    vina_receptor_free(r);
    return n;
}

static void score_only_matches_vina_on_every_fixture_pose(void)
{
    FILE *f = fopen(REF "expected.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    double max_err[5] = {0};
    int n = compare_set("1iep", f, max_err) + compare_set("deb", f, max_err);
    fclose(f);
    CHECK_EQ_INT(n, 62);
    /* Vina prints 3 decimals: equal to the printed digit means within half a unit. */
    for (int k = 0; k < 5; k++)
        CHECK_NEAR(max_err[k], 0, 0.0006);
    printf("# %d poses; max |error| total %.4f inter %.4f intra %.4f torsional %.4f unbound %.4f\n", n,
           max_err[0], max_err[1], max_err[2], max_err[3], max_err[4]);
}

static void table_reads_the_mean_of_two_samples_not_the_formula(void)
{
    /* C_H with O_A at r2 = 16.7: samples at 534/32 and 535/32 A^2. */
    double r2 = 16.7, lo = sqrt(534 / 32.0), hi = sqrt(535 / 32.0);
    double want = (vina_pair_energy(XS_C_H, XS_O_A, lo) + vina_pair_energy(XS_C_H, XS_O_A, hi)) / 2;
    CHECK_NEAR(vina_pair_energy_table(XS_C_H, XS_O_A, r2), want, 1e-15);
    CHECK(vina_pair_energy_table(XS_C_H, XS_O_A, r2) != vina_pair_energy(XS_C_H, XS_O_A, sqrt(r2)));
    /* Symmetric in the types, zero from 8 A on. */
    CHECK(vina_pair_energy_table(XS_N_D, XS_O_A, 9.0) == vina_pair_energy_table(XS_O_A, XS_N_D, 9.0));
    CHECK(vina_pair_energy(XS_C_H, XS_C_H, 8.0) == 0);
}

static void pair_energy_has_the_five_weighted_terms(void)
{
    /* Two hydrophobic carbons at surface distance 0: gauss1 1, gauss2 exp(-2.25),
     * no repulsion, hydrophobic 1, no hydrogen bond. */
    double e = vina_pair_energy(XS_C_H, XS_C_H, 3.8);
    CHECK_NEAR(e, -0.035579 - 0.005156 * exp(-2.25) - 0.035069, 1e-12);
    /* Donor and acceptor at d = -0.7: full hydrogen bond, repulsion 0.49. */
    double d = -0.7, r = 3.5 + d;
    double want = -0.035579 * exp(-(d / 0.5) * (d / 0.5)) - 0.005156 * exp(-((d - 3) / 2) * ((d - 3) / 2)) +
                  0.840245 * d * d - 0.587439;
    CHECK_NEAR(vina_pair_energy(XS_N_D, XS_O_A, r), want, 1e-12);
}

static void n_rot_counts_a_terminal_rotor_as_half(void)
{
    size_t len;
    char *text = chem_slurp(REF "poses_1iep.pdbqt", &len);
    chem_src s;
    chem_src_init(&s, text, len, "poses_1iep.pdbqt");
    chem_mol m;
    mol_init(&m);
    chem_error err;
    for (int k = 1; k <= 41; k++)
        CHECK(pdbqt_next(&s, &m, &err) == 1);
    /* Model 41 (an Open Babel CDK2 ligand): six branches, one to a hydroxyl. */
    vina_ligand L;
    CHECK(vina_ligand_build(&L, &m, &err));
    CHECK_EQ_INT(m.torsdof, 6);
    CHECK_EQ_INT(L.n_torsions, 6);
    CHECK_NEAR(L.n_rot, 5.5, 0);
    vina_ligand_free(&L);
    mol_free(&m);
    free(text);
}

static void sdf_ligand_prepared_like_meeko_scores_like_its_pdbqt(void)
{
    vina_receptor *r = receptor(REF "1iep_pocket.pdbqt");
    size_t len;
    char *text = chem_slurp(REF "1iep_ligand.sdf", &len);
    chem_src s;
    chem_src_init(&s, text, len, "1iep_ligand.sdf");
    chem_mol m;
    mol_init(&m);
    chem_error err;
    CHECK(sdf_next(&s, &m, &err) == 1);
    CHECK(ligprep(&m, &err));
    vina_ligand L;
    CHECK(vina_ligand_build(&L, &m, &err));
    double *xyz = coords(&m);
    vina_score sc;
    vina_score_pose(r, &L, xyz, &sc);
    /* Vina on Meeko's 1iep_ligand.pdbqt, pose 1 of expected.tsv. */
    CHECK_NEAR(sc.total, -12.513, 0.0006);
    CHECK_NEAR(sc.inter, -17.634, 0.0006);
    CHECK_NEAR(sc.intra, -0.485, 0.0006);
    CHECK_EQ_INT(L.n_torsions, 7);
    /* The written PDBQT reads back to the same score. */
    chem_buf b = {0};
    pdbqt_write(&b, &m);
    chem_src_init(&s, b.p, b.n, "written");
    chem_mol back;
    mol_init(&back);
    CHECK(pdbqt_next(&s, &back, &err) == 1);
    vina_ligand L2;
    CHECK(vina_ligand_build(&L2, &back, &err));
    double *xyz2 = coords(&back);
    vina_score sc2;
    vina_score_pose(r, &L2, xyz2, &sc2);
    CHECK_NEAR(sc2.total, sc.total, 1e-3);
    CHECK_NEAR(sc2.n_rot, sc.n_rot, 0);
    free(xyz), free(xyz2), buf_free(&b);
    vina_ligand_free(&L), vina_ligand_free(&L2);
    mol_free(&m), mol_free(&back);
    free(text);
    vina_receptor_free(r);
}

static void minimize_lowers_the_energy_of_a_clashing_pose(void)
{
    vina_receptor *r = receptor(REF "1iep_pocket.pdbqt");
    size_t len;
    char *text = chem_slurp(REF "poses_1iep.pdbqt", &len);
    chem_src s;
    chem_src_init(&s, text, len, "poses_1iep.pdbqt");
    chem_mol m;
    mol_init(&m);
    chem_error err;
    for (int k = 1; k <= 10; k++) /* model 10: a rigid move, total 7.145 */
        CHECK(pdbqt_next(&s, &m, &err) == 1);
    vina_ligand L;
    CHECK(vina_ligand_build(&L, &m, &err));
    double *xyz = coords(&m);
    vina_score before, after;
    vina_score_pose(r, &L, xyz, &before);
    vina_box box;
    vina_box_make(&box, (double[]){15.190, 53.903, 16.917}, (double[]){26, 26, 26});
    vina_grid *g = vina_grid_new(r, &box);
    vina_minimize(r, g, &box, &L, &m, xyz);
    vina_score_pose(r, &L, xyz, &after);
    /* vina --local_only on this pose: -11.995 (see the man page's numbers). */
    CHECK(after.total < before.total - 15);
    CHECK_NEAR(after.total, -11.995, 0.3);
    /* Bond lengths survive: torsions and rigid moves only. */
    double d0 = 0, d1 = 0;
    for (int c = 0; c < 3; c++) {
        d0 += pow(m.atoms[0].xyz[c] - m.atoms[1].xyz[c], 2);
        d1 += pow(xyz[c] - xyz[3 + c], 2);
    }
    CHECK_NEAR(sqrt(d1), sqrt(d0), 1e-9);
    vina_grid_free(g);
    free(xyz);
    vina_ligand_free(&L);
    mol_free(&m);
    free(text);
    vina_receptor_free(r);
}

static void bad_ligands_are_rejected_with_the_atom_named(void)
{
    static const char twins[] = "ROOT\n"
        "ATOM      1  C   UNL     1       1.000   2.000   3.000  1.00  0.00     0.000 C \n"
        "ATOM      2  C   UNL     1       1.000   2.000   3.000  1.00  0.00     0.000 C \n"
        "ENDROOT\nTORSDOF 0\n";
    chem_src s;
    chem_mol m;
    mol_init(&m);
    chem_error err;
    chem_src_init(&s, twins, strlen(twins), "twins");
    CHECK(pdbqt_next(&s, &m, &err) == 1);
    vina_ligand L;
    CHECK(!vina_ligand_build(&L, &m, &err));
    CHECK(strstr(err.msg, "same position") != NULL);
    vina_box box;
    vina_box_make(&box, (double[]){0, 0, 0}, (double[]){10, 10, 10});
    m.atoms[1].xyz[0] = 50;
    CHECK(vina_ligand_build(&L, &m, &err));
    double xyz[6] = {1, 2, 3, 50, 2, 3};
    CHECK_EQ_INT(vina_outside_box(&box, &L, xyz), 1);
    vina_ligand_free(&L);
    mol_free(&m);
}

int main(void)
{
    RUN(score_only_matches_vina_on_every_fixture_pose);
    RUN(table_reads_the_mean_of_two_samples_not_the_formula);
    RUN(pair_energy_has_the_five_weighted_terms);
    RUN(n_rot_counts_a_terminal_rotor_as_half);
    RUN(sdf_ligand_prepared_like_meeko_scores_like_its_pdbqt);
    RUN(minimize_lowers_the_energy_of_a_clashing_pose);
    RUN(bad_ligands_are_rejected_with_the_atom_named);
    return check_done();
}
