// The worker process end to end: the real capture sidecar on a veth between two namespaces,
// real HTTP (node server, curl) and Redis (redis-server, redis-cli) traffic, startWorker, and a
// real hub receiving the entries over ws; then a hub restart mid-stream and a sidecar crash.
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkerOptions } from "@tapline/worker";
import { curlRequests, e2eWorker, hub, hubEntries, serversInNetns, tempDir, TOKEN, waitFor, type JsonEntry } from "./traffic.js";

const net = serversInNetns();
const skip = net.skip;

const worker = (hubUrl: string, extra: WorkerOptions = {}) => e2eWorker(net.pair, hubUrl, extra);

const httpPaths = (l: JsonEntry[]) => l.filter((e) => e.protocol === "HTTP").map((e) => e.httpRequest?.path ?? "");

describe.skipIf(!!skip)(`worker end to end${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("delivers every HTTP request and Redis command to the hub once, with the right addresses", async () => {
    const h = await hub();
    // Sharded: one dissecting thread plus the reading thread's shard, on a live capture.
    const w = await worker(h.ingestUrl, { threads: 2 });
    try {
      await waitFor("the worker to connect", () => w.hub!.stats.connected, Boolean);
      const paths = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "a", 30);
      for (const cmd of [["SET", "k1", "v1"], ["GET", "k1"], ["INCR", "n"]]) await net.pair.exec(net.pair.a, "redis-cli", ["-h", net.pair.ipB, ...cmd]);
      const entries = await waitFor("entries in the hub", () => hubEntries(h), (l) => httpPaths(l).filter((p) => p.startsWith("/p/a-")).length >= 30 && l.filter((e) => e.protocol === "REDIS").length >= 3);
      const http = entries.filter((e) => e.protocol === "HTTP" && e.httpRequest?.path.startsWith("/p/a-"));
      expect(http.map((e) => e.httpRequest!.path).sort()).toEqual([...paths].sort());
      for (const e of http) {
        expect(e.src.ip).toBe(net.pair.ipA);
        expect(e.dst).toMatchObject({ ip: net.pair.ipB, port: 8080 });
        expect(e.httpResponse?.status).toBe(200);
      }
      const redis = entries.filter((e) => e.protocol === "REDIS");
      expect(redis.map((e) => e.redisRequest?.command)).toEqual(expect.arrayContaining(["SET", "GET", "INCR"]));
      for (const e of redis) expect(e.dst).toMatchObject({ ip: net.pair.ipB, port: 6379 });
      expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      // The hub got WorkerStats with the capture state and counters.
      const workers = await waitFor("worker stats", async () => ((await (await fetch(`${h.url}/api/workers`)).json()) as { workers: any[] }).workers, (l) => Number(l[0]?.stats?.entriesSent) >= 33);
      expect(workers[0].stats).toMatchObject({ captureState: "running" });
      expect(Number(workers[0].stats.packetsSeen)).toBeGreaterThan(100);
      // The ring kept the packets: the hub's PCAP export asks the worker and gets the Redis flows' packets.
      expect(w.ring!.stats().packets).toBeGreaterThan(100);
      const res = await fetch(`${h.url}/api/pcap?filter=${encodeURIComponent("redis")}`);
      expect(res.status).toBe(200);
      const pcap = join(tmpdir(), `tapline-e2e-${process.pid}.pcapng`);
      writeFileSync(pcap, Buffer.from(await res.arrayBuffer()));
      try {
        const t = spawnSync("tshark", ["-r", pcap, "-T", "fields", "-e", "tcp.port", "-e", "_ws.expert.message"], { encoding: "utf8" });
        expect(t.status).toBe(0);
        const rows = t.stdout.trim().split("\n");
        expect(rows.length).toBeGreaterThanOrEqual(3 * 8); // 3 connections: handshake, command, reply, close
        for (const row of rows) expect(row).toMatch(/(^|,)6379(,|\t|$)/);
        expect(t.stdout).not.toMatch(/Malformed/i);
      } finally {
        rmSync(pcap, { force: true });
      }
    } finally {
      await w.stop();
      await h.close();
    }
  });

  it("survives a hub restart: nothing lost inside the queue bound, overflow counted beyond it", async () => {
    const db = tempDir("tapline-hubdb-");
    const storage = join(db.dir, "hub.db");
    let h = await hub(0, storage);
    const port = Number(new URL(h.url).port);
    const bound = 25;
    const w = await worker(h.ingestUrl, { hub: { maxQueueEntries: bound, batchMaxEntries: 5, batchMaxMs: 50, reconnectMinMs: 100, reconnectMaxMs: 300 } });
    try {
      await waitFor("the worker to connect", () => w.hub!.stats.connected, Boolean);
      const before = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "b1", 10);
      await waitFor("phase 1 entries", () => hubEntries(h), (l) => httpPaths(l).filter((p) => p.startsWith("/p/b1-")).length === 10);
      // Hub down: 20 requests fit in the queue bound of 25.
      await h.close();
      await waitFor("the worker to see the hub gone", () => w.hub!.stats.connected, (c) => !c, 5000);
      const during = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "b2", 20);
      await waitFor("the worker to queue them", () => w.hub!.backlog, (n) => n >= 20);
      h = await hub(port, storage);
      let entries = await waitFor("queued entries after the restart", () => hubEntries(h), (l) => httpPaths(l).filter((p) => p.startsWith("/p/b2-")).length === 20);
      expect(httpPaths(entries).filter((p) => p.startsWith("/p/b")).sort()).toEqual([...before, ...during].sort());
      expect(w.hub!.stats.entriesDropped).toBe(0);
      // Hub down again: 60 requests overflow the bound; the overflow is counted, never silent.
      await waitFor("acknowledgements", () => w.hub!.backlog, (n) => n === 0);
      await h.close();
      await waitFor("the worker to see the hub gone", () => w.hub!.stats.connected, (c) => !c, 5000);
      const queuedBefore = w.hub!.stats.entriesQueued;
      await curlRequests(net.pair, net.pair.a, net.pair.ipB, "b3", 60, 10);
      // Every entry dissected while the hub is down, so the bound (not the hub's return) decides.
      await waitFor("all 60 entries dissected", () => w.hub!.stats.entriesQueued - queuedBefore, (n) => n === 60);
      // Whole batches (up to 5 entries) are evicted, so up to 4 fewer than the bound may stay.
      expect(w.hub!.stats.entriesDropped).toBeGreaterThanOrEqual(60 - bound);
      expect(w.hub!.stats.entriesDropped).toBeLessThanOrEqual(60 - bound + 4);
      h = await hub(port, storage);
      entries = await waitFor("the bounded remainder", () => hubEntries(h), (l) => httpPaths(l).filter((p) => p.startsWith("/p/b3-")).length + w.hub!.stats.entriesDropped >= 60);
      const kept = httpPaths(entries).filter((p) => p.startsWith("/p/b3-"));
      expect(kept.length, JSON.stringify({ kept: kept.sort(), stats: w.hub!.stats })).toBeLessThanOrEqual(bound);
      expect(kept.length + w.hub!.stats.entriesDropped).toBe(60);
      expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      expect(new Set(httpPaths(entries)).size).toBe(httpPaths(entries).length);
      // The hub learned how many were lost.
      const workers = await waitFor("the drop count at the hub", async () => ((await (await fetch(`${h.url}/api/workers`)).json()) as { workers: any[] }).workers, (l) => l[0]?.droppedBefore > 0);
      expect(workers[0].droppedBefore).toBe(w.hub!.stats.entriesDropped);
    } finally {
      await w.stop();
      await h.close();
      db.remove();
    }
  });

  it("restarts a killed sidecar, reports the gap, and captures again", async () => {
    const h = await hub();
    const w = await worker(h.ingestUrl, { sidecarRestartMinMs: 300 });
    try {
      await waitFor("the worker to connect", () => w.hub!.stats.connected, Boolean);
      await curlRequests(net.pair, net.pair.a, net.pair.ipB, "d1", 5);
      await waitFor("entries before the crash", () => hubEntries(h), (l) => httpPaths(l).length >= 5);
      const pid = w.sidecar!.pid!;
      process.kill(pid, "SIGKILL");
      await waitFor("the restart", () => w.sidecar!.stats(), (s) => s.restarts === 1 && s.state === "running");
      expect(w.sidecar!.pid).not.toBe(pid);
      expect(w.sidecar!.stats().gapMs).toBeGreaterThanOrEqual(300);
      expect(w.workerStats().captureState).toMatch(/^running \(sidecar restarted 1x, \d+\.\d s without capture\)$/);
      expect(w.workerStats()).toMatchObject({ sidecarRestarts: 1, captureGapMs: w.sidecar!.stats().gapMs });
      const after = await curlRequests(net.pair, net.pair.a, net.pair.ipB, "d2", 5);
      const entries = await waitFor("entries after the restart", () => hubEntries(h), (l) => httpPaths(l).filter((p) => p.startsWith("/p/d2-")).length === 5);
      expect(httpPaths(entries).filter((p) => p.startsWith("/p/d2-")).sort()).toEqual(after.sort());
      const workers = await waitFor("the gap in the hub's worker stats", async () => ((await (await fetch(`${h.url}/api/workers`)).json()) as { workers: any[] }).workers, (l) => /restarted 1x/.test(l[0]?.stats?.captureState ?? ""));
      expect(workers[0].stats.captureState).toContain("without capture");
      // The same in dedicated fields, passed through by the hub unchanged.
      expect(workers[0].stats.sidecarRestarts).toBe(1);
      expect(workers[0].stats.captureGapMs).toBeGreaterThanOrEqual(300);
    } finally {
      await w.stop();
      await h.close();
    }
  });
});
