# Shared setup of the CLI tests: bats-support and bats-assert, bin/ on PATH, a scratch
# folder per test, and small helpers to make and read record streams.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PATH="$ROOT/bin:$PATH"
FIXTURES="$ROOT/tests/cli/fixtures"

setup() {
    cd "$BATS_TEST_TMPDIR"
}

# bytes FILE HEX...: write raw bytes given as hex pairs
bytes() {
    local f=$1; shift
    printf "$(printf '\\x%s' "$@")" >"$f"
}

# no_temp_files DIR: a failed run left no half-written output behind
no_temp_files() {
    run find "${1:-.}" -name '.*.??????' -type f
    assert_output ""
}
