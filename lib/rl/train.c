#include "rl/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rl/log.h"
#include "rl/trace.h"

bool rl_run_defaults(rl_run *run, const rl_env_class *env, const char *agent)
{
    memset(run, 0, sizeof *run);
    run->env = env;
    run->agent = agent;
    run->total_steps = 100000;
    run->seed = 1;
    /* REINFORCE takes one gradient step per batch of episodes: a record each */
    run->log_every = strcmp(agent, "reinforce") == 0 ? 1 : 10;
    run->eval_every = 10000;
    run->eval_episodes = 100;
    run->max_episode_steps = env->max_episode_steps;
    run->obs_scale = run->reward_scale = 1;
    return rl_agent_defaults(agent, env, &run->cfg);
}

/* The statistics of the episode under way. */
typedef struct {
    int length;
    double ret, rmin, rmax;
    double omin, omax, osum;
    double csum[RL_MAX_OBS], csq[RL_MAX_OBS];
    int seen; /* observations */
    double counts[RL_MAX_ACTIONS];
} episode;

static void episode_start(episode *e)
{
    memset(e, 0, sizeof *e);
    e->rmin = e->omin = INFINITY;
    e->rmax = e->omax = -INFINITY;
}

static void episode_obs(episode *e, const float *obs, int dim)
{
    for (int i = 0; i < dim; i++) {
        double v = obs[i];
        e->omin = fmin(e->omin, v);
        e->omax = fmax(e->omax, v);
        e->osum += v;
        e->csum[i] += v;
        e->csq[i] += v * v;
    }
    e->seen++;
}

static void write_config(rec_writer *w, const rl_run *run, trace_rec *t)
{
    trace_clear(t, TR_CONFIG, 0);
    snprintf(t->env, sizeof t->env, "%s", run->env->name);
    snprintf(t->agent, sizeof t->agent, "%s", run->agent);
    t->flags |= TB_ENV | TB_AGENT;
    trace_set(t, TF_GAMMA, run->cfg.gamma);
    trace_set(t, TF_LR, run->cfg.lr);
    trace_set(t, TF_TOTAL_STEPS, (double)run->total_steps);
    trace_set(t, TF_MAX_EPISODE_STEPS, run->max_episode_steps);
    if (!isnan(run->env->reward_threshold))
        trace_set(t, TF_REWARD_THRESHOLD, run->env->reward_threshold * run->reward_scale);
    trace_set(t, TF_N_ACTIONS, run->env->n_actions);
    trace_set(t, TF_SEED, (double)run->seed);
    t->seed = run->seed;
    trace_write(w, t);
}

static void write_episode(rec_writer *w, const rl_run *run, const episode *e, uint64_t step,
                          uint64_t number, bool terminated, bool truncated, const float *last,
                          trace_rec *t)
{
    int dim = run->env->obs_dim;
    trace_clear(t, TR_EPISODE, step);
    trace_set(t, TF_EPISODE, (double)number);
    trace_set(t, TF_RETURN, e->ret);
    trace_set(t, TF_LENGTH, e->length);
    t->flags |= TB_TERMINATED | TB_TRUNCATED | TB_FINAL_OBS;
    t->terminated = terminated;
    t->truncated = truncated;
    if (run->env->n_actions > 0) {
        t->flags |= TB_ACTION_COUNTS;
        t->n_action_counts = run->env->n_actions;
        memcpy(t->action_counts, e->counts, (size_t)run->env->n_actions * sizeof(double));
    }
    trace_set(t, TF_OBS_MIN, e->omin);
    trace_set(t, TF_OBS_MAX, e->omax);
    trace_set(t, TF_OBS_MEAN, e->osum / ((double)e->seen * dim));
    double std = 0;
    for (int i = 0; i < dim; i++) {
        double m = e->csum[i] / e->seen;
        std += sqrt(fmax(e->csq[i] / e->seen - m * m, 0));
    }
    trace_set(t, TF_OBS_STD, std / dim);
    trace_set(t, TF_REWARD_MIN, e->rmin);
    trace_set(t, TF_REWARD_MAX, e->rmax);
    t->n_final_obs = dim;
    for (int i = 0; i < dim; i++)
        t->final_obs[i] = last[i];
    trace_write(w, t);
    rec_flush(w);
}

/* What the agent sees of an observation: scaled, or the very first one forever. */
typedef struct {
    const rl_run *run;
    float first[RL_MAX_OBS];
    bool have_first;
} presenter;

static void present(presenter *p, float *dst, const float *src)
{
    int dim = p->run->env->obs_dim;
    if (!p->have_first) {
        memcpy(p->first, src, (size_t)dim * sizeof(float));
        p->have_first = true;
    }
    const float *from = p->run->constant_obs ? p->first : src;
    for (int i = 0; i < dim; i++)
        dst[i] = (float)(from[i] * p->run->obs_scale);
}

