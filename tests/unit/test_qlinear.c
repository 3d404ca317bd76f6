/* Unit tests of lib/quant/recipe.c and lib/quant/qlinear.c: recipe text, the quantized
 * forward against hand-quantized operands and the numpy W8A8 reference, the
 * straight-through backward against finite differences of the layer at the quantized
 * operands, gradient quantizers, the cached Q(W), and stochastic rounding shared by a
 * micro-batch's forward and backward. */
#include <math.h>

#include "base/rng.h"
#include "check.h"
#include "gradcheck.h"
#include "nn/linear.h"
#include "quant/qlinear.h"
#include "quant/recipe.h"

static quant_recipe recipe(const char *text)
{
    quant_recipe r = {0};
    char msg[300];
    if (recipe_parse(&r, text, msg, sizeof msg))
        printf("# recipe_parse(%s): %s\n", text, msg);
    return r;
}

static void recipe_text_is_canonical_and_bad_terms_say_why(void)
{
    char buf[256], msg[300];
    quant_recipe r = recipe("# a file\nv 4:per-group-64:asym\nw=8:per-channel  a 8:per-token\n"
                            "gx=6  # comment\nm 8\n");
    CHECK(recipe_format(&r, buf, sizeof buf));
    CHECK(strcmp(buf, "w=8:per-row a=8:per-row gx=6:per-tensor m=8:per-tensor "
                      "v=4:per-group-64:asym") == 0);
    quant_recipe again = recipe(buf);
    char buf2[256];
    recipe_format(&again, buf2, sizeof buf2);
    CHECK(strcmp(buf, buf2) == 0);
    CHECK(recipe_has_linear(&r));
    quant_recipe opt = recipe("m=4:per-row v=8");
    CHECK(!recipe_has_linear(&opt));
    quant_recipe e = {0};
    CHECK(recipe_format(&e, buf, sizeof buf) && buf[0] == 0);
    CHECK(!recipe_format(&r, buf, 20)); /* does not fit */
    const char *bad[][2] = {
        {"x=8", "unknown recipe term \"x\""},
        {"w=9", "bits must be an integer from 2 to 8"},
        {"a=1:per-row", "bits must be"},
        {"w=8:per-blob", "unknown term"},
        {"m=6", "moments are stored in 4 or 8 bits"},
        {"v=8:per-column", "per-tensor, per-row or per-group-G"},
        {"w=8 a=8\nw=4", "line 2: recipe term \"w\" given twice"},
        {"a", "has no spec"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        quant_recipe b = {0};
        const char *why = recipe_parse(&b, bad[i][0], msg, sizeof msg);
        CHECK(why != NULL && strstr(why, bad[i][1]) != NULL);
        if (why && !strstr(why, bad[i][1]))
            printf("#   %s: %s\n", bad[i][0], why);
    }
}

/* A layer of in inputs and out outputs with weights and bias from seed. */
typedef struct {
    linear l;
    float w[64 * 64], b[64], dw[64 * 64], db[64];
} layer;

static void make_layer(layer *L, int in, int out, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    memset(L, 0, sizeof *L);
    for (int i = 0; i < in * out; i++)
        L->w[i] = (float)rng_normal(&r) * 0.5f;
    for (int o = 0; o < out; o++)
        L->b[o] = (float)rng_normal(&r) * 0.1f;
    L->l = (linear){.in = in, .out = out, .w = L->w, .b = L->b, .dw = L->dw, .db = L->db};
}

static void fill(float *x, size_t n, uint64_t seed)
{
    rng_t r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rng_normal(&r);
}

/* Symmetric b-bit fake quantization of the n values x[0], x[stride] ... by their own
 * scale, written out here rather than taken from lib/quant. */
static void by_hand(float *y, const float *x, int n, int stride, int bits)
{
    float qp = (float)((1 << (bits - 1)) - 1), mx = 0;
    for (int i = 0; i < n; i++)
        mx = fmaxf(mx, fabsf(x[i * stride]));
    float s = mx / qp;
    for (int i = 0; i < n; i++) {
        float c = roundf(x[i * stride] / s);
        y[i * stride] = s * fminf(fmaxf(c, -qp), qp);
    }
}

/* y (n, out) = x (n, in) w (in, out) + b, in double. */
static void matmul(float *y, const float *x, const float *w, const float *b, int n, int in,
                   int out)
{
    for (int t = 0; t < n; t++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int i = 0; i < in; i++)
                s += (double)x[t * in + i] * w[i * out + o];
            y[t * out + o] = (float)s;
        }
}

