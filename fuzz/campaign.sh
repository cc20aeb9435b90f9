#!/usr/bin/env bash
# A longer fuzzing campaign (issue 10 item 8's "longer run"), for a quiet
# machine or the background: builds like smoke.sh, snapshots the binaries
# (so rebuilding during the campaign does not disturb it), then runs
# TARGET:SECONDS entries at nice 19 in KEYHOLD_FUZZ_LANES parallel lanes
# (default 1) on the shared corpora, and prints a table of executions,
# coverage, corpus size and crashes per target.
#
#   fuzz/campaign.sh                                   the default plan (~70 min in 1 lane)
#   KEYHOLD_FUZZ_LANES=2 fuzz/campaign.sh handle:600 frame:600
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$keyhold_root" || exit 1
export PATH="$HOME/.cargo/bin:$PATH"
export ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fuzz_dir="$keyhold_root/fuzz"
lanes="${KEYHOLD_FUZZ_LANES:-1}"

if [ "$#" -gt 0 ]; then
    plan=("$@")
else
    plan=(handle:600 frame:600 import_pkcs8:480 import_sec1:360 mnemonic:360
        import_xprv:360 public_key:360 derivation_path:360 identity:240
        import_raw:240 import_seed:240)
fi

# Toolchain, build and seeds exactly as the smoke run (with no target to run).
KEYHOLD_FUZZ_SECONDS=0 "$fuzz_dir/smoke.sh" --build-only || exit 1

bin_dir="$fuzz_dir/target/$(rustc -vV | sed -n 's/^host: //p')/release"
out="$fuzz_dir/target/campaign-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/bin"
for entry in "${plan[@]}"; do
    cp "$bin_dir/${entry%%:*}" "$out/bin/"
done

run_one() {
    local target="${1%%:*}" seconds="${1##*:}" scratch status
    scratch="$(mktemp -d)"
    mkdir -p "$fuzz_dir/artifacts/$target" "$fuzz_dir/corpus/$target"
    TMPDIR="$scratch" nice -n 19 "$out/bin/$target" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -detect_leaks=0 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$fuzz_dir/artifacts/$target/" \
        "$fuzz_dir/corpus/$target" "$fuzz_dir/seeds/$target" >"$out/$target.log" 2>&1
    status=$?
    rm -rf "$scratch"
    echo "$status" >"$out/$target.status"
}

lane() {
    local entry
    for entry in "$@"; do run_one "$entry"; done
}

# Deal the plan round-robin over the lanes.
pids=()
for ((l = 0; l < lanes; l++)); do
    mine=()
    for ((i = l; i < ${#plan[@]}; i += lanes)); do mine+=("${plan[$i]}"); done
    lane "${mine[@]}" &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid"; done
rm -rf "$out/bin" # ~70 MB per target; the logs stay

failed=0
printf '%-16s %8s %12s %9s %8s %8s %8s %s\n' target seconds executions exec/s cov ft corpus result | tee "$out/summary.txt"
for entry in "${plan[@]}"; do
    target="${entry%%:*}"
    log="$out/$target.log"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    ft="$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
    corpus="$(find "$fuzz_dir/corpus/$target" -type f | wc -l)"
    if [ "$(cat "$out/$target.status")" = 0 ]; then
        result=ok
    else
        result="CRASH (see $log)"
        failed=$((failed + 1))
    fi
    printf '%-16s %8s %12s %9s %8s %8s %8s %s\n' "$target" "${entry##*:}" "${runs:-?}" \
        "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$result" | tee -a "$out/summary.txt"
done
echo "campaign logs: $out"
echo "KEYHOLD-TESTS: $((${#plan[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
