/* Findings and the routine catalogue, as records and as text. */
#include <string.h>

#include "rl/diag.h"

void diag_write_finding(rec_writer *w, const diag_finding *f)
{
    rec_begin(w);
    rec_put_cstr(w, "event", "warning");
    rec_put_u64(w, "step", f->step);
    rec_put_cstr(w, "code", f->code);
    rec_put_cstr(w, "severity", diag_severity_name(f->severity));
    rec_put_u64(w, "record", f->record);
    rec_put_cstr(w, "summary", f->summary);
    msgpack_packer *pk = rec_put_key(w, "evidence");
    msgpack_pack_map(pk, (size_t)f->n_evidence);
    for (int i = 0; i < f->n_evidence; i++) {
        msgpack_pack_str_with_body(pk, f->evidence[i].name, strlen(f->evidence[i].name));
        msgpack_pack_double(pk, f->evidence[i].value);
    }
    rec_put_cstr(w, "meaning", f->meaning);
    rec_put_cstr(w, "practice", f->practice);
    rec_put_cstr(w, "fixes", f->fixes);
    rec_end(w);
}

/* Text wrapped at 88 columns, each line after the first indented by `indent`. */
static void wrapped(FILE *out, const char *label, const char *text)
{
    const int width = 88, indent = 12;
    int col = fprintf(out, "  %-9s", label);
    while (*text) {
        while (*text == ' ')
            text++;
        size_t word = strcspn(text, " ");
        if (!word)
            break;
        if (col > indent && col + 1 + (int)word > width) {
            fprintf(out, "\n%*s", indent - 1, "");
            col = indent - 1;
        }
        col += fprintf(out, " %.*s", (int)word, text);
        text += word;
    }
    fputc('\n', out);
}

void diag_print_finding(FILE *out, const diag_finding *f)
{
    fprintf(out, "step %llu (record %llu): %s %s: %s\n", (unsigned long long)f->step,
            (unsigned long long)f->record, diag_severity_name(f->severity), f->code, f->summary);
    fprintf(out, "  %-9s", "evidence:");
    for (int i = 0; i < f->n_evidence; i++)
        fprintf(out, "%s%s=%.6g", i ? ", " : " ", f->evidence[i].name, f->evidence[i].value);
    fputc('\n', out);
    wrapped(out, "meaning:", f->meaning);
    wrapped(out, "practice:", f->practice);
    wrapped(out, "fixes:", f->fixes);
    fflush(out);
}

static const char *status(const diag_routine_info *in)
{
    return in->fired ? "fired" : in->ran ? "ran" : "skipped";
}

void diag_write_explain(rec_writer *w, const diag *d, uint64_t step)
{
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        rec_begin(w);
        rec_put_cstr(w, "event", "routine");
        rec_put_u64(w, "step", step);
        rec_put_cstr(w, "code", in.code);
        rec_put_cstr(w, "status", status(&in));
        rec_put_cstr(w, "needs", in.needs);
        rec_end(w);
    }
}

void diag_print_explain(FILE *out, const diag *d)
{
    int ran = 0, skipped = 0;
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        if (in.ran)
            ran++;
        else
            skipped++;
    }
    fprintf(out, "routines: %d ran, %d skipped for lack of inputs\n", ran, skipped);
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        fprintf(out, "  %-7s %-25s needs %s\n", status(&in), in.code, in.needs);
    }
}

void diag_print_catalogue(FILE *out, const diag *d)
{
    const char *name, *doc;
    double value;
    fprintf(out, "global parameters:\n");
    for (int j = 0; j < diag_global_count(); j++) {
        diag_param(d, -1, j, &name, &value, &doc);
        fprintf(out, "  %s=%g  %s\n", name, value, doc);
    }
    for (int i = 0; i < diag_count(d); i++) {
        diag_routine_info in;
        diag_info(d, i, &in);
        fprintf(out, "\n%s (%s)\n", in.code, diag_severity_name(in.severity));
        wrapped(out, "needs:", in.needs);
        wrapped(out, "meaning:", in.meaning);
        for (int j = 0; j < in.n_params; j++) {
            diag_param(d, i, j, &name, &value, &doc);
            fprintf(out, "  %s.%s=%g  %s\n", in.code, name, value, doc);
        }
    }
}
