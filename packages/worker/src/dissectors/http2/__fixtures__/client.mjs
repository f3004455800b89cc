// node http2 client: concurrent streams on one connection (interleaved), a POST, and a stream
// the client cancels (RST_STREAM CANCEL) before its response ends.
//   node client.mjs PORT
import http2 from "node:http2";

const port = Number(process.argv[2]);
const session = http2.connect(`http://127.0.0.1:${port}`);
const request = (headers, body) =>
  new Promise((resolve) => {
    const req = session.request(headers, { endStream: body === undefined });
    req.on("response", () => {});
    req.on("data", () => {});
    req.on("close", resolve);
    if (body !== undefined) req.end(body);
  });

await Promise.all([1, 2, 3, 4].map((n) => request({ ":path": `/slow?n=${n}`, "x-request": String(n) })));
await request({ ":method": "POST", ":path": "/echo", "content-type": "text/plain" }, "x".repeat(5000));
await new Promise((resolve) => {
  const req = session.request({ ":path": "/slow?n=9" });
  req.once("data", () => req.close(http2.constants.NGHTTP2_CANCEL));
  req.on("close", resolve);
});
await request({ ":path": "/hello" });
session.close();
