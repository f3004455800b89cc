// Shared by the demo's services: their addresses (DEMO_* environment, set by ../system.mjs),
// exit when the system that started them is gone, and a small Redis (RESP2) client.
import net from "node:net";

/** The demo's layout, from DEMO_LAYOUT (JSON written by system.mjs). */
export const layout = JSON.parse(process.env.DEMO_LAYOUT ?? "{}");

/** Every service stops after this long even if nobody stops it (a bounded load). */
const MAX_LIFETIME_MS = Number(process.env.DEMO_MAX_SECONDS ?? 3600) * 1000;

/** Exits when the parent (system.mjs) dies, so no service outlives the demo. */
export function stayWithParent() {
  const parent = process.ppid;
  const t = setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 500);
  t.unref();
  setTimeout(() => process.exit(0), MAX_LIFETIME_MS).unref();
  for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => process.exit(0));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A pipelining RESP2 client over one connection from `localAddress`: each command's reply
 * comes back in order, so a queue of pending callbacks pairs them.
 */
export class Redis {
  constructor(host, port, localAddress) {
    this.pending = [];
    this.buf = Buffer.alloc(0);
    this.sock = net.connect({ host, port, localAddress });
    this.sock.on("data", (d) => this.onData(d));
    this.sock.on("error", (e) => this.failAll(e));
    this.sock.on("close", () => this.failAll(new Error("redis connection closed")));
  }

  command(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const s = String(a);
      parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(parts.join(""));
    });
  }

  failAll(err) {
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const r = parseReply(this.buf, 0);
      if (!r) return;
      this.buf = this.buf.subarray(r.end);
      const p = this.pending.shift();
      if (!p) continue;
      if (r.error) p.reject(new Error(r.error));
      else p.resolve(r.value);
    }
  }

  close() {
    this.sock.destroy();
  }
}

/** One RESP2 reply at `at`, or undefined when more bytes are needed. */
function parseReply(b, at) {
  const eol = b.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(b[at]);
  const line = b.toString("utf8", at + 1, eol);
  if (type === "+") return { value: line, end: eol + 2 };
  if (type === "-") return { error: line, end: eol + 2 };
  if (type === ":") return { value: Number(line), end: eol + 2 };
  if (type === "$") {
    const n = Number(line);
    if (n < 0) return { value: null, end: eol + 2 };
    if (b.length < eol + 2 + n + 2) return undefined;
    return { value: b.toString("utf8", eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
  }
  if (type === "*") {
    const n = Number(line);
    const items = [];
    let end = eol + 2;
    for (let i = 0; i < n; i++) {
      const r = parseReply(b, end);
      if (!r) return undefined;
      items.push(r.value);
      end = r.end;
    }
    return { value: n < 0 ? null : items, end };
  }
  return { error: `bad reply type ${type}`, end: b.length };
}

/** kafkajs connects through this so its sockets leave from the service's own address. */
export function kafkaSocketFactory(localAddress) {
  return ({ host, port, onConnect }) => {
    const s = net.connect({ host, port, localAddress }, onConnect);
    s.setKeepAlive(true, 30_000);
    return s;
  };
}

/** Reads a request body (bounded). */
export function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on("data", (c) => {
      n += c.length;
      if (n > limit) req.destroy(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
