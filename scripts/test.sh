#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of this kind (Debian,
# Rust, JDK 17, Maven), installing what it needs first. `.ci/run` calls
# exactly this script.
#
#   ./scripts/test.sh              every section
#   ./scripts/test.sh rust android only the named sections (see `sections`)
#
# Every section runs even when an earlier one failed; each one's output goes
# to the terminal and to target/test-logs/<section>.log. The script always
# ends with one line over every runner ("all suites: N passed, M failed")
# and the list of failed sections, and exits non-zero if anything failed.
#
# Runners are counted from their own summary lines: cargo's "test result:",
# Maven Surefire's per-module totals, and "KEYHOLD-TESTS: N passed, M failed"
# printed by the suites that have no counting runner of their own.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$keyhold_root"

sections=(tools format clippy rust android gradle uniffi swift pkcs11 arm64 fuzz)

section_tools() {
    # openssl verifies signatures independently; strace exercises the ptrace
    # refusal of the daemon; python3 and dpkg are used by the scripts.
    ensure_command openssl openssl &&
        ensure_command strace strace &&
        rustup component add rustfmt clippy >/dev/null 2>&1
    cargo --version && openssl version && strace -V | head -1
}

section_format() { cargo fmt --all -- --check; }

section_clippy() { cargo clippy --workspace --all-targets -- -D warnings; }

# Builds every workspace target once (the later sections reuse these
# artifacts: libkeyhold_jni.so, libkeyhold_uniffi.so, the binaries).
section_rust() { cargo test --workspace --no-fail-fast; }

section_android() { bash android-service/jvm-check.sh; }

section_uniffi() { bash uniffi-bindings/check.sh; }

# Every plugin and library of the Gradle build pinned in
# gradle/libs.versions.toml, and the JVM check's pom on the same versions.
section_gradle() { bash gradle/check-pins.sh; }

# The Swift package built and tested with Swift 6 on Linux (a cached
# Debian trixie root under ~/.cache/keyhold).
section_swift() { bash ios-bridge/swift-check.sh; }

# The PKCS#11 module with real clients (pkcs11-tool, OpenSSL, p11tool,
# PyKCS11, ssh), against keyholdd and, for comparison, SoftHSM2.
section_pkcs11() { bash host-service/pkcs11/check.sh; }

# keyhold-core and keyhold-jni tests on aarch64 under qemu-user, and a
# type-check for aarch64-linux-android.
section_arm64() { bash scripts/arm64-check.sh; }

# A short bounded run of every cargo-fuzz target (nightly).
section_fuzz() { bash fuzz/smoke.sh; }

log_dir="$(cargo_target_dir)/test-logs"
mkdir -p "$log_dir"

if [ "$#" -gt 0 ]; then
    selected=("$@")
else
    selected=("${sections[@]}")
fi

failed_sections=()
for name in "${selected[@]}"; do
    if ! declare -F "section_$name" >/dev/null; then
        echo "unknown section '$name' (sections: ${sections[*]})" >&2
        failed_sections+=("$name")
        continue
    fi
    printf '\n=== %s ===\n' "$name"
    start=$SECONDS
    "section_$name" 2>&1 | tee "$log_dir/$name.log"
    status=${PIPESTATUS[0]}
    printf '=== %s: %s in %ds ===\n' "$name" "$([ "$status" -eq 0 ] && echo ok || echo "FAILED (exit $status)")" \
        "$((SECONDS - start))"
    [ "$status" -eq 0 ] || failed_sections+=("$name")
done

# One closing line over every runner of the selected sections.
summary="$(for name in "${selected[@]}"; do [ -f "$log_dir/$name.log" ] && cat "$log_dir/$name.log"; done | awk '
  /^test result: / {
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^passed;?$/) p += $(i-1)
      if ($i ~ /^failed;?$/) f += $(i-1)
    }
  }
  /^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
    gsub(",", ""); p += $4 - $6 - $8 - $10; f += $6 + $8
  }
  /^KEYHOLD-TESTS: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
  END { printf "%d %d", p, f }
')"
read -r passed failed <<<"$summary"
printf '\nall suites: %d passed, %d failed\n' "$passed" "$failed"
if [ "${#failed_sections[@]}" -gt 0 ]; then
    printf 'FAILED sections: %s (logs in %s)\n' "${failed_sections[*]}" "$log_dir"
    exit 1
fi
if [ "$failed" -gt 0 ]; then
    echo "FAILED: a runner reported failures" >&2
    exit 1
fi
echo "all sections passed"
