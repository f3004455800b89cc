// The worker under control of the hub and its own supervision, end to end: the real sidecar on a
// veth, real HTTP (curl → node) and Redis (redis-cli → redis-server) traffic, a real hub.
// - TapConfig.dissectors (PUT /api/tap) switches the dissectors of new flows in every shard;
//   unknown names are a warning in WorkerStats, not a failure.
// - A dissecting thread that dies is restarted; entries resume; the hub sees the restart count.
import { describe, expect, it } from "vitest";
import type { RunningHub } from "@tapline/hub";
import { curlRequests, e2eWorker, hub, hubEntries, hubWorkers, serversInNetns, waitFor, type JsonEntry } from "./traffic.js";

const net = serversInNetns();
const skip = net.skip;

const tagged = (l: JsonEntry[], tag: string) => l.filter((e) => e.protocol === "HTTP" && e.httpRequest?.path.startsWith(`/p/${tag}-`));
const redisKeys = (l: JsonEntry[], prefix: string) => l.filter((e) => e.protocol === "REDIS" && e.redisRequest?.args?.[0]?.startsWith(prefix));

async function putTap(h: RunningHub, body: object): Promise<void> {
  const res = await fetch(`${h.url}/api/tap`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function redisSets(prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await net.pair.exec(net.pair.a, "redis-cli", ["-h", net.pair.ipB, "SET", `${prefix}${i}`, "v"]);
}

describe.skipIf(!!skip)(`worker control end to end${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("TapConfig.dissectors: only redis → no HTTP entries; unknown names warned; an empty list brings HTTP back", async () => {
    const h = await hub();
    // Two shards: the reading thread's and a dissecting thread's; the switch must reach both.
    const w = await e2eWorker(net.pair, h.ingestUrl, { threads: 2 });
    try {
      await waitFor("the worker to connect", () => w.hub!.stats.connected, Boolean);
      expect(w.stats().dissectorsEnabled).toEqual(["http", "redis", "kafka", "http2", "dns"]);
      await curlRequests(net.pair, net.pair.a, net.pair.ipB, "s0", 4, 1);
      await waitFor("HTTP entries before the switch", () => hubEntries(h), (l) => tagged(l, "s0").length === 4);

      await putTap(h, { dissectors: ["redis", "bogus"] });
      await waitFor("the worker to switch", () => w.stats().dissectorsEnabled, (d) => d.join() === "redis");
      expect(w.stats().warnings).toEqual([expect.stringMatching(/^tap config: unknown dissector "bogus" ignored \(available: http, redis, kafka, http2, dns\)$/)]);
      const undetectedBefore = w.stats().pipeline.flowsUndetected;
      // One connection per request: the flows spread over both shards.
      await curlRequests(net.pair, net.pair.a, net.pair.ipB, "s1", 10, 1);
      await redisSets("s1k", 3);
      // Evidence the HTTP flows were seen and left without a dissector (not just not yet read).
      await waitFor("the HTTP flows undetected", () => w.stats().pipeline.flowsUndetected - undetectedBefore, (n) => n >= 10);
      const during = await waitFor("Redis entries while only redis is on", () => hubEntries(h), (l) => redisKeys(l, "s1k").length === 3);
      expect(tagged(during, "s1")).toEqual([]);
      const workers = await waitFor("the set and the warning at the hub", () => hubWorkers(h), (l) => l[0]?.stats?.dissectorsEnabled?.join() === "redis" && l[0]?.stats?.warnings?.length === 1);
      expect(workers[0].stats!.warnings[0]).toContain('unknown dissector "bogus"');

      // Every name unknown: the worker's own set (all) applies, with the warning.
      await putTap(h, { dissectors: ["nope"] });
      await waitFor("the worker's own set back", () => w.stats(), (s) => s.dissectorsEnabled.length === 5 && /"nope".*worker's own set/.test(s.warnings[0] ?? ""));
      await putTap(h, {});
      await waitFor("warnings cleared", () => w.stats().warnings, (l) => l.length === 0);
      const after = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "s2", 6, 1);
      const entries = await waitFor("HTTP entries again", () => hubEntries(h), (l) => tagged(l, "s2").length === 6);
      expect(tagged(entries, "s2").map((e) => e.httpRequest!.path).sort()).toEqual([...after].sort());
      expect(tagged(entries, "s1")).toEqual([]);
    } finally {
      await w.stop();
      await h.close();
    }
  });

  it("restarts a dead dissecting thread: the hub sees the restart, entries resume on every shard", async () => {
    const h = await hub();
    // The reading thread only reads: every flow is on one of the two dissecting threads.
    const w = await e2eWorker(net.pair, h.ingestUrl, { threads: 3, mainThread: "read", threadRestartMinMs: 300 });
    try {
      await waitFor("the worker to connect", () => w.hub!.stats.connected, Boolean);
      await curlRequests(net.pair, net.pair.a, net.pair.ipB, "t0", 6, 1);
      await waitFor("entries before", () => hubEntries(h), (l) => tagged(l, "t0").length === 6);
      const t0 = w.engine.thread(0)!;
      const t1 = w.engine.thread(1)!;
      await t0.terminate();
      await waitFor("the restart", () => w.stats().threads, (t) => t.threadRestarts === 1 && t.threadsDown === 0);
      expect(w.engine.thread(0)).not.toBe(t0);
      expect(w.engine.thread(1), "the other shard's thread went on").toBe(t1);
      expect(w.stats().threads.lastThreadError).toBe("dissecting thread 0: exited with code 1");
      const after = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "t1", 12, 1);
      await redisSets("t1k", 4);
      const entries = await waitFor("entries after the restart", () => hubEntries(h), (l) => tagged(l, "t1").length === 12 && redisKeys(l, "t1k").length === 4);
      expect(tagged(entries, "t1").map((e) => e.httpRequest!.path).sort()).toEqual([...after].sort());
      expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      // Both threads dissected some of the new flows (ids name the shard; r1 = restarted once).
      expect(tagged(entries, "t1").some((e) => /\.0r1-/.test(e.id))).toBe(true);
      expect(tagged(entries, "t1").some((e) => /\.1-/.test(e.id))).toBe(true);
      const workers = await waitFor("the restart at the hub", () => hubWorkers(h), (l) => l[0]?.stats?.threadRestarts === 1);
      expect(workers[0].stats!.threadPacketsLost ?? 0).toBe(w.stats().threads.threadPacketsLost);
    } finally {
      await w.stop();
      await h.close();
    }
  });
});
