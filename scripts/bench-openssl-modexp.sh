#!/usr/bin/env bash
# The OpenSSL side of `idflow bench srp`: builds scripts/bench-openssl-modexp.c against the system's
# libcrypto and runs it. Kept out of the Cargo build so a machine without OpenSSL headers still builds.
#
# Usage: scripts/bench-openssl-modexp.sh [iterations]
#   Installs libssl-dev with apt-get when the headers are missing (needs root or sudo).
#   CC overrides the compiler (default: cc).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
iterations="${1:-2000}"
cc="${CC:-cc}"

if ! echo '#include <openssl/bn.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
    echo "OpenSSL headers not found; installing libssl-dev" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq libssl-dev
fi

out_dir="${TMPDIR:-/tmp}/idflow-bench-openssl"
mkdir -p "$out_dir"
binary="$out_dir/bench-openssl-modexp"
"$cc" -O2 -o "$binary" "$here/bench-openssl-modexp.c" -lcrypto
"$binary" "$iterations"
