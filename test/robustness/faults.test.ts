// Faults the hub must live through (SPEC §5 "Robust"). Disk full: the hub's SQLite file sits on a
// 3 MiB tmpfs mounted for this test while a worker streams far more than fits. The hub keeps
// serving, /api/health says degraded and why, and the record of entries sent vs stored closes:
// every entry sent is stored, evicted to make room, or counted as dropped on the error.
// (Hub restarts, worker kills and the sidecar dying are tested with the runtime in test/worker.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHub, type RunningHub } from "@tapline/hub";
import { EntryStatus, Protocol, type EntryInit } from "@tapline/protocol";
import { TestWorker } from "../../packages/hub/src/testkit/index.js";

const TOKEN = "faults-token";
const root = process.getuid?.() === 0;

interface Health {
  status: string;
  storage: { diskFull: boolean; lastError?: string; entries: number; evicted: number; droppedOnError: number };
  counts: { entries: number; duplicates: number; invalid: number };
}

function entry(i: number): EntryInit {
  // About 2 KB each, incompressible, so the small disk fills after a few thousand.
  const body = Buffer.from(Array.from({ length: 2000 }, (_, k) => String.fromCharCode(33 + ((i * 7919 + k * 104729) % 90))).join(""));
  return {
    id: `df-${i}`, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE, timestampNs: Date.now() * 1e6 + i, requestSize: 2000, responseSize: 2,
    src: { ip: "10.0.0.1", port: 40000 + (i % 1000) }, dst: { ip: "10.0.0.2", port: 80 },
    httpRequest: { method: "POST", path: `/fill/${i}`, version: "HTTP/1.1", headers: [], body: { data: body, size: body.length } },
    httpResponse: { status: 200, version: "HTTP/1.1", headers: [] },
  };
}

describe.skipIf(!root)("disk full under the hub's storage", () => {
  const dir = mkdtempSync(join(tmpdir(), "tapline-diskfull-"));
  let hub: RunningHub;
  beforeAll(async () => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=3m", "tapline-diskfull", dir]);
    // A storage limit far above the disk: the disk, not the hub's own bound, runs out first.
    hub = await startHub({ token: TOKEN, storagePath: join(dir, "entries.db"), storageLimitBytes: 256 << 20, redact: { defaults: true, keys: [], valuePatterns: [] }, port: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    try {
      execFileSync("umount", [dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps serving, reports degraded storage, and accounts for every entry sent", async () => {
    const w = new TestWorker({ url: hub.ingestUrl, token: TOKEN, workerId: "filler" });
    await w.hello();
    const sent = 6000;
    for (let i = 0; i < sent; i += 200) {
      w.sendBatch(Array.from({ length: 200 }, (_, k) => entry(i + k)));
      // Bounded: a hub that stopped reading would otherwise hang the test here.
      await Promise.race([w.flush(), new Promise((r) => setTimeout(r, 5000))]);
    }
    const health = (await (await fetch(`${hub.url}/api/health`)).json()) as Health;
    console.log(`disk full: sent ${sent}, stored ${health.storage.entries}, evicted ${health.storage.evicted}, dropped on error ${health.storage.droppedOnError}; health ${health.status}: ${health.storage.lastError}`);
    expect(health.storage.diskFull || Boolean(health.storage.lastError)).toBe(true);
    expect(health.status).toBe("degraded");
    // Still serving: the API answers, and the newest entries it holds are readable.
    const page = await fetch(`${hub.url}/api/entries?limit=5`);
    expect(page.status).toBe(200);
    const listed = ((await page.json()) as { entries: { id: string }[] }).entries;
    expect(listed.length).toBeGreaterThan(0);
    expect((await fetch(`${hub.url}/api/entries/${listed[0].id}`)).status).toBe(200);
    // The record closes: nothing vanished without a counter saying so.
    const { entries, evicted, droppedOnError } = health.storage;
    expect(entries + evicted + droppedOnError).toBe(sent);
    expect(entries).toBeLessThan(sent);
    // The worker was not cut off: it can still talk to the hub.
    expect(w.closeCode).toBe(0);
    w.close();
  });
});
