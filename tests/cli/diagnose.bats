#!/usr/bin/env bats
load helper

# trace FILE JSON-LINES...: a trace file from JSON records
trace() {
    local f=$1; shift
    printf '%s\n' "$@" | json2mp >"$f"
}

@test "diagnose: a NaN loss is reported as an error record with evidence and advice" {
    trace t.mp '{"event":"config","step":0,"gamma":0.99}' \
        '{"event":"update","step":40,"loss":0.5}' \
        '{"event":"update","step":80,"loss":{"$float":"nan"}}'
    run bash -c "diagnose t.mp | mp2json"
    assert_success
    [ "$(echo "$output" | jq -r '[.event, .code, .severity, .step, .record] | @tsv')" = "$(printf 'warning\tnan_inf\terror\t80\t3')" ]
    echo "$output" | jq -e '.evidence.value == {"$float":"nan"} and (.meaning | length > 20)
        and (.practice | length > 20) and (.fixes | length > 20) and (.summary | test("loss"))'
}

@test "diagnose: --text writes the same finding for people" {
    trace t.mp '{"event":"config","step":0,"gamma":1.5}'
    run diagnose --text t.mp
    assert_success
    assert_line --partial "step 0 (record 1): error gamma_out_of_range: the discount factor is 1.5"
    assert_line --partial "evidence: gamma=1.5"
    assert_line --partial "fixes:"
    assert_line "findings: 1 (error 1, warning 0, info 0)"
}

@test "diagnose: --explain lists the routines skipped for lack of inputs" {
    trace t.mp '{"event":"episode","step":10,"return":10,"length":10}'
    run diagnose --text --explain t.mp
    assert_success
    assert_line --regexp '^routines: [0-9]+ ran, [0-9]+ skipped for lack of inputs$'
    assert_line --regexp '^  ran +reward_unnormalized '
    assert_line --regexp '^  skipped +loss_diverging +needs update records with loss'
    run bash -c "diagnose --explain t.mp | mp2json | jq -r 'select(.event == \"routine\") | .status' | sort | uniq -c | wc -l"
    assert_output 2
}

@test "diagnose: an empty trace finds nothing and runs no routine" {
    : >empty.mp
    run diagnose empty.mp
    assert_success
    assert_output ""
    run diagnose --text --explain empty.mp
    assert_success
    assert_line --regexp '^routines: 0 ran, [0-9]+ skipped'
    assert_line "findings: 0 (error 0, warning 0, info 0)"
}

@test "diagnose: a record without event or step exits 65 naming the record" {
    trace t.mp '{"event":"config","step":0}' '{"step":5,"loss":1.0}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "t.mp: record 2: key \"event\" is missing"
    trace t.mp '{"event":"update","loss":1.0}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "record 1: key \"step\" is missing"
}

@test "diagnose: a key of the wrong type exits 65 with the key and what was found" {
    trace t.mp '{"event":"update","step":1,"loss":"high"}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "record 1: key \"loss\": expected a number, found a string"
    trace t.mp '{"event":"update","step":1,"layers":[{"name":"a","g_norm":[1]}]}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "key \"layers\": entry 1: key \"g_norm\": expected a number, found an array"
    trace t.mp '{"event":"episode","step":-3}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "key \"step\": expected a non-negative integer"
}

@test "diagnose: steps going backwards exit 65" {
    trace t.mp '{"event":"update","step":10}' '{"event":"update","step":9}'
    run diagnose t.mp
    assert_failure 65
    assert_output --partial "record 2: step 9 comes after step 10"
}

@test "diagnose: --keep-going warns about bad records, skips them and goes on" {
    trace a.mp '{"event":"update","step":10,"loss":"x"}' '{"event":"update","step":5}' \
        '{"event":"update","step":20}' '{"event":"update","step":15}'
    bytes b.mp 91 01 # an array, not a map
    trace c.mp '{"event":"config","step":30,"gamma":0}'
    cat a.mp b.mp c.mp >t.mp
    run diagnose --keep-going --text t.mp
    assert_success
    assert_line --partial "record 1: key \"loss\": expected a number, found a string (skipped)"
    assert_line --partial "record 4: step 15 comes after step 20: steps must not decrease (skipped)"
    assert_line --partial "record 5: expected a map, found an array (skipped)"
    assert_line --partial "3 malformed records skipped"
    assert_line --partial "gamma_out_of_range"
}

@test "diagnose: truncated msgpack exits 65 even with --keep-going" {
    bytes t.mp 82 a5 65 76 65 6e 74 a6 75 70
    run diagnose --keep-going t.mp
    assert_failure 65
    assert_output --partial "truncated"
}

@test "diagnose: --set overrides a threshold; unknown parameters exit 64" {
    trace t.mp '{"event":"episode","step":10,"length":10,"obs_min":-20,"obs_max":20}' \
        '{"event":"episode","step":20,"length":10,"obs_min":-20,"obs_max":20}' \
        '{"event":"episode","step":30,"length":10,"obs_min":-20,"obs_max":20}'
    run diagnose t.mp
    assert_success
    assert_output ""
    run bash -c "diagnose --set obs_unnormalized.limit=10 t.mp | mp2json | jq -r .code"
    assert_output obs_unnormalized
    run diagnose --set obs_unnormalized.nothing=1 t.mp
    assert_failure 64
    assert_output --partial "no parameter \"obs_unnormalized.nothing\""
    run diagnose --set explore t.mp
    assert_failure 64
}

