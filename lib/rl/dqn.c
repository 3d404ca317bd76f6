/* DQN (Mnih et al., 2015): a Q-network trained on minibatches from a replay buffer toward
 * r + gamma max_a' Q_target(s', a'), with the Huber loss, a target network copied every
 * target_period environment steps, and epsilon-greedy exploration whose epsilon falls
 * linearly from eps_start to eps_end over eps_fraction of the planned steps.  With
 * double_q the target takes Q_target at the online network's greedy action. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rl/agent.h"
#include "rl/net.h"

typedef struct {
    rl_agent base;
    rl_net q;
    mlp target;
    int obs_dim, n_actions;
    /* the replay buffer: rings of cap transitions */
    float *obs, *next_obs, *reward; /* (cap, D), (cap, D), (cap) */
    int *action;
    unsigned char *done;            /* the target stops at this transition */
    size_t cap, size, pos;
    /* a minibatch */
    float *bs, *bs2, *dq;           /* s, s' (B, D); dL/dQ (B, A) */
    double *y;                      /* (B) targets */
    int *ba, *greedy;               /* (B) actions taken; the online greedy action at s' */
    int target_copies;              /* since the last gradient step */
} dqn;

static double epsilon(const dqn *q)
{
    const rl_agent_config *c = &q->base.c;
    double span = c->eps_fraction * (double)q->base.total_steps;
    double f = span > 0 ? fmin((double)q->base.steps / span, 1) : 1;
    return c->eps_start + f * (c->eps_end - c->eps_start);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static double dqn_greedy(rl_agent *a, const float *obs)
{
    dqn *q = (dqn *)a;
    return argmax(mlp_forward(&q->q.m, obs, 1), q->n_actions);
}

static double dqn_act(rl_agent *a, const float *obs)
{
    dqn *q = (dqn *)a;
    if (rng_uniform(&a->rng) < epsilon(q))
        return (double)rng_below(&a->rng, (uint64_t)q->n_actions);
    return dqn_greedy(a, obs);
}

/* One gradient step on a minibatch drawn uniformly from the buffer. */
static void train(dqn *q)
{
    rl_agent *a = &q->base;
    const rl_agent_config *c = &a->c;
    int B = c->batch, D = q->obs_dim, A = q->n_actions;
    unsigned char bd[1024];
    for (int i = 0; i < B; i++) {
        size_t k = rng_below(&a->rng, q->size);
        memcpy(q->bs + (size_t)i * D, q->obs + k * D, (size_t)D * sizeof(float));
        memcpy(q->bs2 + (size_t)i * D, q->next_obs + k * D, (size_t)D * sizeof(float));
        q->ba[i] = q->action[k];
        q->y[i] = q->reward[k];
        bd[i] = q->done[k];
    }
    if (c->double_q) {
        const float *qo = mlp_forward(&q->q.m, q->bs2, B);
        for (int i = 0; i < B; i++)
            q->greedy[i] = argmax(qo + (size_t)i * A, A);
    }
    const float *qt = mlp_forward(&q->target, q->bs2, B);
    for (int i = 0; i < B; i++) {
        const float *row = qt + (size_t)i * A;
        double next = row[c->double_q ? q->greedy[i] : argmax(row, A)];
        if (!bd[i])
            q->y[i] += c->gamma * next;
    }
    /* Huber loss (delta 1) of Q(s, a) against y, averaged over the batch */
    const float *qs = mlp_forward(&q->q.m, q->bs, B);
    double loss = 0, td = 0, qsum = 0, qmax = -INFINITY;
    memset(q->dq, 0, (size_t)B * (size_t)A * sizeof(float));
    for (int i = 0; i < B; i++) {
        double qa = qs[(size_t)i * A + (size_t)q->ba[i]], e = qa - q->y[i];
        loss += fabs(e) <= 1 ? 0.5 * e * e : fabs(e) - 0.5;
        q->dq[(size_t)i * A + (size_t)q->ba[i]] = (float)(fmax(-1, fmin(1, e)) / B);
        td += fabs(e);
        qsum += qa;
        qmax = fmax(qmax, qa);
    }
    mlp_backward(&q->q.m, q->dq);
    trace_layer layers[MLP_MAX_LAYERS];
    int n_layers = 0;
    bool want = rl_log_wants_layers(a->log);
    double lr = rl_agent_lr(a);
    double norm = rl_net_step((rl_net *[]){&q->q}, 1, lr, c->max_grad_norm, want ? layers : NULL,
                              &n_layers);
    rl_grad g = {.has_target = true, .target_updates = q->target_copies};
    q->target_copies = 0;
    rl_grad_set(&g, TF_LOSS, loss / B);
    rl_grad_set(&g, TF_GRAD_NORM, norm);
    rl_grad_set(&g, TF_Q_MEAN, qsum / B);
    rl_grad_set(&g, TF_Q_MAX, qmax);
    rl_grad_set(&g, TF_TD_ERROR, td / B);
    rl_grad_set(&g, TF_LR, lr);
    rl_grad_set(&g, TF_EPSILON, epsilon(q));
    rl_log_grad(a->log, &g, want ? layers : NULL, n_layers);
}

static void dqn_observe(rl_agent *a, const float *obs, double action, double reward,
                        const float *next_obs, bool terminated, bool truncated)
{
    dqn *q = (dqn *)a;
    const rl_agent_config *c = &a->c;
    size_t D = (size_t)q->obs_dim;
    memcpy(q->obs + q->pos * D, obs, D * sizeof(float));
    memcpy(q->next_obs + q->pos * D, next_obs, D * sizeof(float));
    q->action[q->pos] = (int)action;
    q->reward[q->pos] = (float)reward;
    q->done[q->pos] = terminated && !c->bootstrap_terminal;
    q->pos = (q->pos + 1) % q->cap;
    q->size = q->size < q->cap ? q->size + 1 : q->cap;
    a->steps++;
    if (c->target_period > 0 && a->steps % (uint64_t)c->target_period == 0) {
        mlp_copy(&q->target, &q->q.m);
        q->target_copies++;
    }
    if (a->steps >= (uint64_t)c->learning_starts && a->steps % (uint64_t)c->train_freq == 0 &&
        q->size >= (size_t)c->batch)
        train(q);
}

static void dqn_free(rl_agent *a)
{
    dqn *q = (dqn *)a;
    rl_net_free(&q->q);
    mlp_free(&q->target);
    free(q->obs);
    free(q->next_obs);
    free(q->reward);
    free(q->action);
    free(q->done);
    free(q->bs);
    free(q->bs2);
    free(q->dq);
    free(q->y);
    free(q->ba);
    free(q->greedy);
    free(q);
}

rl_agent *rl_dqn_new(const rl_agent *base)
{
    dqn *q = xcalloc(1, sizeof *q);
    q->base = *base;
    rl_agent *a = &q->base;
    const rl_agent_config *c = &a->c;
    if (c->batch < 1 || c->batch > 1024 || c->buffer < c->batch || c->train_freq < 1)
        die(EX_SOFTWARE, "dqn: bad batch %d, buffer %d or train_freq %d", c->batch, c->buffer,
            c->train_freq);
    q->obs_dim = a->env->obs_dim;
    q->n_actions = a->env->n_actions;
    int B = c->batch, D = q->obs_dim, A = q->n_actions;
    rl_net_init(&q->q, "q", D, c->hidden, A, MLP_RELU, B, 1, c->hidden_bias_shift, &a->rng);
    mlp_init(&q->target, "target", q->q.m.sizes, q->q.m.n_layers, MLP_RELU, B, 1, &a->rng);
    mlp_copy(&q->target, &q->q.m);
    q->cap = (size_t)c->buffer;
    q->obs = xmalloc(q->cap * (size_t)D * sizeof(float));
    q->next_obs = xmalloc(q->cap * (size_t)D * sizeof(float));
    q->reward = xmalloc(q->cap * sizeof(float));
    q->action = xmalloc(q->cap * sizeof(int));
    q->done = xmalloc(q->cap);
    q->bs = xmalloc((size_t)B * (size_t)D * sizeof(float));
    q->bs2 = xmalloc((size_t)B * (size_t)D * sizeof(float));
    q->dq = xmalloc((size_t)B * (size_t)A * sizeof(float));
    q->y = xmalloc((size_t)B * sizeof(double));
    q->ba = xmalloc((size_t)B * sizeof(int));
    q->greedy = xmalloc((size_t)B * sizeof(int));
    a->act = dqn_act;
    a->greedy = dqn_greedy;
    a->observe = dqn_observe;
    a->free = dqn_free;
    return a;
}
