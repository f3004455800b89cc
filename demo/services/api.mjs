// catalog-api: the HTTP API behind the front end. Items come from Redis; orders go to Kafka
// (topic "orders") and are charged at the payments service over HTTPS. Some calls are slow or
// fail on purpose, so the demo has latencies and 5xx to look at.
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { layout, Redis, kafkaSocketFactory, readBody, sendJson, sleep, stayWithParent } from "./lib.mjs";

stayWithParent();
const { ips, ports, kafka } = layout;
const redis = new Redis(ips.redis, ports.redis, ips.api);
const producer = new Kafka({
  clientId: "catalog-api",
  brokers: [`${kafka.host}:${kafka.port}`],
  socketFactory: kafkaSocketFactory(kafka.from.api),
  logLevel: logLevel.NOTHING,
}).producer({ allowAutoTopicCreation: false });
let producerReady = producer.connect().then(() => true, () => false);
const payments = new https.Agent({ keepAlive: true, localAddress: ips.api, rejectUnauthorized: false, ca: readFileSync(`${layout.certDir}/cert.pem`) });

function charge(order) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ orderId: order.orderId, amountCents: order.qty * 1299, currency: "EUR" });
    const req = https.request(
      { host: ips.payments, port: ports.payments, path: "/charge", method: "POST", agent: payments, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => readBody(res).then((text) => resolve({ status: res.statusCode, body: text }), reject),
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, "http://api");
  const item = /^\/api\/items\/(\d+)$/.exec(url.pathname);
  if (req.method === "GET" && item) {
    const id = Number(item[1]);
    await redis.command("INCR", `views:${id}`);
    if (id === 13) return sendJson(res, 500, { error: "item 13: inventory service unavailable" });
    let json = await redis.command("GET", `item:${id}`);
    if (json === null) {
      json = JSON.stringify({ id, name: `Sock model ${id}`, priceCents: 999 + id * 100 });
      await redis.command("SET", `item:${id}`, json, "EX", "60");
    }
    return sendJson(res, 200, JSON.parse(json));
  }
  if (req.method === "POST" && url.pathname === "/api/login") {
    const creds = JSON.parse((await readBody(req)) || "{}");
    if (creds.password !== "PLANTED-pw-hunter2") return sendJson(res, 401, { error: "bad credentials" });
    // A session token in the body and a cookie: both have sensitive names (SPEC §3).
    return sendJson(res, 200, { user: creds.username, accessToken: "PLANTED-tok-7f3a9c" }, { "set-cookie": "session=PLANTED-cookie-51e2; HttpOnly" });
  }
  if (req.method === "GET" && url.pathname === "/api/recommendations") {
    await sleep(300 + Math.floor(Math.random() * 400));
    return sendJson(res, 200, { items: [3, 7, 11].map((id) => ({ id, score: Math.random().toFixed(2) })) });
  }
  if (req.method === "POST" && url.pathname === "/api/orders") {
    const order = { orderId: `o-${Date.now().toString(36)}`, ...JSON.parse((await readBody(req)) || "{}") };
    if (await producerReady) {
      await producer.send({ topic: "orders", messages: [{ key: order.orderId, value: JSON.stringify(order) }] }).catch(() => {
        producerReady = producer.connect().then(() => true, () => false);
      });
    }
    const paid = await charge(order).catch((e) => ({ status: 502, body: String(e.message) }));
    return sendJson(res, paid.status === 200 ? 201 : 502, { order, payment: paid.status });
  }
  sendJson(res, 404, { error: "not found" });
}

http
  .createServer((req, res) => {
    handle(req, res).catch((err) => sendJson(res, 500, { error: String(err.message) }));
  })
  .listen(ports.api, ips.api);
