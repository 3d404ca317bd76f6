/* The integer product.  gcc -O2 vectorizes only loops whose trip count it knows to be a
 * multiple of the vector length, so the sums run over chunks of CHUNK codes, a constant
 * count, and every row of codes is padded to K, a multiple of CHUNK, with zeros (which
 * add nothing).  Each chunk's vector sum is reduced to a scalar when the chunk ends: a
 * long chunk makes that rare (measured on one thread, width 384, 64 rows: chunks of 128
 * run the product 1.25 times as fast as chunks of 64, and those 1.25 times as fast as
 * chunks of 32).  Activations are held as int16 and weights as int8: a sum of
 * int16 x int16 products is the pattern gcc turns into widening multiply-adds
 * (pmaddwd), while int8 x int8 would be multiplied lane by lane.
 * |q| <= 127, so a product is below 2^14 and a sum of K of them fits int32 for K < 2^17. */
#include "quant/int8_linear.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/threads.h"
#include "quant/int8_vnni.h"
#include "quant/quant.h"

#define CHUNK 128
#define MAX_IN INT8_VNNI_MAX_IN

typedef struct {
    linear_ext ext; /* first: the layer's ext points here */
    linear *lin;
    int in, out, K; /* K: in rounded up to CHUNK */
    int8_t *wq;     /* (out, K) codes of Wᵀ, for the portable kernel */
    int8_vnni_weights vnni; /* the codes packed for the VNNI kernel */
    float *ws;      /* (out) a scale per output channel */
    int8_linear_set *set;
} int8_layer;

struct int8_linear_set {
    int8_layer *layers;
    int n;
    bool vnni; /* the layers use the VNNI kernel (quant/int8_vnni.h) */
    /* the quantized input of the layer being computed (one at a time) */
    uint8_t *codes; /* (rows, in) quant_encode's codes, biased by 128 */
    int16_t *xq;    /* (rows, K), for the portable kernel */
    uint8_t *xu;    /* (rows, 4 k4), for the VNNI kernel when in is not a multiple of 4 */
    float *xs;      /* (rows) a scale per row */
    size_t cap_codes, cap_xq, cap_xu, cap_rows;
};

static bool portable_only; /* int8_linear_force_portable */

static const quant_spec per_channel = {.bits = 8, .gran = QUANT_PER_COLUMN};
static const quant_spec per_token = {.bits = 8, .gran = QUANT_PER_ROW};

/* Σ_k x_k w_k */
static inline int32_t dot1(const int16_t *restrict x, const int8_t *restrict w, int K)
{
    int32_t a = 0;
    for (int c = 0; c < K; c += CHUNK)
        for (int k = c; k < c + CHUNK; k++)
            a += x[k] * w[k];
    return a;
}

/* The same for four rows of x (ldx apart) against one w, which is loaded once. */
static inline void dot4(int32_t *restrict acc, const int16_t *restrict x, size_t ldx,
                        const int8_t *restrict w, int K)
{
    const int16_t *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int c = 0; c < K; c += CHUNK)
        for (int k = c; k < c + CHUNK; k++) {
            a0 += x0[k] * w[k];
            a1 += x1[k] * w[k];
            a2 += x2[k] * w[k];
            a3 += x3[k] * w[k];
        }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* One output from its integer sum: the same expression for every row count. */
static inline float scaled(int32_t acc, float sx, float sw, const float *b, int o)
{
    float v = (float)acc * (sx * sw);
    return b ? v + b[o] : v;
}

/* y (n, out) for the outputs [lo, hi), rows by four.  The build has no -march, so the
 * hot loop is compiled twice and the better version chosen at load time. */
__attribute__((target_clones("avx2", "default")))
static void product(const int8_layer *e, float *y, const float *b, const int16_t *xq,
                    const float *xs, int n, long lo, long hi)
{
    int K = e->K, out = e->out;
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        const int16_t *xt = xq + (size_t)t * K;
        for (long o = lo; o < hi; o++) {
            int32_t acc[4];
            dot4(acc, xt, (size_t)K, e->wq + (size_t)o * K, K);
            for (int r = 0; r < 4; r++)
                y[(size_t)(t + r) * out + o] = scaled(acc[r], xs[t + r], e->ws[o], b, (int)o);
        }
    }
    for (; t < n; t++) {
        const int16_t *xt = xq + (size_t)t * K;
        for (long o = lo; o < hi; o++)
            y[(size_t)t * out + o] =
                scaled(dot1(xt, e->wq + (size_t)o * K, K), xs[t], e->ws[o], b, (int)o);
    }
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (*cap >= need)
        return p;
    free(p);
    *cap = need;
    return xmalloc(need * size);
}

/* Rows [lo, hi) of x (n, in) -> s->xq (n, K) codes and s->xs (n) scales, a scale per row. */
static void quantize_rows(int8_linear_set *s, const float *x, long lo, long hi, int in, int K)
{
    quant_encode(&per_token, s->codes + lo * in, s->xs + lo, NULL, x + lo * in, (int)(hi - lo),
                 in, NULL);
    for (long t = lo; t < hi; t++) {
        const uint8_t *c = s->codes + t * in;
        int16_t *q = s->xq + t * K;
        for (int k = 0; k < in; k++)
            q[k] = (int16_t)(c[k] - 128);
        for (int k = in; k < K; k++)
            q[k] = 0;
    }
}

/* The same for the VNNI kernel: the codes as they are, copied to rows of 4 k4 bytes only
 * when in is not a multiple of 4. */
