#!/usr/bin/env bash
# Regenerates the HTTP/1.x fixtures from real programs on loopback:
# node's http server (server.mjs), curl, and raw sockets (rawclient.mjs).
#   http.pcap       keep-alive, chunked+trailers, gzip/deflate/br, HEAD, 304, 204, 100-continue, big body
#   http-pipe.pcap  three pipelined requests (GET, HEAD, GET) in one write
#   http10.pcap     HTTP/1.0 request, response delimited by connection close
#   http-ws.pcap    websocket upgrade (101) followed by frames
# Run as root (tcpdump on lo). Usage: ./capture.sh
set -euo pipefail
cd "$(dirname "$0")"
PORT=$((20000 + RANDOM % 20000))
node server.mjs "$PORT" & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
sleep 0.5
U="http://127.0.0.1:$PORT"

capture() { # name, then the command to run while capturing
  local name=$1; shift
  tcpdump -i lo --immediate-mode -s 0 -U -w "$name.pcap" "tcp port $PORT" 2>/dev/null & local TD=$!
  sleep 0.7
  "$@"
  sleep 0.5
  kill -INT $TD; wait $TD || true
}

main_session() {
  curl -s "$U/hello" "$U/chunked" "$U/gzip" "$U/deflate" "$U/br" "$U/empty" "$U/big" "$U/nope" > /dev/null
  curl -s -o /dev/null -I "$U/hello"
  curl -s -o /dev/null -H 'If-None-Match: "v1"' "$U/etag"
  head -c 3000 /dev/zero | tr '\0' 'x' > /tmp/tapline-upload.$$
  curl -s -o /dev/null -H "Expect: 100-continue" -H "Content-Type: text/plain" --data-binary @/tmp/tapline-upload.$$ "$U/upload"
  curl -s -o /dev/null -H "Transfer-Encoding: chunked" --data-binary @/tmp/tapline-upload.$$ "$U/upload?chunked=1"
  rm -f /tmp/tapline-upload.$$
}
capture http main_session
capture http-pipe node rawclient.mjs "$PORT" pipeline
capture http10 curl -s -o /dev/null --http1.0 "$U/stream"
capture http-ws node rawclient.mjs "$PORT" upgrade
ls -l ./*.pcap
