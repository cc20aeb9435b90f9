#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of this kind (Debian,
# Rust, JDK 17, Maven), installing what it needs first. Exits non-zero on
# the first failure. `.ci/run` calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s ===\n' "$*"; }

section "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo --version

section "format"
cargo fmt --all -- --check

section "clippy"
cargo clippy --workspace --all-targets -- -D warnings

section "rust tests (workspace)"
cargo test --workspace

if [ -x android-service/jvm-check.sh ]; then
  section "android: AIDL + Kotlin against android-all, Robolectric through JNI"
  android-service/jvm-check.sh
fi

if [ -x uniffi-bindings/check.sh ]; then
  section "uniffi: Kotlin/JNA tests, Swift bindings up to date, Swift syntax"
  uniffi-bindings/check.sh
fi

section "all tests passed"
