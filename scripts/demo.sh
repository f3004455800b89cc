#!/usr/bin/env bash
# The main job (`make demo`, after `make setup`): a small microservice system with live HTTP,
# Redis, Kafka and TLS traffic in two network namespaces, watched by `tapline tap --local`,
# UI on http://localhost:8899. Ctrl-C stops everything and removes the namespaces.
# Extra flags go to `tapline demo` (e.g. DEMO_ARGS="--no-open --duration 60").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f packages/ui/dist/index.html ] || pnpm -C packages/ui run -s build >/dev/null
args=(${DEMO_ARGS:-})
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
  # Capture (CAP_NET_RAW), eBPF TLS hooks and network namespaces need root.
  exec sudo -E ./tapline demo "${args[@]}" "$@"
fi
exec ./tapline demo "${args[@]}" "$@"
