// A dissecting thread that dies is restarted with backoff; its flows and the packets it never
// dissected are counted; the other shards go on; entries resume with ids that do not repeat.
// The threads die for real: terminate() from outside, or an exception thrown inside the thread
// (a batch message without its buffer makes the thread's handler throw).
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { Entry, entryToJson, Protocol, type EntryInit } from "@tapline/protocol";
import { newPacketInfo } from "../decode/index.js";
import { readFrames, type Frame } from "../flows/__fixtures__/testkit.js";
import { createEngine, type DissectEngine, type EngineOptions } from "./engine.js";
import { flowHash } from "./flowhash.js";

const fixture = (p: string) => new URL(`../dissectors/${p}`, import.meta.url).pathname;
const redis = readFrames(fixture("redis/__fixtures__/redis.pcap"));
const httpPipe = readFrames(fixture("http/__fixtures__/http-pipe.pcap"));
const http = readFrames(fixture("http/__fixtures__/http.pcap"));

const engines: DissectEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function engine(threads: number, extra: Partial<EngineOptions> = {}) {
  const entries: EntryInit[] = [];
  const log: string[] = [];
  const e = createEngine({
    workerId: "w", idPrefix: "w-1", node: "n", dissectors: [], threads, mainShard: false,
    onEntry: (x) => entries.push(x),
    onEncoded: (b) => entries.push(Entry.decode(b)),
    log: (m) => log.push(m),
    ...extra,
  });
  engines.push(e);
  return { e, entries, log };
}

const info = newPacketInfo();
/** The thread shard a frame goes to with `shards` thread shards and no reading-thread shard. */
const shardOf = (f: Frame, shards: number) => {
  const h = flowHash(f.linktype, f.data, info);
  return (h < 0 ? 0 : h >>> 8) % shards;
};
function push(e: DissectEngine, frames: Frame[]) {
  for (const f of frames) e.push(f.linktype, f.tsNs, f.data, flowHash(f.linktype, f.data, info));
  e.flush();
}
const essence = (x: EntryInit) => {
  const j = entryToJson(x) as Record<string, unknown>;
  delete j.id;
  delete j.workerId; // set by the threads; on the reading thread by the caller
  return JSON.stringify(j);
};
async function until<T>(what: string, probe: () => T, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let inlineCount = 0;
describe("dissecting thread restarts", () => {
  const inline = (() => {
    const { e, entries } = engine(1);
    push(e, redis);
    void e.finish();
    inlineCount = entries.length;
    return entries;
  })();

  it("restarts a terminated thread; the restarted thread dissects everything with new ids", async () => {
    const { e, entries, log } = engine(3, { restartMinMs: 50 });
    const t0 = e.thread(0)!;
    await once(t0, "online");
    await t0.terminate();
    await until("the restart", () => e.health(), (h) => h.threadRestarts === 1 && h.threadsDown === 0);
    expect(e.thread(0)).not.toBe(t0);
    push(e, redis);
    await e.finish();
    expect(entries.map(essence).sort()).toEqual(inline.map(essence).sort());
    expect(new Set(entries.map((x) => x.id)).size).toBe(entries.length);
    const s0 = redis.filter((f) => shardOf(f, 2) === 0).length;
    expect(s0, "some flows on the restarted shard").toBeGreaterThan(0);
    expect(entries.some((x) => x.id!.startsWith("w-1.0r1-"))).toBe(true);
    expect(e.health()).toMatchObject({ threadFlowsLost: 0, threadPacketsLost: 0, lastThreadError: "dissecting thread 0: exited with code 1" });
    expect(log.join("\n")).toMatch(/dissecting thread 0 died \(exited with code 1\): 0 flows and 0 packets lost; restarting in 50 ms/);
  });

  it("while a thread is down its shard's packets are counted lost and the other shard goes on", async () => {
    const { e, entries } = engine(3, { restartMinMs: 60_000 });
    const t0 = e.thread(0)!;
    await once(t0, "online");
    await t0.terminate();
    await until("the death", () => e.health(), (h) => h.threadsDown === 1);
    push(e, redis);
    const stats = await e.finish();
    const lost = redis.filter((f) => shardOf(f, 2) === 0);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(redis.length);
    expect(e.health()).toMatchObject({ threadRestarts: 0, threadsDown: 1, threadPacketsLost: lost.length });
    expect(stats.packets).toBe(redis.length - lost.length);
    // Exactly the entries of shard 1's flows.
    const kept = new Set<number>();
    for (const f of redis) if (shardOf(f, 2) === 1) kept.add(info.l4.readUInt16BE(info.l4Off) ^ info.l4.readUInt16BE(info.l4Off + 2));
    const key = (x: EntryInit) => x.src!.port! ^ x.dst!.port!;
    expect(entries.map(essence).sort()).toEqual(inline.filter((x) => kept.has(key(x))).map(essence).sort());
    expect(entries.length).toBeGreaterThan(0);
  });

  it("restarts a thread that throws, reports the error and counts the flows it held", async () => {
    const { e, entries, log } = engine(2, { restartMinMs: 50 });
    const half = Math.floor(redis.length / 2);
    push(e, redis.slice(0, half));
    const held = await until("the first half dissected", () => e.stats(), (s) => s.packets === half);
    expect(held.flowsActive).toBeGreaterThan(0);
    const before = entries.length;
    expect(before).toBeGreaterThan(0);
    // A batch without its buffer: the thread's handler throws (Buffer.from(undefined)), uncaught.
    e.thread(0)!.postMessage({ type: "batch", used: 16 });
    await until("the restart", () => e.health(), (h) => h.threadRestarts === 1 && h.threadsDown === 0);
    const h = e.health();
    expect(h.threadFlowsLost).toBe(held.flowsActive);
    expect(h.lastThreadError).toMatch(/^dissecting thread 0: .*(argument|undefined)/);
    expect(log.find((l) => l.includes("died"))).toContain(`${held.flowsActive} flows and 0 packets lost`);
    push(e, redis.slice(half));
    const stats = await e.finish();
    // Counters of the dead thread are kept; the restarted one adds its own.
    expect(stats.packets).toBe(redis.length);
    const after = entries.slice(before);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((x) => x.id!.startsWith("w-1.0r1-"))).toBe(true);
    expect(new Set(entries.map((x) => x.id)).size).toBe(entries.length);
  });

  it("a restarted thread gets the current dissector set", async () => {
    const { e, entries } = engine(2, { restartMinMs: 50 });
    e.setDissectors(["redis"]);
    expect(e.dissectorsEnabled).toEqual(["redis"]);
    await e.thread(0)!.terminate();
    await until("the restart", () => e.health(), (h) => h.threadRestarts === 1 && h.threadsDown === 0);
    push(e, http);
    push(e, redis);
    await e.finish();
    expect(entries.filter((x) => x.protocol === Protocol.HTTP)).toEqual([]);
    expect(entries.filter((x) => x.protocol === Protocol.REDIS).length).toBe(inline.length);
  });
});

