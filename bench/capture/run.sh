#!/bin/sh
# Capture benchmark: tapline-capture vs tcpdump on the same veth traffic.
# Needs root, ip netns, tcpdump, node. Takes about a minute.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here/../../native"
exec timeout 150 node "$here/bench.mjs"
