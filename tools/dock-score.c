/* dock-score: score ligand poses against a receptor with AutoDock Vina 1.2.3's function. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "chem/io.h"
#include "chem/ligprep.h"
#include "chem/record.h"
#include "chem/smiles.h"
#include "chem/valence.h"
#include "chem/vina.h"
#include "chem/vina_opt.h"
#include "rec/rec.h"

static const char usage[] =
    "usage: dock-score -r RECEPTOR [--box CX,CY,CZ,SX,SY,SZ] [-m] [-k] [-t] [-o FILE] [-z] [FILE ...]\n"
    "Score ligand poses with AutoDock Vina 1.2.3's scoring function, as vina --score_only.\n"
    "FILEs (PDBQT, SDF/MOL) are scored molecule by molecule; without FILEs, records\n"
    "from stdin carrying `pdbqt`, `molfile` or `smiles` with `coords` are.\n"
    "\n"
    "  -r, --receptor F   receptor, PDBQT or PDB (with hydrogens)\n"
    "  -b, --box C,S      search box: centre x,y,z and size x,y,z in A; heavy atoms\n"
    "                     outside it are an error, as in Vina\n"
    "  -m, --minimize     optimize each pose locally first; adds the pose as `pdbqt`\n"
    "  -k, --keep-going   mark a bad molecule valid=false with an `error`, and go on\n"
    "  -t, --text         a tab-separated table instead of records\n"
    "  -o, --output F     write to F (atomically) instead of stdout\n"
    "  -z, --gzip         compress the output\n"
    "  -h, --help         this text; --version the version\n";

/* Keys dock-score writes, so an input record's own values of them are not copied;
 * the last one only with --minimize. */
static const char *const written[] = {"score",  "inter",       "intra",    "torsional", "n_rot",
                                      "gauss1", "gauss2",      "repulsion", "hydrophobic", "hydrogen",
                                      "valid",  "error",       "name",     "pdbqt",     NULL};
static const char *const written_scoring[] = {"score",  "inter",       "intra",    "torsional", "n_rot",
                                              "gauss1", "gauss2",      "repulsion", "hydrophobic", "hydrogen",
                                              "valid",  "error",       "name",     NULL};

typedef struct {
    vina_receptor *receptor;
    vina_grid *grid;            /* maps over the box, for --minimize */
    vina_box box;
    bool has_box, minimize, keep_going, text;
    rec_writer *out;
    chem_buf pose;
    uint64_t n_scored, n_invalid;
} job;

static vina_receptor *load_receptor(const char *path)
{
    size_t len;
    char *text = chem_slurp(path, &len);
    int fmt = chem_format_of(path);
    if (fmt != FMT_PDBQT && fmt != FMT_PDB)
        cli_usage_error("--receptor %s: expected a .pdbqt or .pdb file", path);
    chem_src s;
    chem_src_init(&s, text, len, path);
    chem_mol m;
    mol_init(&m);
    chem_error err;
    int got = chem_next(fmt, &s, &m, &err);
    if (got < 0)
        die(EX_DATAERR, "%s", err.msg);
    if (got == 0)
        die(EX_DATAERR, "%s: no atoms in the receptor", path);
    if (fmt == FMT_PDB && !receptor_prepare(&m, &err))
        die(EX_DATAERR, "%s: %s", path, err.msg);
    vina_receptor *r = vina_receptor_new(&m);
    mol_free(&m);
    free(text);
    return r;
}

static void parse_box(job *j, const char *arg)
{
    double v[6];
    char *end;
    const char *p = arg;
    for (int k = 0; k < 6; k++) {
        v[k] = strtod(p, &end);
        if (end == p || (k < 5 ? *end != ',' : *end != '\0') || !isfinite(v[k]) || (k >= 3 && v[k] <= 0))
            cli_usage_error("--box: expected CX,CY,CZ,SX,SY,SZ with positive sizes, found \"%s\"", arg);
        p = end + 1;
    }
    vina_box_make(&j->box, v, v + 3);
    j->has_box = true;
}

