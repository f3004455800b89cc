// Shared parts of the worker end-to-end tests: a hub in-process, an HTTP server and a
// redis-server inside namespace `b`, clients in namespace `a`, and the hub's entries API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub, type RunningHub } from "@tapline/hub";
import { startWorker, type RunningWorker, type WorkerOptions } from "@tapline/worker";
import { existsSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { createNetnsPair, netnsUnavailableReason, type NetnsPair } from "../helpers/netns.js";

export const TOKEN = "worker-e2e-token";
export const sidecarPath = new URL("../../native/build/tapline-capture", import.meta.url).pathname;

/**
 * Registers the suite's beforeAll/afterAll: a namespace pair with the HTTP server and
 * redis-server in `b`. `skip` says why the suite cannot run here (no netns, no sidecar binary).
 */
export function serversInNetns(): { readonly skip: string | null; readonly pair: NetnsPair } {
  const skip = netnsUnavailableReason() ?? (existsSync(sidecarPath) ? null : `no sidecar at ${sidecarPath} (make -C native)`);
  let pair: NetnsPair | undefined;
  beforeAll(async () => {
    if (skip) return;
    pair = await createNetnsPair();
    await httpServer(pair, pair.b, pair.a, pair.ipB);
    await redisServer(pair, pair.b, pair.a, pair.ipB);
  });
  afterAll(async () => {
    await pair?.cleanup();
  });
  return {
    skip,
    get pair() {
      if (!pair) throw new Error("the netns pair is not up (suite skipped or beforeAll failed)");
      return pair;
    },
  };
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function hub(port = 0, storagePath = ":memory:"): Promise<RunningHub> {
  return startHub({ port, token: TOKEN, storagePath, storageLimitBytes: 64 << 20, redact: { defaults: true, keys: [], valuePatterns: [] } });
}

/** A worker capturing on the veth in namespace `a` through the real sidecar, sending to `hubUrl`, stats every 300 ms. */
export function e2eWorker(pair: NetnsPair, hubUrl: string, extra: WorkerOptions = {}): Promise<RunningWorker> {
  return startWorker({
    hubUrl,
    token: TOKEN,
    workerId: "e2e-worker",
    node: "node-e2e",
    interfaces: [pair.ifA],
    sidecarPath,
    sidecarWrap: ["ip", "netns", "exec", pair.a],
    kubeconfig: false,
    pcapLimitBytes: 4 << 20,
    statsIntervalMs: 300,
    hub: { batchMaxMs: 50, reconnectMinMs: 100, reconnectMaxMs: 300 },
    ...extra,
  });
}

/** The hub's /api/workers list. */
export async function hubWorkers(h: RunningHub): Promise<{ id: string; stats?: Record<string, any> }[]> {
  return ((await (await fetch(`${h.url}/api/workers`)).json()) as { workers: { id: string; stats?: Record<string, any> }[] }).workers;
}

export interface JsonEntry {
  id: string;
  protocol: string;
  src: { ip: string; port: number; pod?: string; namespace?: string };
  dst: { ip: string; port: number; pod?: string; namespace?: string };
  httpRequest?: { method: string; path: string };
  httpResponse?: { status: number };
  redisRequest?: { command: string; args?: string[] };
}

export async function hubEntries(h: RunningHub): Promise<JsonEntry[]> {
  const res = await fetch(`${h.url}/api/entries?limit=1000`);
  if (!res.ok) throw new Error(`GET /api/entries: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { entries: JsonEntry[] }).entries;
}

export async function waitFor<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A node HTTP server on ip:8080 in namespace `ns` answering "ok <path>". */
export async function httpServer(pair: NetnsPair, ns: string, client: string, ip: string): Promise<void> {
  pair.spawn(ns, process.execPath, ["-e", `require("http").createServer((q, r) => r.end("ok " + q.url)).listen(8080, "${ip}")`]);
  await waitFor("the HTTP server", async () => (await pair.exec(client, "curl", ["-s", "-m", "1", `http://${ip}:8080/ready`])).stdout, (o) => o === "ok /ready");
}

/** `count` GET requests /p/<tag>-<i> from namespace `ns`, `perConnection` per curl (keep-alive). */
export async function curlRequests(pair: NetnsPair, ns: string, ip: string, tag: string, count: number, perConnection = 5): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => `/p/${tag}-${i}`);
  for (let i = 0; i < count; i += perConnection) {
    const urls = paths.slice(i, i + perConnection).map((p) => `http://${ip}:8080${p}`);
    const r = await pair.exec(ns, "curl", ["-s", "-m", "5", ...urls]);
    if (r.code !== 0) throw new Error(`curl failed (${r.code}): ${r.stderr}`);
  }
  return paths;
}

export async function redisServer(pair: NetnsPair, ns: string, client: string, ip: string): Promise<void> {
  pair.spawn(ns, "redis-server", ["--bind", ip, "--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  await waitFor("redis-server", async () => (await pair.exec(client, "redis-cli", ["-h", ip, "PING"])).stdout.trim(), (o) => o === "PONG");
}
