#!/usr/bin/env bash
# Short bounded fuzzing of every Keyhold fuzz target (issue 10 item 8), for
# a scripts/test.sh section. Installs what it needs (the nightly toolchain,
# cargo-fuzz in ~/.cargo/bin), builds all targets in one `cargo fuzz build`
# (cached in fuzz/target), regenerates the seed corpora from
# rust-core/tests/vectors (the seed_corpus binary, into fuzz/seeds/) and
# checks that the property checks still fail on bad responses, then runs
# each target for KEYHOLD_FUZZ_SECONDS seconds (default 10) starting from
# its seeds (and fuzz/regressions/<target>/ when present). The smoke run
# does not accumulate a corpus, so its duration stays bounded;
# fuzz/campaign.sh grows fuzz/corpus/<target>/.
# A target passes when libFuzzer finds no crash, leak, timeout or OOM in
# that time; a failing input is saved under fuzz/artifacts/<target>/.
#
#   fuzz/smoke.sh                          every target, 10 s each
#   KEYHOLD_FUZZ_SECONDS=60 fuzz/smoke.sh handle frame   some targets, longer
#   fuzz/smoke.sh --build-only               toolchain, build and seeds only
#                                            (fuzz/campaign.sh runs longer campaigns)
#
# Prints one line per target and `KEYHOLD-TESTS: N passed, M failed`;
# exits non-zero when any target failed or the build failed.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$keyhold_root" || exit 1

seconds="${KEYHOLD_FUZZ_SECONDS:-10}"
fuzz_dir="$keyhold_root/fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
# As `cargo fuzz run` sets it: the bundled SQLite's globals trip ASan's ODR
# check (a known false positive of C code linked into Rust fuzz binaries).
export ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

log_step "fuzz: toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || exit 1
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || exit 1
fi

log_step "fuzz: build every target (cargo +nightly fuzz build)"
if ! cargo +nightly fuzz build; then
    echo "fuzz: the build failed"
    echo "KEYHOLD-TESTS: 0 passed, 1 failed"
    exit 1
fi
bin_dir="$fuzz_dir/target/$(rustc -vV | sed -n 's/^host: //p')/release"

log_step "fuzz: seed corpora from rust-core/tests/vectors, oracle self-check"
rm -rf "$fuzz_dir/seeds"
if ! KEYHOLD_FUZZ_SEED_DIR="$fuzz_dir/seeds" "$bin_dir/seed_corpus" -runs=0 2>&1 | grep "^KEYHOLD-\|failed"; then
    echo "fuzz: seeding or the oracle self-check failed"
    echo "KEYHOLD-TESTS: 0 passed, 1 failed"
    exit 1
fi

if [ "${1:-}" = "--build-only" ]; then
    exit 0
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list | grep -vx seed_corpus)
fi

logs="$fuzz_dir/target/fuzz-logs"
mkdir -p "$logs"
passed=0
failed=0
for target in "${targets[@]}"; do
    log_step "fuzz: $target for ${seconds}s"
    mkdir -p "$fuzz_dir/artifacts/$target"
    corpora=("$fuzz_dir/seeds/$target")
    [ -d "$fuzz_dir/regressions/$target" ] && corpora+=("$fuzz_dir/regressions/$target")
    # -detect_leaks=0: the engine keeps caches and buffered audit records
    # across inputs, so libFuzzer's per-input leak check would run
    # LeakSanitizer's full heap scan on nearly every input (measured: 60% of
    # the time of `handle`); memory growth is still bounded by -rss_limit_mb.
    # A private TMPDIR per run: the frame target's daemon keeps its socket
    # and store there, and it is removed afterwards.
    scratch="$(mktemp -d)"
    mkdir -p "$scratch/corpus" "$scratch/tmp"
    log="$logs/$target.log"
    TMPDIR="$scratch/tmp" "$bin_dir/$target" \
        -max_total_time="$seconds" \
        -timeout=30 \
        -rss_limit_mb=2048 \
        -detect_leaks=0 \
        -max_len=4096 \
        -print_final_stats=1 \
        -artifact_prefix="$fuzz_dir/artifacts/$target/" \
        "$scratch/corpus" "${corpora[@]}" >"$log" 2>&1
    status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    corpus="$(find "$scratch/corpus" -type f | wc -l)"
    rm -rf "$scratch"
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz $target: ok (${runs:-?} runs, coverage ${cov:-?} edges, $corpus new inputs)"
    else
        failed=$((failed + 1))
        echo "fuzz $target: FAILED (exit $status); log $log, input under fuzz/artifacts/$target/"
        grep -m1 -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY)' "$log" || tail -20 "$log"
        grep -A3 -m1 'panicked at' "$log" || true
    fi
done

echo "KEYHOLD-TESTS: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
