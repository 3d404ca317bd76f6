/* Unit tests of lib/rl's environments: trajectories from fixed initial states and action
 * sequences against tests/ref/gym/trajectories.py (a transcription of Gymnasium's step
 * functions), the registry's constants, the reset distributions and TimeLimit. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "json/json.h"
#include "rl/env.h"

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.via.str.size == strlen(key) && memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
            return &kv->val;
    }
    return NULL;
}

static double num(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double)o->via.i64;
    default: return o->via.f64;
    }
}

static int n_trajectories, n_steps;

/* Replay one reference trajectory: every state value, observation (float32) and reward
 * equal to the reference's, bit for bit (the C code does Gymnasium's operations in
 * Gymnasium's order), terminated and truncated at the same steps. */
static void replay(void *ctx, const msgpack_object *t)
{
    const msgpack_object *name = get(t, "env");
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)name->via.str.size, name->via.str.ptr);
    const rl_env_class *c = rl_env_find(buf);
    CHECK(c != NULL);
    if (!c)
        return;
    rl_env e;
    rl_env_init(&e, c, 1);
    const msgpack_object *init = get(t, "init"), *actions = get(t, "actions"),
                         *steps = get(t, "steps");
    for (uint32_t i = 0; i < init->via.array.size; i++)
        e.s[i] = num(&init->via.array.ptr[i]);
    CHECK(actions->via.array.size == steps->via.array.size);
    for (uint32_t k = 0; k < steps->via.array.size; k++) {
        const msgpack_object *ref = &steps->via.array.ptr[k];
        float obs[RL_MAX_OBS];
        double reward;
        bool term, trunc;
        rl_env_step(&e, num(&actions->via.array.ptr[k]), obs, &reward, &term, &trunc);
        const msgpack_object *state = get(ref, "state"), *o = get(ref, "obs");
        for (uint32_t i = 0; i < state->via.array.size; i++)
            CHECK(e.s[i] == num(&state->via.array.ptr[i]));
        CHECK_EQ_INT(o->via.array.size, c->obs_dim);
        for (int i = 0; i < c->obs_dim; i++)
            CHECK(obs[i] == (float)num(&o->via.array.ptr[i]));
        CHECK(reward == num(get(ref, "reward")));
        CHECK(term == get(ref, "terminated")->via.boolean);
        CHECK(trunc == get(ref, "truncated")->via.boolean);
        n_steps++;
    }
    n_trajectories++;
}

static void trajectories_match_gymnasium_transcription(void)
{
    json_read_file("tests/ref/gym/trajectories.json", 0, replay, NULL);
    CHECK_EQ_INT(n_trajectories, 8);
    CHECK(n_steps > 600);
}

static void registry_constants(void)
{
    const rl_env_class *cp = rl_env_find("CartPole-v1"), *mc = rl_env_find("MountainCar-v0");
    const rl_env_class *ac = rl_env_find("Acrobot-v1"), *pe = rl_env_find("Pendulum-v1");
    const rl_env_class *gw = rl_env_find("GridWorld-v0");
    CHECK(cp && mc && ac && pe && gw && !rl_env_find("CartPole-v0"));
    CHECK(cp->obs_dim == 4 && cp->n_actions == 2 && cp->max_episode_steps == 500);
    CHECK(cp->reward_threshold == 475.0);
    CHECK(mc->obs_dim == 2 && mc->n_actions == 3 && mc->max_episode_steps == 200);
    CHECK(mc->reward_threshold == -110.0);
    CHECK(ac->obs_dim == 6 && ac->n_actions == 3 && ac->max_episode_steps == 500);
    CHECK(ac->reward_threshold == -100.0);
    CHECK(pe->obs_dim == 3 && pe->n_actions == 0 && pe->max_episode_steps == 200);
    CHECK(pe->act_low == -2.0 && pe->act_high == 2.0 && isnan(pe->reward_threshold));
    CHECK(gw->obs_dim == 2 && gw->n_actions == 4 && gw->max_episode_steps == 100);
    CHECK(cp->ends == RL_ENDS_FAILING && pe->ends == RL_ENDS_NEVER);
    CHECK(mc->ends == RL_ENDS_AT_GOAL && ac->ends == RL_ENDS_AT_GOAL && gw->ends == RL_ENDS_AT_GOAL);
}

