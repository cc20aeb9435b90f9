#!/usr/bin/env bash
# Compiles the Swift package and runs its tests on Linux, with Debian's Swift
# toolchain (swiftlang 6.0.3, Debian 13 "trixie") in a chroot:
#
#   bash ios-bridge/swift-check.sh
#
# 1. Builds (once, then cached under $(keyhold_cache_dir)/swift-root) a
#    minimal trixie root with swiftlang, libc6-dev, libstdc++-14-dev and
#    libssl-dev (the tests' AES-GCM on Linux, see Tests/KeyholdTests/Crypto).
#    It is built in swift-root.tmp and renamed only when complete, so a run
#    cut off half way never leaves a half root behind.
# 2. Builds libkeyhold_uniffi.so on the host (`cargo build -p keyhold-uniffi`,
#    debug, in the shared target directory: nothing is rebuilt in another
#    profile).
# 3. Bind-mounts /proc, the repository and the cargo target directory into
#    the root (unmounted on exit), then runs `swift build` and `swift test`
#    in Swift 6 language mode, and `swift build` in Swift 5 mode; parses
#    (syntax only) the HostApp sources, which need Xcode to compile.
#
# Prints XCTest's "Executed N tests, with M failures" and, parsed from it,
# "KEYHOLD-TESTS: N passed, M failed". Exits non-zero on any failure.
#
# Environment: SWIFT_CHECK_SWIFT5=0 skips the Swift 5 build;
# KEYHOLD_DEBIAN_MIRROR overrides the Debian mirror (default: the one this
# machine's apt sources name, else deb.debian.org).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../scripts/lib.sh
. "$here/../scripts/lib.sh"
root="$keyhold_root"

if [ "$(id -u)" -ne 0 ]; then
    echo "swift-check.sh needs root (debootstrap, chroot, bind mounts)" >&2
    exit 1
fi

cache="$(keyhold_cache_dir)"
swift_root="$cache/swift-root"
# One run at a time per cache: runs share the root, its mounts and the
# SwiftPM scratch directories.
exec 9>"$cache/swift-check.lock"
if ! flock -n 9; then
    echo "another swift-check.sh is running on $cache; waiting"
    flock 9
fi
ready_marker=".keyhold-swift-root-ready"
root_packages=(libc6-dev libstdc++-14-dev libssl-dev)

debian_mirror() {
    if [ -n "${KEYHOLD_DEBIAN_MIRROR:-}" ]; then
        echo "$KEYHOLD_DEBIAN_MIRROR"
        return
    fi
    local uri
    uri="$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
        grep -oE 'https?://[^ ]+' | head -n1 || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}

# Unmounts every mount point under $1 (deepest first): what a run that was
# killed before its trap could run left behind. Never delete a root with a
# bind mount of the repository still inside it.
unmount_under() {
    local dir mp
    dir="$(realpath -m "$1")"
    awk '{print $2}' /proc/mounts | { grep -E "^$dir(/|$)" || true; } | sort -r | while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp"
    done
}

# The chroot's apt needs name resolution; its packages are what we asked for.
root_apt_install() {
    local dir="$1"
    shift
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive /bin/sh -c \
        "apt-get update -qq && apt-get install -y -qq --no-install-recommends $* >/dev/null"
}

# ---- 1. the Swift root -------------------------------------------------------
log_step "Swift toolchain root ($swift_root)"
if [ ! -e "$swift_root/$ready_marker" ]; then
    ensure_packages debootstrap
    tmp_root="$swift_root.tmp"
    unmount_under "$tmp_root"
    rm -rf --one-file-system "$tmp_root"
    mirror="$(debian_mirror)"
    echo "debootstrap trixie from $mirror (about a minute)"
    debootstrap --variant=minbase --include=swiftlang,libswiftlang trixie "$tmp_root" "$mirror" \
        >"$cache/swift-root-debootstrap.log" 2>&1 || {
        tail -20 "$cache/swift-root-debootstrap.log" >&2
        exit 1
    }
    root_apt_install "$tmp_root" "${root_packages[@]}"
    touch "$tmp_root/$ready_marker"
    unmount_under "$swift_root"
    rm -rf --one-file-system "$swift_root"
    mv "$tmp_root" "$swift_root"
