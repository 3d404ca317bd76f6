/* Unit tests of lib/rl's networks and agents: MLP and policy gradients against finite
 * differences, the target copy and layer statistics, the log's aggregation, the fault
 * catalogue, and short training runs that must learn (and stay deterministic). */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "base/threads.h"
#include "check.h"
#include "gradcheck.h"
#include "rl/fault.h"
#include "rl/mlp.h"
#include "rl/policy.h"
#include "rl/train.h"

enum { N = 5, IN = 3, HID = 7, OUT = 4 };

typedef struct {
    mlp m;
    float x[N * IN];
    float coef[N * OUT]; /* loss = sum(coef * y) + 0.5 sum(y^2) */
} mlp_case;

static double mlp_loss(void *ctx)
{
    mlp_case *c = ctx;
    const float *y = mlp_forward(&c->m, c->x, N);
    double loss = 0;
    for (int i = 0; i < N * OUT; i++)
        loss += c->coef[i] * y[i] + 0.5 * (double)y[i] * y[i];
    return loss;
}

static void mlp_gradients_match_finite_differences(void)
{
    for (int act = 0; act < 2; act++) {
        static mlp_case c;
        rng_t r;
        rng_seed(&r, 11 + act);
        mlp_init(&c.m, "t", (int[]){IN, HID, HID, OUT}, 3, act ? MLP_TANH : MLP_RELU, N, 1, &r);
        for (int i = 0; i < N * IN; i++)
            c.x[i] = (float)rng_normal(&r);
        for (int i = 0; i < N * OUT; i++)
            c.coef[i] = (float)rng_normal(&r);
        const float *y = mlp_forward(&c.m, c.x, N);
        float dy[N * OUT];
        for (int i = 0; i < N * OUT; i++)
            dy[i] = c.coef[i] + y[i];
        param_zero_grads(&c.m.ps);
        mlp_backward(&c.m, dy);
        float *g = xmalloc(c.m.ps.total * sizeof(float));
        memcpy(g, c.m.ps.g, c.m.ps.total * sizeof(float));
        /* ReLU's kink is within reach of a step of 1e-2 for some of these inputs: ReLU
         * takes smaller steps (and float32 rounding then allows a larger error) */
        for (int p = 0; p < c.m.ps.n; p++) {
            const param_info *pi = &c.m.ps.info[p];
            double worst = gradcheck(pi->name, mlp_loss, &c, c.m.ps.w + pi->offset,
                                     g + pi->offset, pi->count, 1, act ? 1e-2f : 1e-3f, 1e-2);
            CHECK(worst < (act ? 1e-3 : 1e-2));
        }
        free(g);
        mlp_free(&c.m);
    }
}

typedef struct {
    float out[4];
    int n_actions;
    double a, c_logp, c_ent;
} policy_case;

static double policy_objective(void *ctx)
{
    policy_case *c = ctx;
    return c->c_logp * policy_logprob(c->out, c->n_actions, c->a) +
           c->c_ent * policy_entropy(c->out, c->n_actions);
}

/* The gradients of log pi(a) and of the entropy, for the softmax and the Gaussian. */
static void policy_gradients_match_finite_differences(void)
{
    policy_case cases[] = {
        {{0.3f, -1.2f, 0.8f, 0.1f}, 4, 2, 0.7, -0.4},
        {{0.3f, -1.2f, 0.8f, 0.1f}, 4, 1, -1.1, 0.9},
        {{0.5f, -0.3f}, 0, 1.7, 0.6, 0.3},
        {{-1.0f, 0.4f}, 0, -2.5, -0.8, -1.2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float g[4] = {0};
        policy_grad(cases[k].out, cases[k].n_actions, cases[k].a, cases[k].c_logp,
                    cases[k].c_ent, g);
        int n = policy_outputs(cases[k].n_actions);
        CHECK(gradcheck("policy", policy_objective, &cases[k], cases[k].out, g, (size_t)n, 1,
                        1e-2f, 1e-3) < 1e-3);
    }
    /* the uniform softmax has entropy log n; a unit Gaussian 0.5 log(2 pi e) */
    float zero[4] = {0};
    CHECK_NEAR(policy_entropy(zero, 4), log(4), 1e-12);
    CHECK_NEAR(policy_entropy(zero, 0), 0.5 * log(2 * M_PI * M_E), 1e-12);
    CHECK_NEAR(policy_logprob(zero, 0, 0), -0.5 * log(2 * M_PI), 1e-12);
}

/* frac_dead counts units zero for the whole batch; update_ratio is |dW| / |W|. */
static void layer_statistics(void)
{
    mlp m;
    rng_t r;
    rng_seed(&r, 5);
    mlp_init(&m, "q", (int[]){2, 4, 4, 1}, 3, MLP_RELU, 3, 1, &r);
    mlp_shift_hidden_bias(&m, -100);
    float x[6] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f};
    mlp_forward(&m, x, 3);
    float *before = xmalloc(m.ps.total * sizeof(float));
    memcpy(before, m.ps.w, m.ps.total * sizeof(float));
    for (int k = 0; k < 2 * 4; k++)
        m.lin[0].w[k] *= 1.5f; /* a 50% update of the first layer */
    trace_layer t[3];
    CHECK_EQ_INT(mlp_layer_stats(&m, before, t), 3);
    CHECK_STR(t[0].name, "q.0");
    CHECK(t[0].v[TL_FRAC_DEAD] == 1 && t[1].v[TL_FRAC_DEAD] == 1);
    CHECK(!layer_has(&t[2], TL_FRAC_DEAD));
    CHECK_NEAR(t[0].v[TL_UPDATE_RATIO], 1.0 / 3, 1e-6);
    CHECK(t[1].v[TL_UPDATE_RATIO] == 0);
    CHECK(t[0].v[TL_W_MAXABS] <= 1.5 / sqrt(2) + 1e-6);
    mlp target;
    mlp_init(&target, "t", m.sizes, 3, MLP_RELU, 3, 1, &r);
    mlp_copy(&target, &m);
    CHECK(memcmp(target.ps.w, m.ps.w, m.ps.total * sizeof(float)) == 0);
    free(before);
    mlp_free(&m);
    mlp_free(&target);
}

