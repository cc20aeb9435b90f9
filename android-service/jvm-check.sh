#!/usr/bin/env bash
# JVM check of the Android door, for machines without an Android SDK.
#
#   bash android-service/jvm-check.sh [extra mvn args, e.g. -Dtest=KeyholdServiceTest]
#
# 1. installs Debian's aidl and protoc when missing (needs root or sudo),
# 2. builds the JNI bridge for the host (cargo build -p keyhold-jni),
# 3. runs the Maven build in android-service/jvm: AIDL -> Java, proto ->
#    Java lite, Kotlin service + Keystore sealer + SDK + sample (and the
#    instrumented tests, compile only) against android-all (API 35), then the
#    Robolectric tests (offline) that bind the service through the AIDL Proxy
#    into the Rust core, once per SDK level (28, 30, 33, 35: one Surefire
#    execution each), and the public-API guard (android-service/api-guard:
#    every android.* member the compiled code references is in the ledger of
#    public SDK API, at its level).
#
# Exits non-zero on any failure. Maven's local repository stays the default
# (~/.m2); the first run downloads from Maven Central.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

log() { printf '== jvm-check: %s\n' "$*"; }

# --- 1. Tools -----------------------------------------------------------------
need_pkgs=()
command -v aidl >/dev/null 2>&1 || need_pkgs+=(aidl)
command -v protoc >/dev/null 2>&1 || need_pkgs+=(protobuf-compiler)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
command -v javac >/dev/null 2>&1 || need_pkgs+=(openjdk-17-jdk-headless)
if ((${#need_pkgs[@]})); then
    log "installing ${need_pkgs[*]}"
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "jvm-check: cargo not found" >&2; exit 1; }

java_major="$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')"
if [[ "$java_major" -lt 17 ]]; then
    echo "jvm-check: JDK 17+ required (found $java_major)" >&2
    exit 1
fi

# protoc-generated code needs a protobuf-javalite runtime at least as new as protoc.
protoc_version="$(protoc --version | awk '{print $2}')"
case "$protoc_version" in
    3.*) protobuf_java="$protoc_version" ;;            # 3.21.12 -> 3.21.12
    *) protobuf_java="4.$protoc_version" ;;             # 25.x and later: 27.1 -> 4.27.1
esac
case "$protoc_version" in 2[0-5].*) protobuf_java="3.$protoc_version" ;; esac   # 22.x-25.x -> 3.2x.y
log "aidl $(command -v aidl), protoc $protoc_version (protobuf-javalite $protobuf_java)"

# --- 2. The JNI bridge for this host --------------------------------------------
log "cargo build -p keyhold-jni"
(cd "$root" && cargo build -p keyhold-jni)
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')"
native_dir="$target_dir/debug"
if [[ ! -f "$native_dir/libkeyhold_jni.so" ]]; then
    echo "jvm-check: $native_dir/libkeyhold_jni.so was not built" >&2
    exit 1
fi

# --- 3. Maven: generate, compile, test ------------------------------------------
cd "$here/jvm"
# Kotlin recompiles every source on each run but never removes the class files
# of deleted sources; the public-API guard reads these directories, so start
# them empty (everything else in target/, e.g. the android-all copies, stays).
rm -rf target/classes target/test-classes
log "mvn: androidx.test classes out of their AARs (android-service/jvm/aars)"
mvn -B -ntp -q -f aars/pom.xml "$@" initialize
log "mvn test (android-service/jvm)"
mvn -B -ntp \
    -Dkeyhold.native.dir="$native_dir" \
    -Dprotobuf.version="$protobuf_java" \
    "$@" test
log "ok"