/* Per output channel weights (columns of W as stored) and per token activations; weight
 * groups of 4 run along the input, down a column. */
static void forward_uses_the_operands_quantized_by_hand(void)
{
    enum { N = 5, IN = 8, OUT = 6 };
    layer L;
    make_layer(&L, IN, OUT, 1);
    float x[N * IN], wq[IN * OUT], xq[N * IN], y[N * OUT], want[N * OUT];
    fill(x, N * IN, 2);
    for (int k = 0; k < 2; k++) {
        quant_recipe r = recipe(k == 0 ? "w=8:per-row a=8:per-token" : "w=4:per-group-4 a=3");
        linear *lp = &L.l;
        qlinear_set *s = qlinear_attach(&r, &lp, 1, N, 1, NULL);
        linear_forward(&L.l, y, x, N);
        qlinear_free(s);
        CHECK(L.l.ext == NULL);
        if (k == 0) {
            for (int o = 0; o < OUT; o++)
                by_hand(wq + o, L.w + o, IN, OUT, 8);
            for (int t = 0; t < N; t++)
                by_hand(xq + t * IN, x + t * IN, IN, 1, 8);
        } else {
            for (int o = 0; o < OUT; o++)
                for (int g = 0; g < IN; g += 4)
                    by_hand(wq + g * OUT + o, L.w + g * OUT + o, 4, OUT, 4);
            by_hand(xq, x, N * IN, 1, 3);
        }
        matmul(want, xq, wq, L.b, N, IN, OUT);
        double worst = 0;
        for (int i = 0; i < N * OUT; i++)
            worst = fmax(worst, fabs((double)y[i] - want[i]));
        CHECK(worst < 1e-5);
        if (worst >= 1e-5)
            printf("#   recipe %d: worst %.3g\n", k, worst);
    }
}

/* The forward of tests/ref/w8a8/w8a8.py, an independent numpy implementation. */
static void w8a8_matches_the_numpy_reference(void)
{
    enum { N = 8, IN = 32, OUT = 16 };
    static float x[N * IN], w[IN * OUT], b[OUT], wq[IN * OUT], xq[N * IN], y[N * OUT];
    float *parts[] = {x, w, b, wq, xq, y};
    size_t sizes[] = {N * IN, IN * OUT, OUT, IN * OUT, N * IN, N * OUT};
    FILE *f = fopen("tests/ref/w8a8/expected.bin", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 6; i++)
        CHECK(fread(parts[i], sizeof(float), sizes[i], f) == sizes[i]);
    fclose(f);
    linear l = {.in = IN, .out = OUT, .w = w, .b = b};
    linear *lp = &l;
    quant_recipe r = recipe("w=8:per-channel a=8:per-token");
    qlinear_set *s = qlinear_attach(&r, &lp, 1, N, 1, NULL);
    float got[N * OUT];
    linear_forward(&l, got, x, N);
    /* the quantized operands exactly, through the hooks */
    const float *gw = l.ext->weight(l.ext, &l), *gx = l.ext->input(l.ext, &l, x, N);
    CHECK(memcmp(gw, wq, sizeof wq) == 0);
    CHECK(memcmp(gx, xq, sizeof xq) == 0);
    double worst = 0;
    for (int i = 0; i < N * OUT; i++)
        worst = fmax(worst, fabs((double)got[i] - y[i]) / fmax(1, fabs(y[i])));
    printf("#   worst relative difference from numpy: %.3g\n", worst);
    CHECK(worst < 1e-5);
    qlinear_free(s);
}

/* The loss L = sum r * tanh(y) of a plain layer with the given operands. */
typedef struct {
    linear l;
    const float *x, *r;
    int n;
} ste_ctx;

static double ste_loss(void *p)
{
    ste_ctx *c = p;
    float y[16 * 64];
    linear_forward(&c->l, y, c->x, c->n);
    double s = 0;
    for (int i = 0; i < c->n * c->l.out; i++)
        s += c->r[i] * tanh(y[i]);
    return s;
}

