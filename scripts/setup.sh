#!/usr/bin/env bash
# Installs everything Tapline needs on a Debian machine with Node 20, idempotently:
# apt packages, pnpm 10 through corepack, the workspace's dependencies, the native
# capture sidecar and the TypeScript build. Fast when already set up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_packages=(libpcap-dev libbpf-dev bpftool clang llvm libelf-dev libcapstone-dev zlib1g-dev pkg-config make gcc
  tshark tcpdump redis-server iproute2 curl openssl chromium librdkafka-dev kcat procps bind9-dnsutils golang-go iptables)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! pnpm --version 2>/dev/null | grep -q '^10\.'; then
  echo "setup: activating pnpm 10 through corepack"
  "${sudo_cmd[@]}" corepack enable
  COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack prepare pnpm@10 --activate >/dev/null
fi
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0

# better-sqlite3 12.9.0 compiles from source with node-gyp (its prebuilt download is unreachable).
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(\.\.\./|Progress)' | tail -n 5

if [ -f native/Makefile ]; then
  make -s -C native
fi
pnpm run -s build >/dev/null
touch packages/cli/dist/.build-stamp
echo "setup: ready"
