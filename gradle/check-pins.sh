#!/usr/bin/env bash
# CI check: every plugin and library of the Gradle build is pinned through
# gradle/libs.versions.toml, and the JVM check's pom (android-service/jvm/pom.xml)
# uses the same versions. See gradle/check_pins.py for the rules.
#
#   bash gradle/check-pins.sh              # the tree, then the self-test
#   bash gradle/check-pins.sh --tree-only  # the tree only
#
# The self-test copies the Gradle files, the catalog and the pom to a temporary
# directory, plants one mistake at a time (a literal library version, a plugin
# with its own version, a catalog entry without version.ref, an unknown
# catalog accessor, a pom version that drifted, a pom on another API level)
# and counts a pass each time the checker fails on it. Prints
# `KEYHOLD-TESTS: N passed, M failed` and exits non-zero on any failure.
set -uo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
root="$keyhold_root"
ensure_command python3 python3
python3 -c 'import tomllib' 2>/dev/null || { echo "check-pins: Python 3.11+ (tomllib) required" >&2; exit 1; }

checker="$root/gradle/check_pins.py"
passed=0
failed=0

echo "== check-pins: the tree"
out="$(python3 "$checker" "$root")"
status=$?
printf '%s\n' "$out" | grep -v '^KEYHOLD-TESTS:'
counts="$(printf '%s\n' "$out" | sed -n 's/^KEYHOLD-TESTS: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')"
if [ -z "$counts" ]; then
    echo "check-pins: the checker printed no counts (status $status)" >&2
    failed=$((failed + 1))
else
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
fi

if [ "${1:-}" != "--tree-only" ]; then
    echo "== check-pins: self-test (each planted mistake must be caught)"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    copy_tree() {
        rm -rf "$work/t" && mkdir -p "$work/t"
        (cd "$root" && find . -name '*.gradle.kts' -not -path './target/*' -not -path '*/build/*' -print0 |
            xargs -0 -I{} cp --parents {} "$work/t/")
        mkdir -p "$work/t/gradle" "$work/t/android-service/jvm"
        cp "$root/gradle/libs.versions.toml" "$work/t/gradle/"
        cp "$root/android-service/jvm/pom.xml" "$work/t/android-service/jvm/"
    }
    # plant NAME FILE PYTHON-EXPR-ON-s
    plant() {
        local name="$1" file="$2" edit="$3"
        copy_tree
        python3 - "$work/t/$file" "$edit" <<'PY' || { echo "FAIL self-test $name: could not plant"; return 1; }
import sys
path, edit = sys.argv[1], sys.argv[2]
s = open(path).read()
t = eval(edit, {"s": s})
if t == s:
    sys.exit("the edit changed nothing")
open(path, "w").write(t)
PY
        if python3 "$checker" "$work/t" >"$work/out" 2>&1; then
            echo "FAIL self-test $name: not caught"
            return 1
        fi
        echo "ok   self-test $name: caught ($(grep -m1 '^     ' "$work/out" | sed 's/^ *//'))"
    }
    run() { if plant "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

    # The untouched copy passes (so the planted failures are the plants').
    copy_tree
    if python3 "$checker" "$work/t" >"$work/out" 2>&1; then
        echo "ok   self-test clean copy passes"; passed=$((passed + 1))
    else
        echo "FAIL self-test clean copy fails:"; cat "$work/out"; failed=$((failed + 1))
    fi
    run "literal library version" android-service/sdk/build.gradle.kts \
        's.replace("testImplementation(libs.junit)", "testImplementation(\"junit:junit:4.12\")")'
    run "plugin with its own version" android-service/sdk/build.gradle.kts \
        's.replace("alias(libs.plugins.kotlin.android)", "id(\"org.jetbrains.kotlin.android\") version \"2.0.0\"")'
    run "settings plugin with a literal version" settings.gradle.kts \
        's + "\nplugins {\n    id(\"org.gradle.toolchains.foojay-resolver-convention\") version \"0.9.0\"\n}\n"'
    run "catalog entry without version.ref" gradle/libs.versions.toml \
        's.replace("junit = { module = \"junit:junit\", version.ref = \"junit\" }", "junit = { module = \"junit:junit\", version = \"4.12\" }")'
    run "catalog accessor that does not exist" sample-wallet/android/build.gradle.kts \
        's.replace("implementation(libs.kotlinx.coroutines.android)", "implementation(libs.kotlinx.coroutines.androidd)")'
    run "pom Kotlin drifted from the catalog" android-service/jvm/pom.xml \
        '__import__("re").sub(r"<kotlin.version>[^<]*<", "<kotlin.version>1.9.0<", s, count=1)'
    run "pom Robolectric drifted from the catalog" android-service/jvm/pom.xml \
        '__import__("re").sub(r"<robolectric.version>[^<]*<", "<robolectric.version>4.11<", s, count=1)'
    run "pom Mockito drifted from the catalog" android-service/jvm/pom.xml \
        '__import__("re").sub(r"<mockito.version>[^<]*<", "<mockito.version>5.0.0<", s, count=1)'
    run "pom compiles against another API level" gradle/libs.versions.toml \
        's.replace("compileSdk = \"35\"", "compileSdk = \"34\"")'
fi

echo "KEYHOLD-TESTS: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
