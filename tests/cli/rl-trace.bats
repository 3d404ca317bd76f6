#!/usr/bin/env bats
load helper

@test "rl-trace: a run writes config, episodes, updates with layers, evals and done, steps in order" {
    run bash -c "rl-trace -n 3000 --eval-every 1000 --eval-episodes 5 | mp2json"
    assert_success
    echo "$output" | head -1 | jq -e '.event == "config" and .env == "CartPole-v1" and .agent == "dqn"
        and .gamma == 0.99 and .total_steps == 3000 and .max_episode_steps == 500
        and .reward_threshold == 475 and .n_actions == 2 and .seed == 1'
    echo "$output" | tail -1 | jq -e '.event == "done" and .step == 3000 and .episodes > 50'
    echo "$output" | jq -se '[.[].step] | . == sort'
    echo "$output" | jq -se '[.[] | select(.event == "episode")] | length > 50 and
        all(.[]; (.action_counts | add) == .length and .obs_std > 0 and .reward_min == 1
            and (.final_obs | length) == 4 and (.terminated or .truncated))'
    # gradient steps at steps 1000, 1004 ... 3000: 50 records of 10 (with the layers of
    # their last step) and a last one of 1
    echo "$output" | jq -se '[.[] | select(.event == "update")] | length == 51 and
        (map(.updates) | add) == 501 and all(.[]; .epsilon <= 1 and .loss >= 0) and
        all(.[:50][]; (.layers | length) == 3 and (.layers[0] | has("frac_dead") and has("update_ratio")))'
    echo "$output" | jq -se '[.[] | select(.event == "eval")] | length == 3 and all(.[]; .episodes == 5)'
}

@test "rl-trace: the same seed gives the same bytes, another seed other ones" {
    rl-trace -n 2000 --seed 7 -o a.mp
    rl-trace -n 2000 --seed 7 -o b.mp
    rl-trace -n 2000 --seed 8 -o c.mp
    cmp a.mp b.mp
    ! cmp -s a.mp c.mp
}

@test "rl-trace: with their defaults dqn and ppo solve CartPole-v1 within 100k steps" {
    # solved: an evaluation of 100 greedy episodes with a mean return of at least 475
    for agent in dqn ppo; do
        run bash -c "rl-trace -a $agent --stop-when-solved | mp2json | jq -c 'select(.event == \"done\") | .solved_step'"
        assert_success
        [ "$output" != null ] && [ "$output" -le 100000 ]
    done
}

@test "rl-trace: every environment and agent runs; Pendulum gets ppo" {
    for env in CartPole-v1 MountainCar-v0 Acrobot-v1 GridWorld-v0; do
        for agent in dqn reinforce ppo; do
            run bash -c "rl-trace -e $env -a $agent -n 2100 --eval-every 0 | mp2json | jq -r 'select(.event == \"update\") | .step' | wc -l"
            assert_success
            [ "$output" -gt 0 ]
        done
    done
    run bash -c "rl-trace -e Pendulum-v1 -n 2100 --eval-every 0 | mp2json | jq -r 'select(.event == \"config\") | [.agent, .n_actions] | @tsv'"
    assert_output "$(printf 'ppo\t0')"
}

@test "rl-trace: --list and --list-faults name every fault with the codes that detect it" {
    run rl-trace --list
    assert_success
    assert_line --partial "environments: CartPole-v1, MountainCar-v0, Acrobot-v1, Pendulum-v1, GridWorld-v0"
    run bash -c "rl-trace --list-faults | cut -f1 | tr '\n' ' '"
    assert_output "no-exploration epsilon-constant epsilon-increasing target-frozen target-every-step obs-scale reward-scale gamma-zero gamma-above-one bootstrap-terminal lr-high lr-low step-limit dead-relu constant-obs "
    run bash -c "rl-trace --list-faults | awk -F'\t' 'NF != 4' | wc -l"
    assert_output 0
    # only the faults that apply: ppo has no epsilon, Pendulum never terminates
    run bash -c "rl-trace -e Pendulum-v1 -a ppo --list-faults | cut -f1 | tr '\n' ' '"
    assert_output "obs-scale reward-scale gamma-zero gamma-above-one pg-wrong-sign lr-high lr-low step-limit constant-obs "
}

@test "rl-trace: a planted fault shows in the trace and diagnose finds it" {
    run bash -c "rl-trace --fault constant-obs -n 3000 --eval-every 0 | diagnose | mp2json | jq -r .code"
    assert_line obs_constant
    run bash -c "rl-trace --fault step-limit -n 3000 --eval-every 0 | mp2json | jq -r 'select(.event == \"episode\") | .length' | sort -un | tail -1"
    assert_output 25
    run bash -c "rl-trace --fault gamma-above-one -n 100 --eval-every 0 | mp2json | jq -r 'select(.event == \"config\") | .gamma'"
    assert_output 1.01
}

@test "rl-trace: bad usage exits 64" {
    run rl-trace -e CartPole-v0
    assert_failure 64
    assert_output --partial "no environment \"CartPole-v0\""
    run rl-trace -a sarsa
    assert_failure 64
    run rl-trace -e Pendulum-v1 -a dqn
    assert_failure 64
    assert_output --partial "needs discrete actions"
    run rl-trace --fault nothing
    assert_failure 64
    run rl-trace -a ppo --fault dead-relu
    assert_failure 64
    assert_output --partial "does not apply"
    run rl-trace -e Pendulum-v1 --fault bootstrap-terminal
    assert_failure 64
    run rl-trace --set nothing=1
    assert_failure 64
    run rl-trace --set batch=0
    assert_failure 64
    run rl-trace -n 0
    assert_failure 64
    run rl-trace extra
    assert_failure 64
    run rl-trace --help
    assert_success
    assert_output --partial "usage: rl-trace"
}

@test "rl-trace: -o writes the trace atomically; --set changes the config" {
    run rl-trace -n 500 --set gamma=0.9 --set lr=0.01 -o out.mp
    assert_success
    run bash -c "mp2json out.mp | head -1 | jq -c '[.gamma, .lr]'"
    assert_output "[0.9,0.01]"
    no_temp_files
}

@test "rl-trace: diagnose finds quick faults by the codes --list-faults names, and no error in a healthy run" {
    run bash -c "rl-trace -n 6000 --eval-every 0 | diagnose | mp2json | jq -r 'select(.severity == \"error\") | .code'"
    assert_success
    assert_output ""
    for fault in no-exploration epsilon-increasing target-every-step obs-scale reward-scale \
        gamma-zero step-limit dead-relu; do
        codes=$(rl-trace --list-faults | awk -F'\t' -v f=$fault '$1 == f {print $3}')
        found=$(rl-trace --fault $fault -n 20000 --eval-every 0 | diagnose | mp2json | jq -r .code | tr '\n' ' ')
        hit=0
        for c in $codes; do [[ " $found " == *" $c "* ]] && hit=1; done
        [ $hit = 1 ] || { echo "$fault: found [$found], expected one of [$codes]"; return 1; }
    done
}
