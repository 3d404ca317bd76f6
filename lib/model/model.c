/* Dispatch of the model interface to the families, and named configurations. */
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static const model_ops *family(const char *arch)
{
    if (strcmp(arch, "gpt") == 0)
        return &gpt_ops;
    if (strcmp(arch, "hawk") == 0)
        return &hawk_ops;
    return NULL;
}

bool model_config_named(model_config *cfg, const char *arch, const char *name)
{
    static const struct { const char *name; int V, L, C, NH, T; } named[] = {
        {"S", 256, 4, 128, 4, 128},
        {"M", 4096, 6, 384, 6, 256},
        {"gpt2", 50257, 12, 768, 12, 1024},
        {"gpt2-medium", 50257, 24, 1024, 16, 1024},
        {"gpt2-large", 50257, 36, 1280, 20, 1024},
        {"gpt2-xl", 50257, 48, 1600, 25, 1024},
        {"distilgpt2", 50257, 6, 768, 12, 1024},
    };
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        if (strcmp(named[i].name, name) != 0)
            continue;
        memset(cfg, 0, sizeof *cfg);
        snprintf(cfg->arch, sizeof cfg->arch, "%s", arch);
        cfg->vocab = named[i].V;
        cfg->layers = named[i].L;
        cfg->width = named[i].C;
        cfg->heads = named[i].NH;
        cfg->context = named[i].T;
        return true;
    }
    return false;
}

const char *model_config_finish(model_config *cfg)
{
    if (!family(cfg->arch))
        return "unknown architecture (expected gpt or hawk)";
    if (cfg->vocab < 1 || cfg->layers < 1 || cfg->width < 1 || cfg->context < 1)
        return "vocab, layers, width and context must be positive";
    bool gpt = strcmp(cfg->arch, "gpt") == 0;
    if (gpt && (cfg->heads < 1 || cfg->width % cfg->heads != 0))
        return "width must be a multiple of heads";
    if (!cfg->mlp)
        cfg->mlp = gpt ? 4 * cfg->width : 3 * cfg->width;
    if (!gpt && !cfg->lru)
        cfg->lru = cfg->width;
    if (!gpt && !cfg->conv)
        cfg->conv = 4;
    if (cfg->mlp < 1 || cfg->lru < 0 || cfg->conv < 0)
        return "mlp, lru and conv widths must be positive";
    return NULL;
}

size_t model_param_count(const model_config *cfg)
{
    model m = {.cfg = *cfg, .ops = family(cfg->arch)};
    if (!m.ops)
        die(EX_SOFTWARE, "model_param_count: unknown architecture \"%s\"", cfg->arch);
    m.ops->declare(&m);
    size_t n = param_count(&m.params);
    param_free(&m.params);
    return n;
}

model *model_new(const model_config *cfg)
{
    model *m = xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->ops = family(cfg->arch);
    if (!m->ops)
        die(EX_SOFTWARE, "model_new: unknown architecture \"%s\"", cfg->arch);
    m->ops->declare(m);
    param_alloc(&m->params);
    m->ops->bind(m);
    return m;
}

void model_init(model *m, uint64_t seed) { m->ops->init(m, seed); }

void model_free(model *m)
{
    if (!m)
        return;
    m->ops->free(m);
    param_free(&m->params);
    free(m->linears);
    free(m);
}

const model_config *model_cfg(const model *m) { return &m->cfg; }
param_set *model_params(model *m) { return &m->params; }

void model_plan(model *m, int B, int T, bool training)
{
    if (T > m->cfg.context)
        die(EX_DATAERR, "sequence length %d is longer than the model's context %d", T,
            m->cfg.context);
    if (training)
        param_alloc_grads(&m->params);
    m->B = B;
    m->T = T;
    m->ops->plan(m, B, T, training);
}

void model_forward(model *m, const uint32_t *tokens, const uint32_t *targets, float *logp)
{
    uint32_t V = (uint32_t)m->cfg.vocab;
    for (long i = 0; i < (long)m->B * m->T; i++) {
        if (tokens[i] >= V)
            die(EX_DATAERR, "token %u is outside the vocabulary (%u)", tokens[i], V);
        if (targets && targets[i] >= V && targets[i] != MODEL_IGNORE)
            die(EX_DATAERR, "target %u is outside the vocabulary (%u)", targets[i], V);
    }
    m->ops->forward(m, tokens, targets, logp);
}

int model_max_len(const model *m) { return m->ops->bounded ? m->cfg.context : 0; }

const float *model_logits(const model *m) { return m->ops->logits(m); }

void model_backward(model *m, const float *dlogp) { m->ops->backward(m, dlogp); }

model_state *model_state_new(model *m) { return m->ops->state_new(m); }
void model_state_reset(model_state *s) { s->m->ops->state_reset(s); }
int model_state_pos(const model_state *s) { return s->pos; }

const float *model_step(model *m, model_state *s, uint32_t token)
{
    if (token >= (uint32_t)m->cfg.vocab)
        die(EX_DATAERR, "token %u is outside the vocabulary (%d)", token, m->cfg.vocab);
    return m->ops->step(m, s, token);
}

void model_state_free(model_state *s)
{
    if (s)
        s->m->ops->state_free(s);
}

void model_add_linear(model *m, linear *l, const char *name)
{
    int i = 0;
    while (i < m->n_linears && m->linears[i].lin != l)
        i++;
    if (i == m->n_linears) {
        if (m->n_linears == m->cap_linears) {
            m->cap_linears = m->cap_linears ? 2 * m->cap_linears : 32;
            m->linears = xrealloc(m->linears, (size_t)m->cap_linears * sizeof *m->linears);
        }
        m->n_linears++;
    }
    m->linears[i].lin = l;
    snprintf(m->linears[i].name, sizeof m->linears[i].name, "%s", name);
}

int model_linears(model *m, const model_linear **out)
{
    *out = m->linears;
    return m->n_linears;
}
