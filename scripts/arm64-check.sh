#!/usr/bin/env bash
# The core and the JNI bridge on the CPU phones use: cross-compiles the test
# suites of keyhold-core and keyhold-jni for aarch64-unknown-linux-gnu and
# runs them under qemu-user, so the ARMv8 code paths of the crypto crates
# (AES and SHA-2 instructions, field arithmetic) pass the official vectors.
# Then type-checks the crates that ship in the APK for aarch64-linux-android
# (see the note at the end: no NDK here, so nothing is linked for Android).
#
#   bash scripts/arm64-check.sh
#
# Installs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user, and
# the two Rust targets, when missing. Test results print as cargo's
# "test result:" lines, which test.sh counts.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$keyhold_root"

ensure_packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang
rustup target add aarch64-unknown-linux-gnu aarch64-linux-android >/dev/null

gnu=aarch64-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

log_step "arm64: cargo test -p keyhold-core -p keyhold-jni --target $gnu (under qemu-aarch64)"
# Benches and the Swift/Kotlin doors are not part of this run; the library,
# unit and integration tests are (vectors, tamper, at-rest, known answers).
# tests/arm64_features.rs fails unless the AES, PMULL and SHA-2 extensions
# are detected, so the vectors provably ran on the ARMv8 code paths.
KEYHOLD_EXPECT_ARMV8_CRYPTO=1 cargo test --target "$gnu" -p keyhold-core -p keyhold-jni --lib --tests --no-fail-fast

# Type-check for Android. The crates are plain Rust except SQLite, which
# rusqlite's bundled build compiles from C; its build script needs a C
# compiler for the target, and the NDK (with Bionic's headers) is not
# available here. We give cc an aarch64 clang with glibc's headers only so
# that build script completes: `cargo check` links nothing, so this checks
# every line of Rust (including `cfg(target_os = "android")` paths) against
# the Android target's std, and says nothing about the C library on Bionic.
log_step "arm64: cargo check -p keyhold-core -p keyhold-jni --target aarch64-linux-android (Rust only, no NDK)"
CC_aarch64_linux_android=clang \
    CFLAGS_aarch64_linux_android="--target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu -I/usr/aarch64-linux-gnu/include" \
    AR_aarch64_linux_android=aarch64-linux-gnu-ar \
    cargo check --target aarch64-linux-android -p keyhold-core -p keyhold-jni
echo "arm64: android type-check ok"
