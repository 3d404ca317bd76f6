#include "rl/mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "nn/act.h"

void mlp_init(mlp *m, const char *name, const int *sizes, int n_layers, mlp_act act,
              int max_batch, double out_scale, rng_t *rng)
{
    memset(m, 0, sizeof *m);
    if (n_layers < 1 || n_layers > MLP_MAX_LAYERS)
        die(EX_SOFTWARE, "mlp_init: %d layers", n_layers);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->n_layers = n_layers;
    memcpy(m->sizes, sizes, (size_t)(n_layers + 1) * sizeof *sizes);
    m->act = act;
    m->max_batch = max_batch;
    int wi[MLP_MAX_LAYERS], bi[MLP_MAX_LAYERS], widest = 0;
    for (int i = 0; i < n_layers; i++) {
        char pname[PARAM_NAME_MAX];
        snprintf(pname, sizeof pname, "%s.%d.weight", name, i);
        wi[i] = param_add(&m->ps, pname, PARAM_DECAY, 2, (int64_t[]){sizes[i], sizes[i + 1]});
        snprintf(pname, sizeof pname, "%s.%d.bias", name, i);
        bi[i] = param_add(&m->ps, pname, 0, 1, (int64_t[]){sizes[i + 1]});
    }
    param_alloc(&m->ps);
    param_alloc_grads(&m->ps);
    for (int i = 0; i <= n_layers; i++)
        widest = sizes[i] > widest ? sizes[i] : widest;
    for (int i = 0; i < n_layers; i++) {
        linear *l = &m->lin[i];
        l->in = sizes[i];
        l->out = sizes[i + 1];
        l->w = param_w(&m->ps, wi[i]);
        l->b = param_w(&m->ps, bi[i]);
        l->dw = param_g(&m->ps, wi[i]);
        l->db = param_g(&m->ps, bi[i]);
        double bound = 1 / sqrt(sizes[i]);
        bool last = i == n_layers - 1;
        for (int k = 0; k < l->in * l->out; k++)
            l->w[k] = (float)((2 * rng_uniform(rng) - 1) * bound * (last ? out_scale : 1));
        for (int k = 0; k < l->out; k++)
            l->b[k] = last && out_scale != 1 ? 0 : (float)((2 * rng_uniform(rng) - 1) * bound);
        m->h[i] = xmalloc((size_t)max_batch * (size_t)l->out * sizeof(float));
    }
    for (int k = 0; k < 2; k++)
        m->d[k] = xmalloc((size_t)max_batch * (size_t)widest * sizeof(float));
}

void mlp_free(mlp *m)
{
    for (int i = 0; i < m->n_layers; i++)
        free(m->h[i]);
    free(m->d[0]);
    free(m->d[1]);
    param_free(&m->ps);
    memset(m, 0, sizeof *m);
}

const float *mlp_forward(mlp *m, const float *x, int n)
{
    if (n > m->max_batch)
        die(EX_SOFTWARE, "mlp_forward(%s): batch %d over %d", m->name, n, m->max_batch);
    m->x = x;
    m->batch = n;
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        float *y = m->h[i];
        linear_forward(&m->lin[i], y, in, n);
        if (i < m->n_layers - 1) {
            size_t count = (size_t)n * (size_t)m->lin[i].out;
            (m->act == MLP_RELU ? relu_forward : tanh_forward)(y, y, count);
        }
        in = y;
    }
    return m->h[m->n_layers - 1];
}

void mlp_backward(mlp *m, const float *dy)
{
    int n = m->batch;
    const float *g = dy; /* gradient at the output of layer i (after its activation) */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const linear *l = &m->lin[i];
        float *dpre = m->d[i % 2];
        size_t count = (size_t)n * (size_t)l->out;
        if (i == m->n_layers - 1) {
            memcpy(dpre, g, count * sizeof(float));
        } else {
            /* g may be dpre itself: the previous layer's dx */
            (m->act == MLP_RELU ? relu_backward : tanh_backward)(dpre, g, m->h[i], count);
        }
        float *dx = NULL;
        if (i > 0) {
            dx = m->d[(i + 1) % 2];
            memset(dx, 0, (size_t)n * (size_t)l->in * sizeof(float));
        }
        linear_backward(l, dx, dpre, i > 0 ? m->h[i - 1] : m->x, n);
        g = dx;
    }
}

void mlp_copy(mlp *m, const mlp *src)
{
    memcpy(m->ps.w, src->ps.w, src->ps.total * sizeof(float));
}

void mlp_shift_hidden_bias(mlp *m, float c)
{
    for (int i = 0; i < m->n_layers - 1; i++)
        for (int k = 0; k < m->lin[i].out; k++)
            m->lin[i].b[k] += c;
}

int mlp_layer_stats(const mlp *m, const float *before, trace_layer *out)
{
    for (int i = 0; i < m->n_layers; i++) {
        const linear *l = &m->lin[i];
        trace_layer *t = &out[i];
        size_t nw = (size_t)l->in * (size_t)l->out;
        double sum = 0, sq = 0, maxabs = 0, g = 0, w2 = 0, dw2 = 0;
        for (size_t k = 0; k < nw; k++) {
            double w = l->w[k];
            sum += w;
            sq += w * w;
            maxabs = fmax(maxabs, fabs(w));
            g += (double)l->dw[k] * l->dw[k];
            if (before) {
                double dw = w - before[l->w - m->ps.w + (ptrdiff_t)k];
                dw2 += dw * dw;
            }
        }
        w2 = sq;
        for (int k = 0; k < l->out; k++)
            g += (double)l->db[k] * l->db[k];
        double mean = sum / (double)nw;
        t->has = 0;
        snprintf(t->name, sizeof t->name, "%s.%d", m->name, i);
        layer_set(t, TL_W_MEAN, mean);
        layer_set(t, TL_W_STD, sqrt(fmax(sq / (double)nw - mean * mean, 0)));
        layer_set(t, TL_W_MAXABS, maxabs);
        layer_set(t, TL_G_NORM, sqrt(g));
        if (before && w2 > 0)
            layer_set(t, TL_UPDATE_RATIO, sqrt(dw2 / w2));
        if (i == m->n_layers - 1 || m->batch < 2)
            continue;
        const float *y = m->h[i];
        int n = m->batch, units = l->out;
        if (m->act == MLP_RELU) {
            int dead = 0;
            for (int u = 0; u < units; u++) {
                int b = 0;
                while (b < n && y[(size_t)b * (size_t)units + (size_t)u] <= 0)
                    b++;
                dead += b == n;
            }
            layer_set(t, TL_FRAC_DEAD, (double)dead / units);
        } else {
            size_t sat = 0, count = (size_t)n * (size_t)units;
            for (size_t k = 0; k < count; k++)
                sat += fabsf(y[k]) > 0.98f;
            layer_set(t, TL_FRAC_SATURATED, (double)sat / (double)count);
        }
    }
    return m->n_layers;
}
