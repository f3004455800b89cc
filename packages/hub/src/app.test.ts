import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as fc from "fast-check";
import WebSocket from "ws";
import { Entry, EntryStatus, Protocol, entryFromJson } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { startHub } from "./app.js";
import type { RunningHub, StartHubOptions } from "./app.js";
import { CARRIERS, TestWorker, entryWithSecret } from "./testkit/index.js";
import { DEFAULT_SENSITIVE_WORDS } from "./redact/index.js";
import { MATCH_ALL } from "./query/index.js";
import type { CompiledFilter } from "./query/index.js";
import { FilterSyntaxError } from "./filter/errors.js";

const TOKEN = "t0ken-for-tests";

/** A tiny compiler for these tests only (the filter language has its own tests): `dst.pod == "x"`. */
function testCompiler(text: string): CompiledFilter {
  if (!text.trim()) return MATCH_ALL;
  const m = /^dst\.pod == "([^"]*)"$/.exec(text.trim());
  if (!m) throw new FilterSyntaxError("unexpected token", Math.max(0, text.search(/\S/)));
  return { predicate: (e) => e.dst?.pod === m[1], sql: { where: "dst_pod = ?", params: [m[1]], exact: true } };
}

function httpEntry(i: number, over: Partial<EntryInit> = {}): EntryInit {
  return {
    id: `w-${i}`, timestampNs: 1_763_000_000_000_000_000 + i * 1_000_000, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
    src: { ip: "10.0.0.1", port: 40000 + (i % 1000), pod: "client", namespace: "shop" },
    dst: { ip: "10.0.0.2", port: 8080, pod: i % 2 ? "odd" : "even", namespace: "shop" },
    httpRequest: { method: "GET", path: `/item/${i}`, version: "HTTP/1.1", headers: [{ name: "Host", value: "x" }] },
    httpResponse: { status: 200, version: "HTTP/1.1" }, elapsedMs: i % 100, requestSize: 100, responseSize: 50,
    ...over,
  };
}

let hub: RunningHub;
const workers: TestWorker[] = [];

async function start(extra: Partial<StartHubOptions> = {}): Promise<void> {
  hub = await startHub({
    port: 0, token: TOKEN, storagePath: ":memory:", storageLimitBytes: 64 << 20,
    redact: { defaults: true, keys: [], valuePatterns: [] }, compileFilter: testCompiler, helloTimeoutMs: 2000, ...extra,
  });
}

async function worker(id = "worker-1", pcap?: Buffer): Promise<TestWorker> {
  const w = new TestWorker({ url: hub.ingestUrl, token: TOKEN, workerId: id, pcap });
  workers.push(w);
  await w.hello();
  await w.waitFor((m) => !!m.helloAck);
  return w;
}

const get = async (url: string) => {
  const res = await hub.app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json() as Record<string, any>, raw: res.body };
};

beforeEach(() => start());
afterEach(async () => {
  for (const w of workers.splice(0)) w.close();
  await hub.close();
});