/* Initial states follow Gymnasium's distributions: every CartPole and Acrobot component
 * uniform in [-0.05, 0.05) and [-0.1, 0.1) (Acrobot's as float32), MountainCar's position
 * in [-0.6, -0.4) at rest, Pendulum's angle in [-pi, pi) and speed in [-1, 1).  The means
 * of 4000 starts sit near the middle of each range. */
static void resets_follow_gymnasium_distributions(void)
{
    const char *names[] = {"CartPole-v1", "MountainCar-v0", "Acrobot-v1", "Pendulum-v1"};
    const double lo[][4] = {{-0.05, -0.05, -0.05, -0.05}, {-0.6, 0, 0, 0}, {-0.1, -0.1, -0.1, -0.1}, {-M_PI, -1, 0, 0}};
    const double hi[][4] = {{0.05, 0.05, 0.05, 0.05}, {-0.4, 0, 0, 0}, {0.1, 0.1, 0.1, 0.1}, {M_PI, 1, 0, 0}};
    for (int k = 0; k < 4; k++) {
        rl_env e;
        rl_env_init(&e, rl_env_find(names[k]), 7);
        double mean[4] = {0};
        float obs[RL_MAX_OBS];
        for (int n = 0; n < 4000; n++) {
            rl_env_reset(&e, obs);
            for (int i = 0; i < 4; i++) {
                CHECK(e.s[i] >= lo[k][i] && (e.s[i] < hi[k][i] || (lo[k][i] == hi[k][i] && e.s[i] == hi[k][i])));
                mean[i] += e.s[i] / 4000;
            }
            if (k == 2)
                for (int i = 0; i < 4; i++)
                    CHECK(e.s[i] == (float)e.s[i]);
        }
        for (int i = 0; i < 4; i++)
            CHECK_NEAR(mean[i], (lo[k][i] + hi[k][i]) / 2, 0.05 * (hi[k][i] - lo[k][i]) + 1e-12);
    }
}

/* The step limit truncates on the step that reaches it, also when that step terminates;
 * the counter restarts at reset. */
static void time_limit_truncates_at_max_steps(void)
{
    rl_env e;
    float obs[RL_MAX_OBS];
    double r;
    bool term, trunc;
    rl_env_init(&e, &rl_gridworld, 1);
    e.max_steps = 8;
    rl_env_reset(&e, obs);
    for (int i = 0; i < 4; i++) {
        rl_env_step(&e, 1, obs, &r, &term, &trunc);
        CHECK(!term && !trunc && r == -1);
    }
    for (int i = 0; i < 3; i++)
        rl_env_step(&e, 2, obs, &r, &term, &trunc);
    CHECK(!term && !trunc);
    rl_env_step(&e, 2, obs, &r, &term, &trunc);
    CHECK(term && trunc && r == 0);
    CHECK(obs[0] == 1.0f && obs[1] == 1.0f);
    rl_env_reset(&e, obs);
    CHECK(e.t == 0 && obs[0] == 0 && obs[1] == 0);
}

/* Hand-worked GridWorld moves: walls hold the agent in place. */
static void gridworld_walls_hold(void)
{
    rl_env e;
    float obs[RL_MAX_OBS];
    double r;
    bool term, trunc;
    rl_env_init(&e, &rl_gridworld, 1);
    rl_env_reset(&e, obs);
    rl_env_step(&e, 0, obs, &r, &term, &trunc); /* up from row 0 */
    CHECK(obs[0] == 0 && obs[1] == 0);
    rl_env_step(&e, 3, obs, &r, &term, &trunc); /* left from column 0 */
    CHECK(obs[0] == 0 && obs[1] == 0);
    rl_env_step(&e, 2, obs, &r, &term, &trunc);
    CHECK(obs[0] == 0.25f && obs[1] == 0);
}

static void bad_discrete_action_is_a_software_error(void)
{
    rl_env e;
    float obs[RL_MAX_OBS];
    double r;
    bool term, trunc;
    rl_env_init(&e, &rl_cartpole, 1);
    rl_env_reset(&e, obs);
    EXPECT_DIE(EX_SOFTWARE, rl_env_step(&e, 2, obs, &r, &term, &trunc));
    EXPECT_DIE(EX_SOFTWARE, rl_env_step(&e, 0.5, obs, &r, &term, &trunc));
}

int main(void)
{
    RUN(trajectories_match_gymnasium_transcription);
    RUN(registry_constants);
    RUN(resets_follow_gymnasium_distributions);
    RUN(time_limit_truncates_at_max_steps);
    RUN(gridworld_walls_hold);
    RUN(bad_discrete_action_is_a_software_error);
    return check_done();
}