static void quantize_rows_vnni(int8_linear_set *s, const float *x, long lo, long hi, int in,
                               size_t ldx)
{
    quant_encode(&per_token, s->codes + lo * in, s->xs + lo, NULL, x + lo * in, (int)(hi - lo),
                 in, NULL);
    if (ldx == (size_t)in)
        return;
    for (long t = lo; t < hi; t++) {
        memcpy(s->xu + t * ldx, s->codes + t * in, (size_t)in);
        memset(s->xu + t * ldx + in, 128, ldx - (size_t)in);
    }
}

/* The layer's product hook.  One parallel region: the threads quantize their shares of
 * the rows, then compute their shares of the outputs (the VNNI kernel's panels) for every
 * row. */
static void int8_forward(linear_ext *ext, const linear *l, float *y, const float *x, int n)
{
    int8_layer *e = (int8_layer *)ext;
    int8_linear_set *s = e->set;
    int in = e->in, K = e->K;
    size_t ldx = 4 * (size_t)e->vnni.k4; /* the VNNI kernel's row of codes; 0 when portable */
    s->codes = grow(s->codes, &s->cap_codes, (size_t)n * in, sizeof *s->codes);
    if (!s->vnni)
        s->xq = grow(s->xq, &s->cap_xq, (size_t)n * K, sizeof *s->xq);
    else if (ldx != (size_t)in)
        s->xu = grow(s->xu, &s->cap_xu, (size_t)n * ldx, sizeof *s->xu);
    s->xs = grow(s->xs, &s->cap_rows, (size_t)n, sizeof *s->xs);
    const float *b = l->b;
    const uint8_t *xu = ldx == (size_t)in ? s->codes : s->xu;
#pragma omp parallel if ((long)n * in * e->out >= PARALLEL_MIN_MACS)
    {
        long lo, hi;
        thread_share(n, &lo, &hi);
        if (hi > lo && s->vnni)
            quantize_rows_vnni(s, x, lo, hi, in, ldx);
        else if (hi > lo)
            quantize_rows(s, x, lo, hi, in, K);
#pragma omp barrier
        if (s->vnni) {
            thread_share(e->vnni.panels, &lo, &hi);
            int8_vnni_product(&e->vnni, y, b, e->ws, xu, ldx, s->xs, n, lo, hi);
        } else {
            thread_share(e->out, &lo, &hi);
            product(e, y, b, s->xq, s->xs, n, lo, hi);
        }
    }
}

static void check_layer(const linear *l)
{
    if (l->ext || l->dw)
        die(EX_SOFTWARE, "int8_linear_attach: the layer has an extension or learns W");
    if (l->in < 1 || l->in > MAX_IN - CHUNK || l->out < 1)
        die(EX_SOFTWARE, "int8_linear_attach: a layer of %d x %d is out of range", l->in,
            l->out);
}

static void attach(int8_layer *e, linear *l, int8_linear_set *s)
{
    int in = l->in, out = l->out, K = (in + CHUNK - 1) / CHUNK * CHUNK;
    uint8_t *codes = xmalloc((size_t)in * out);
    e->lin = l;
    e->in = in;
    e->out = out;
    e->K = K;
    e->ws = xmalloc((size_t)out * sizeof *e->ws);
    e->set = s;
    quant_encode(&per_channel, codes, e->ws, NULL, l->w, in, out, NULL);
    if (s->vnni) {
        int8_vnni_pack(&e->vnni, codes, in, out);
    } else {
        e->wq = xcalloc((size_t)out * K, 1);
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++)
                e->wq[(size_t)o * K + i] = (int8_t)(codes[(size_t)i * out + o] - 128);
    }
    free(codes);
    e->ext.product = int8_forward;
    l->ext = &e->ext;
}

int8_linear_set *int8_linear_attach(linear **layers, int n)
{
    for (int i = 0; i < n; i++)
        check_layer(layers[i]);
    int8_linear_set *s = xcalloc(1, sizeof *s);
    s->layers = xcalloc((size_t)(n > 0 ? n : 1), sizeof *s->layers);
    s->n = n;
    s->vnni = !portable_only && int8_vnni_supported();
    for (int i = 0; i < n; i++)
        attach(&s->layers[i], layers[i], s);
    return s;
}

int8_linear_set *int8_linear_attach_model(model *m)
{
    const model_linear *ml;
    int n = model_linears(m, &ml);
    linear **layers = xcalloc((size_t)n + 1, sizeof *layers);
    for (int i = 0; i < n; i++)
        layers[i] = ml[i].lin;
    int8_linear_set *s = int8_linear_attach(layers, n);
    free(layers);
    return s;
}

void int8_linear_free(int8_linear_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        int8_layer *e = &s->layers[i];
        if (e->lin->ext != &e->ext)
            die(EX_SOFTWARE, "int8_linear_free: a layer has another extension on top");
        e->lin->ext = NULL;
        free(e->wq);
        int8_vnni_free(&e->vnni);
        free(e->ws);
    }
    free(s->layers);
    free(s->codes);
    free(s->xq);
    free(s->xu);
    free(s->xs);
    free(s);
}

size_t int8_linear_bytes(const int8_linear_set *s)
{
    size_t bytes = 0;
    for (int i = 0; i < s->n; i++) {
        const int8_layer *e = &s->layers[i];
        bytes += (size_t)e->out * sizeof(float) +
                 (s->vnni ? int8_vnni_bytes(&e->vnni) : (size_t)e->out * e->K);
    }
    return bytes;
}

void int8_linear_force_portable(bool on) { portable_only = on; }
