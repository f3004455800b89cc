// The ingest acknowledges stored batches (HelloAck.last_seq), throttled, so a worker can trim
// its resend queue; seq 0 (the entry-less overflow report) never moves last_seq.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EntryStatus, Protocol } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { startHub } from "../app.js";
import type { RunningHub } from "../app.js";
import { TestWorker } from "../testkit/index.js";

const TOKEN = "ack-test-token";
let hub: RunningHub;
let w: TestWorker;

const entry = (i: number): EntryInit => ({
  id: `ack-${i}`, timestampNs: 1_763_000_000_000_000_000 + i, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
  src: { ip: "10.0.0.1", port: 40000 }, dst: { ip: "10.0.0.2", port: 80 },
});
const acks = () => w.received.filter((m) => m.helloAck).map((m) => Number(m.helloAck!.lastSeq));

beforeEach(async () => {
  hub = await startHub({ port: 0, token: TOKEN, storagePath: ":memory:", storageLimitBytes: 16 << 20, redact: { defaults: true, keys: [], valuePatterns: [] } });
  w = new TestWorker({ url: hub.ingestUrl, token: TOKEN, workerId: "ack-worker" });
  await w.hello();
  await w.waitFor((m) => !!m.helloAck);
});
afterEach(async () => {
  w.close();
  await hub.close();
});

describe("ingest acknowledgements", () => {
  it("acks stored batches within the interval, with the highest stored seq", async () => {
    expect(acks()).toEqual([0]);
    for (let i = 1; i <= 3; i++) w.sendBatch([entry(i)]);
    const t0 = Date.now();
    await w.waitFor((m) => Number(m.helloAck?.lastSeq) === 3, 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    // one ack covered the three batches
    expect(acks()).toEqual([0, 3]);
  });

  it("acks at once every N batches, so a fast worker is not held to the timer", async () => {
    for (let i = 1; i <= 40; i++) w.sendBatch([entry(i)]);
    // 16 and 32 are acked as soon as they are committed (each on its own, not one cumulative
    // ack from the timer); the rest by the timer
    await w.waitFor((m) => Number(m.helloAck?.lastSeq) === 32, 2000);
    expect(acks()).toEqual([0, 16, 32]);
    await w.waitFor((m) => Number(m.helloAck?.lastSeq) === 40, 2000);
    expect(acks()).toEqual([0, 16, 32, 40]);
  });

  it("a seq 0 batch counts its drops but moves no sequence and triggers no ack", async () => {
    w.sendBatch([entry(1)]);
    await w.waitFor((m) => Number(m.helloAck?.lastSeq) === 1, 2000);
    w.send({ batch: { workerId: "ack-worker", seq: 0, droppedBefore: 7 } });
    await w.flush();
    await new Promise((r) => setTimeout(r, 400));
    expect(acks()).toEqual([0, 1]);
    const list = (await hub.app.inject({ method: "GET", url: "/api/workers" })).json() as { workers: { lastSeq: number; droppedBefore?: number }[] };
    expect(list.workers[0]).toMatchObject({ lastSeq: 1, droppedBefore: 7 });
  });
});

describe("ingest acknowledgements over a file store (group commit)", () => {
  it("an ack never covers an entry that another connection cannot read yet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-ack-"));
    const path = join(dir, "e.db");
    const fileHub = await startHub({ port: 0, token: TOKEN, storagePath: path, storageLimitBytes: 64 << 20, redact: { defaults: true, keys: [], valuePatterns: [] } });
    const fw = new TestWorker({ url: fileHub.ingestUrl, token: TOKEN, workerId: "file-worker" });
    const reader = new Database(path, { readonly: true });
    const count = reader.prepare("SELECT count(*) FROM entries").pluck();
    // Checked the moment each ack arrives: every entry of every batch up to its seq is committed.
    const seen: [number, number][] = [];
    fw.socket.on("message", () => {
      const last = fw.received[fw.received.length - 1];
      if (last?.helloAck) seen.push([Number(last.helloAck.lastSeq), count.get() as number]);
    });
    try {
      await fw.hello();
      await fw.waitFor((m) => !!m.helloAck);
      const perBatch = 100;
      const batches = 60;
      for (let b = 0; b < batches; b++) fw.sendBatch(Array.from({ length: perBatch }, (_, k) => ({ ...entry(b * perBatch + k), id: `f-${b}-${k}` })));
      await fw.waitFor((m) => Number(m.helloAck?.lastSeq) === batches, 10_000);
      expect(seen.length).toBeGreaterThan(2);
      for (const [seq, stored] of seen) expect(stored, `ack ${seq}`).toBeGreaterThanOrEqual(seq * perBatch);
      expect(fileHub.app.store.stats().entries).toBe(batches * perBatch);
    } finally {
      fw.close();
      reader.close();
      await fileHub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
