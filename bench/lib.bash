# Shared helpers of the benchmark scripts (sourced, bash).
#   median_seconds RUNS CMD...   run CMD (a shell string) RUNS times, print the median wall time
#   figure NAME UNIT RUNNEL PEER  print one figure line with the ratio runnel/peer
# Figures are printed as
#   FIGURE <name> runnel=<x> peer=<y> ratio=<x/y> unit=<unit>
# so that bench/run can collect them; a missing peer prints peer=- ratio=-.

BENCH_TMP=${BENCH_TMP:-$(mktemp -d)}
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PATH="$ROOT/bin:$PATH"

median_seconds() {
    local runs=$1; shift
    local times=() t0 t1
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s.%N)
        bash -c "$*" >/dev/null || { echo "bench: command failed: $*" >&2; return 1; }
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f\n", m}'
}

figure() {
    local name=$1 unit=$2 mine=$3 peer=${4:--}
    local ratio=-
    [ "$peer" != - ] && ratio=$(awk -v a="$mine" -v b="$peer" 'BEGIN {printf "%.2f", a / b}')
    echo "FIGURE $name runnel=$mine peer=$peer ratio=$ratio unit=$unit"
}