/* Report a molecule that cannot be scored: fatal unless --keep-going. */
static void invalid(job *j, const rec *r, const char *name, const char *msg)
{
    if (!j->keep_going) {
        if (r)
            rec_fail(r, "%s", msg);
        die(EX_DATAERR, "%s", msg);
    }
    j->n_invalid++;
    if (j->text) {
        printf("%s\tinvalid\t%s\n", name ? name : "-", msg);
        return;
    }
    rec_begin(j->out);
    if (r)
        rec_put_rest(j->out, r, written_scoring);
    else
        rec_put_cstr(j->out, "name", name);
    rec_put_bool(j->out, "valid", false);
    rec_put_cstr(j->out, "error", msg);
    rec_end(j->out);
}

/* Score one prepared ligand (AutoDock types and torsion tree) and write its result. */
static void score(job *j, const rec *r, const char *name, chem_mol *m)
{
    chem_error err;
    vina_ligand L;
    if (!vina_ligand_build(&L, m, &err)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %s", name ? name : "ligand", err.msg);
        invalid(j, r, name, msg);
        return;
    }
    double *xyz = xmalloc(3 * m->n_atoms * sizeof *xyz);
    for (size_t i = 0; i < m->n_atoms; i++)
        memcpy(xyz + 3 * i, m->atoms[i].xyz, sizeof m->atoms[i].xyz);
    long out = j->has_box ? vina_outside_box(&j->box, &L, xyz) : -1;
    if (out >= 0) {
        const chem_atom *a = &m->atoms[out];
        char msg[400];
        snprintf(msg, sizeof msg, "%s: atom %u at (%.3f, %.3f, %.3f) is outside the box",
                 name ? name : "ligand", a->serial, a->xyz[0], a->xyz[1], a->xyz[2]);
        invalid(j, r, name, msg);
    } else {
        if (j->minimize) {
            vina_box around;
            if (!j->has_box)
                vina_autobox(&L, xyz, &around);
            vina_minimize(j->receptor, j->grid, j->has_box ? &j->box : &around, &L, m, xyz);
            for (size_t i = 0; i < m->n_atoms; i++)
                memcpy(m->atoms[i].xyz, xyz + 3 * i, sizeof m->atoms[i].xyz);
        }
        vina_score s;
        vina_score_pose(j->receptor, &L, xyz, &s);
        j->n_scored++;
        if (j->text) {
            printf("%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\n", name ? name : "-", s.total, s.inter, s.intra,
                   s.torsional, s.n_rot);
        } else {
            rec_begin(j->out);
            if (r)
                rec_put_rest(j->out, r, j->minimize ? written : written_scoring);
            else
                rec_put_cstr(j->out, "name", name);
            rec_put_f64(j->out, "score", s.total);
            rec_put_f64(j->out, "inter", s.inter);
            rec_put_f64(j->out, "intra", s.intra);
            rec_put_f64(j->out, "torsional", s.torsional);
            rec_put_f64(j->out, "n_rot", s.n_rot);
            rec_put_f64(j->out, "gauss1", s.gauss1);
            rec_put_f64(j->out, "gauss2", s.gauss2);
            rec_put_f64(j->out, "repulsion", s.repulsion);
            rec_put_f64(j->out, "hydrophobic", s.hydrophobic);
            rec_put_f64(j->out, "hydrogen", s.hydrogen);
            rec_put_bool(j->out, "valid", true);
            if (j->minimize) {
                j->pose.n = 0;
                pdbqt_write(&j->pose, m);
                rec_put_str(j->out, "pdbqt", j->pose.p, j->pose.n);
            }
            rec_end(j->out);
        }
    }
    free(xyz);
    vina_ligand_free(&L);
}

/* SDF molecules and SMILES need preparing; PDBQT ligands come prepared. */
static void prepare_and_score(job *j, const rec *r, const char *name, chem_mol *m, bool prepared)
{
    chem_error err;
    if (!prepared && !ligprep(m, &err)) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %s", name ? name : "ligand", err.msg);
        invalid(j, r, name, msg);
        return;
    }
    score(j, r, name, m);
}

