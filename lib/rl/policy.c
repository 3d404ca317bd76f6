#include "rl/policy.h"

#include <math.h>
#include <stdbool.h>

enum { MAX_LOGITS = 64 };

#define LOG_STD_MIN -5.0
#define LOG_STD_MAX 2.0

int policy_outputs(int n_actions) { return n_actions > 0 ? n_actions : 2; }

/* Softmax probabilities and their logs. */
static void softmax(const float *z, int n, double *p, double *logp)
{
    double m = z[0], sum = 0;
    for (int i = 1; i < n; i++)
        m = fmax(m, z[i]);
    for (int i = 0; i < n; i++)
        sum += exp(z[i] - m);
    double lse = m + log(sum);
    for (int i = 0; i < n; i++) {
        logp[i] = z[i] - lse;
        p[i] = exp(logp[i]);
    }
}

static double log_std(const float *out) { return fmin(fmax(out[1], LOG_STD_MIN), LOG_STD_MAX); }

double policy_sample(const float *out, int n_actions, rng_t *rng)
{
    if (n_actions == 0)
        return out[0] + exp(log_std(out)) * rng_normal(rng);
    double p[MAX_LOGITS], lp[MAX_LOGITS], u = rng_uniform(rng);
    softmax(out, n_actions, p, lp);
    for (int i = 0; i < n_actions - 1; i++) {
        if (u < p[i])
            return i;
        u -= p[i];
    }
    return n_actions - 1;
}

double policy_mode(const float *out, int n_actions)
{
    if (n_actions == 0)
        return out[0];
    int best = 0;
    for (int i = 1; i < n_actions; i++)
        if (out[i] > out[best])
            best = i;
    return best;
}

double policy_logprob(const float *out, int n_actions, double a)
{
    if (n_actions == 0) {
        double ls = log_std(out), z = (a - out[0]) / exp(ls);
        return -0.5 * z * z - ls - 0.5 * log(2 * M_PI);
    }
    double p[MAX_LOGITS], lp[MAX_LOGITS];
    softmax(out, n_actions, p, lp);
    return lp[(int)a];
}

double policy_entropy(const float *out, int n_actions)
{
    if (n_actions == 0)
        return 0.5 * log(2 * M_PI * M_E) + log_std(out);
    double p[MAX_LOGITS], lp[MAX_LOGITS], h = 0;
    softmax(out, n_actions, p, lp);
    for (int i = 0; i < n_actions; i++)
        h -= p[i] * lp[i];
    return h;
}

void policy_grad(const float *out, int n_actions, double a, double c_logp, double c_ent,
                 float *dout)
{
    if (n_actions == 0) {
        double ls = log_std(out), var = exp(2 * ls), d = a - out[0];
        bool clamped = out[1] < LOG_STD_MIN || out[1] > LOG_STD_MAX;
        dout[0] += (float)(c_logp * d / var);
        if (!clamped)
            dout[1] += (float)(c_logp * (d * d / var - 1) + c_ent);
        return;
    }
    double p[MAX_LOGITS], lp[MAX_LOGITS], h = 0;
    softmax(out, n_actions, p, lp);
    for (int i = 0; i < n_actions; i++)
        h -= p[i] * lp[i];
    for (int i = 0; i < n_actions; i++)
        dout[i] += (float)(c_logp * ((i == (int)a) - p[i]) - c_ent * p[i] * (lp[i] + h));
}
