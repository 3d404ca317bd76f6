/* The diagnosis framework: routines, parameters, phases and findings. */
#include "rl/diag.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rl/diag_int.h"

static const routine_def *const tables[] = {
    diag_health_routines, diag_policy_routines, diag_env_routines, diag_value_routines,
};

static const diag_param_def globals[] = {
    {"explore", 0.2, "the exploration phase: the first this fraction of the planned steps"},
    {"exploit", 0.8, "the exploitation phase: the steps after this fraction of the plan"},
};
enum { N_GLOBALS = sizeof globals / sizeof globals[0] };

diag *diag_new(diag_report_fn *report, void *ctx)
{
    diag *d = xcalloc(1, sizeof *d);
    d->report = report;
    d->ctx = ctx;
    d->explore = globals[0].value;
    d->exploit = globals[1].value;
    d->gamma = d->reward_threshold = NAN;
    d->n_actions = -1;
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++)
        for (const routine_def *def = tables[k]; def->code; def++)
            d->n++;
    d->r = xcalloc((size_t)d->n, sizeof *d->r);
    int i = 0;
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++)
        for (const routine_def *def = tables[k]; def->code; def++, i++) {
            routine *r = &d->r[i];
            r->def = def;
            for (int j = 0; j < DIAG_MAX_PARAMS && def->params[j].name; j++)
                r->p[j] = def->params[j].value;
            r->state = xcalloc(1, def->state_size ? def->state_size : 1);
        }
    return d;
}

void diag_free(diag *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++) {
        if (d->r[i].def->free)
            d->r[i].def->free(&d->r[i]);
        free(d->r[i].state);
    }
    free(d->r);
    free(d);
}

bool diag_set(diag *d, const char *name, double value)
{
    if (strcmp(name, "explore") == 0 || strcmp(name, "exploit") == 0) {
        if (!(value >= 0 && value <= 1))
            return false;
        if (strcmp(name, "explore") == 0)
            d->explore = value;
        else
            d->exploit = value;
        return true;
    }
    const char *dot = strchr(name, '.');
    if (!dot)
        return false;
    for (int i = 0; i < d->n; i++) {
        const routine_def *def = d->r[i].def;
        if (strlen(def->code) != (size_t)(dot - name) || strncmp(def->code, name, (size_t)(dot - name)) != 0)
            continue;
        for (int j = 0; j < DIAG_MAX_PARAMS && def->params[j].name; j++)
            if (strcmp(def->params[j].name, dot + 1) == 0) {
                d->r[i].p[j] = value;
                return true;
            }
    }
    return false;
}

static void start(diag *d)
{
    if (d->started)
        return;
    d->started = true;
    for (int i = 0; i < d->n; i++) {
        routine *r = &d->r[i];
        if (!r->started && r->def->init)
            r->def->init(d, r);
        r->started = true;
    }
}

void diag_feed(diag *d, const trace_rec *t, uint64_t index)
{
    start(d);
    d->step = t->step;
    d->last_step = t->step;
    d->index = index;
    if (t->event == TR_CONFIG) {
        if (trace_has(t, TF_GAMMA))
            d->gamma = t->v[TF_GAMMA];
        if (trace_has(t, TF_REWARD_THRESHOLD))
            d->reward_threshold = t->v[TF_REWARD_THRESHOLD];
        if (trace_has(t, TF_TOTAL_STEPS) && t->v[TF_TOTAL_STEPS] >= 1)
            d->total_steps = (uint64_t)t->v[TF_TOTAL_STEPS];
        if (trace_has(t, TF_MAX_EPISODE_STEPS) && t->v[TF_MAX_EPISODE_STEPS] >= 1)
            d->max_episode_steps = (uint64_t)t->v[TF_MAX_EPISODE_STEPS];
        if (trace_has(t, TF_N_ACTIONS) && t->v[TF_N_ACTIONS] >= 0 && t->v[TF_N_ACTIONS] < 1e6)
            d->n_actions = (int)t->v[TF_N_ACTIONS];
    }
    if (t->event == TR_EPISODE && t->n_action_counts > d->n_actions_seen)
        d->n_actions_seen = t->n_action_counts;
    for (int i = 0; i < d->n; i++)
        if (!d->r[i].fired)
            d->r[i].def->feed(d, &d->r[i], t);
    if (t->event == TR_UPDATE)
        d->grad_steps += (uint64_t)diag_updates_of(t);
}

