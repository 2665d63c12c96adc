#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing.
#   tools/deps.sh --check   exit 1 if something is missing, install nothing
set -euo pipefail
PKGS=(build-essential pkg-config clang libclang-rt-14-dev clang-format
      libevent-dev libnice-dev libsrtp2-dev libusrsctp-dev libnng-dev
      libhiredis-dev libjansson-dev libssl-dev libwslay-dev libhttp-parser-dev
      libjwt-dev libglib2.0-dev liburing-dev redis-server chromium python3-aiortc
      python3-websockets iproute2 nftables nodejs npm curl bc janus valgrind util-linux
      ansible ansible-lint)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node from elsewhere (e.g. /usr/bin/node from another repository) is fine.
if command -v node >/dev/null && command -v npm >/dev/null; then
  m2=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || m2+=("$p"); done
  missing=("${m2[@]+"${m2[@]}"}")
fi
if [[ ${#missing[@]} -eq 0 ]]; then exit 0; fi
if [[ ${1:-} == --check ]]; then echo "missing packages: ${missing[*]}"; exit 1; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
