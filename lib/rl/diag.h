/* diag: diagnosis of a deep-RL training trace, in the manner of RLExplorer (Bouchoucha et
 * al., 2024).
 *
 * Faults in RL programs rarely crash them: a wrong sign, a stale target network or an
 * unnormalized observation only shows in how training behaves.  diag watches the
 * signals of a trace (runnel-trace(5)) as its records arrive and runs diagnosis
 * routines on them, each one a property of healthy learning dynamics with its own period
 * (window of records or episodes) and thresholds.  Routines look at least-squares trends
 * and residual fluctuations over windows, and compare the exploration phase (the first
 * 20% of the planned steps) with the exploitation phase (after 80%).
 *
 * Each routine reports at most once, through the callback, as soon as its evidence is
 * there, so diagnosing a trace while training runs gives warnings while it runs.
 * Routines whose inputs never arrive are skipped; diag_explain() says which and why.
 * diag never reads which fault a trace was made with: only the dynamics. */
#ifndef RUNNEL_RL_DIAG_H
#define RUNNEL_RL_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rec/rec.h"
#include "rl/trace.h"

typedef enum { DIAG_INFO, DIAG_WARNING, DIAG_ERROR } diag_severity;

enum { DIAG_MAX_EVIDENCE = 8 };

typedef struct {
    const char *name;
    double value;
} diag_evidence;

typedef struct {
    const char *code;        /* "loss_diverging" */
    diag_severity severity;
    uint64_t step;           /* the step at which it was detected */
    uint64_t record;         /* the record that completed the evidence (from 1) */
    char summary[256];       /* one line with this run's numbers */
    int n_evidence;
    diag_evidence evidence[DIAG_MAX_EVIDENCE];
    const char *meaning;     /* what it means in RL terms */
    const char *practice;    /* the recommended practice */
    const char *fixes;       /* likely fixes */
} diag_finding;

typedef void diag_report_fn(void *ctx, const diag_finding *f);

typedef struct diag diag;

diag *diag_new(diag_report_fn *report, void *ctx);
void diag_free(diag *d);

/* Override a parameter: "CODE.NAME" for a routine's, or a global ("explore",
 * "exploit").  False when there is no such parameter. */
bool diag_set(diag *d, const char *name, double value);

/* Feed the next record of the trace (index counted from 1).  The caller checks the
 * step order. */
void diag_feed(diag *d, const trace_rec *t, uint64_t index);
/* The trace ended: run what waits for the end. */
void diag_finish(diag *d);

const char *diag_severity_name(diag_severity s);

/* ---- the catalogue, for --explain and --list ---- */

int diag_count(const diag *d);
typedef struct {
    const char *code;
    diag_severity severity; /* its usual severity (some report another when worse) */
    const char *needs;      /* the inputs it needs */
    bool ran;               /* its inputs arrived and it was evaluated */
    bool fired;
    const char *meaning, *practice, *fixes;
    int n_params;
} diag_routine_info;
void diag_info(const diag *d, int i, diag_routine_info *out);
/* Parameter j of routine i: its name, value and description. */
void diag_param(const diag *d, int i, int j, const char **name, double *value, const char **doc);
/* The global parameters, the same way (i = -1 in diag_param). */
int diag_global_count(void);

/* ---- output (diag_report.c) ---- */

/* A finding as a record: event "warning", step, code, severity, record, summary,
 * evidence (a map of numbers), meaning, practice, fixes. */
void diag_write_finding(rec_writer *w, const diag_finding *f);
/* The same for people: a header line, then the evidence and the texts, indented. */
void diag_print_finding(FILE *out, const diag_finding *f);
/* Which routines ran and which were skipped for lack of inputs: one record each (event
 * "routine": code, status "fired", "ran" or "skipped", needs), or text. */
void diag_write_explain(rec_writer *w, const diag *d, uint64_t step);
void diag_print_explain(FILE *out, const diag *d);
/* The catalogue: every code with its severity, inputs, texts and parameters. */
void diag_print_catalogue(FILE *out, const diag *d);

#endif
