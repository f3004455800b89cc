// h2c (prior knowledge) server for the HTTP/2 fixtures: node's http2 module, no TLS.
//   node server.mjs PORT
import http2 from "node:http2";
import zlib from "node:zlib";

const port = Number(process.argv[2]);
const text = "hello from the tapline http2 fixture server\n";
const server = http2.createServer();
server.on("stream", (stream, headers) => {
  const path = headers[":path"];
  const chunks = [];
  stream.on("data", (c) => chunks.push(c));
  stream.on("end", () => {
    const body = Buffer.concat(chunks);
    if (path === "/hello") {
      stream.respond({ ":status": 200, "content-type": "text/plain", "x-fixture": "yes" });
      stream.end(text);
    } else if (path === "/gzip") {
      stream.respond({ ":status": 200, "content-type": "text/plain", "content-encoding": "gzip" });
      stream.end(zlib.gzipSync(text.repeat(50)));
    } else if (path === "/big") {
      // 100 000 bytes: several DATA frames (16 KiB max frame size)
      stream.respond({ ":status": 200, "content-type": "application/octet-stream" });
      stream.end(Buffer.alloc(100_000, "b"));
    } else if (path === "/echo") {
      stream.respond({ ":status": 200, "content-type": "application/json" });
      stream.end(JSON.stringify({ received: body.length, first: body.subarray(0, 20).toString() }));
    } else if (path.startsWith("/slow")) {
      // written in pieces with pauses so concurrent streams interleave on the connection
      const n = Number(new URL(path, "http://x").searchParams.get("n") ?? 0);
      stream.respond({ ":status": 200, "content-type": "text/plain" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-part-count": "3" }));
      let i = 0;
      const tick = () => {
        if (stream.destroyed) return;
        if (i === 3) return void stream.end();
        stream.write(`stream ${n} part ${i++}\n`);
        setTimeout(tick, 15 + n * 3);
      };
      tick();
    } else {
      stream.respond({ ":status": 404, "content-type": "text/plain" });
      stream.end("not found\n");
    }
  });
});
server.listen(port, "127.0.0.1", () => console.log(`listening ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
