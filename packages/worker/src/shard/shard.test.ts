// Sharding must not change what is dissected: the same captures give the same entries (ids and
// order aside) with 1, 2 and 3 threads, and sampling keeps or drops whole flows.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { entryToJson, type EntryInit } from "@tapline/protocol";
import { newPacketInfo } from "../decode/index.js";
import { startWorker } from "../runtime/index.js";
import { flowHash } from "./flowhash.js";
import { mergeStats } from "./stats.js";

const dissectorsDir = new URL("../dissectors/", import.meta.url).pathname;
const fixtures = readdirSync(dissectorsDir, { recursive: true, encoding: "utf8" })
  .filter((f) => /__fixtures__\/[^/]+\.pcap$/.test(f) && /^(http|redis|kafka)\//.test(f))
  .map((f) => dissectorsDir + f);

/** An entry without what legitimately differs between runs (id), as comparable text. */
function essence(e: EntryInit): string {
  const j = entryToJson(e) as Record<string, unknown>;
  delete j.id;
  return JSON.stringify(j);
}

async function run(file: string, threads: number, sampleRate = 100): Promise<{ entries: EntryInit[]; packets: number }> {
  const entries: EntryInit[] = [];
  const w = await startWorker({ read: file, threads, sampleRate, pcapLimitBytes: 0, kubeconfig: false, onEntry: (e) => entries.push(e) });
  const s = await w.done;
  await w.stop();
  return { entries, packets: s.pipeline.packets };
}

describe("sharded dissection", () => {
  it("finds the fixture captures", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  it("gives the same entries with 1, 2 and 3 threads", async () => {
    for (const file of fixtures) {
      const one = await run(file, 1);
      expect(one.entries.length, file).toBeGreaterThan(0);
      // 3 threads (two thread shards) on the busiest capture only: thread start-up is the cost here.
      for (const threads of file.endsWith("kafkajs.pcap") ? [2, 3] : [2]) {
        const many = await run(file, threads);
        expect(many.entries.map(essence).sort(), `${file} with ${threads} threads`).toEqual(one.entries.map(essence).sort());
        expect(many.packets).toBe(one.packets);
        expect(new Set(many.entries.map((e) => e.id)).size).toBe(many.entries.length);
      }
    }
  }, 60_000);

  it("samples whole flows: a kept flow keeps all its entries", async () => {
    const file = fixtures.find((f) => f.endsWith("redis.pcap"))!;
    const all = await run(file, 1);
    const half = await run(file, 1, 50);
    const key = (e: EntryInit) => `${e.src?.ip}:${e.src?.port}>${e.dst?.ip}:${e.dst?.port}`;
    const perFlow = (l: EntryInit[]) => l.reduce((m, e) => m.set(key(e), (m.get(key(e)) ?? 0) + 1), new Map<string, number>());
    const a = perFlow(all.entries);
    const h = perFlow(half.entries);
    expect(h.size).toBeLessThanOrEqual(a.size);
    for (const [k, n] of h) expect(n).toBe(a.get(k));
  });
});

describe("flowHash", () => {
  it("is the same for both directions and differs across flows", () => {
    const frame = (src: number[], dst: number[], sport: number, dport: number) => {
      const b = Buffer.alloc(40);
      b[0] = 0x45;
      b.writeUInt16BE(40, 2);
      b[9] = 6;
      Buffer.from(src).copy(b, 12);
      Buffer.from(dst).copy(b, 16);
      b.writeUInt16BE(sport, 20);
      b.writeUInt16BE(dport, 22);
      b[32] = 0x50;
      return b;
    };
    const p = newPacketInfo();
    const fwd = flowHash(101, frame([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80), p);
    const back = flowHash(101, frame([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000), p);
    expect(fwd).toBe(back);
    expect(fwd).toBeGreaterThanOrEqual(0);
    const hashes = new Set(Array.from({ length: 200 }, (_, i) => flowHash(101, frame([10, 0, 0, 1], [10, 0, 0, 2], 40000 + i, 80), p)));
    expect(hashes.size).toBe(200);
    // spread: both shards of two get flows
    expect(new Set([...hashes].map((h) => (h >>> 8) % 2)).size).toBe(2);
    expect(flowHash(101, Buffer.from([0x10, 0]), p)).toBe(-1);
  });

  it("merges per-thread counters", () => {
    const a = { packets: 2, dissectors: { http: { messages: 1, errors: 0, bugs: 0, counters: { x: 1 } } }, lastBug: "" };
    const b = { packets: 3, dissectors: { http: { messages: 2, errors: 1, bugs: 0, counters: { x: 2, y: 1 } } }, lastBug: "b" };
    const m = mergeStats([a, b] as never);
    expect(m).toMatchObject({ packets: 5, lastBug: "b", dissectors: { http: { messages: 3, errors: 1, counters: { x: 3, y: 1 } } } });
  });
});
