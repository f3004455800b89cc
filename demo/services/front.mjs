// front-end: the HTTP entry point users call. Each page calls catalog-api, passing the user's
// Authorization and Cookie headers along (so the API hop carries them too).
import http from "node:http";
import { layout, readBody, sendJson, stayWithParent } from "./lib.mjs";

stayWithParent();
const { ips, ports } = layout;
const api = new http.Agent({ keepAlive: true, maxSockets: 8, localAddress: ips.front });

function callApi(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) {
      h["content-type"] = "application/json";
      h["content-length"] = Buffer.byteLength(body);
    }
    const req = http.request({ host: ips.api, port: ports.api, method, path, agent: api, headers: h }, (res) =>
      readBody(res).then((text) => resolve({ status: res.statusCode, text, headers: res.headers }), reject),
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The user's credentials travel on to the API; nothing else of the request does. */
function forwarded(req) {
  const h = {};
  for (const k of ["authorization", "cookie"]) if (req.headers[k]) h[k] = req.headers[k];
  return h;
}

async function handle(req, res) {
  const url = new URL(req.url, "http://front");
  const item = /^\/items\/(\d+)$/.exec(url.pathname);
  let r;
  if (req.method === "GET" && url.pathname === "/") {
    r = await callApi("GET", `/api/items/${1 + Math.floor(Math.random() * 12)}`, forwarded(req));
    const body = `<!doctype html><title>Sock shop</title><h1>Sock shop</h1><pre>${r.text}</pre>`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
    return res.end(body);
  }
  if (req.method === "GET" && item) r = await callApi("GET", `/api/items/${item[1]}`, forwarded(req));
  else if (req.method === "POST" && url.pathname === "/login") r = await callApi("POST", "/api/login", {}, await readBody(req));
  else if (req.method === "GET" && url.pathname === "/recommendations") r = await callApi("GET", "/api/recommendations", forwarded(req));
  else if (req.method === "POST" && url.pathname === "/checkout") r = await callApi("POST", "/api/orders", forwarded(req), await readBody(req));
  else return sendJson(res, 404, { error: "not found" });
  // An API failure is a bad gateway for the user.
  const status = r.status >= 500 ? 502 : r.status;
  const extra = r.headers["set-cookie"] ? { "set-cookie": r.headers["set-cookie"] } : {};
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(r.text), ...extra });
  res.end(r.text);
}

http
  .createServer((req, res) => {
    handle(req, res).catch((err) => sendJson(res, 500, { error: String(err.message) }));
  })
  .listen(ports.front, ips.front);
