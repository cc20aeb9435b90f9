#!/usr/bin/env bash
# Real PKCS#11 clients against libkeyhold_pkcs11.so, and the same script
# against SoftHSM2 for comparison. Run from anywhere:
#
#   bash host-service/pkcs11/check.sh
#
# Installs what it lacks from Debian (opensc's pkcs11-tool, softhsm2,
# gnutls-bin's p11tool, python3-pykcs11, libengine-pkcs11-openssl, OpenSSH),
# builds keyholdd and the module in the shared target directory, starts a
# keyholdd of its own on a temporary data directory (KEYHOLD_SOCKET points
# the module at it), and runs the suite below against each module:
#
#   slots and token, mechanism list, P-256 / Ed25519 key-pair generation,
#   object listing, ECDSA-SHA256 and EdDSA signatures verified by plain
#   OpenSSL from the public key the module exports, pkcs11-tool --verify,
#   p11tool listing, a PyKCS11 script (generate, sign single and multi-part,
#   verify, CKA_VALUE refused), pkcs11-tool --test, OpenSSL signing through
#   the pkcs11 engine
#   (libp11), and ssh-keygen -D plus a login to a loopback sshd with the
#   token's P-256 key through ssh-agent (Keyhold only: SoftHSM2 would need
#   its PIN typed).
#
# Then compares which checks passed for the two modules: Keyhold must pass
# every check SoftHSM2 passes. Prints "KEYHOLD-TESTS: N passed, M failed"
# and exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

ensure_packages opensc softhsm2 gnutls-bin python3-pykcs11 libengine-pkcs11-openssl \
    openssl openssh-client openssh-server
ensure_command pkcs11-tool opensc
ensure_command p11tool gnutls-bin

target="$(cargo_target_dir)"
(cd "$root" && cargo build -q -p keyholdd -p keyhold-pkcs11)
keyhold_module="$target/debug/libkeyhold_pkcs11.so"
softhsm_module="/usr/lib/softhsm/libsofthsm2.so"
engine="$(dpkg -L libengine-pkcs11-openssl | grep -m1 '/engines-3/pkcs11.so$')"
py=/usr/bin/python3 # Debian's python, where python3-pykcs11 lives