static void score_file(job *j, const char *path)
{
    int fmt = chem_format_of(path);
    if (fmt != FMT_PDBQT && fmt != FMT_SDF)
        cli_usage_error("%s: expected a .pdbqt, .sdf or .mol ligand file", path);
    size_t len;
    char *text = chem_slurp(path, &len);
    chem_src s;
    chem_src_init(&s, text, len, path);
    chem_mol m;
    mol_init(&m);
    chem_error err;
    char name[512];
    for (int k = 1;; k++) {
        int got = chem_next(fmt, &s, &m, &err);
        if (got == 0)
            break;
        snprintf(name, sizeof name, "%s:%d", path, k);
        if (got < 0)
            invalid(j, NULL, name, err.msg);
        else
            prepare_and_score(j, NULL, name, &m, fmt == FMT_PDBQT);
    }
    mol_free(&m);
    free(text);
}

static void score_records(job *j, const char *path)
{
    rec_reader *in = rec_open(path);
    rec r;
    chem_mol m;
    mol_init(&m);
    chem_error err;
    char label[64], msg[400];
    while (rec_next(in, &r)) {
        const char *text;
        size_t len;
        snprintf(label, sizeof label, "record %llu", (unsigned long long)r.index);
        bool ok, prepared = false;
        if (rec_get_str(&r, "pdbqt", &text, &len) || rec_get_str(&r, "molfile", &text, &len)) {
            prepared = rec_find(&r, "pdbqt") != NULL;
            chem_src s;
            chem_src_init(&s, text, len, prepared ? "pdbqt" : "molfile");
            int got = prepared ? pdbqt_next(&s, &m, &err) : sdf_next(&s, &m, &err);
            ok = got > 0;
            if (got == 0)
                snprintf(err.msg, sizeof err.msg, "%s: no molecule", prepared ? "pdbqt" : "molfile");
            snprintf(msg, sizeof msg, "%s", err.msg);
        } else if (rec_get_str(&r, "smiles", &text, &len)) {
            ok = smiles_valid(text, len, &m, &err);
            if (!ok)
                snprintf(msg, sizeof msg, "smiles: %s", err.msg);
            else
                ok = mol_coords_from_record(&r, "coords", &m, msg, sizeof msg);
        } else {
            ok = false;
            snprintf(msg, sizeof msg, "no \"pdbqt\", \"molfile\" or \"smiles\" key");
        }
        if (!ok)
            invalid(j, &r, label, msg);
        else
            prepare_and_score(j, &r, label, &m, prepared);
    }
    mol_free(&m);
    rec_close(in);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"receptor", required_argument, NULL, 'r'}, {"box", required_argument, NULL, 'b'},
        {"minimize", no_argument, NULL, 'm'},       {"keep-going", no_argument, NULL, 'k'},
        {"text", no_argument, NULL, 't'},           {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},           CLI_STD_OPTIONS,
        {0},
    };
    job j = {0};
    const char *receptor = NULL, *output = "-";
    bool gzip = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "r:b:mktzo:", opts)) != -1;) {
        switch (c) {
        case 'r': receptor = optarg; break;
        case 'b': parse_box(&j, optarg); break;
        case 'm': j.minimize = true; break;
        case 'k': j.keep_going = true; break;
        case 't': j.text = true; break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    if (!receptor)
        cli_usage_error("a receptor is required (-r FILE)");
    if (j.text && (gzip || strcmp(output, "-") != 0))
        cli_usage_error("--text writes to stdout: it takes neither -o nor -z");
    j.receptor = load_receptor(receptor);
    if (j.minimize && j.has_box)
        j.grid = vina_grid_new(j.receptor, &j.box);
    if (!j.text)
        j.out = rec_create(output, gzip);
    else
        printf("name\tscore\tinter\tintra\ttorsional\tn_rot\n");
    if (optind == argc)
        score_records(&j, "-");
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0)
            score_records(&j, "-");
        else
            score_file(&j, argv[i]);
    }
    if (j.out)
        rec_finish(j.out);
    buf_free(&j.pose);
    vina_grid_free(j.grid);
    vina_receptor_free(j.receptor);
    return 0;
}