fi
# Idempotent top-up: a root made by an older version of this script.
missing=()
for pkg in "${root_packages[@]}"; do
    # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
    chroot "$swift_root" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing into the root: ${missing[*]}"
    root_apt_install "$swift_root" "${missing[@]}"
fi
# swiftlang installs its toolchain under /usr/libexec/swift; the runtime
# libraries the tools themselves load are in lib/swift/linux.
swift_runtime="/usr/libexec/swift/lib/swift/linux"
[ -d "$swift_root$swift_runtime" ] || {
    echo "no $swift_runtime in the root: is swiftlang installed?" >&2
    exit 1
}

# ---- 2. the Rust library, on the host ----------------------------------------
log_step "cargo build -p keyhold-uniffi (host, debug)"
(cd "$root" && cargo build -p keyhold-uniffi --lib)
target_dir="$(cargo_target_dir)"
lib="$target_dir/debug/libkeyhold_uniffi.so"
[ -f "$lib" ] || {
    echo "missing $lib" >&2
    exit 1
}

# ---- 3. swift build / swift test inside the root ------------------------------
unmount_under "$swift_root"  # leftovers of a killed run
mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP  # so that the EXIT trap unmounts
bind() {
    mkdir -p "$2"
    mount --bind "$1" "$2"
    mounts+=("$2")
}
# /proc: without it swift-build dies with signal 4 (it reads /proc/self).
mkdir -p "$swift_root/proc"
mount -t proc proc "$swift_root/proc"
mounts+=("$swift_root/proc")
bind "$root" "$swift_root/keyhold/src"
bind "$target_dir" "$swift_root/keyhold/target"

# The package's own build state stays in the cache, not in the clone.
scratch_base="/keyhold/swift-build"
mkdir -p "$swift_root$scratch_base"

in_root() {
    chroot "$swift_root" /usr/bin/env -i \
        PATH=/usr/libexec/swift/bin:/usr/bin:/bin \
        HOME=/root LANG=C.UTF-8 \
        LD_LIBRARY_PATH="$swift_runtime:/keyhold/target/debug" \
        /bin/sh -c "cd /keyhold/src/ios-bridge && $1"
}

# -L finds libkeyhold_uniffi.so at link time; the rpath at run time.
link_flags="-Xlinker -L/keyhold/target/debug -Xlinker -rpath -Xlinker /keyhold/target/debug"
in_root "swift --version" | head -n1

log_step "swift build (Swift 6 language mode)"
in_root "swift build --scratch-path $scratch_base/swift6 $link_flags"

if [ "${SWIFT_CHECK_SWIFT5:-1}" != 0 ]; then
    log_step "swift build (Swift 5 language mode)"
    in_root "swift build --scratch-path $scratch_base/swift5 -Xswiftc -swift-version -Xswiftc 5 $link_flags"
fi

# The host app and its device tests are not part of the package (they need
# UIKit, a signed app and Xcode): syntax only here. The Apple-only adapters
# inside the package are parsed by the builds above (inactive #if blocks
# must parse), not type-checked.
log_step "swiftc -parse HostApp (syntax only)"
in_root "swiftc -parse HostApp/Sources/*.swift HostApp/DeviceTests/*.swift && echo 'HostApp: parsed'"

log_step "swift test (Swift 6 language mode)"
log="$(mktemp)"
set +e
in_root "swift test --scratch-path $scratch_base/swift6 $link_flags" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# XCTest prints one "Executed N tests, with [K tests skipped and] M failures"
# line per suite; the last one is the total of all suites.
summary="$(grep -E 'Executed [0-9]+ tests?, with ' "$log" | tail -n1 || true)"
rm -f "$log"
if [ -z "$summary" ]; then
    echo "KEYHOLD-TESTS: 0 passed, 1 failed"
    echo "swift test printed no XCTest summary (exit status $status)" >&2
    exit 1
fi
executed="$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")"
failed="$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")"
skipped=0
if grep -qE '[0-9]+ tests? skipped' <<<"$summary"; then
    skipped="$(sed -E 's/.* ([0-9]+) tests? skipped.*/\1/' <<<"$summary")"
fi
echo "$summary"
echo "KEYHOLD-TESTS: $((executed - failed - skipped)) passed, $failed failed"
[ "$skipped" -eq 0 ] || echo "($skipped skipped: Apple-only tests, see ios-bridge/README.md)"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$executed" -eq 0 ]; then
    exit 1
fi
