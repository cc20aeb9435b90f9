#!/usr/bin/env bash
# The main job: the host sample wallet against the isolated keyholdd daemon
# (a separate process, embedded default store in a fresh data directory).
# Arguments are passed to the wallet; try --help.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p keyholdd -p keyhold-sample-wallet
exec target/debug/keyhold-sample-wallet "$@"
