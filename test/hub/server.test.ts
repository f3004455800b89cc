// The hub as a server: the built UI with SPA fallback, the worker ingest on its own port, and the
// tapline-hub bin as a process (starts, serves /api/health, exits cleanly on SIGTERM).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { EntryStatus, Protocol } from "@tapline/protocol";
import { startHub, type RunningHub } from "@tapline/hub";
import { HubClient } from "@tapline/worker";
import { ensureUiBuilt } from "../helpers/uiBuild.js";
import { waitFor } from "../worker/traffic.js";

const TOKEN = "server-e2e-token";
const root = fileURLToPath(new URL("../..", import.meta.url));
const base = { token: TOKEN, storagePath: ":memory:", storageLimitBytes: 16 << 20, redact: { defaults: true, keys: [], valuePatterns: [] } };

let hub: RunningHub | undefined;
let client: HubClient | undefined;
afterEach(async () => {
  await client?.stop(200);
  client = undefined;
  await hub?.close();
  hub = undefined;
});

describe("UI static files", () => {
  it("serves index.html, the assets, and index.html for client-side routes; API misses stay JSON 404s", async () => {
    const uiDir = ensureUiBuilt();
    hub = await startHub({ ...base, port: 0, uiDir });
    const index = readFileSync(join(uiDir, "index.html"), "utf8");
    const root = await fetch(`${hub.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toMatch(/text\/html/);
    expect(await root.text()).toBe(index);
    const script = readdirSync(join(uiDir, "assets")).find((f) => f.endsWith(".js"))!;
    const asset = await fetch(`${hub.url}/assets/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(await asset.text()).toBe(readFileSync(join(uiDir, "assets", script), "utf8"));
    for (const route of ["/servicemap", "/traffic/entry/w-1?x=1"]) {
      const res = await fetch(`${hub.url}${route}`);
      expect(res.status, route).toBe(200);
      expect(await res.text()).toBe(index);
    }
    const miss = await fetch(`${hub.url}/api/nope`);
    expect(miss.status).toBe(404);
    expect(((await miss.json()) as { error: string }).error).toMatch(/no route GET \/api\/nope/);
    expect((await fetch(`${hub.url}/api/health`)).status).toBe(200);
  });

  it("refuses a UI directory without index.html at start", async () => {
    await expect(startHub({ ...base, port: 0, uiDir: join(root, "packages/hub/src") })).rejects.toThrow(/has no index.html/);
  });
});

describe("separate ingest port", () => {
  it("takes workers on its own port only, and their entries reach the main API", async () => {
    hub = await startHub({ ...base, port: 0, ingestPort: 0 });
    const main = new URL(hub.url);
    const ingest = new URL(hub.ingestUrl);
    expect(ingest.port).not.toBe(main.port);
    // The main port has no worker route.
    expect((await fetch(`${hub.url}/ws/worker`)).status).toBe(404);
    client = new HubClient({ url: hub.ingestUrl, token: TOKEN, workerId: "sep", node: "n1", version: "e2e", batchMaxMs: 20 });
    client.start();
    await waitFor("the worker to connect", () => client!.stats.connected, Boolean);
    client.send({ id: "sep-1", timestampNs: Date.now() * 1e6, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE, src: { ip: "10.0.0.1", port: 1 }, dst: { ip: "10.0.0.2", port: 80 }, httpRequest: { method: "GET", path: "/x?token=abc" } });
    const list = await waitFor("the entry via the main port", async () => ((await (await fetch(`${hub!.url}/api/entries`)).json()) as { entries: { id: string; httpRequest: { path: string } }[] }).entries, (l) => l.length === 1);
    expect(list[0]).toMatchObject({ id: "sep-1", httpRequest: { path: "/x?token=[REDACTED]" } });
    const workers = ((await (await fetch(`${hub.url}/api/workers`)).json()) as { workers: { id: string; state: string }[] }).workers;
    expect(workers).toEqual([expect.objectContaining({ id: "sep", state: "connected" })]);
  });
});

describe("tapline-hub bin", () => {
  it("starts on --port 0, serves /api/health, and exits 0 on SIGTERM", async () => {
    const build = spawnSync("pnpm", ["--filter", "@tapline/hub...", "run", "build"], { cwd: root, encoding: "utf8", timeout: 300_000 });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    const child = spawn("node", [join(root, "packages/hub/dist/bin.js"), "--port", "0", "--token", TOKEN, "--storage", ":memory:", "--storage-limit", "16Mi"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const line = await waitFor("the hub to listen", () => stdout, (s) => /tapline hub on http:\/\/127\.0\.0\.1:\d+/.test(s), 20_000);
      const url = /tapline hub on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1];
      expect(url).not.toMatch(/:0$/);
      const health = (await (await fetch(`${url}/api/health`)).json()) as { status: string; storage: { limitBytes: number } };
      expect(health).toMatchObject({ status: "ok", storage: { limitBytes: 16 << 20 } });
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(stderr).not.toMatch(/error/i);
    // A bad flag is a usage error (exit 2), not a crash.
    const bad = spawnSync("node", [join(root, "packages/hub/dist/bin.js"), "--port", "99999", "--token", "x"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--port must be a port number/);
  });
});