describe("ingest auth", () => {
  it.each([["no token", ""], ["wrong token", "nope"]])("%s: closed with 1008, nothing stored", async (_name, token) => {
    const w = new TestWorker({ url: hub.ingestUrl, token });
    await w.hello();
    w.sendBatch([httpEntry(1)]);
    await w.closed;
    expect(w.closeCode).toBe(1008);
    expect((await get("/api/health")).body.counts.entries).toBe(0);
  });

  it("a batch before hello is refused", async () => {
    const w = new TestWorker({ url: hub.ingestUrl, token: TOKEN });
    await w.open();
    w.sendBatch([httpEntry(1)]);
    await w.closed;
    expect(w.closeCode).toBe(1008);
    expect(hub.app.store.stats().entries).toBe(0);
  });

  it("right token: hello ack, tap config, batches stored and de-duplicated, stats, gone on close", async () => {
    const w = await worker();
    expect(w.received.some((m) => !!m.tap)).toBe(true);
    w.sendBatch([httpEntry(1), httpEntry(2)]);
    w.sendBatch([httpEntry(2), httpEntry(3)]);
    w.sendStats({ packetsSeen: 42, captureState: "running" });
    await w.flush();
    const health = (await get("/api/health")).body;
    expect(health.counts.entries).toBe(3);
    expect(health.counts.duplicates).toBe(1);
    let list = (await get("/api/workers")).body.workers;
    expect(list[0]).toMatchObject({ id: "worker-1", state: "connected", lastSeq: 2, stats: { packetsSeen: 42 } });
    // Zero counters and empty lists are present (defaults), the supervision fields included.
    expect(list[0].stats).toMatchObject({
      packetsDropped: 0, sidecarRestarts: 0, captureGapMs: 0, threadRestarts: 0, threadFlowsLost: 0, threadPacketsLost: 0,
      dissectorsEnabled: [], warnings: [], tlsTargets: [], captureState: "running",
    });
    w.sendStats({ packetsSeen: 43, sidecarRestarts: 2, captureGapMs: 1500, threadRestarts: 1, threadFlowsLost: 3, threadPacketsLost: 70, dissectorsEnabled: ["http", "redis"], warnings: ["unknown dissector 'smtp'"] });
    await w.flush();
    list = (await get("/api/workers")).body.workers;
    expect(list[0].stats).toMatchObject({
      packetsSeen: 43, packetsDropped: 0, sidecarRestarts: 2, captureGapMs: 1500, threadRestarts: 1, threadFlowsLost: 3, threadPacketsLost: 70,
      dissectorsEnabled: ["http", "redis"], warnings: ["unknown dissector 'smtp'"],
    });
    w.close();
    await w.closed;
    await new Promise((r) => setTimeout(r, 50));
    list = (await get("/api/workers")).body.workers;
    expect(list[0].state).toBe("gone");
    // Reconnecting gets the last stored seq back.
    const again = await worker();
    expect(Number(again.received.find((m) => m.helloAck)!.helloAck!.lastSeq)).toBe(2);
  });

  it("PUT /api/tap pushes the new target to connected workers; bad bodies are 400", async () => {
    const w = await worker();
    const res = await hub.app.inject({ method: "PUT", url: "/api/tap", payload: { podRegex: "front.*", namespaces: ["shop"] } });
    expect(res.statusCode).toBe(200);
    const tap = await w.waitFor((m) => m.tap?.podRegex === "front.*");
    expect(tap.tap!.namespaces).toEqual(["shop"]);
    expect((await hub.app.inject({ method: "PUT", url: "/api/tap", payload: { podRegex: "(" } })).statusCode).toBe(400);
    expect((await hub.app.inject({ method: "PUT", url: "/api/tap", payload: { namespaces: "x" } })).statusCode).toBe(400);
  });
});

