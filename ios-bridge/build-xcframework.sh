#!/usr/bin/env bash
# Builds ios-bridge/KeyholdFFI.xcframework (iOS devices, iOS Simulator and
# macOS slices), zips it for release and prints the checksum for
# `.binaryTarget(url:checksum:)`; regenerates the Swift bindings.
# Needs macOS with Xcode (xcodebuild, lipo, swift) and rustup.
#
#   ios-bridge/build-xcframework.sh                     # profile release-apple (default)
#   PROFILE=debug ios-bridge/build-xcframework.sh       # quick local builds
#
# Slices: aarch64-apple-ios (devices); aarch64-apple-ios-sim + x86_64-apple-ios
# (Simulator, joined with lipo); aarch64-apple-darwin + x86_64-apple-darwin
# (macOS, joined with lipo: `swift test` on a Mac links it). The library is
# built with --no-default-features (the bindgen CLI is not compiled for
# Apple targets) and as a staticlib only, with the root Cargo.toml's
# `release-apple` profile: opt-level z, fat LTO, one codegen unit, no debug
# info.
#
# Outputs:
#   ios-bridge/KeyholdFFI.xcframework        used by Package.swift (path form)
#   ios-bridge/build/KeyholdFFI.xcframework.zip
#   and, printed, the checksum (`swift package compute-checksum`) to paste
#   into a release manifest:
#     .binaryTarget(name: "KeyholdFFI", url: "<where the zip is published>", checksum: "<printed>")
#
# Then: `swift test` (macOS), or the Simulator / device tests through the
# host app (ios-bridge/HostApp, see README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
profile="${PROFILE:-release-apple}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
export MACOSX_DEPLOYMENT_TARGET="${MACOSX_DEPLOYMENT_TARGET:-12.0}"

if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)." >&2
    exit 1
fi
for tool in cargo rustup xcodebuild lipo python3 swift ditto; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
macs=(aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "$device" "${simulators[@]}" "${macs[@]}"

cd "$root"
case "$profile" in
    debug) profile_flag=(); out_dir=debug ;;
    *) profile_flag=(--profile "$profile"); out_dir="$profile" ;;
esac
for target in "$device" "${simulators[@]}" "${macs[@]}"; do
    echo "== cargo: keyhold-uniffi for $target ($profile)"
    cargo rustc -p keyhold-uniffi --lib --crate-type staticlib --no-default-features \
        --target "$target" ${profile_flag[@]+"${profile_flag[@]}"}
done

# 1. Bindings: Swift sources, C header and module map (same command as CI).
"$here/generate-bindings.sh" "$here"

# 2. Fat libraries for the Simulator and for macOS.
target_dir="$(cargo metadata -q --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lib() { echo "$target_dir/$1/$out_dir/libkeyhold_uniffi.a"; }
build="$here/build"
rm -rf "$build" "$here/KeyholdFFI.xcframework"
mkdir -p "$build/simulator" "$build/macos"
lipo -create "$(lib "${simulators[0]}")" "$(lib "${simulators[1]}")" -output "$build/simulator/libkeyhold_uniffi.a"
lipo -create "$(lib "${macs[0]}")" "$(lib "${macs[1]}")" -output "$build/macos/libkeyhold_uniffi.a"

# 3. The xcframework. Headers go in a KeyholdFFI/ subdirectory (Headers/
# KeyholdFFI/module.modulemap) so that this module map cannot collide with
# another static xcframework's top-level module.modulemap in an app build.
xcodebuild -create-xcframework \
    -library "$(lib "$device")" -headers "$here/FFI" \
    -library "$build/simulator/libkeyhold_uniffi.a" -headers "$here/FFI" \
    -library "$build/macos/libkeyhold_uniffi.a" -headers "$here/FFI" \
    -output "$here/KeyholdFFI.xcframework"

# 4. The release archive and its checksum.
zip="$build/KeyholdFFI.xcframework.zip"
(cd "$here" && ditto -c -k --sequesterRsrc --keepParent KeyholdFFI.xcframework "$zip")
checksum="$(cd "$here" && swift package compute-checksum "$zip")"

echo "== built $here/KeyholdFFI.xcframework"
for slice in "$(lib "$device")" "$build/simulator/libkeyhold_uniffi.a" "$build/macos/libkeyhold_uniffi.a"; do
    printf '   %8s KiB  %s\n' "$(( $(stat -f %z "$slice") / 1024 ))" "$slice"
done
echo "== release archive: $zip"
echo "   checksum: $checksum"
echo "   manifest: .binaryTarget(name: \"KeyholdFFI\", url: \"https://<host>/KeyholdFFI.xcframework.zip\", checksum: \"$checksum\")"
echo "If ios-bridge/Sources/KeyholdUniFFI or ios-bridge/FFI changed, commit them:"
echo "CI regenerates them and fails when the committed copies are stale."
