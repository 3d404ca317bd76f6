#include "quant/qlinear.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"

typedef struct {
    linear_ext ext;     /* first, so a hook's e is its qlayer */
    qlinear_set *s;
    int index;
    float *wq;          /* (in, out) Q_w(W), or NULL when W is not quantized */
    bool wq_valid;
    uint64_t version;   /* of the weights the layer last saw */
    uint64_t backwards; /* backward passes since */
} qlayer;

struct qlinear_set {
    quant_spec q[RECIPE_GX + 1]; /* w, a, g, gx */
    linear **lin;
    qlayer *layers;
    int n, max_rows;
    float *xq;          /* (max_rows, max in)  Q_a(X) */
    float *gq, *gxq;    /* (max_rows, max out) Q_g(dY), Q_gx(dY) */
    float *wt;          /* (max out, max in)   W transposed, for groups along the input */
    uint64_t seed;
    const uint64_t *version;
    size_t bytes;
};

const char *qlinear_check(const quant_recipe *r, const linear *l)
{
    const quant_spec *q = r->q;
    if (q[RECIPE_W].bits && quant_check(&q[RECIPE_W], l->out, l->in))
        return "w: the group size does not divide the layer's input width";
    if (q[RECIPE_A].bits && quant_check(&q[RECIPE_A], 1, l->in))
        return "a: the group size does not divide the layer's input width";
    if (q[RECIPE_G].bits && quant_check(&q[RECIPE_G], 1, l->out))
        return "g: the group size does not divide the layer's output width";
    if (q[RECIPE_GX].bits && quant_check(&q[RECIPE_GX], 1, l->out))
        return "gx: the group size does not divide the layer's output width";
    return NULL;
}

/* The layer's view of the weights' version: a change restarts its count of backwards and
 * makes its Q_w(W) stale. */
static void sync(qlayer *ql)
{
    const qlinear_set *s = ql->s;
    if (!s->version) {
        ql->wq_valid = false;
    } else if (*s->version != ql->version) {
        ql->version = *s->version;
        ql->backwards = 0;
        ql->wq_valid = false;
    }
}

/* The generator of tensor `which` of this layer for the current pass. */
static rng_t noise(const qlayer *ql, int which)
{
    rng_t r;
    uint64_t h = mix64(ql->s->seed ^ mix64(((uint64_t)ql->index << 3) | (uint64_t)which));
    rng_seed(&r, mix64(h ^ mix64(ql->version)) ^ mix64(~ql->backwards));
    return r;
}

static void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
}

/* Q_w(W) of W stored (in, out), the spec read with W as (out, in): per-row scales are
 * per column of the storage, and groups run down its columns. */
static void fake_weight(qlayer *ql, const linear *l)
{
    qlinear_set *s = ql->s;
    quant_spec q = s->q[RECIPE_W];
    rng_t r = noise(ql, RECIPE_W);
    if (q.gran == QUANT_PER_GROUP) {
        transpose(s->wt, l->w, l->in, l->out);
        quant_fake(&q, s->wt, s->wt, l->out, l->in, &r);
        transpose(ql->wq, s->wt, l->out, l->in);
        return;
    }
    if (q.gran == QUANT_PER_ROW)
        q.gran = QUANT_PER_COLUMN;
    else if (q.gran == QUANT_PER_COLUMN)
        q.gran = QUANT_PER_ROW;
    quant_fake(&q, ql->wq, l->w, l->in, l->out, &r);
}

static const float *hook_weight(linear_ext *e, const linear *l)
{
    qlayer *ql = (qlayer *)e;
    sync(ql);
    if (!ql->wq_valid) {
        fake_weight(ql, l);
        ql->wq_valid = true;
    }
    return ql->wq;
}

static float *fake_rows(qlayer *ql, int which, float *dst, const float *src, int n, int cols)
{
    if (n > ql->s->max_rows)
        die(EX_SOFTWARE, "qlinear: %d rows, planned for %d", n, ql->s->max_rows);
    sync(ql);
    rng_t r = noise(ql, which);
    quant_fake(&ql->s->q[which], dst, src, n, cols, &r);
    return dst;
}