void diag_finish(diag *d)
{
    start(d);
    d->finishing = true;
    d->step = d->last_step;
    for (int i = 0; i < d->n; i++)
        if (!d->r[i].fired && d->r[i].def->finish)
            d->r[i].def->finish(d, &d->r[i]);
}

const char *diag_severity_name(diag_severity s)
{
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "info";
}

/* ---- for the routines ---- */

void diag_ran(routine *r) { r->ran = true; }

void diag_fire(diag *d, routine *r, diag_severity sev, uint64_t step, const diag_evidence *ev,
               const char *fmt, ...)
{
    diag_finding f = {
        .code = r->def->code,
        .severity = sev,
        .step = step,
        .record = d->index,
        .meaning = r->def->meaning,
        .practice = r->def->practice,
        .fixes = r->def->fixes,
    };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.summary, sizeof f.summary, fmt, ap);
    va_end(ap);
    for (; ev && ev->name && f.n_evidence < DIAG_MAX_EVIDENCE; ev++)
        f.evidence[f.n_evidence++] = *ev;
    r->ran = true;
    r->fired = true;
    d->report(d->ctx, &f);
}

uint64_t diag_total(const diag *d)
{
    if (d->total_steps)
        return d->total_steps;
    return d->finishing ? d->last_step : 0;
}

uint64_t diag_explore_end(const diag *d) { return (uint64_t)(d->explore * (double)diag_total(d)); }

uint64_t diag_exploit_start(const diag *d)
{
    return (uint64_t)ceil(d->exploit * (double)diag_total(d));
}

diag_phase diag_phase_of(const diag *d, uint64_t s0, uint64_t s1)
{
    if (!diag_total(d))
        return PHASE_UNKNOWN;
    if (s1 <= diag_explore_end(d))
        return PHASE_EXPLORE;
    if (s0 >= diag_exploit_start(d))
        return PHASE_EXPLOIT;
    return PHASE_MIDDLE;
}

int diag_actions(const diag *d)
{
    if (d->n_actions >= 0)
        return d->n_actions;
    return d->n_actions_seen > 0 ? d->n_actions_seen : -1;
}

double diag_updates_of(const trace_rec *t)
{
    return trace_has(t, TF_UPDATES) && t->v[TF_UPDATES] >= 1 && t->v[TF_UPDATES] < 1e12
               ? floor(t->v[TF_UPDATES])
               : 1;
}

/* ---- the catalogue ---- */

int diag_count(const diag *d) { return d->n; }

int diag_global_count(void) { return N_GLOBALS; }

void diag_info(const diag *d, int i, diag_routine_info *out)
{
    const routine *r = &d->r[i];
    const routine_def *def = r->def;
    *out = (diag_routine_info){
        .code = def->code,
        .severity = def->severity,
        .needs = def->needs,
        .ran = r->ran,
        .fired = r->fired,
        .meaning = def->meaning,
        .practice = def->practice,
        .fixes = def->fixes,
    };
    while (out->n_params < DIAG_MAX_PARAMS && def->params[out->n_params].name)
        out->n_params++;
}

void diag_param(const diag *d, int i, int j, const char **name, double *value, const char **doc)
{
    if (i < 0) {
        *name = globals[j].name;
        *value = j == 0 ? d->explore : d->exploit;
        *doc = globals[j].doc;
        return;
    }
    *name = d->r[i].def->params[j].name;
    *value = d->r[i].p[j];
    *doc = d->r[i].def->params[j].doc;
}