/* The straight-through backward is the exact gradient of the layer evaluated at
 * x' = Q_a(X), W' = Q_w(W): finite differences of that unquantized layer agree. */
static void straight_through_backward_matches_finite_differences(void)
{
    enum { N = 4, IN = 8, OUT = 6 };
    layer L;
    make_layer(&L, IN, OUT, 3);
    float x[N * IN], r[N * OUT], y[N * OUT], dy[N * OUT], dx[N * IN] = {0};
    fill(x, N * IN, 4);
    fill(r, N * OUT, 5);
    quant_recipe rec = recipe("w=4:per-row a=4:per-token");
    linear *lp = &L.l;
    qlinear_set *s = qlinear_attach(&rec, &lp, 1, N, 7, NULL);
    linear_forward(&L.l, y, x, N);
    for (int i = 0; i < N * OUT; i++)
        dy[i] = r[i] * (1 - tanhf(y[i]) * tanhf(y[i]));
    linear_backward(&L.l, dx, dy, x, N);
    /* the unquantized path: a plain layer on copies of the quantized operands */
    float wq[IN * OUT], xq[N * IN], b[OUT];
    memcpy(wq, L.l.ext->weight(L.l.ext, &L.l), sizeof wq);
    memcpy(xq, L.l.ext->input(L.l.ext, &L.l, x, N), sizeof xq);
    memcpy(b, L.b, sizeof b);
    qlinear_free(s);
    CHECK(memcmp(wq, L.w, sizeof wq) != 0 && memcmp(xq, x, sizeof xq) != 0);
    ste_ctx c = {.l = {.in = IN, .out = OUT, .w = wq, .b = b}, .x = xq, .r = r, .n = N};
    CHECK(gradcheck("dW", ste_loss, &c, wq, L.dw, IN * OUT, 1, 1e-2f, 1e-3) < 1e-3);
    CHECK(gradcheck("dX", ste_loss, &c, xq, dx, N * IN, 1, 1e-2f, 1e-3) < 1e-3);
    CHECK(gradcheck("db", ste_loss, &c, b, L.db, OUT, 1, 1e-2f, 1e-3) < 1e-3);
}

/* dW = Q_a(X)ᵀ Q_g(dY) and dX = Q_gx(dY) Wᵀ, per token, by hand; db stays dY's. */
static void gradient_quantizers_feed_their_products(void)
{
    enum { N = 5, IN = 8, OUT = 6 };
    layer L;
    make_layer(&L, IN, OUT, 8);
    float x[N * IN], dy[N * OUT], dx[N * IN] = {0}, y[N * OUT];
    fill(x, N * IN, 9);
    fill(dy, N * OUT, 10);
    quant_recipe r = recipe("a=8:per-token g=4:per-token gx=3:per-token");
    linear *lp = &L.l;
    qlinear_set *s = qlinear_attach(&r, &lp, 1, N, 1, NULL);
    linear_forward(&L.l, y, x, N);
    linear_backward(&L.l, dx, dy, x, N);
    qlinear_free(s);
    float xq[N * IN], gq[N * OUT], gxq[N * OUT];
    for (int t = 0; t < N; t++) {
        by_hand(xq + t * IN, x + t * IN, IN, 1, 8);
        by_hand(gq + t * OUT, dy + t * OUT, OUT, 1, 4);
        by_hand(gxq + t * OUT, dy + t * OUT, OUT, 1, 3);
    }
    double wdw = 0, wdx = 0, wdb = 0;
    for (int i = 0; i < IN; i++)
        for (int o = 0; o < OUT; o++) {
            double want = 0;
            for (int t = 0; t < N; t++)
                want += (double)xq[t * IN + i] * gq[t * OUT + o];
            wdw = fmax(wdw, fabs(want - L.dw[i * OUT + o]));
        }
    for (int t = 0; t < N; t++)
        for (int i = 0; i < IN; i++) {
            double want = 0;
            for (int o = 0; o < OUT; o++)
                want += (double)gxq[t * OUT + o] * L.w[i * OUT + o];
            wdx = fmax(wdx, fabs(want - dx[t * IN + i]));
        }
    for (int o = 0; o < OUT; o++) {
        double want = 0;
        for (int t = 0; t < N; t++)
            want += dy[t * OUT + o];
        wdb = fmax(wdb, fabs(want - L.db[o]));
    }
    CHECK(wdw < 1e-5 && wdx < 1e-5 && wdb < 1e-5);
}