/* The mean return of the greedy policy over run->eval_episodes episodes, in the
 * environment as the agent sees it. */
static double evaluate(const rl_run *run, rl_agent *agent, uint64_t seed)
{
    rl_env env;
    rl_env_init(&env, run->env, seed);
    env.max_steps = run->max_episode_steps;
    presenter p = {.run = run};
    float raw[RL_MAX_OBS], obs[RL_MAX_OBS];
    double total = 0;
    for (int k = 0; k < run->eval_episodes; k++) {
        rl_env_reset(&env, raw);
        present(&p, obs, raw);
        for (bool done = false; !done;) {
            double a = rl_agent_greedy(agent, obs), reward;
            bool terminated, truncated;
            if (run->env->n_actions == 0)
                a = fmax(run->env->act_low, fmin(run->env->act_high, a));
            rl_env_step(&env, a, raw, &reward, &terminated, &truncated);
            present(&p, obs, raw);
            total += reward * run->reward_scale;
            done = terminated || truncated;
        }
    }
    return total / run->eval_episodes;
}

void rl_train(const rl_run *run, rec_writer *w, rl_result *res)
{
    static trace_rec t; /* large */
    const rl_env_class *c = run->env;
    int dim = c->obs_dim;
    rl_env env;
    rl_env_init(&env, c, run->seed);
    env.max_steps = run->max_episode_steps;
    rl_log log;
    rl_log_init(&log, w, run->log_every);
    rl_agent_config cfg = run->cfg;
    cfg.max_episode_steps = run->max_episode_steps;
    rl_agent *agent = rl_agent_new(run->agent, c, &cfg, run->total_steps,
                                   mix64(run->seed ^ 0x5eed), &log);
    if (w)
        write_config(w, run, &t);

    float raw[RL_MAX_OBS], obs[RL_MAX_OBS], next[RL_MAX_OBS];
    presenter p = {.run = run};
    double returns[100];
    memset(res, 0, sizeof *res);
    res->solved_step = -1;
    res->eval_return = NAN;
    double threshold = run->env->reward_threshold * run->reward_scale;
    episode e;
    rl_env_reset(&env, raw);
    present(&p, obs, raw);
    episode_start(&e);
    episode_obs(&e, obs, dim);
    uint64_t step;
    for (step = 1; step <= run->total_steps; step++) {
        double a = rl_agent_act(agent, obs);
        double reward;
        bool terminated, truncated;
        rl_env_step(&env, c->n_actions > 0 ? a : fmax(c->act_low, fmin(c->act_high, a)), raw,
                    &reward, &terminated, &truncated);
        reward *= run->reward_scale;
        present(&p, next, raw);
        e.length++;
        e.ret += reward;
        e.rmin = fmin(e.rmin, reward);
        e.rmax = fmax(e.rmax, reward);
        if (c->n_actions > 0)
            e.counts[(int)a]++;
        episode_obs(&e, next, dim);
        log.step = step;
        rl_agent_observe(agent, obs, a, reward, next, terminated, truncated);
        memcpy(obs, next, sizeof obs);
        if (run->eval_every && (step % run->eval_every == 0 || step == run->total_steps)) {
            res->eval_return = evaluate(run, agent, mix64(run->seed + step));
            if (w) {
                trace_clear(&t, TR_EVAL, step);
                trace_set(&t, TF_EPISODES, run->eval_episodes);
                trace_set(&t, TF_MEAN_RETURN, res->eval_return);
                trace_write(w, &t);
            }
            if (res->solved_step < 0 && res->eval_return >= threshold)
                res->solved_step = (int64_t)step;
        }
        bool stop = run->stop_when_solved && res->solved_step >= 0;
        if (!(terminated || truncated)) {
            if (stop)
                break;
            continue;
        }
        res->episodes++;
        if (w)
            write_episode(w, run, &e, step, res->episodes, terminated, truncated, next, &t);
        returns[(res->episodes - 1) % 100] = e.ret;
        int n = res->episodes < 100 ? (int)res->episodes : 100;
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += returns[i];
        res->mean_return = sum / n;
        rl_env_reset(&env, raw);
        present(&p, obs, raw);
        episode_start(&e);
        episode_obs(&e, obs, dim);
        if (stop)
            break;
    }
    res->steps = step > run->total_steps ? run->total_steps : step;
    rl_log_flush(&log);
    if (w) {
        trace_clear(&t, TR_DONE, res->steps);
        trace_set(&t, TF_EPISODES, (double)res->episodes);
        trace_set(&t, TF_MEAN_RETURN, res->mean_return);
        if (res->solved_step >= 0)
            trace_set(&t, TF_SOLVED_STEP, (double)res->solved_step);
        trace_write(w, &t);
    }
    rl_agent_free(agent);
    rl_log_free(&log);
}