describe("pods after a restart", () => {
  it("a restarted thread names pods from the pod/service events forwarded before it started", async () => {
    const { e, entries } = engine(2, { restartMinMs: 50 });
    // The Redis server of the fixture listens on 127.0.0.1:25303; a pod with that IP names it.
    const pod = { metadata: { name: "redis-0", namespace: "db", uid: "u-1" }, spec: { nodeName: "n" }, status: { phase: "Running", podIP: "127.0.0.1", podIPs: [{ ip: "127.0.0.1" }] } };
    e.k8s({ kind: "pod", op: "upsert", obj: pod });
    e.k8s({ kind: "pod", op: "upsert", obj: { ...pod, metadata: { name: "gone-0", namespace: "db", uid: "u-2" }, status: { phase: "Running", podIP: "10.9.9.9" } } });
    e.k8s({ kind: "pod", op: "delete", obj: { metadata: { name: "gone-0", namespace: "db", uid: "u-2" } } });
    await e.thread(0)!.terminate();
    await until("the restart", () => e.health(), (h) => h.threadRestarts === 1 && h.threadsDown === 0);
    push(e, redis);
    await e.finish();
    expect(entries.length).toBe(inlineCount);
    for (const x of entries) expect(x.dst).toMatchObject({ pod: "redis-0", namespace: "db" });
  });
});

describe("dissector switch across threads", () => {
  it("setDissectors reaches the dissecting thread: no HTTP while only redis is on, HTTP again after", async () => {
    const { e, entries } = engine(2);
    expect(() => e.setDissectors(["nope"])).toThrow(/unknown dissector "nope" \(available: http, redis/);
    e.setDissectors(["redis"]);
    push(e, http);
    await until("the capture dissected", () => e.stats(), (s) => s.packets === http.length);
    expect(entries).toEqual([]);
    e.setDissectors([]);
    push(e, httpPipe);
    await e.finish();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((x) => x.protocol === Protocol.HTTP)).toBe(true);
  });
});
