/* rl-trace: train a deep-RL agent on an environment and write its training trace. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/err.h"
#include "base/threads.h"
#include "rec/rec.h"
#include "rl/fault.h"
#include "rl/train.h"

static const char usage[] =
    "usage: rl-trace [-e ENV] [-a AGENT] [-n STEPS] [--seed N] [--fault NAME] [--set K=V ...]\n"
    "                [--log-every N] [--eval-every N] [--eval-episodes N] [--stop-when-solved]\n"
    "                [-j N] [-o FILE] [-z]\n"
    "       rl-trace --list\n"
    "       rl-trace [-e ENV] [-a AGENT] --list-faults\n"
    "Train AGENT on ENV and write the training trace (runnel-trace(5)) to stdout.\n"
    "\n"
    "  -e, --env ENV          CartPole-v1 (default), MountainCar-v0, Acrobot-v1, Pendulum-v1,\n"
    "                         GridWorld-v0\n"
    "  -a, --agent AGENT      dqn (default; ppo for Pendulum-v1), reinforce, ppo, random\n"
    "  -n, --steps N          environment steps to train (default 100000)\n"
    "      --seed N           seed of everything random (default 1)\n"
    "  -f, --fault NAME       plant a fault (see --list)\n"
    "  -s, --set K=V          set a hyperparameter (see --list)\n"
    "      --log-every N      gradient steps per update record (default 10; reinforce 1)\n"
    "      --eval-every N     evaluate the greedy policy every N steps (default 10000; 0: never)\n"
    "      --eval-episodes N  episodes per evaluation (default 100)\n"
    "      --stop-when-solved stop at the first evaluation that reaches the reward threshold\n"
    "  -j, --threads N        threads for the matrix products (default 1)\n"
    "  -o, --output F         write to F (atomically) instead of stdout\n"
    "  -z, --gzip             compress the output\n"
    "  -l, --list             print the environments, agents, hyperparameters and faults\n"
    "      --list-faults      print the faults that apply to AGENT on ENV, one a line:\n"
    "                         NAME<tab>AGENTS<tab>CODES<tab>WHAT\n"
    "  -h, --help             this text; --version the version\n";

enum { OPT_SEED = 0x2000, OPT_LOG_EVERY, OPT_EVAL_EVERY, OPT_EVAL_EPISODES, OPT_STOP, OPT_FAULTS };

static void list(void)
{
    printf("environments: %s\nagents: %s\nhyperparameters (--set): %s\n\nfaults:\n",
           rl_env_names(), rl_agent_names(), rl_agent_params());
    for (int i = 0; i < rl_fault_count(); i++) {
        const rl_fault *f = rl_fault_at(i);
        printf("  %-19s %s\n  %-19s agents: %s; detected by: %s\n", f->name, f->what, "",
               f->agents, f->codes);
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"agent", required_argument, NULL, 'a'},
        {"steps", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"fault", required_argument, NULL, 'f'},
        {"set", required_argument, NULL, 's'},
        {"log-every", required_argument, NULL, OPT_LOG_EVERY},
        {"eval-every", required_argument, NULL, OPT_EVAL_EVERY},
        {"eval-episodes", required_argument, NULL, OPT_EVAL_EPISODES},
        {"stop-when-solved", no_argument, NULL, OPT_STOP},
        {"threads", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"gzip", no_argument, NULL, 'z'},
        {"list", no_argument, NULL, 'l'},
        {"list-faults", no_argument, NULL, OPT_FAULTS},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *env_name = "CartPole-v1", *agent = NULL, *fault = NULL, *output = "-";
    const char *sets[64];
    int n_sets = 0, threads = 1, log_every = 0, eval_episodes = 100;
    uint64_t steps = 100000, seed = 1, eval_every = 10000;
    bool gzip = false, stop = false, list_faults = false;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "e:a:n:f:s:j:o:zl", opts)) != -1;) {
        switch (c) {
        case 'e': env_name = optarg; break;
        case 'a': agent = optarg; break;
        case 'n': steps = cli_u64("--steps", optarg, 1, UINT64_C(1) << 40); break;
        case OPT_SEED: seed = cli_u64("--seed", optarg, 0, UINT64_MAX); break;
        case 'f': fault = optarg; break;
        case 's':
            if (n_sets == 64)
                cli_usage_error("--set: at most 64");
            sets[n_sets++] = optarg;
            break;
        case OPT_LOG_EVERY: log_every = (int)cli_u64("--log-every", optarg, 1, 1000000); break;
        case OPT_EVAL_EVERY: eval_every = cli_u64("--eval-every", optarg, 0, UINT64_C(1) << 40); break;
        case OPT_EVAL_EPISODES:
            eval_episodes = (int)cli_u64("--eval-episodes", optarg, 1, 100000);
            break;
        case OPT_STOP: stop = true; break;
        case 'j': threads = threads_parse("--threads", optarg); break;
        case 'o': output = optarg; break;
        case 'z': gzip = true; break;
        case 'l': list(); return 0;
        case OPT_FAULTS: list_faults = true; break;
        }
    }
    if (optind < argc)
        cli_usage_error("unexpected argument \"%s\"", argv[optind]);
    const rl_env_class *env = rl_env_find(env_name);
    if (!env)
        cli_usage_error("--env: no environment \"%s\" (there are %s)", env_name, rl_env_names());
    if (!agent)
        agent = env->n_actions > 0 ? "dqn" : "ppo";
    rl_run run;
    if (!rl_run_defaults(&run, env, agent)) {
        if (strcmp(agent, "dqn") && strcmp(agent, "reinforce") && strcmp(agent, "ppo") &&
            strcmp(agent, "random"))
            cli_usage_error("--agent: no agent \"%s\" (there are %s)", agent, rl_agent_names());
        cli_usage_error("--agent: %s needs discrete actions, which %s does not have", agent,
                        env->name);
    }
    if (list_faults) {
        for (int i = 0; i < rl_fault_count(); i++) {
            const rl_fault *f = rl_fault_at(i);
            if (rl_fault_applies(f, agent, env))
                printf("%s\t%s\t%s\t%s\n", f->name, f->agents, f->codes, f->what);
        }
        return 0;
    }
    run.total_steps = steps;
    run.seed = seed;
    if (log_every)
        run.log_every = log_every;
    run.eval_every = eval_every;
    run.eval_episodes = eval_episodes;
    run.stop_when_solved = stop;
    for (int i = 0; i < n_sets; i++) {
        const char *eq = strchr(sets[i], '=');
        char name[64];
        if (!eq || eq == sets[i] || eq - sets[i] >= (int)sizeof name)
            cli_usage_error("--set: expected NAME=VALUE, found \"%s\"", sets[i]);
        snprintf(name, sizeof name, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (!rl_agent_set(&run.cfg, name, cli_f64("--set", eq + 1, -1e9, 1e9)))
            cli_usage_error("--set: no hyperparameter \"%s\" (there are %s)", name,
                            rl_agent_params());
    }
    if (fault) {
        const rl_fault *f = rl_fault_find(fault);
        if (!f)
            cli_usage_error("--fault: no fault \"%s\" (see rl-trace --list)", fault);
        if (!rl_fault_applies(f, agent, env))
            cli_usage_error("--fault: %s does not apply to %s on %s", fault, agent, env->name);
        f->apply(&run);
    }
    const char *bad = rl_agent_invalid(agent, &run.cfg);
    if (bad)
        cli_usage_error("--set: %s", bad);
    threads_init(threads);
    rec_writer *w = rec_create(output, gzip);
    rl_result res;
    rl_train(&run, w, &res);
    rec_finish(w);
    if (isatty(STDERR_FILENO)) {
        fprintf(stderr, "rl-trace: %s %s seed %llu: %llu steps, %llu episodes, mean return of the "
                "last 100 %.4g", env->name, agent, (unsigned long long)seed,
                (unsigned long long)res.steps, (unsigned long long)res.episodes, res.mean_return);
        if (res.solved_step >= 0)
            fprintf(stderr, ", solved at step %lld", (long long)res.solved_step);
        fputc('\n', stderr);
    }
    return 0;
}