# lib/rec reads a pipe a buffer (1 MiB) at a time, so the trainer here writes a bad config
# and then 1.4 MB of episodes, and keeps the pipe open.
@test "diagnose: reads a live pipe and reports before the trace ends" {
    mkfifo live
    diagnose live >out.mp 3>&- &
    pid=$!
    exec 8>live
    printf '%s\n' '{"event":"config","step":0,"gamma":2}' | json2mp >&8
    yes '{"event":"episode","step":1,"length":5}' | head -n 40000 | json2mp >&8
    for i in $(seq 50); do [ -s out.mp ] && break; sleep 0.1; done
    run bash -c "mp2json out.mp | jq -r .code"
    kill -0 "$pid" # still running: the trace has not ended
    exec 8>&-
    wait "$pid"
    assert_output gamma_out_of_range
}

@test "diagnose: --list prints every code with its parameters" {
    run diagnose --list
    assert_success
    for code in nan_inf loss_diverging loss_not_decreasing exploding_gradients vanishing_gradients \
        dead_activations saturated_activations weights_diverging entropy_low_start entropy_collapse \
        entropy_stagnant entropy_fluctuating action_dominant action_sequence_repeat reward_stagnant \
        reward_unstable obs_unnormalized reward_unnormalized obs_constant episode_step_limit \
        epsilon_bad_start epsilon_increasing epsilon_too_fast epsilon_flat target_not_updated \
        target_updated_too_often q_diverging gamma_out_of_range lr_too_high lr_too_low; do
        assert_line --regexp "^$code \((info|warning|error)\)$"
    done
    assert_line --partial "reward_stagnant.gain=0.1"
}

@test "diagnose: --help prints usage; bad flags exit 64; a missing file exits 66" {
    run diagnose --help
    assert_success
    assert_output --partial "usage: diagnose"
    run diagnose --bogus
    assert_failure 64
    run diagnose nowhere.mp
    assert_failure 66
}

@test "diagnose: -o writes the findings atomically" {
    trace t.mp '{"event":"config","step":0,"gamma":0}'
    run diagnose -o out.mp t.mp
    assert_success
    run bash -c "mp2json out.mp | jq -r .code"
    assert_output gamma_out_of_range
    trace bad.mp '{"event":"config"}'
    run diagnose -o out2.mp bad.mp
    assert_failure 65
    [ ! -e out2.mp ]
    no_temp_files
}

@test "diagnose: reads traces that python/runnel_trace.py writes" {
    run /usr/bin/python3 - <<PY
import sys
sys.path.insert(0, "$ROOT/python")
from runnel_trace import Trace, EpisodeStats
t = Trace("py.mp", env="Stuck-v0", agent="mine", gamma=0.99, n_actions=2)
for e in range(1, 7):
    s = EpisodeStats(n_actions=2)
    s.observe([0.5, -0.5])
    for k in range(10):
        s.step(k % 2, 1.0)
        s.observe([0.5, -0.5])   # the bug: the same observation every step
    t.episode(10 * e, episode=e, **s.record(terminated=True, truncated=False))
t.update(60, loss=float("nan"), layers=[{"name": "fc", "w_std": 0.1}])
t.close()
PY
    assert_success
    run bash -c "mp2json py.mp | jq -c 'select(.event == \"episode\") | [.obs_std, .obs_min, .obs_max, .action_counts, .reward_max]' | head -1"
    assert_output '[0,-0.5,0.5,[5,5],1]'
    run bash -c "diagnose py.mp | mp2json | jq -r .code"
    assert_output "$(printf 'obs_constant\nnan_inf')"
}

# Gymnasium is not installed here: a stand-in built on the reference transcription
# (tests/cli/fixtures/rl/gymnasium) runs the example.
@test "diagnose: python/example_dqn.py traces a PyTorch DQN; its planted bug is found" {
    /usr/bin/python3 -c 'import torch' 2>/dev/null || skip "python3-torch is not installed"
    export PYTHONPATH="$FIXTURES/rl"
    run /usr/bin/python3 "$ROOT/python/example_dqn.py" --steps 3000 -o ok.mp
    assert_success
    run bash -c "diagnose ok.mp | mp2json | jq -r 'select(.severity == \"error\") | .code'"
    assert_output ""
    run bash -c "/usr/bin/python3 $ROOT/python/example_dqn.py --steps 3000 --bug obs | diagnose | mp2json | jq -r .code"
    assert_line obs_unnormalized
}

@test "diagnose: the man page lists every code and parameter with its default" {
    command -v mandoc >/dev/null || skip "mandoc is not installed"
    page=$(mandoc -Tascii "$ROOT/man/man1/diagnose.1" | col -bx)
    run bash -c "diagnose --list | grep -E '^[a-z_]+ \(' | cut -d' ' -f1"
    [ "${#lines[@]}" -ge 30 ]
    for code in "${lines[@]}"; do
        echo "$page" | grep -qE "^ +$code \((info|warning|error)\)$" || { echo "no entry for $code"; return 1; }
    done
    run bash -c "diagnose --list | grep -E '^  [a-z_]+\.[a-z_]+=' | sed 's/^  //; s/ .*//'"
    for param in "${lines[@]}"; do
        code=${param%%.*} rest=${param#*.}
        # the page writes "name=default" inside the entry of its code
        entry=$(echo "$page" | awk -v c="$code" '$1 == c {on = 1; next} on && /^ +[a-z_]+ \((info|warning|error)\)$/ {on = 0} on')
        echo "$entry" | tr -s ' \n' ' ' | grep -qF -- "$rest" || { echo "$param is not in the entry of $code"; return 1; }
    done
}
