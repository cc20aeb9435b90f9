#!/usr/bin/env bash
# Regenerates the Swift bindings of keyhold-uniffi with the workspace's
# pinned uniffi-bindgen, from the host build of the library (library mode:
# the interface is read from the metadata uniffi's macros embed).
#
#   ios-bridge/generate-bindings.sh [OUT_ROOT]
#
# Writes, under OUT_ROOT (default: ios-bridge itself):
#   Sources/KeyholdUniFFI/KeyholdUniFFI.swift   the generated Swift API
#   FFI/KeyholdFFI/KeyholdFFI.h                 the C header of the FFI
#   FFI/KeyholdFFI/module.modulemap             its module map (C module KeyholdFFI)
# FFI/ is what build-xcframework.sh ships as the xcframework's Headers.
#
# Output is deterministic and unformatted (--no-format): CI regenerates it
# on Linux and fails if it differs from the committed files, so a Mac with
# swift-format installed must not reformat it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"

cd "$root"
cargo build -q -p keyhold-uniffi --lib
target_dir="$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
case "$(uname -s)" in
    Darwin) lib="$target_dir/debug/libkeyhold_uniffi.dylib" ;;
    *) lib="$target_dir/debug/libkeyhold_uniffi.so" ;;
esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
RUST_BACKTRACE=0 cargo run -q -p keyhold-uniffi --bin uniffi-bindgen -- \
    generate --library "$lib" --language swift --no-format --out-dir "$tmp"

mkdir -p "$out/Sources/KeyholdUniFFI" "$out/FFI/KeyholdFFI"
cp "$tmp/KeyholdUniFFI.swift" "$out/Sources/KeyholdUniFFI/KeyholdUniFFI.swift"
cp "$tmp/KeyholdFFI.h" "$out/FFI/KeyholdFFI/KeyholdFFI.h"
cp "$tmp/KeyholdFFI.modulemap" "$out/FFI/KeyholdFFI/module.modulemap"