work="$(mktemp -d)"
daemon_pid=""
sshd_pid=""
agent_pid=""
cleanup() {
    if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; fi
    if [ -n "$sshd_pid" ]; then kill "$sshd_pid" 2>/dev/null || true; fi
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- keyholdd on a private data directory ---------------------------------
export KEYHOLD_SOCKET="$work/run/keyhold.sock"
"$target/debug/keyholdd" --socket "$KEYHOLD_SOCKET" --data-dir "$work/data" \
    2>"$work/keyholdd.log" &
daemon_pid=$!
for _ in $(seq 1 900); do
    [ -S "$KEYHOLD_SOCKET" ] && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/keyholdd.log"; exit 1; }
    sleep 0.1
done
[ -S "$KEYHOLD_SOCKET" ] || { echo "keyholdd did not start" >&2; exit 1; }

# --- SoftHSM2 with one initialized token -----------------------------------
mkdir -p "$work/softhsm/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$work/softhsm/tokens" >"$work/softhsm/softhsm2.conf"
export SOFTHSM2_CONF="$work/softhsm/softhsm2.conf"
softhsm2-util --init-token --free --label compare --pin 1234 --so-pin 5678 >/dev/null

pass=0
fail=0
PIN=1234 # Keyhold ignores it (no PIN: the daemon knows the process); SoftHSM2 needs it

# SoftHSM2's results are the reference, not counted: only the Keyhold
# checks and the comparison are.
check() {
    local suite="$1" name="$2"
    shift 2
    local log="$work/$suite.$name.log"
    if "$@" >"$log" 2>&1; then
        [ "$suite" = softhsm ] || pass=$((pass + 1))
        echo "ok   [$suite] $name"
        echo "$name ok" >>"$work/$suite.results"
    elif [ "$suite" = softhsm ]; then
        echo "--   [$suite] $name (reference: fails on SoftHSM2 too, not counted)"
        echo "$name FAIL" >>"$work/$suite.results"
    else
        fail=$((fail + 1))
        echo "FAIL [$suite] $name"
        sed 's/^/    /' "$log" | tail -20
        echo "$name FAIL" >>"$work/$suite.results"
    fi
}

# Each step is a function so `check` can run and log it.
p11() { pkcs11-tool --module "$module" "$@"; }

slots() { p11 -L | tee /dev/stderr | grep -q "token label"; }
mechanisms() {
    local out
    out="$(p11 -M)"
    echo "$out"
    for m in ECDSA-KEY-PAIR-GEN ECDSA EC-EDWARDS-KEY-PAIR-GEN EDDSA; do
        grep -q "^  $m," <<<"$out" || { echo "missing $m"; return 1; }
    done
}
gen_p256() { p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label "p256-$suite" --usage-sign; }
gen_ed25519() { p11 --login --pin "$PIN" --keypairgen --key-type EC:edwards25519 --label "ed-$suite" --usage-sign; }
list_objects() {
    local out
    out="$(p11 --login --pin "$PIN" -O)"
    echo "$out"
    grep -q "label: *p256-$suite" <<<"$out" && grep -q "label: *ed-$suite" <<<"$out"
}
ecdsa_openssl() { # CKM_ECDSA over a SHA-256 digest (SoftHSM2 2.6 has no CKM_ECDSA_SHA256)
    openssl dgst -sha256 -binary "$work/msg" >"$work/msg.sha256"
    p11 --login --pin "$PIN" --sign --mechanism ECDSA --label "p256-$suite" -i "$work/msg.sha256" \
        -o "$work/$suite.ecdsa.der" --signature-format openssl
    p11 --read-object --type pubkey --label "p256-$suite" -o "$work/$suite.p256.pub"
    openssl pkey -pubin -in "$work/$suite.p256.pub" -out "$work/$suite.p256.pem" 2>/dev/null ||
        openssl pkey -pubin -inform DER -in "$work/$suite.p256.pub" -out "$work/$suite.p256.pem"
    openssl dgst -sha256 -verify "$work/$suite.p256.pem" -signature "$work/$suite.ecdsa.der" "$work/msg"
    # A different message must not verify.
    ! openssl dgst -sha256 -verify "$work/$suite.p256.pem" -signature "$work/$suite.ecdsa.der" "$work/other"
}
ecdsa_module_verify() {
    p11 --login --pin "$PIN" --verify --mechanism ECDSA --label "p256-$suite" -i "$work/msg.sha256" \
        --signature-file "$work/$suite.ecdsa.der" --signature-format openssl
}
ecdsa_sha256_openssl() { # CKM_ECDSA_SHA256: the module hashes
    p11 --login --pin "$PIN" --sign --mechanism ECDSA-SHA256 --label "p256-$suite" -i "$work/msg" \
        -o "$work/$suite.ecdsa256.der" --signature-format openssl
    openssl dgst -sha256 -verify "$work/$suite.p256.pem" -signature "$work/$suite.ecdsa256.der" "$work/msg"
    p11 --login --pin "$PIN" --verify --mechanism ECDSA-SHA256 --label "p256-$suite" -i "$work/msg" \
        --signature-file "$work/$suite.ecdsa256.der" --signature-format openssl
}
eddsa_openssl() {
    p11 --login --pin "$PIN" --sign --mechanism EDDSA --label "ed-$suite" -i "$work/msg" -o "$work/$suite.ed.sig"
    p11 --read-object --type pubkey --label "ed-$suite" -o "$work/$suite.ed.pub"
    openssl pkey -pubin -in "$work/$suite.ed.pub" -out "$work/$suite.ed.pem" 2>/dev/null ||
        openssl pkey -pubin -inform DER -in "$work/$suite.ed.pub" -out "$work/$suite.ed.pem"
    openssl pkeyutl -verify -pubin -inkey "$work/$suite.ed.pem" -rawin -in "$work/msg" \
        -sigfile "$work/$suite.ed.sig"
}
self_test() { # pkcs11-tool's own --test: what it tries that the module offers must pass
    local out
    out="$(p11 --login --pin "$PIN" --test 2>&1)"
    echo "$out"
    grep -q '^No errors' <<<"$out"
}
p11tool_list() {
    local out
    out="$(GNUTLS_PIN="$PIN" p11tool --provider "$module" --login --list-all 2>&1)"
    echo "$out"
    grep -q "Label: p256-$suite" <<<"$out"
}
pykcs11() {
    "$py" "$here/check/pykcs11_sign.py" "$module" "$PIN" "py-$suite" "$work/msg" "$work" &&
        "$py" "$here/check/raw_to_openssl.py" "$work/pykcs11.sig" "$work/$suite.py.der" \
            "$work/pykcs11.point" "$work/$suite.py.spki" &&
        openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in "$work/$suite.py.spki") \
            -signature "$work/$suite.py.der" "$work/msg"
}
openssl_engine() {
    cat >"$work/openssl-$suite.cnf" <<CNF
openssl_conf = init
[init]
engines = engines
[engines]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $engine
MODULE_PATH = $module
init = 0
CNF
    OPENSSL_CONF="$work/openssl-$suite.cnf" openssl dgst -engine pkcs11 -keyform engine \
        -sign "pkcs11:object=p256-$suite;type=private;pin-value=$PIN" -sha256 -out "$work/$suite.engine.der" "$work/msg"
    openssl dgst -sha256 -verify "$work/$suite.p256.pem" -signature "$work/$suite.engine.der" "$work/msg"
}
ssh_keygen_d() {
    ssh-keygen -D "$module" >"$work/$suite.ssh.pub"
    cat "$work/$suite.ssh.pub"
    grep -q '^ecdsa-sha2-nistp256 ' "$work/$suite.ssh.pub"
}
ssh_login() {
    local port=$((20000 + RANDOM % 20000))
    mkdir -p "$work/sshd" /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$work/sshd/host_key"
    grep '^ecdsa-sha2-nistp256 ' "$work/$suite.ssh.pub" >"$work/sshd/authorized_keys"
    chmod 600 "$work/sshd/authorized_keys"
    /usr/sbin/sshd -D -e -f /dev/null -p "$port" -o ListenAddress=127.0.0.1 \
        -o HostKey="$work/sshd/host_key" -o AuthorizedKeysFile="$work/sshd/authorized_keys" \
        -o StrictModes=no -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
        -o PermitRootLogin=prohibit-password -o PubkeyAcceptedAlgorithms=ecdsa-sha2-nistp256 \
        -o PidFile=none -o UsePAM=no 2>"$work/sshd/log" &
    sshd_pid=$!
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    # The token's key through ssh-agent (ssh-add -s loads the module into
    # the agent; the empty askpass answers its PIN prompt: no PIN needed).
    # Bookworm's `ssh -I` fetches the key but does not offer it; see README.
    printf '#!/bin/sh\necho\n' >"$work/askpass"
    chmod +x "$work/askpass"
    eval "$(ssh-agent -s -P "$module")" >/dev/null
    agent_pid="$SSH_AGENT_PID"
    SSH_ASKPASS="$work/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none \
        ssh-add -s "$module" </dev/null
    ssh-add -L
    local out rc=0
    out="$(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -p "$port" "$(id -un)@127.0.0.1" 'echo keyhold-ssh-ok' 2>&1)" || rc=$?
    ssh-agent -k >/dev/null
    agent_pid=""
    if [ "$rc" -ne 0 ]; then
        echo "$out"
        cat "$work/sshd/log"
        kill "$sshd_pid"
        sshd_pid=""
        return 1
    fi
    kill "$sshd_pid"
    wait "$sshd_pid" 2>/dev/null || true
    sshd_pid=""
    echo "$out"
    grep -q keyhold-ssh-ok <<<"$out"
}

