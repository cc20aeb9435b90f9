#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of this kind (Debian,
# Rust, JDK 17, Maven), installing what it needs first. Exits non-zero on
# the first failure. `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s ===\n' "$*"; }

run_all() {
  section "host tools"
  # openssl verifies signatures independently; strace exercises the ptrace
  # refusal of the daemon (the /proc/<pid>/mem refusal is checked regardless).
  local need=()
  command -v openssl >/dev/null || need+=(openssl)
  command -v strace >/dev/null || need+=(strace)
  if [ "${#need[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  echo "openssl: $(command -v openssl), strace: $(command -v strace)"

  section "toolchain"
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
  cargo --version

  section "format"
  cargo fmt --all -- --check

  section "clippy"
  cargo clippy --workspace --all-targets -- -D warnings

  section "rust tests (workspace)"
  cargo test --workspace

  section "android: AIDL + Kotlin against android-all, Robolectric through JNI"
  bash android-service/jvm-check.sh

  section "uniffi: Kotlin/JNA tests, Swift bindings up to date, Swift syntax"
  bash uniffi-bindings/check.sh
}

log_dir=target
mkdir -p "$log_dir"
log="$log_dir/test-all.log"
run_all 2>&1 | tee "$log"

# One closing line over every runner: cargo's "test result" lines and
# Maven Surefire's per-module totals.
awk '
  /^test result: / { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
  /^\[INFO\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
    gsub(",", ""); p += $4 - $6 - $8 - $10; f += $6 + $8
  }
  END { printf "\nall suites: %d passed, %d failed\n", p, f }
' "$log"
section "all tests passed"
