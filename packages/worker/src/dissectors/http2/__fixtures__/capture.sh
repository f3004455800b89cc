#!/usr/bin/env bash
# Regenerates the HTTP/2 and gRPC fixtures from real programs on loopback (run as root: tcpdump on lo).
#   h2c.pcap         curl --http2-prior-knowledge against node's http2 server: GET, gzip, 404, a 100 KB
#                    body in many DATA frames, POST with a body. One connection per request: curl 7.88.1
#                    (Debian 12) fails the second request on a reused prior-knowledge connection
#                    ("Error in the HTTP2 framing layer"); many streams per connection come from client.mjs
#   h2-streams.pcap  node http2 client: 4 concurrent interleaved streams with trailers, a POST,
#                    a stream cancelled by the client (RST_STREAM), then a GET reusing the table
#   grpc.pcap        @grpc/grpc-js client and server (echo.proto): unary ok, an error status,
#                    server streaming, a gzip-compressed message
#   h2c-upgrade.pcap curl --http2 (HTTP/1.1 Upgrade: h2c) against h2c-upgrade-server.py (python3-h2):
#                    GET, a 404, and a reused connection with a second request as HTTP/2 stream 3
# Usage: ./capture.sh   (ports are written to ports.json)
set -euo pipefail
cd "$(dirname "$0")"
H2=$((20000 + RANDOM % 20000)); GRPC=$((H2 + 1))
node server.mjs "$H2" & SERVER=$!
TD=""
trap 'kill $SERVER $TD 2>/dev/null || true' EXIT
sleep 0.7
U="http://127.0.0.1:$H2"

capture() { # name, port, then the command to run while capturing
  local name=$1 port=$2; shift 2
  tcpdump -i lo --immediate-mode -s 0 -U -w "$name.pcap" "tcp port $port" 2>/dev/null & TD=$!
  sleep 0.7
  if declare -F "$1" >/dev/null; then "$@"; else timeout 20 "$@"; fi || echo "capture $name: command failed" >&2
  sleep 0.5
  kill -INT $TD; wait $TD || true
}

curl_session() {
  head -c 3000 /dev/zero | tr '\0' 'p' > /tmp/tapline-h2-upload.$$
  for p in hello gzip nope big; do curl -sS --max-time 10 --http2-prior-knowledge -o /dev/null "$U/$p"; done
  curl -sS --max-time 10 --http2-prior-knowledge -o /dev/null -H "Content-Type: text/plain" --data-binary @/tmp/tapline-h2-upload.$$ "$U/echo"
  rm -f /tmp/tapline-h2-upload.$$
}
capture h2c "$H2" curl_session
capture h2-streams "$H2" node client.mjs "$H2"
capture grpc "$GRPC" node grpc.mjs "$GRPC"
UP=$((GRPC + 1))
/usr/bin/python3 h2c-upgrade-server.py "$UP" & UPSERVER=$!
sleep 0.7
upgrade_session() {
  curl -s --http2 "http://127.0.0.1:$UP/items" -o /dev/null
  curl -s --http2 "http://127.0.0.1:$UP/missing" -o /dev/null
  curl -s --http2 -H "Authorization: Bearer up-secret" "http://127.0.0.1:$UP/a" "http://127.0.0.1:$UP/b" -o /dev/null -o /dev/null
}
capture h2c-upgrade "$UP" upgrade_session
kill $UPSERVER 2>/dev/null || true
printf '{ "h2c.pcap": %d, "h2-streams.pcap": %d, "grpc.pcap": %d, "h2c-upgrade.pcap": %d }\n' "$H2" "$H2" "$GRPC" "$UP" > ports.json
ls -l ./*.pcap
