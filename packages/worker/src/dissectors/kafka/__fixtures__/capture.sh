#!/usr/bin/env bash
# Regenerates the Kafka fixture pcaps from real clients against librdkafka's mock cluster
# (test/helpers/kafka-mock). Needs root (tcpdump on lo), kcat, node, and the workspace installed.
#   packages/worker/src/dissectors/kafka/__fixtures__/capture.sh
# Writes kafkajs.pcap and kcat.pcap here and records each broker port in ports.json
# (the mock cluster picks a free port; tshark needs `-d tcp.port==N,kafka`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../../../.." && pwd)"
mock="$root/test/helpers/kafka-mock"
make -s -C "$mock"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_broker() { # prints the port; the broker's pid goes to $broker_pid
  local out="$here/.broker.$1.out"
  "$mock/build/mock-broker" orders 2 >"$out" 2>/dev/null &
  broker_pid=$!; pids+=("$broker_pid")
  for _ in $(seq 50); do grep -q BOOTSTRAP "$out" && break; sleep 0.1; done
  sed -n 's/^BOOTSTRAP .*:\([0-9]*\).*/\1/p' "$out"; rm -f "$out"
}

capture() { # name, then a command run with $port set
  local name="$1"; shift
  start_broker "$name" >"$here/.port"; port="$(cat "$here/.port")"; rm -f "$here/.port"
  tcpdump -i lo --immediate-mode -U -s 0 -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
  local dump=$!; pids+=("$dump")
  sleep 1
  "$@"
  sleep 0.5
  kill -INT "$dump"; wait "$dump" 2>/dev/null || true
  kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
  ports+=("\"$name.pcap\": $port")
}

ports=()
run_kafkajs() { (cd "$root/packages/worker" && node "$here/kafkajs-client.mjs" "127.0.0.1:$port" orders); }
run_kcat() {
  local b="127.0.0.1:$port"
  kcat -b "$b" -L >/dev/null
  printf 'k1:hello\nk2:world\n' | kcat -b "$b" -t orders -P -K: -p 0
  printf 'gz-%s\n' 1 2 3 | kcat -b "$b" -t orders -P -p 1 -z gzip
  # librdkafka sends a batch uncompressed when compression does not shrink it: use long values
  printf 'snappy-%0500d\n' 1 | kcat -b "$b" -t orders -P -p 1 -z snappy
  printf 'lz4-%0500d\n' 2 | kcat -b "$b" -t orders -P -p 1 -z lz4
  kcat -b "$b" -t orders -C -p 0 -o beginning -c 2 -e >/dev/null
  kcat -b "$b" -t orders -C -p 1 -o beginning -c 5 -e >/dev/null
}
capture kafkajs run_kafkajs
capture kcat run_kcat
printf '{ %s }\n' "$(IFS=,; echo "${ports[*]}")" | sed 's/,/, /g' >"$here/ports.json"
ls -l "$here"/*.pcap; cat "$here/ports.json"
