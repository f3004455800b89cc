// loadgen: the demo's users. A fixed script of requests against the front end, one every
// DEMO_INTERVAL_MS (default 250 ms), bounded in count; some carry passwords, tokens, cookies
// and API keys in headers, query strings and bodies, so redaction has work to do.
import http from "node:http";
import { layout, readBody, sleep, stayWithParent } from "./lib.mjs";

stayWithParent();
const { ips, ports } = layout;
const interval = Number(process.env.DEMO_INTERVAL_MS ?? 250);
const MAX_REQUESTS = 200_000;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4, localAddress: ips.loadgen });
const auth = { authorization: "Bearer PLANTED-bearer-4d2e", cookie: "session=PLANTED-cookie-51e2; theme=dark" };

const script = [
  () => ["GET", "/", {}],
  () => ["POST", "/login", {}, JSON.stringify({ username: "alice", password: "PLANTED-pw-hunter2" })],
  () => ["GET", `/items/${1 + Math.floor(Math.random() * 12)}?api_key=PLANTED-key-9b1c`, auth],
  () => ["GET", "/items/13", auth], // fails: the API answers 500, the front end 502
  () => ["GET", "/recommendations", auth], // slow: 300..700 ms
  () => ["POST", "/checkout", auth, JSON.stringify({ item: 7, qty: 2 })],
  () => ["GET", `/items/${1 + Math.floor(Math.random() * 12)}`, {}],
];

function call([method, path, headers, body]) {
  return new Promise((resolve) => {
    const h = { ...headers, "user-agent": "tapline-demo-loadgen/1" };
    if (body !== undefined) {
      h["content-type"] = "application/json";
      h["content-length"] = Buffer.byteLength(body);
    }
    const req = http.request({ host: ips.front, port: ports.front, method, path, agent, headers: h, timeout: 5000 }, (res) =>
      readBody(res).then(resolve, resolve),
    );
    req.on("timeout", () => req.destroy());
    req.on("error", resolve);
    req.end(body);
  });
}

for (let i = 0; i < MAX_REQUESTS; i++) {
  // Not awaited: a slow call does not hold up the others (at most a few in flight at this rate).
  void call(script[i % script.length]());
  await sleep(interval);
}
