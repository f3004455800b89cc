#!/usr/bin/env bash
# Regenerates dns.pcap: dig (bind9-dnsutils) against server.mjs, a node dgram/net DNS server for the
# zone tapline.test on 127.0.0.1. Queries: A, AAAA (two answers), CNAME chain with a pointer into an
# answer, MX, TXT, SRV, PTR, SOA, NS, NXDOMAIN (SOA in authority), REFUSED, one never answered
# (drop.tapline.test, a timeout) and two queries over TCP (dig +tcp). Run as root (tcpdump on lo).
# Usage: ./capture.sh   (the port is written to ports.json)
set -euo pipefail
cd "$(dirname "$0")"
PORT=$((20000 + RANDOM % 20000))
node server.mjs "$PORT" & SERVER=$!
TD=""
trap 'kill $SERVER $TD 2>/dev/null || true' EXIT
sleep 0.7
tcpdump -i lo --immediate-mode -s 0 -U -w dns.pcap "port $PORT" 2>/dev/null & TD=$!
sleep 0.7
q() { dig @127.0.0.1 -p "$PORT" +tries=1 +timeout=1 "$@" > /dev/null || true; }
q www.tapline.test A
q www.tapline.test AAAA
q alias.tapline.test A
q mail.tapline.test MX
q txt.tapline.test TXT
q _http._tcp.tapline.test SRV
q -x 127.0.0.10
q tapline.test SOA
q tapline.test NS
q nothing.tapline.test A
q refused.example A
q drop.tapline.test A
q +tcp www.tapline.test A
q +tcp nothing.tapline.test AAAA
sleep 0.5
kill -INT $TD; wait $TD || true
printf '{ "dns.pcap": %d }\n' "$PORT" > ports.json
ls -l dns.pcap