echo "hello from a PKCS#11 application" >"$work/msg"
echo "another message" >"$work/other"

run_suite() {
    suite="$1"
    module="$2"
    echo "==== $suite: $module"
    : >"$work/$suite.results"
    check "$suite" slots slots
    check "$suite" mechanisms mechanisms
    check "$suite" keygen-p256 gen_p256
    check "$suite" ecdsa-openssl-verify ecdsa_openssl
    check "$suite" ecdsa-module-verify ecdsa_module_verify
    [ "$suite" = keyhold ] && check "$suite" ecdsa-sha256-openssl-verify ecdsa_sha256_openssl
    # libp11 0.4.12 (bookworm) and OpenSSH 9.2 stop at the first key type
    # they do not know (Ed25519), so they run before any Ed25519 key exists.
    check "$suite" openssl-engine openssl_engine
    if [ "$suite" = keyhold ]; then
        check "$suite" ssh-keygen-D ssh_keygen_d
        check "$suite" ssh-login ssh_login
    fi
    check "$suite" pykcs11 pykcs11
    check "$suite" keygen-ed25519 gen_ed25519
    check "$suite" list-objects list_objects
    check "$suite" eddsa-openssl-verify eddsa_openssl
    check "$suite" p11tool-list p11tool_list
    check "$suite" pkcs11-tool-test self_test
}

run_suite keyhold "$keyhold_module"
run_suite softhsm "$softhsm_module"

# Keyhold must pass every check SoftHSM2 passes.
compare() {
    local missing
    missing="$(grep ' ok$' "$work/softhsm.results" | cut -d' ' -f1 | while read -r n; do
        grep -qx "$n ok" "$work/keyhold.results" || echo "$n"
    done)"
    echo "softhsm2 passed: $(grep -c ' ok$' "$work/softhsm.results"), keyhold passed: $(grep -c ' ok$' "$work/keyhold.results")"
    [ -z "$missing" ] || { echo "passed on SoftHSM2 only: $missing"; return 1; }
}
check compare keyhold-covers-softhsm2 compare

echo "KEYHOLD-TESTS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
