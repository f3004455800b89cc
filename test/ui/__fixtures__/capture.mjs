// Captures the UI test's traffic from real programs on loopback: a node HTTP API with a login
// that carries a password and returns a token, authorized calls, a 500 and a slow call, and a
// redis-server driven over a raw socket (including AUTH). Run as root:
//   node test/ui/__fixtures__/capture.mjs   ->  test/ui/__fixtures__/shop.pcap
import { spawn, spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const out = fileURLToPath(new URL("./shop.pcap", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", async () => {
    if (req.url === "/api/login") {
      res.setHeader("content-type", "application/json");
      res.setHeader("set-cookie", "session=s3cr3t-cookie-value; HttpOnly");
      res.end(JSON.stringify({ user: { id: 7, firstName: "Ada" }, token: "tok-9f8e7d6c5b4a" }));
    } else if (req.url === "/api/orders/fail") {
      res.statusCode = 500;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ error: "database unavailable" }));
    } else if (req.url?.startsWith("/api/slow")) {
      await sleep(120);
      res.end("slow ok");
    } else {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ items: [{ sku: "sock-1", price: 9.5 }, { sku: "sock-2", price: 11 }] }));
    }
  });
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const port = server.address().port;

const redis = spawn("redis-server", ["--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--port", "16399"], { stdio: "ignore" });
await sleep(300);

const tcpdump = spawn("tcpdump", ["-i", "lo", "--immediate-mode", "-w", out, `tcp port ${port} or tcp port 16399`], { stdio: "ignore" });
await sleep(1000);

const request = (method, path, headers = {}, body) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end(body);
  });

await request("POST", "/api/login", { "content-type": "application/json" }, JSON.stringify({ username: "ada", password: "hunter2-very-secret" }));
for (let i = 0; i < 5; i++) await request("GET", `/api/items?page=${i}&api_key=k-123456`, { authorization: "Bearer tok-9f8e7d6c5b4a", "user-agent": "shop-front/1.0" });
await request("GET", "/api/orders/fail", { authorization: "Bearer tok-9f8e7d6c5b4a" });
await request("GET", "/api/slow");

const sock = net.connect(16399, "127.0.0.1");
await once(sock, "connect");
const cmd = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
sock.write(cmd("AUTH", "default", "redis-password-1"));
sock.write(cmd("SET", "cart:7", JSON.stringify({ items: 2 })));
sock.write(cmd("GET", "cart:7"));
sock.write(cmd("INCR", "visits"));
sock.write(cmd("GET", "missing-key"));
await sleep(300);
sock.end();
await sleep(800);
tcpdump.kill("SIGINT");
await once(tcpdump, "exit");
redis.kill();
server.close();
const count = spawnSync("tshark", ["-r", out, "-T", "fields", "-e", "frame.number"], { encoding: "utf8" }).stdout.trim().split("\n").length;
console.log(`wrote ${out}: ${count} packets (http port ${port}, redis port 16399)`);
