// Raw-socket clients for cases curl cannot produce: pipelining and a websocket upgrade.
import net from "node:net";

const [port, mode] = [Number(process.argv[2]), process.argv[3]];
const s = net.connect(port, "127.0.0.1");
let got = "";
let sent = false;
s.on("data", (d) => {
  got += d.toString("latin1");
  if (mode === "pipeline" && (got.match(/HTTP\/1\.1 /g) ?? []).length >= 3 && got.endsWith("not found\n")) s.end();
  if (mode === "upgrade" && !sent && got.includes("\r\n\r\n\x81\x02hi")) {
    sent = true;
    s.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69 ^ 1, 0x6f ^ 2])); // masked "ho" from the client
    s.end();
  }
});
s.on("connect", () => {
  if (mode === "pipeline") {
    // three requests in one write: responses must be paired in order (RFC 9112 §9.3.2)
    s.write(
      "GET /hello?n=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
        "HEAD /hello?n=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
        "GET /missing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
  } else {
    s.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  }
});
setTimeout(() => s.destroy(), 3000).unref();
