import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TapConfigInit } from "@tapline/protocol";
import { startHub } from "../app.js";
import type { RunningHub } from "../app.js";
import { TestWorker } from "../testkit/index.js";
import { readTapDir, TapDirError, watchTapDir } from "./index.js";
import type { TapDirWatch } from "./index.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tapline-tapdir-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Lays out `data` the way kubelet does: files behind `..data` -> a timestamped dir, keys as symlinks. */
let generation = 0;
function writeConfigMap(dir: string, data: Record<string, string>): void {
  const gen = `..${++generation}_tap`;
  mkdirSync(join(dir, gen));
  for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, gen, k), v);
  symlinkSync(gen, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data")); // the atomic swap
  for (const k of Object.keys(data)) {
    try {
      symlinkSync(join("..data", k), join(dir, k));
    } catch { /* exists from an earlier generation */ }
  }
}

describe("tap target directory", () => {
  it("reads podRegex and the namespace list; no directory is no target", () => {
    const dir = tempDir();
    writeConfigMap(dir, { podRegex: "(catalo.*|front-end.*)\n", namespaces: "sock-shop, ,billing", redact: "[]", defaultRedact: "true" });
    expect(readTapDir(dir)).toEqual({ podRegex: "(catalo.*|front-end.*)", namespaces: ["sock-shop", "billing"], allNamespaces: false });
    expect(readTapDir(join(dir, "absent"))).toBeUndefined();
    const empty = tempDir();
    expect(readTapDir(empty)).toEqual({ podRegex: "", namespaces: [], allNamespaces: true });
  });

  it("names the file of an invalid regex", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "podRegex"), "front(");
    expect(() => readTapDir(dir)).toThrow(TapDirError);
    expect(() => readTapDir(dir)).toThrow(/podRegex: invalid regular expression/);
  });

  it("follows a ConfigMap update (symlink swap) into the hub and its connected workers", async () => {
    const dir = tempDir();
    writeConfigMap(dir, { podRegex: "front-end.*", namespaces: "sock-shop" });
    const tap = readTapDir(dir);
    const hub: RunningHub = await startHub({
      port: 0, token: "t", storagePath: ":memory:", storageLimitBytes: 64 << 20,
      redact: { defaults: true, keys: [], valuePatterns: [] }, tap,
    });
    cleanup.push(() => hub.close());
    const worker = new TestWorker({ url: hub.ingestUrl, token: "t", workerId: "w1" });
    cleanup.push(() => worker.close());
    await worker.hello();
    // A worker connecting after a restart gets the target read at start.
    const first = await worker.waitFor((m) => !!m.tap);
    expect(first.tap).toMatchObject({ podRegex: "front-end.*", namespaces: ["sock-shop"] });

    const changes: TapConfigInit[] = [];
    const errors: Error[] = [];
    const w: TapDirWatch = watchTapDir(dir, tap, (next) => {
      changes.push(next);
      hub.app.workers.setTap(next);
    }, (err) => errors.push(err), 50);
    cleanup.push(() => w.close());

    writeConfigMap(dir, { podRegex: "catalo.*", namespaces: "" });
    const pushed = await worker.waitFor((m) => m.tap?.podRegex === "catalo.*");
    expect(pushed.tap).toMatchObject({ allNamespaces: true });
    expect((await hub.app.inject({ method: "GET", url: "/api/tap" })).json()).toMatchObject({ podRegex: "catalo.*", namespaces: [], allNamespaces: true });
    expect(changes).toHaveLength(1); // the swap's several events make one read

    // A bad regex is reported and the last good target stays.
    writeConfigMap(dir, { podRegex: "(", namespaces: "" });
    await new Promise((r) => setTimeout(r, 400));
    expect(errors.map((e) => e.message).join()).toMatch(/invalid regular expression/);
    expect(changes).toHaveLength(1);
    expect(hub.app.workers.tapConfig.podRegex).toBe("catalo.*");
  });
});