/* Q(W) is kept while the version stays, and made again when it moves. */
static void quantized_weights_follow_the_version(void)
{
    enum { N = 2, IN = 4, OUT = 3 };
    layer L;
    make_layer(&L, IN, OUT, 11);
    float x[N * IN], y1[N * OUT], y2[N * OUT], y3[N * OUT];
    fill(x, N * IN, 12);
    quant_recipe r = recipe("w=8");
    uint64_t version = 5;
    linear *lp = &L.l;
    qlinear_set *s = qlinear_attach(&r, &lp, 1, N, 1, &version);
    CHECK(qlinear_bytes(s) == IN * OUT * sizeof(float));
    linear_forward(&L.l, y1, x, N);
    for (int i = 0; i < IN * OUT; i++)
        L.w[i] *= 2;
    linear_forward(&L.l, y2, x, N);
    CHECK(memcmp(y1, y2, sizeof y1) == 0); /* the weights moved without telling */
    version++;
    linear_forward(&L.l, y3, x, N);
    for (int i = 0; i < N * OUT; i++)
        CHECK_NEAR(y3[i] - L.b[i % OUT], 2 * (y1[i] - L.b[i % OUT]), 1e-5);
    qlinear_free(s);
}

/* With stochastic rounding the backward's dW uses the very Q_a(X) of its forward (seen
 * through an identity W: y = Q_a(X)), and the next micro-batch draws new noise. */
static void stochastic_rounding_is_shared_by_forward_and_backward(void)
{
    enum { N = 6, D = 8 };
    layer L;
    make_layer(&L, D, D, 13);
    memset(L.w, 0, sizeof L.w);
    for (int i = 0; i < D; i++)
        L.w[i * D + i] = 1;
    L.l.b = NULL;
    L.l.db = NULL;
    float x[N * D], y[N * D], y2[N * D], dy[N * D];
    fill(x, N * D, 14);
    fill(dy, N * D, 15);
    quant_recipe r = recipe("a=3:per-token:stochastic");
    uint64_t version = 0;
    linear *lp = &L.l;
    qlinear_set *s = qlinear_attach(&r, &lp, 1, N, 99, &version);
    linear_forward(&L.l, y, x, N);
    linear_backward(&L.l, NULL, dy, x, N);
    double worst = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double want = 0;
            for (int t = 0; t < N; t++)
                want += (double)y[t * D + i] * dy[t * D + j];
            worst = fmax(worst, fabs(want - L.dw[i * D + j]));
        }
    CHECK(worst < 1e-5);
    linear_forward(&L.l, y2, x, N);
    CHECK(memcmp(y, y2, sizeof y) != 0);
    qlinear_free(s);
}

/* Groups must divide the dimension they run along. */
static void check_names_groups_that_do_not_divide(void)
{
    layer L;
    make_layer(&L, 8, 6, 1);
    quant_recipe ok = recipe("w=8:per-group-4 a=8:per-group-8 g=8:per-group-3 gx=8:per-group-2");
    CHECK(qlinear_check(&ok, &L.l) == NULL);
    const char *bad[][2] = {
        {"w=8:per-group-3", "w:"}, {"a=8:per-group-6", "a:"},
        {"g=8:per-group-4", "g:"}, {"gx=8:per-group-4", "gx:"},
    };
    for (int i = 0; i < 4; i++) {
        quant_recipe r = recipe(bad[i][0]);
        const char *why = qlinear_check(&r, &L.l);
        CHECK(why && strncmp(why, bad[i][1], strlen(bad[i][1])) == 0);
    }
}

int main(void)
{
    RUN(recipe_text_is_canonical_and_bad_terms_say_why);
    RUN(forward_uses_the_operands_quantized_by_hand);
    RUN(w8a8_matches_the_numpy_reference);
    RUN(straight_through_backward_matches_finite_differences);
    RUN(gradient_quantizers_feed_their_products);
    RUN(quantized_weights_follow_the_version);
    RUN(stochastic_rounding_is_shared_by_forward_and_backward);
    RUN(check_names_groups_that_do_not_divide);
    return check_done();
}
