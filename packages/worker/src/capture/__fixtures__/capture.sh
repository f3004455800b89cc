#!/usr/bin/env bash
# Regenerates the reader/pipeline fixtures from real loopback traffic: curl against a node
# http server on port 9000 and a line protocol client/server on port 7070, captured with tcpdump,
# then converted with editcap (pcapng, nanosecond pcap) and re-captured as Linux SLL/SLL2.
# Needs root (tcpdump on lo), node, curl, tcpdump, editcap. Usage: ./capture.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
node "$here/servers.mjs" 9000 7070 & pids+=($!)
sleep 0.5
capture() { # capture <out> <iface/link args...> -- then run traffic
  local out="$1"; shift
  tcpdump -i lo --immediate-mode -U -s 0 "$@" -w "$out" 'tcp port 9000 or tcp port 7070 or tcp port 7071' 2>/dev/null & local tp=$!
  sleep 0.7
  curl -s http://127.0.0.1:9000/hello >/dev/null
  curl -s -X POST --data-binary 'a=1&b=two' http://127.0.0.1:9000/form >/dev/null
  curl -s http://127.0.0.1:9000/missing http://127.0.0.1:9000/again >/dev/null  # keep-alive: 2 on one connection
  node "$here/lineclient.mjs" 7070 7071
  sleep 0.7
  kill -INT "$tp"; wait "$tp" || true
}
capture "$tmp/eth.pcap"
cp "$tmp/eth.pcap" "$here/loopback.pcap"
editcap -F pcapng "$here/loopback.pcap" "$here/loopback.pcapng"
editcap -F nsecpcap "$here/loopback.pcap" "$here/loopback-ns.pcap"
tcpdump -i any --immediate-mode -U -s 0 -y LINUX_SLL2 -w "$tmp/sll2.pcap" 'tcp port 9000' 2>/dev/null & tp=$!
sleep 0.7; curl -s http://127.0.0.1:9000/sll2 >/dev/null; sleep 0.7; kill -INT $tp; wait $tp || true
cp "$tmp/sll2.pcap" "$here/sll2.pcap"
tcpdump -i any --immediate-mode -U -s 0 -y LINUX_SLL -w "$tmp/sll.pcap" 'tcp port 9000' 2>/dev/null & tp=$!
sleep 0.7; curl -s http://127.0.0.1:9000/sll >/dev/null; sleep 0.7; kill -INT $tp; wait $tp || true
cp "$tmp/sll.pcap" "$here/sll.pcap"
ls -l "$here"/*.pcap*
