#!/usr/bin/env bash
# The CI entry point for keyhold-uniffi and the generated iOS bindings (the
# Swift package itself: ios-bridge/swift-check.sh). Run from anywhere:
#
#   bash uniffi-bindings/check.sh
#
# On a fresh machine of the project's kind it installs what it lacks (as
# root: apt for a JDK, Maven and clang; Maven Central for the JVM test
# dependencies), then:
#
#   1. builds keyhold-uniffi (debug, host cdylib, in the shared target
#      directory: the same artifacts test.sh's cargo sections and
#      ios-bridge/swift-check.sh use) and runs its Rust tests (formatting
#      is test.sh's fmt section, not repeated here);
#   2. generates the Kotlin bindings from that library with the workspace's
#      uniffi-bindgen and runs the JVM tests (Kotlin + JUnit 5 + JNA against
#      libkeyhold_uniffi.so, through a Kotlin sealer on the callback trait);
#   3. regenerates the Swift bindings into a temporary directory and fails
#      if the committed ios-bridge/Sources/KeyholdUniFFI and ios-bridge/FFI
#      differ;
#   4. compiles the generated C header (clang -fsyntax-only, as C and
#      Objective-C) and checks it declares exactly the library's exports;
#   5. checks the shell scripts (bash -n, and shellcheck when installed).
#
# The Swift package itself is compiled and tested by ios-bridge/swift-check.sh
# (Swift on Linux, its own test.sh section). What needs a Mac or a device is
# listed in ios-bridge/README.md. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bridge="$root/ios-bridge"
cd "$root"
export RUST_BACKTRACE="${RUST_BACKTRACE:-0}"

step() { printf '\n==== %s\n' "$*"; }

# ---- 0. prerequisites ------------------------------------------------------
step "prerequisites"
apt_packages=()
command -v java >/dev/null && command -v javac >/dev/null || apt_packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || apt_packages+=(maven)
command -v clang >/dev/null || apt_packages+=(clang)
command -v nm >/dev/null || apt_packages+=(binutils)
if [ "${#apt_packages[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing ${apt_packages[*]} and not root: install them first" >&2
        exit 1
    fi
    echo "installing ${apt_packages[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt_packages[@]}"
fi

target_dir="$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib_dir="$target_dir/debug"
lib="$lib_dir/libkeyhold_uniffi.so"

java -version 2>&1 | sed -n 1p
mvn -v 2>&1 | sed -n 1p
clang --version | sed -n 1p

# ---- 1. Rust -----------------------------------------------------------------
step "cargo build + test -p keyhold-uniffi"
cargo build -p keyhold-uniffi --lib --bins
cargo test -p keyhold-uniffi

bindgen() {
    cargo run -q -p keyhold-uniffi --bin uniffi-bindgen -- \
        generate --library "$lib" --no-format "$@"
}

# ---- 2. Kotlin on the JVM ----------------------------------------------------
step "Kotlin bindings: generate, compile and test on the JVM (JNA)"
generated_kotlin="$here/jvm-tests/target/generated-sources/uniffi"
rm -rf "$generated_kotlin"
bindgen --language kotlin --out-dir "$generated_kotlin"
(cd "$here/jvm-tests" && mvn -B -ntp -Dstyle.color=never test -Dkeyhold.lib.dir="$lib_dir") || {
    echo "JVM tests failed; reports in uniffi-bindings/jvm-tests/target/surefire-reports" >&2
    exit 1
}
# Refuse a run in which no JVM test executed.
python3 - "$here/jvm-tests/target/surefire-reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
tests = failures = skipped = 0
for path in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    suite = ET.parse(path).getroot()
    tests += int(suite.get("tests", 0))
    failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped += int(suite.get("skipped", 0))
if tests == 0:
    sys.exit("no JVM test ran")
print(f"JVM tests: {tests} run, {failures} failed, {skipped} skipped")
sys.exit(1 if failures else 0)
PY

# ---- 3. committed Swift bindings are current ---------------------------------
step "Swift bindings: regenerate and compare with the committed copies"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
"$bridge/generate-bindings.sh" "$fresh"
stale=0
for f in Sources/KeyholdUniFFI/KeyholdUniFFI.swift FFI/KeyholdFFI/KeyholdFFI.h FFI/KeyholdFFI/module.modulemap; do
    if ! diff -u "$bridge/$f" "$fresh/$f" >"$fresh/diff.txt"; then
        echo "STALE: ios-bridge/$f differs from a fresh generation:" >&2
        head -40 "$fresh/diff.txt" >&2
        stale=1
    else
        echo "current: ios-bridge/$f"
    fi
done
if [ "$stale" -ne 0 ]; then
    echo "run ios-bridge/generate-bindings.sh and commit the result" >&2
    exit 1
fi

# ---- 4. the C header ----------------------------------------------------------
step "C header: compiles, and declares exactly the library's exports"
header_dir="$bridge/FFI/KeyholdFFI"
printf '#include "KeyholdFFI.h"\n#include "KeyholdFFI.h"\nint main(void) { return 0; }\n' >"$fresh/use_header.c"
clang -fsyntax-only -std=c11 -Wall -Wextra -Werror -I "$header_dir" -x c "$fresh/use_header.c"
clang -fsyntax-only -Wall -Werror -I "$header_dir" -x objective-c "$fresh/use_header.c"
# Every function the header declares must be exported by the library (the
# iOS static library has the same symbols), and the other way round.
grep -oE '\b(uniffi|ffi)_keyhold_uniffi_[A-Za-z0-9_]+\(' "$header_dir/KeyholdFFI.h" |
    tr -d '(' | sort -u >"$fresh/declared.txt"
nm -D --defined-only "$lib" | awk '{print $3}' |
    grep -E '^(uniffi|ffi)_keyhold_uniffi_' | sort -u >"$fresh/exported.txt"
if ! diff -u "$fresh/declared.txt" "$fresh/exported.txt"; then
    echo "header declarations (-) and library exports (+) differ" >&2
    exit 1
fi
echo "header: $(wc -l <"$fresh/declared.txt") functions, all exported"

# ---- 5. scripts -------------------------------------------------------------
step "shell scripts"
scripts=("$here/check.sh" "$bridge/generate-bindings.sh" "$bridge/build-xcframework.sh" "$bridge/swift-check.sh")
for script in "${scripts[@]}"; do
    bash -n "$script"
done
if command -v shellcheck >/dev/null; then
    shellcheck -x "${scripts[@]}"
    echo "shellcheck: clean"
else
    echo "shellcheck not installed: bash -n only"
fi

step "uniffi-bindings/check.sh: all checks passed"
