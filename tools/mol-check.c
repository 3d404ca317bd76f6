/* mol-check: validity, canonical SMILES and descriptors of SMILES, or a summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/hash.h"
#include "chem/descriptors.h"
#include "chem/io.h"
#include "chem/smiles.h"
#include "rec/rec.h"

static const char usage[] =
    "usage: mol-check [-k KEY] [-l] [-s] [-o FILE] [-z] [FILE]\n"
    "Check the SMILES of records FILE (default stdin) as RDKit would and add, to each,\n"
    "`valid`, `error` (when invalid), `canonical` and descriptors; or, with --summary,\n"
    "write one record with the validity and uniqueness rates.\n"
    "\n"
    "  -k, --key KEY      the SMILES key (default smiles)\n"
    "  -l, --lines        read plain text, one SMILES per line, instead of records\n"
    "  -s, --summary      write only {n, valid, validity, unique, uniqueness}\n"
    "  -o, --output F     write to F (atomically) instead of stdout\n"
    "  -z, --gzip         compress the output\n"
    "  -h, --help         this text; --version the version\n";

/* Distinct canonical SMILES, by 64-bit hash (a collision among 10^9 strings has
 * probability about 3e-2; generated sets are far smaller). */
typedef struct {
    uint64_t *slot;
    size_t cap, n;
} hash_set;

static bool hash_set_add(hash_set *s, uint64_t h)
{
    if (2 * (s->n + 1) > s->cap) {
        hash_set bigger = {xcalloc(s->cap ? 2 * s->cap : 1024, sizeof *s->slot),
                           s->cap ? 2 * s->cap : 1024, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                hash_set_add(&bigger, s->slot[i]);
        free(s->slot);
        *s = bigger;
    }
    h |= 1; /* 0 marks an empty slot */
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == h)
            return false;
        if (!s->slot[i]) {
            s->slot[i] = h;
            s->n++;
            return true;
        }
    }
}

typedef struct {
    rec_writer *out;
    bool summary;
    const char *key;
    uint64_t n, n_valid;
    hash_set unique;
    chem_mol mol;
    chem_buf canon;
} job;

/* Check one SMILES; write its record unless summarizing. */
static void check(job *j, const rec *r, const char *s, size_t len)
{
    chem_error err;
    bool ok = smiles_valid(s, len, &j->mol, &err);
    j->n++;
    if (ok) {
        j->n_valid++;
        j->canon.n = 0;
        smiles_write(&j->canon, &j->mol);
        hash_set_add(&j->unique, hash64(j->canon.p, j->canon.n, 0));
    }
    if (j->summary)
        return;
    rec_begin(j->out);
    static const char *const written[] = {
        "valid", "error", "canonical",      "heavy_atoms", "rotatable_bonds", "rings", "hbd",
        "hba",   "mw",    "ro5_violations", NULL};
    if (r)
        rec_put_rest(j->out, r, written);
    else
        rec_put_str(j->out, j->key, s, len);
    rec_put_bool(j->out, "valid", ok);
    if (!ok) {
        rec_put_cstr(j->out, "error", err.msg);
    } else {
        chem_descriptors d;
        mol_descriptors(&j->mol, &d);
        rec_put_str(j->out, "canonical", j->canon.p, j->canon.n);
        rec_put_i64(j->out, "heavy_atoms", d.heavy_atoms);
        rec_put_i64(j->out, "rotatable_bonds", d.rotatable_bonds);
        rec_put_i64(j->out, "rings", d.rings);
        rec_put_i64(j->out, "hbd", d.hbd);
        rec_put_i64(j->out, "hba", d.hba);
        rec_put_f64(j->out, "mw", d.mw);
        rec_put_i64(j->out, "ro5_violations", d.ro5_violations);
    }
    rec_end(j->out);
}

static void read_lines(job *j, const char *path)
{
    size_t len;
    char *text = chem_slurp(strcmp(path, "-") == 0 ? "/dev/stdin" : path, &len);
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t k = n;
        while (k && (p[k - 1] == '\r' || p[k - 1] == ' ' || p[k - 1] == '\t'))
            k--;
        /* The first field is the SMILES (files often carry a name after it). */
        size_t f = 0;
        while (f < k && p[f] != ' ' && p[f] != '\t')
            f++;
        if (f > 0)
            check(j, NULL, p, f);
        p += n + 1;
    }
    free(text);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'}, {"lines", no_argument, NULL, 'l'},
        {"summary", no_argument, NULL, 's'},   {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},      CLI_STD_OPTIONS,
        {0},
    };
    job j = {.key = "smiles"};
    const char *output = "-";
    bool gzip = false, lines = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "k:lso:z", opts)) != -1;) {
        switch (c) {
        case 'k': j.key = optarg; break;
        case 'l': lines = true; break;
        case 's': j.summary = true; break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        }
    }
    const char *input = cli_one_input(argc, argv);
    mol_init(&j.mol);
    j.out = rec_create(output, gzip);
    if (lines) {
        read_lines(&j, input);
    } else {
        rec_reader *in = rec_open(input);
        rec r;
        while (rec_next(in, &r)) {
            size_t len;
            const char *s = rec_need_str(&r, j.key, &len);
            check(&j, &r, s, len);
        }
        rec_close(in);
    }
    if (j.summary) {
        rec_begin(j.out);
        rec_put_u64(j.out, "n", j.n);
        rec_put_u64(j.out, "valid", j.n_valid);
        rec_put_f64(j.out, "validity", j.n ? (double)j.n_valid / (double)j.n : 0);
        rec_put_u64(j.out, "unique", j.unique.n);
        rec_put_f64(j.out, "uniqueness", j.n_valid ? (double)j.unique.n / (double)j.n_valid : 0);
        rec_end(j.out);
    }
    rec_finish(j.out);
    mol_free(&j.mol);
    buf_free(&j.canon);
    free(j.unique.slot);
    return 0;
}
