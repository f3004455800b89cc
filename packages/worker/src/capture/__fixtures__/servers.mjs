// Loopback servers for the fixture captures: an HTTP server (node:http) and a line protocol
// server ("PING n" -> "PONG n", one reply per line) used by the framework's test dissector.
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

const [httpPort, linePort] = process.argv.slice(2).map(Number);
const http = createServer((req, res) => {
  let n = 0;
  req.on("data", (c) => (n += c.length));
  req.on("end", () => {
    const body = JSON.stringify({ path: req.url, method: req.method, received: n });
    res.writeHead(req.url?.startsWith("/missing") ? 404 : 200, { "content-type": "application/json" });
    res.end(body);
  });
}).listen(httpPort, "127.0.0.1");
const line = createTcpServer((sock) => {
  let pending = "";
  sock.on("data", (d) => {
    pending += d.toString("latin1");
    let i;
    while ((i = pending.indexOf("\n")) >= 0) {
      const l = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (l === "QUIT") sock.destroy(); // reset-style close: no reply
      else sock.write(l.replace(/^PING/, "PONG") + "\n");
    }
  });
  sock.on("error", () => {});
}).listen(linePort, "127.0.0.1");
process.on("SIGTERM", () => {
  http.close();
  line.close();
  process.exit(0);
});
