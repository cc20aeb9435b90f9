#!/usr/bin/env bash
# Builds ios-bridge/KeyholdFFI.xcframework and regenerates the Swift bindings.
# Needs macOS with Xcode (xcodebuild, lipo) and rustup.
#
#   ios-bridge/build-xcframework.sh            # release (default)
#   PROFILE=debug ios-bridge/build-xcframework.sh
#
# Slices: iOS devices (aarch64-apple-ios) and the Simulator on Apple silicon
# and Intel (aarch64-apple-ios-sim + x86_64-apple-ios, joined with lipo).
# The library is built with --no-default-features so the bindgen CLI is not
# compiled for device targets, and as a staticlib only.
#
# Then: open Package.swift in Xcode, or run the tests in a Simulator:
#   xcodebuild test -scheme Keyhold -destination 'platform=iOS Simulator,name=iPhone 16'
# (and on a device for the Secure Enclave tests).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
profile="${PROFILE:-release}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"

if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)." >&2
    exit 1
fi
for tool in cargo rustup xcodebuild lipo python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "$device" "${simulators[@]}"

cd "$root"
profile_flag=""
[ "$profile" = release ] && profile_flag=--release
for target in "$device" "${simulators[@]}"; do
    echo "== cargo: keyhold-uniffi for $target ($profile)"
    cargo rustc -p keyhold-uniffi --lib --crate-type staticlib --no-default-features \
        --target "$target" $profile_flag
done

# 1. Bindings: Swift sources, C header and module map (same command as CI).
"$here/generate-bindings.sh" "$here"

# 2. Simulator slices in one fat library.
target_dir="$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
build="$here/build"
rm -rf "$build" "$here/KeyholdFFI.xcframework"
mkdir -p "$build/simulator"
lipo -create \
    "$target_dir/aarch64-apple-ios-sim/$profile/libkeyhold_uniffi.a" \
    "$target_dir/x86_64-apple-ios/$profile/libkeyhold_uniffi.a" \
    -output "$build/simulator/libkeyhold_uniffi.a"

# 3. The xcframework. Headers go in a KeyholdFFI/ subdirectory (Headers/
# KeyholdFFI/module.modulemap) so that this module map cannot collide with
# another static xcframework's top-level module.modulemap in an app build.
xcodebuild -create-xcframework \
    -library "$target_dir/$device/$profile/libkeyhold_uniffi.a" -headers "$here/FFI" \
    -library "$build/simulator/libkeyhold_uniffi.a" -headers "$here/FFI" \
    -output "$here/KeyholdFFI.xcframework"

echo "== built $here/KeyholdFFI.xcframework"
echo "If ios-bridge/Sources/KeyholdUniFFI or ios-bridge/FFI changed, commit them:"
echo "CI regenerates them and fails when the committed copies are stale."
