#!/bin/sh
# Regenerates tls-plaintext.pcap (root; needs native/build/tapline-capture with --tls):
# a node https server on 127.0.0.1:18443, one `curl -k` GET and one POST, captured on lo
# with --tls, so the file holds both the ciphertext of each connection and, with the same
# 4-tuple, the plaintext packets (SLL2 ARPHRD 0xFFFD) from curl's and node's SSL_read/SSL_write.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
tmp=$(mktemp -d)
trap 'kill $srv $cap 2>/dev/null || true; rm -rf "$tmp"' EXIT
cd "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost 2>/dev/null
node -e '
const fs = require("node:fs");
require("node:https").createServer({ key: fs.readFileSync("key.pem"), cert: fs.readFileSync("cert.pem") }, (req, res) => {
  let n = 0; req.on("data", (d) => (n += d.length));
  req.on("end", () => { res.statusCode = req.url === "/missing" ? 404 : 200; res.end("got " + req.url + " " + n + "\n"); });
}).listen(18443, "127.0.0.1");' &
srv=$!
"$root/native/build/tapline-capture" -i lo --tls -f "tcp port 18443" -w "$here/tls-plaintext.pcap" -q 2>cap.err &
cap=$!
until grep -q '"library":"/usr/bin/node"' cap.err 2>/dev/null; do sleep 0.2; done
curl -sk https://127.0.0.1:18443/hello >/dev/null
curl -sk -d 'user=alice' https://127.0.0.1:18443/missing >/dev/null
sleep 0.5
kill -INT $cap; wait $cap || true
