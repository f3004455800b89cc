#!/usr/bin/env node
// The demo's microservice system, with real traffic:
//
//   loadgen ──HTTP──> front-end ──HTTP──> catalog-api ──RESP──> redis
//                                             ├──Kafka──> kafka (librdkafka mock cluster) <──Kafka── order-worker
//                                             └──HTTPS──> payments
//
// As root with `ip netns`: two network namespaces joined by a veth pair, `users` (loadgen,
// 10.77.0.10) and `shop` (everything else, 10.77.0.2x), addresses inside the namespaces only.
// Otherwise, saying why: every service on its own 127.77.0.x loopback address.
//
// Prints one JSON line once the network, Redis and Kafka are up: {"mode","netns","interfaces",
// "filter","names",...} (what `tapline tap --local` needs to watch it); starts the services on a
// "start" line on stdin; then runs until SIGINT/SIGTERM, stdin's end or its parent's exit, and removes everything it made (processes, namespaces, temp files).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const brokerDir = fileURLToPath(new URL("../test/helpers/kafka-mock/", import.meta.url));
const args = process.argv.slice(2);
const forceLoopback = args.includes("--loopback");
const NS_PREFIX = "tld-";

function log(line) {
  process.stderr.write(`demo: ${line}\n`);
}

function ip(...a) {
  return execFileSync("ip", a, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Why namespaces cannot be used here, or null. */
function netnsUnavailable() {
  if (forceLoopback) return "--loopback given";
  if (process.getuid?.() !== 0) return "not root (network namespaces need CAP_SYS_ADMIN)";
  try {
    ip("netns", "list");
    return null;
  } catch (e) {
    return `'ip netns' does not work here (${String(e.message).split("\n")[0]})`;
  }
}

/** Namespaces of earlier demos whose process died (the name holds its pid): setup is idempotent. */
function sweepStale() {
  for (const line of ip("netns", "list").split("\n")) {
    const m = new RegExp(`^(${NS_PREFIX}(\\d+)-\\S+)`).exec(line.trim());
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      try {
        ip("netns", "del", m[1]);
        log(`removed ${m[1]}, left over by an earlier demo`);
      } catch { /* gone meanwhile */ }
    }
  }
}

const why = netnsUnavailable();
const mode = why ? "loopback" : "netns";
const net = mode === "netns" ? "10.77.0" : "127.77.0";
const ips = {
  loadgen: `${net}.10`, front: `${net}.20`, api: `${net}.21`, redis: `${net}.22`, payments: `${net}.24`, consumer: `${net}.25`,
};
const ports = { front: 8080, api: 8080, redis: 6379, payments: 8443 };
const users = `${NS_PREFIX}${process.pid}-users`;
const shop = `${NS_PREFIX}${process.pid}-shop`;
const stateDir = mkdtempSync(join(tmpdir(), "tapline-demo-"));
const children = [];
const namespaces = [];
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  const deadline = Date.now() + 2000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const ns of namespaces) {
    try {
      ip("netns", "del", ns);
    } catch { /* already gone */ }
  }
  rmSync(stateDir, { recursive: true, force: true });
  log("stopped");
  process.exit(code);
}
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => void stop(0));
// Stop with the CLI that started us, however it ended.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void stop(0), 500).unref();

