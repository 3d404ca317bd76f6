#!/bin/bash
# Deep-RL figures (rl-trace, diagnose):
#   cartpole_steps       CartPole-v1 steps per second of a random policy, episode records
#                        written (rl-trace -a random); peer: the pure-Python transcription of
#                        Gymnasium's step (tests/ref/gym/trajectories.py), stepping alone
#   diagnose_records     trace records per second through diagnose, on 1,000,000 records of
#                        real DQN traces; peer: python3-msgpack only decoding them
#   dqn_train_steps      DQN training steps per second on CartPole-v1 (same network, batch,
#                        training frequency); peer: the PyTorch DQN of python/example_dqn.py
#                        on a Gymnasium stand-in (Gymnasium is not packaged in Debian)
#   dqn_solve_seconds    seconds for rl-trace's DQN (seed 1) to solve CartPole-v1: the first
#                        evaluation of 100 greedy episodes at a mean return of 475; no peer
source "$(dirname "$0")/lib.bash"
PY=/usr/bin/python3

# ---- CartPole steps per second ----
n=20000000
t_runnel=$(median_seconds 3 "rl-trace -a random -n $n --eval-every 0 -o /dev/null")
cat >"$BENCH_TMP/cartpole.py" <<PY
import random, sys
sys.path.insert(0, "$ROOT/tests/ref/gym")
from trajectories import CartPole
rng = random.Random(1)
n = int(sys.argv[1])
env, t = None, 0
for _ in range(n):
    if env is None:
        env, t = CartPole([rng.uniform(-0.05, 0.05) for _ in range(4)]), 0
    obs, reward, terminated = env.step(rng.randrange(2))
    t += 1
    if terminated or t >= 500:
        env = None
PY
pn=1000000
t_python=$(median_seconds 3 "$PY $BENCH_TMP/cartpole.py $pn")
echo "# CartPole-v1, random actions: runnel $n steps in ${t_runnel}s; Python $pn steps in ${t_python}s"
figure cartpole_steps steps/s "$(awk -v n=$n -v t="$t_runnel" 'BEGIN {printf "%.0f", n / t}')" \
    "$(awk -v n=$pn -v t="$t_python" 'BEGIN {printf "%.0f", n / t}')"

# ---- diagnose throughput ----
# Real traces (DQN on CartPole, healthy and with a fault), their records repeated with
# shifted steps to 1,000,000.
trace=$BENCH_TMP/big.trace
if [ ! -s "$trace" ]; then
    rl-trace --eval-every 0 -o "$BENCH_TMP/a.mp"
    rl-trace --eval-every 0 --fault lr-high -o "$BENCH_TMP/b.mp"
    $PY - "$BENCH_TMP/a.mp" "$BENCH_TMP/b.mp" >"$trace" <<'PY'
import sys, msgpack
recs = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        recs.append([r for r in msgpack.Unpacker(f, raw=False) if r["event"] in ("episode", "update")])
out = sys.stdout.buffer
out.write(msgpack.packb({"event": "config", "step": 0, "env": "CartPole-v1", "agent": "dqn",
                         "gamma": 0.99, "total_steps": 10**9, "n_actions": 2}))
n, copy, chunk = 1, 0, []
while n < 1000000:
    for r in recs[copy % 2]:
        r = dict(r, step=r["step"] + copy * 100000)
        chunk.append(msgpack.packb(r))
        n += 1
        if n == 1000000:
            break
    copy += 1
    out.write(b"".join(chunk))
    chunk.clear()
PY
fi
records=1000000
cat >"$BENCH_TMP/decode.py" <<'PY'
import sys, msgpack
n = 0
for r in msgpack.Unpacker(sys.stdin.buffer, raw=False, read_size=1 << 20):
    n += r["step"] >= 0
print(n)
PY
t_runnel=$(median_seconds 3 "diagnose $trace")
t_read=$(median_seconds 3 "take -n 100000000 $trace")
t_python=$(median_seconds 3 "$PY $BENCH_TMP/decode.py <$trace")
mb=$(awk -v b="$(stat -c %s "$trace")" 'BEGIN {printf "%.0f", b / 1e6}')
echo "# diagnose on $records records ($mb MB): runnel ${t_runnel}s (reading and copying them with take: ${t_read}s); python3-msgpack decoding only ${t_python}s"
figure diagnose_records records/s "$(awk -v n=$records -v t="$t_runnel" 'BEGIN {printf "%.0f", n / t}')" \
    "$(awk -v n=$records -v t="$t_python" 'BEGIN {printf "%.0f", n / t}')"

# ---- DQN training throughput ----
steps=20000
t_runnel=$(median_seconds 3 "rl-trace -n $steps --eval-every 0 -o /dev/null")
t_torch=-
if $PY -c 'import torch' 2>/dev/null; then
    t_torch=$(median_seconds 3 "PYTHONPATH=$ROOT/tests/cli/fixtures/rl OMP_NUM_THREADS=1 $PY $ROOT/python/example_dqn.py --steps $steps -o /dev/null")
fi
echo "# DQN on CartPole-v1, $steps steps: runnel ${t_runnel}s; PyTorch ${t_torch}s"
peer=-
[ "$t_torch" != - ] && peer=$(awk -v n=$steps -v t="$t_torch" 'BEGIN {printf "%.0f", n / t}')
figure dqn_train_steps steps/s "$(awk -v n=$steps -v t="$t_runnel" 'BEGIN {printf "%.0f", n / t}')" "$peer"

# ---- seconds to solve CartPole-v1 ----
t_solve=$(median_seconds 3 "rl-trace --stop-when-solved -o $BENCH_TMP/solve.mp")
solved=$(mp2json "$BENCH_TMP/solve.mp" | jq -r 'select(.event == "done") | .solved_step // "never"')
echo "# DQN solves CartPole-v1 (seed 1) at step $solved"
figure dqn_solve_seconds s "$t_solve"
