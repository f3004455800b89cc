#!/usr/bin/env bash
# Regenerates the Redis fixtures from a real redis-server and redis-cli on loopback.
#   redis.pcap    redis-cli commands (strings, lists, hashes, errors, a 40 KB value),
#                 redis-cli --pipe, a raw pipeline + inline commands, CLIENT SETNAME/CONFIG GET, MULTI/EXEC,
#                 RESP3 (HELLO 3, maps, sets, doubles, big numbers, verbatim, attributes, nulls),
#                 RESP2 and RESP3 SUBSCRIBE with PUBLISH from another client.
# Run as root (tcpdump on lo). Usage: ./capture.sh
set -euo pipefail
cd "$(dirname "$0")"
PORT=$((20000 + RANDOM % 20000))
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command yes --daemonize no >/dev/null & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
cli() { redis-cli -p "$PORT" "$@" >/dev/null; }

tcpdump -i lo --immediate-mode -s 0 -U -w redis.pcap "tcp port $PORT" 2>/dev/null & TD=$!
sleep 0.7
cli SET greeting hello
cli GET greeting
cli HSET user:1 name ada lang en
cli HGETALL user:1
cli LPUSH greeting x || true          # WRONGTYPE error reply
cli NOSUCHCOMMAND a b || true         # unknown command error
cli SET big "$(head -c 40000 /dev/zero | tr '\0' 'v')"
cli STRLEN big
printf 'SET piped:1 a\r\nSET piped:2 b\r\nINCRBY piped:n 5\r\n' | redis-cli -p "$PORT" --pipe >/dev/null
node rawclient.mjs "$PORT" pipeline
sleep 0.2
# RESP2 subscriber (redis-cli) and RESP3 subscriber (rawclient) both receive one PUBLISH each
timeout 2 redis-cli -p "$PORT" SUBSCRIBE news >/dev/null & SUB=$!
node rawclient.mjs "$PORT" resp3 & R3=$!
sleep 0.4
cli PUBLISH news "breaking"
cli PUBLISH sports "goal"
wait $SUB || true
wait $R3 || true
sleep 0.5
kill -INT $TD; wait $TD || true
ls -l redis.pcap
