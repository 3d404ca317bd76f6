/* Unit tests of nn/linear: the products against a naive loop, the extension hooks, and the
 * registry of a model's dense layers. */
#include "check.h"
#include "model/model.h"
#include "nn/linear.h"

enum { N = 5, IN = 4, OUT = 3 };

static void fill(float *a, int n, float step)
{
    for (int i = 0; i < n; i++)
        a[i] = step * (float)((i * 7) % 11 - 5);
}

static void naive(float *y, const float *x, const float *w, const float *b, float wscale)
{
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < IN; k++)
                s += (double)x[i * IN + k] * wscale * w[k * OUT + o];
            y[i * OUT + o] = (float)s;
        }
}

static void forward_and_backward_match_naive_products(void)
{
    float w[IN * OUT], b[OUT], x[N * IN], y[N * OUT], want[N * OUT], dy[N * OUT];
    float dw[IN * OUT] = {0}, db[OUT] = {0}, dx[N * IN] = {0};
    fill(w, IN * OUT, 0.1f), fill(b, OUT, 0.2f), fill(x, N * IN, 0.3f), fill(dy, N * OUT, 0.05f);
    linear l = {.in = IN, .out = OUT, .w = w, .b = b, .dw = dw, .db = db};
    linear_forward(&l, y, x, N);
    naive(want, x, w, b, 1);
    for (int i = 0; i < N * OUT; i++)
        CHECK_NEAR(y[i], want[i], 1e-5);
    linear_backward(&l, dx, dy, x, N);
    for (int k = 0; k < IN; k++)
        for (int o = 0; o < OUT; o++) {
            double s = 0;
            for (int i = 0; i < N; i++)
                s += (double)x[i * IN + k] * dy[i * OUT + o];
            CHECK_NEAR(dw[k * OUT + o], s, 1e-5);
        }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < IN; k++) {
            double s = 0;
            for (int o = 0; o < OUT; o++)
                s += (double)dy[i * OUT + o] * w[k * OUT + o];
            CHECK_NEAR(dx[i * IN + k], s, 1e-5);
        }
}

/* One row (sampling) takes the matrix-vector path; it must agree with the batched one. */
static void one_row_matches_the_batched_product(void)
{
    float w[IN * OUT], b[OUT], x[N * IN], y[N * OUT], y1[OUT];
    fill(w, IN * OUT, 0.1f), fill(b, OUT, 0.2f), fill(x, N * IN, 0.3f);
    linear l = {.in = IN, .out = OUT, .w = w, .b = b};
    linear_forward(&l, y, x, N);
    for (int i = 0; i < N; i++) {
        linear_forward(&l, y1, x + i * IN, 1);
        for (int o = 0; o < OUT; o++)
            CHECK_NEAR(y1[o], y[i * OUT + o], 1e-5);
    }
}

/* An extension that multiplies with 2W and counts its after-hooks. */
typedef struct {
    linear_ext ext;
    float w2[IN * OUT];
    int forwards, backwards;
} doubler;

static const float *double_weight(linear_ext *e, const linear *l)
{
    doubler *d = (doubler *)e;
    for (int i = 0; i < l->in * l->out; i++)
        d->w2[i] = 2 * l->w[i];
    return d->w2;
}

static void count_forward(linear_ext *e, const linear *l, float *y, const float *x, int n)
{
    ((doubler *)e)->forwards++;
}

static void count_backward(linear_ext *e, const linear *l, float *dx, const float *dy,
                           const float *x, int n)
{
    ((doubler *)e)->backwards++;
}

static void extension_hooks_change_the_products(void)
{
    float w[IN * OUT], x[N * IN], y[N * OUT], want[N * OUT], dy[N * OUT], dx[N * IN] = {0};
    fill(w, IN * OUT, 0.1f), fill(x, N * IN, 0.3f), fill(dy, N * OUT, 0.05f);
    doubler d = {.ext = {.weight = double_weight, .forward = count_forward,
                         .backward = count_backward}};
    linear l = {.in = IN, .out = OUT, .w = w, .ext = &d.ext};
    linear_forward(&l, y, x, N);
    naive(want, x, w, NULL, 2);
    for (int i = 0; i < N * OUT; i++)
        CHECK_NEAR(y[i], want[i], 1e-5);
    linear_backward(&l, dx, dy, x, N);
    double s = 0; /* dx[0] = sum_o dy[0,o] 2 w[0,o] */
    for (int o = 0; o < OUT; o++)
        s += 2.0 * dy[o] * w[o];
    CHECK_NEAR(dx[0], s, 1e-5);
    CHECK_EQ_INT(d.forwards, 1);
    CHECK_EQ_INT(d.backwards, 1);
}

static void models_list_their_dense_layers(void)
{
    const char *arch[2] = {"gpt", "hawk"};
    int per_layer[2] = {4, 8};
    const char *first[2] = {"h.0.attn.c_attn", "h.0.rec.gate"};
    const char *last[2] = {"h.1.mlp.c_proj", "h.1.mlp.fc3"};
    for (int a = 0; a < 2; a++) {
        model_config c = {.vocab = 11, .layers = 2, .width = 8, .heads = 2, .context = 6};
        snprintf(c.arch, sizeof c.arch, "%s", arch[a]);
        CHECK(model_config_finish(&c) == NULL);
        model *m = model_new(&c);
        const model_linear *ls;
        int n = model_linears(m, &ls);
        CHECK_EQ_INT(n, 2 * per_layer[a]);
        CHECK_STR(ls[0].name, first[a]);
        CHECK_STR(ls[n - 1].name, last[a]);
        model_plan(m, 1, 4, true); /* re-binding with gradients keeps the list */
        CHECK_EQ_INT(model_linears(m, &ls), 2 * per_layer[a]);
        CHECK(ls[0].lin->dw != NULL);
        model_free(m);
    }
}

int main(void)
{
    RUN(forward_and_backward_match_naive_products);
    RUN(one_row_matches_the_batched_product);
    RUN(extension_hooks_change_the_products);
    RUN(models_list_their_dense_layers);
    return check_done();
}