function run(ns, name, cmd, argv, env = {}) {
  const full = ns ? ["ip", ["netns", "exec", ns, cmd, ...argv]] : [cmd, argv];
  const child = spawn(full[0], full[1], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let tail = "";
  child.stderr.on("data", (d) => (tail = (tail + d).slice(-2000)));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}): ${tail.trim().split("\n").slice(-3).join(" | ")}`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

/** Resolves with the first match of `re` in the child's stdout. */
function waitFor(child, re, what, ms = 15_000) {
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
    child.stdout.on("data", (d) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
  });
}

async function main() {
  if (mode === "netns") {
    sweepStale();
    for (const ns of [users, shop]) {
      ip("netns", "add", ns);
      namespaces.push(ns);
      ip("-n", ns, "link", "set", "lo", "up");
    }
    ip("link", "add", "name", "eth0", "netns", users, "type", "veth", "peer", "name", "eth0", "netns", shop);
    ip("-n", users, "addr", "add", `${ips.loadgen}/24`, "dev", "eth0");
    for (const k of ["front", "api", "redis", "payments", "consumer"]) ip("-n", shop, "addr", "add", `${ips[k]}/24`, "dev", "eth0");
    for (const ns of [users, shop]) ip("-n", ns, "link", "set", "eth0", "up");
  } else {
    log(`no network namespaces: ${why}; running on 127.77.0.x and capturing on lo`);
  }
  const nsOf = (service) => (mode === "netns" ? (service === "loadgen" ? users : shop) : undefined);

  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(stateDir, "key.pem"), "-out", join(stateDir, "cert.pem"),
    "-days", "2", "-subj", "/CN=payments", "-addext", `subjectAltName=IP:${ips.payments}`], { stdio: "ignore" });
  execFileSync("make", ["-s", "-C", brokerDir], { stdio: ["ignore", "ignore", "inherit"] });

  const redis = run(nsOf("redis"), "redis", "redis-server", ["--bind", ips.redis, "--port", String(ports.redis), "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  const broker = run(nsOf("kafka"), "kafka", join(brokerDir, "build", "mock-broker"), ["orders", "1"]);
  const [, bootstrap] = await waitFor(broker, /BOOTSTRAP (\S+)/, "the Kafka mock cluster");
  await waitFor(redis, /Ready to accept connections/, "redis-server");
  const first = bootstrap.split(",")[0];
  const colon = first.lastIndexOf(":");
  const kafka = { host: first.slice(0, colon), port: Number(first.slice(colon + 1)), from: { api: ips.api, consumer: ips.consumer } };
  const names = join(stateDir, "names.txt");
  writeFileSync(names, [
    "# The demo's addresses (tapline tap --local --names FILE): IP NAMESPACE/POD [SERVICE]",
    `${ips.loadgen} users/loadgen`,
    `${ips.front} shop/front-end front-end`,
    `${ips.api} shop/catalog-api catalog-api`,
    `${ips.redis} shop/redis redis`,
    `${ips.payments} shop/payments payments`,
    `${ips.consumer} shop/order-worker`,
    `${kafka.host} shop/kafka kafka`,
    "",
  ].join("\n"));
  const ready = mode === "netns"
    // Inside `shop`, `any` sees the veth (users -> shop) and lo (calls between shop's services).
    ? { mode, netns: shop, interfaces: ["any"], filter: "" }
    : { mode, netns: "", interfaces: ["lo"], filter: `net ${net}.0/24 or (host ${kafka.host} and tcp port ${kafka.port})` };
  process.stdout.write(JSON.stringify({ ...ready, names, ips, kafka: `${kafka.host}:${kafka.port}`, namespaces, why: why ?? "" }) + "\n");
  // The services start when the capture runs (a "start" line on stdin), so their connections
  // are seen from their first packet.
  await new Promise((resolve) => {
    let input = "";
    process.stdin.setEncoding("utf8").on("data", (d) => {
      input += d;
      if (input.includes("start\n")) resolve();
    });
    process.stdin.on("end", () => void stop(0));
  });
  const layout = { mode, ips, ports, kafka, certDir: stateDir };
  const env = { DEMO_LAYOUT: JSON.stringify(layout), DEMO_INTERVAL_MS: process.env.DEMO_INTERVAL_MS ?? "250" };
  for (const s of ["payments", "api", "front", "consumer"]) run(nsOf(s), s, process.execPath, [join(here, "services", `${s}.mjs`)], env);
  // The users come last, once the servers had a moment to listen.
  await new Promise((r) => setTimeout(r, 700));
  run(nsOf("loadgen"), "loadgen", process.execPath, [join(here, "services", "loadgen.mjs")], env);

}

main().catch((err) => {
  log(`setup failed: ${err.message}`);
  void stop(1);
});