/* Ten gradient steps make one record: means, the largest q_max, the last epsilon. */
static void log_aggregates_gradient_steps(void)
{
    char path[] = "/tmp/test_rl_agents.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    rec_writer *w = rec_create(path, false);
    rl_log log;
    rl_log_init(&log, w, 10);
    log.step = 500;
    for (int i = 0; i < 25; i++) {
        rl_grad g = {.has_target = true, .target_updates = i == 3};
        rl_grad_set(&g, TF_LOSS, i);
        rl_grad_set(&g, TF_Q_MAX, i % 10 == 4 ? 100 : 1);
        rl_grad_set(&g, TF_EPSILON, 1 - 0.01 * i);
        rl_log_grad(&log, &g, NULL, 0);
    }
    rl_log_flush(&log);
    rl_log_free(&log);
    rec_finish(w);
    rec_reader *in = rec_open(path);
    rec r;
    static trace_rec t;
    double loss[3], updates[3], eps[3], qmax[3];
    int n = 0;
    bool target[3];
    while (rec_next(in, &r) && n < 3) {
        trace_parse(&r, &t);
        loss[n] = t.v[TF_LOSS], updates[n] = t.v[TF_UPDATES], eps[n] = t.v[TF_EPSILON];
        qmax[n] = t.v[TF_Q_MAX], target[n] = t.target_updated;
        n++;
    }
    rec_close(in);
    unlink(path);
    CHECK_EQ_INT(n, 3);
    CHECK(loss[0] == 4.5 && loss[1] == 14.5 && loss[2] == 22);
    CHECK(updates[0] == 10 && updates[2] == 5);
    CHECK_NEAR(eps[0], 0.91, 1e-12);
    CHECK(qmax[0] == 100 && qmax[2] == 100);
    CHECK(target[0] && !target[1]);
}

static void fault_catalogue(void)
{
    CHECK_EQ_INT(rl_fault_count(), 16);
    const rl_fault *f = rl_fault_find("bootstrap-terminal");
    CHECK(f && rl_fault_applies(f, "dqn", &rl_cartpole) && rl_fault_applies(f, "ppo", &rl_cartpole));
    CHECK(!rl_fault_applies(f, "ppo", &rl_pendulum) && !rl_fault_applies(f, "reinforce", &rl_cartpole));
    CHECK(!rl_fault_applies(f, "dqn", &rl_gridworld)); /* episodes end at the goal there */
    CHECK(rl_fault_applies(rl_fault_find("dead-relu"), "reinforce", &rl_gridworld));
    CHECK(!rl_fault_applies(rl_fault_find("dead-relu"), "ppo", &rl_cartpole)); /* tanh */
    rl_run run;
    CHECK(rl_run_defaults(&run, &rl_cartpole, "dqn"));
    rl_fault_find("step-limit")->apply(&run);
    CHECK_EQ_INT(run.max_episode_steps, 25);
    rl_fault_find("epsilon-increasing")->apply(&run);
    CHECK(run.cfg.eps_start == 0.01 && run.cfg.eps_end == 1);
    CHECK(!rl_run_defaults(&run, &rl_pendulum, "dqn"));
    CHECK(!rl_fault_find("no-such-fault"));
}

/* Short runs learn: each agent's mean return of its last 100 episodes beats a random
 * policy's (CartPole: about 22) clearly, and the same seed gives the same result. */
static void agents_learn_cartpole_deterministically(void)
{
    const char *agents[] = {"dqn", "reinforce", "ppo"};
    const double steps[] = {20000, 20000, 20480}, beat[] = {60, 30, 60};
    for (int k = 0; k < 3; k++) {
        rl_run run;
        rl_result a, b;
        CHECK(rl_run_defaults(&run, &rl_cartpole, agents[k]));
        run.total_steps = (uint64_t)steps[k];
        run.eval_every = 0;
        rl_train(&run, NULL, &a);
        rl_train(&run, NULL, &b);
        printf("#   %s: %llu episodes, mean return of the last 100: %.1f\n", agents[k],
               (unsigned long long)a.episodes, a.mean_return);
        CHECK(a.mean_return > beat[k]);
        CHECK(a.mean_return == b.mean_return && a.episodes == b.episodes);
    }
}

int main(void)
{
    threads_init(1); /* as rl-trace: these networks are too small for threads */
    RUN(mlp_gradients_match_finite_differences);
    RUN(policy_gradients_match_finite_differences);
    RUN(layer_statistics);
    RUN(log_aggregates_gradient_steps);
    RUN(fault_catalogue);
    RUN(agents_learn_cartpole_deterministically);
    return check_done();
}
