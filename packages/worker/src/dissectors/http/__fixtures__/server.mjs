// Fixture HTTP server for capture.sh: node's own http module, one route per framing case.
import http from "node:http";
import zlib from "node:zlib";

const text = "hello from tapline fixture server\n".repeat(40);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  switch (url.pathname) {
    case "/hello":
      res.setHeader("Content-Type", "text/plain");
      res.setHeader("X-Dup", "one");
      res.appendHeader("X-Dup", "two");
      res.end("hello\n");
      break;
    case "/chunked":
      res.setHeader("Content-Type", "text/plain");
      res.setHeader("Trailer", "X-Checksum");
      res.write("first chunk;");
      setTimeout(() => {
        res.write("second chunk;");
        res.addTrailers({ "X-Checksum": "abc123" });
        res.end("last");
      }, 20);
      break;
    case "/gzip": {
      const body = zlib.gzipSync(text);
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip", "Content-Length": body.length });
      res.end(body);
      break;
    }
    case "/deflate": {
      const body = zlib.deflateSync(text);
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "deflate", "Content-Length": body.length });
      res.end(body);
      break;
    }
    case "/br": {
      // chunked + brotli: the body arrives in two chunks.
      const body = zlib.brotliCompressSync(text);
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "br" });
      res.write(body.subarray(0, 10));
      res.end(body.subarray(10));
      break;
    }
    case "/etag":
      if (req.headers["if-none-match"] === '"v1"') {
        res.writeHead(304, { ETag: '"v1"' });
        res.end();
      } else {
        res.writeHead(200, { ETag: '"v1"', "Content-Type": "text/plain" });
        res.end("etag body\n");
      }
      break;
    case "/empty":
      res.writeHead(204);
      res.end();
      break;
    case "/big":
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": 100_000 });
      res.end(Buffer.alloc(100_000, 0x61));
      break;
    case "/upload": {
      let n = 0;
      req.on("data", (c) => (n += c.length));
      req.on("end", () => {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ received: n }));
      });
      break;
    }
    case "/stream":
      // HTTP/1.0 client: node sends no length and closes the connection (RFC 9112 §6.3 item 8).
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("streamed part one\n");
      setTimeout(() => res.end("streamed part two\n"), 20);
      break;
    default:
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found\n");
  }
});
server.on("upgrade", (req, socket) => {
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  // one unmasked text frame "hi", then close
  socket.end(Buffer.from([0x81, 0x02, 0x68, 0x69]));
});
server.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