describe("entries API", () => {
  it("pages newest first with a cursor, filters, 400 with position, 404 for unknown ids", async () => {
    const w = await worker();
    w.sendBatch(Array.from({ length: 25 }, (_, i) => httpEntry(i)));
    await w.flush();
    const seen: string[] = [];
    let before = 0;
    for (;;) {
      const page = (await get(`/api/entries?limit=10${before ? `&before=${before}` : ""}`)).body;
      seen.push(...page.entries.map((e: any) => e.id));
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `w-${24 - i}`));
    const odd = (await get(`/api/entries?filter=${encodeURIComponent('dst.pod == "odd"')}`)).body;
    expect(odd.entries).toHaveLength(12);
    expect(odd.entries[0].summary).toMatchObject({ method: "GET", target: "/item/23" });
    const bad = await get(`/api/entries?filter=${encodeURIComponent("  oops")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.position).toBe(2);
    expect((await get("/api/entries?limit=0")).status).toBe(400);
    expect((await get("/api/entries/w-3")).body.id).toBe("w-3");
    expect((await get("/api/entries/nope")).status).toBe(404);
  });

  it("property: a planted secret under any default key on any carrier never reaches storage or the API", async () => {
    const w = await worker();
    let n = 0;
    const name = fc.tuple(fc.constantFrom(...DEFAULT_SENSITIVE_WORDS), fc.constantFrom("", "X-", "my_"), fc.boolean())
      .map(([word, pre, up]) => (up ? `${pre}${word}`.toUpperCase() : `${pre}${word}`));
    const secret = fc.stringMatching(/^[a-z0-9]{12,20}$/).map((s) => `Qz${s}`);
    await fc.assert(fc.asyncProperty(fc.constantFrom(...CARRIERS), name, secret, async (carrier, key, value) => {
      const id = `p-${n++}`;
      w.sendBatch([entryWithSecret(carrier, key, value, id)]);
      await w.flush();
      const stored = hub.app.store.get(id);
      const api = (await get(`/api/entries/${id}`)).raw;
      // Bytes fields (Kafka records) are base64 in JSON: check the decoded bytes as well.
      const apiBytes = Buffer.from(Entry.encode(entryFromJson(JSON.parse(api))).finish()).toString("latin1");
      const list = (await get("/api/entries?limit=1")).raw;
      const har = (await get("/api/har")).raw;
      return !!stored && !Buffer.from(stored).toString("latin1").includes(value) && !api.includes(value) && !list.includes(value) && !har.includes(value) && !apiBytes.includes(value) && apiBytes.includes("[REDACTED]");
    }), { numRuns: 60 });
  });
});

describe("live stream", () => {
  it("sends filtered batches, and a slow client gets a counted gap without blocking ingest", async () => {
    await hub.close();
    await start({ live: { queueLimit: 5, flushIntervalMs: 50 } });
    const w = await worker();
    const ws = new WebSocket(`${hub.url.replace("http", "ws")}/api/stream?filter=${encodeURIComponent('dst.pod == "odd"')}`);
    const messages: any[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once("open", r));
    await new Promise((r) => setTimeout(r, 30));
    // 40 entries between two flushes: 20 match, 5 fit the queue, 15 are a counted gap.
    w.sendBatch(Array.from({ length: 40 }, (_, i) => httpEntry(i)));
    await w.flush();
    await new Promise((r) => setTimeout(r, 150));
    w.sendBatch([httpEntry(101)]);
    await w.flush();
    await new Promise((r) => setTimeout(r, 150));
    ws.close();
    const entries = messages.filter((m) => m.type === "entries").flatMap((m) => m.entries);
    expect(entries.every((e) => e.dst.pod === "odd")).toBe(true);
    expect(entries.map((e) => e.id)).toEqual(["w-1", "w-3", "w-5", "w-7", "w-9", "w-101"]);
    const gaps = messages.filter((m) => m.type === "gap");
    expect(gaps.reduce((s, g) => s + g.dropped, 0)).toBe(15);
    expect(hub.app.store.stats().entries).toBe(41);
  });
});

describe("service map, HAR, metrics", () => {
  it("edge counts, errors and nearest-rank percentiles from a known set", async () => {
    const w = await worker();
    // 100 entries client -> even/odd; latencies 1..100 ms on the "lat" edge, 10 of them 5xx.
    const set: EntryInit[] = Array.from({ length: 100 }, (_, i) => httpEntry(i, {
      dst: { ip: "10.0.0.9", port: 80, pod: "lat", namespace: "shop" }, elapsedMs: i + 1,
      httpResponse: { status: i % 10 === 0 ? 503 : 200 },
    }));
    set.push(httpEntry(500, { src: { ip: "192.168.1.5", port: 1 }, dst: { ip: "10.0.0.3", port: 6379, pod: "redis", namespace: "db" }, protocol: Protocol.REDIS, httpRequest: undefined, httpResponse: undefined, redisRequest: { command: "GET", args: ["k"] }, redisResponse: { error: true } }));
    w.sendBatch(set);
    await w.flush();
    const map = (await get("/api/servicemap")).body;
    const lat = map.edges.find((e: any) => e.dst === "shop/lat");
    expect(lat).toMatchObject({ src: "shop/client", protocol: "http", count: 100, errors: 10, p50Ms: 50, p95Ms: 95, p99Ms: 99, bytes: 15000 });
    const redis = map.edges.find((e: any) => e.protocol === "redis");
    expect(redis).toMatchObject({ src: "192.168.1.5", dst: "db/redis", count: 1, errors: 1 });
    expect(map.nodes.find((n: any) => n.id === "192.168.1.5").kind).toBe("external");
    const metrics = (await hub.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain('tapline_requests_total{src="shop/client",dst="shop/lat",protocol="http"} 100');
    expect(metrics).toContain('tapline_request_errors_total{src="shop/client",dst="shop/lat",protocol="http"} 10');
    expect(metrics).toMatch(/tapline_request_duration_seconds_bucket\{le="0.05",src="shop\/client",dst="shop\/lat",protocol="http"\} 50/);
    expect(metrics).toContain('tapline_hub_storage{kind="entries"} 101');
  });

  it("HAR 1.2 of the HTTP entries only, with required fields", async () => {
    const w = await worker();
    w.sendBatch([
      httpEntry(1, { httpRequest: { method: "POST", path: "/a?q=1&token=x", version: "HTTP/1.1", headers: [{ name: "Host", value: "shop.local" }], body: { data: Buffer.from('{"a":1}'), size: 7, contentType: "application/json" } } }),
      httpEntry(2, { protocol: Protocol.REDIS, httpRequest: undefined, httpResponse: undefined, redisRequest: { command: "PING" } }),
    ]);
    await w.flush();
    const har = (await get("/api/har")).body;
    expect(har.log.version).toBe("1.2");
    expect(har.log.entries).toHaveLength(1);
    const e = har.log.entries[0];
    expect(new Date(e.startedDateTime).toISOString()).toBe(e.startedDateTime);
    expect(e.request).toMatchObject({ method: "POST", url: "http://shop.local/a?q=1&token=[REDACTED]", httpVersion: "HTTP/1.1", headersSize: -1, bodySize: 7, postData: { mimeType: "application/json", text: '{"a":1}' } });
    expect(e.request.queryString).toEqual([{ name: "q", value: "1" }, { name: "token", value: "[REDACTED]" }]);
    for (const k of ["cookies", "headers"]) expect(Array.isArray(e.request[k]) && Array.isArray(e.response[k])).toBe(true);
    expect(e.response).toMatchObject({ status: 200, content: { size: 0, mimeType: expect.any(String) }, redirectURL: "" });
    expect(e.timings.wait).toBe(1);
    expect(e.cache).toEqual({});
  });
});
