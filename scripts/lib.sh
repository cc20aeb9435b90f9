# Shared helpers for the project's scripts. Source it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
#
# It defines:
#   keyhold_root           the repository root
#   ensure_packages P...   installs the Debian packages P... that are missing
#                          (one `apt-get update` per run; root or sudo)
#   ensure_command C P     installs package P when command C is missing
#   cargo_target_dir       prints cargo's target directory (honours
#                          CARGO_TARGET_DIR and .cargo/config)
#   keyhold_cache_dir      prints the cache directory kept outside the clone
#                          (KEYHOLD_CACHE, default ~/.cache/keyhold): the Swift
#                          root, downloaded toolchains; created on first use
#   log_step MSG           prints a step marker

keyhold_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log_step() { printf '\n==== %s\n' "$*"; }

_keyhold_apt_updated=0

# Installs every named Debian package that dpkg does not report as installed.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "missing Debian packages ${missing[*]} and not root: install them first" >&2
            return 1
        }
        sudo="sudo"
    fi
    echo "installing Debian packages: ${missing[*]}"
    if [ "$_keyhold_apt_updated" -eq 0 ]; then
        $sudo apt-get update -qq
        _keyhold_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_command CMD PACKAGE: installs PACKAGE when CMD is not on PATH.
ensure_command() {
    command -v "$1" >/dev/null 2>&1 || ensure_packages "$2"
}

cargo_target_dir() {
    (cd "$keyhold_root" && cargo metadata -q --format-version 1 --no-deps) |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

keyhold_cache_dir() {
    local dir="${KEYHOLD_CACHE:-$HOME/.cache/keyhold}"
    mkdir -p "$dir"
    printf '%s\n' "$dir"
}