static const float *hook_input(linear_ext *e, const linear *l, const float *x, int n)
{
    qlayer *ql = (qlayer *)e;
    return fake_rows(ql, RECIPE_A, ql->s->xq, x, n, l->in);
}

static const float *hook_grad_w(linear_ext *e, const linear *l, const float *dy, int n)
{
    qlayer *ql = (qlayer *)e;
    return fake_rows(ql, RECIPE_G, ql->s->gq, dy, n, l->out);
}

static const float *hook_grad_x(linear_ext *e, const linear *l, const float *dy, int n)
{
    qlayer *ql = (qlayer *)e;
    return fake_rows(ql, RECIPE_GX, ql->s->gxq, dy, n, l->out);
}

static void hook_backward(linear_ext *e, const linear *l, float *dx, const float *dy,
                          const float *x, int n)
{
    ((qlayer *)e)->backwards++;
}

qlinear_set *qlinear_attach(const quant_recipe *r, linear **layers, int n, int max_rows,
                            uint64_t seed, const uint64_t *version)
{
    qlinear_set *s = xcalloc(1, sizeof *s);
    memcpy(s->q, r->q, sizeof s->q);
    s->n = n;
    s->max_rows = max_rows;
    s->seed = seed;
    s->version = version;
    s->lin = xmalloc((size_t)(n ? n : 1) * sizeof *s->lin);
    s->layers = xcalloc((size_t)(n ? n : 1), sizeof *s->layers);
    size_t max_in = 1, max_out = 1, max_w = 1;
    for (int i = 0; i < n; i++) {
        const linear *l = layers[i];
        if (l->ext)
            die(EX_SOFTWARE, "qlinear: a layer already has an extension");
        max_in = (size_t)l->in > max_in ? (size_t)l->in : max_in;
        max_out = (size_t)l->out > max_out ? (size_t)l->out : max_out;
        max_w = (size_t)l->in * l->out > max_w ? (size_t)l->in * l->out : max_w;
    }
    const quant_spec *q = s->q;
    size_t rows = (size_t)max_rows;
    if (q[RECIPE_A].bits)
        s->xq = xmalloc(rows * max_in * sizeof(float)), s->bytes += rows * max_in * 4;
    if (q[RECIPE_G].bits)
        s->gq = xmalloc(rows * max_out * sizeof(float)), s->bytes += rows * max_out * 4;
    if (q[RECIPE_GX].bits)
        s->gxq = xmalloc(rows * max_out * sizeof(float)), s->bytes += rows * max_out * 4;
    if (q[RECIPE_W].bits && q[RECIPE_W].gran == QUANT_PER_GROUP)
        s->wt = xmalloc(max_w * sizeof(float)), s->bytes += max_w * 4;
    for (int i = 0; i < n; i++) {
        linear *l = layers[i];
        qlayer *ql = &s->layers[i];
        ql->s = s;
        ql->index = i;
        ql->ext = (linear_ext){
            .weight = q[RECIPE_W].bits ? hook_weight : NULL,
            .input = q[RECIPE_A].bits ? hook_input : NULL,
            .grad_w = q[RECIPE_G].bits ? hook_grad_w : NULL,
            .grad_x = q[RECIPE_GX].bits ? hook_grad_x : NULL,
            .backward = hook_backward,
        };
        if (q[RECIPE_W].bits) {
            ql->wq = xmalloc((size_t)l->in * l->out * sizeof(float));
            s->bytes += (size_t)l->in * l->out * 4;
        }
        s->lin[i] = l;
        l->ext = &ql->ext;
    }
    return s;
}

void qlinear_free(qlinear_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        s->lin[i]->ext = NULL;
        free(s->layers[i].wq);
    }
    free(s->lin);
    free(s->layers);
    free(s->xq);
    free(s->gq);
    free(s->gxq);
    free(s->wt);
    free(s);
}

size_t qlinear_bytes(const qlinear_set *s) { return s->bytes; }
