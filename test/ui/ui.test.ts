// The UI in a real browser against a real hub fed by a real worker connection with entries
// dissected from real captures (test/ui/__fixtures__/shop.pcap and the worker's fixtures).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { Protocol, type EntryInit } from "@tapline/protocol";
import { startHub, type RunningHub } from "@tapline/hub";
import { HubClient, PcapReader, PcapRing, dissectFile } from "@tapline/worker";
import { artifactsDir, launchBrowser } from "../helpers/browser.js";
import { ensureUiBuilt } from "../helpers/uiBuild.js";

const fixture = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
const captures = [
  fixture("./__fixtures__/shop.pcap"),
  fixture("../../packages/worker/src/dissectors/kafka/__fixtures__/kafkajs.pcap"),
  fixture("../../packages/worker/src/dissectors/redis/__fixtures__/redis.pcap"),
];

let hub: RunningHub;
let worker: HubClient;
let ring: PcapRing;
let browser: Browser;
let page: Page;
const tmp = mkdtempSync(join(tmpdir(), "tapline-ui-"));
const entries: EntryInit[] = [];

// On loopback every endpoint is 127.0.0.1; name the servers and their clients as the worker's
// pod resolution would in a cluster, so the service map has distinct workloads.
const podsByServerPort: Record<string, [client: string, server: string]> = { http: ["front-end-7c9d", "shop-api-5f6b"], redis: ["shop-api-5f6b", "redis-0"], kafka: ["orders-worker-1", "kafka-0"] };

async function dissect(path: string, workerId: string) {
  const out: EntryInit[] = [];
  await dissectFile(path, { workerId, onEntry: (e) => out.push(e) });
  for (const e of out) {
    const kind = e.redisRequest ? "redis" : e.kafkaRequest ? "kafka" : "http";
    const [client, server] = podsByServerPort[kind];
    e.src = { ...e.src, pod: client, namespace: "shop" };
    e.dst = { ...e.dst, pod: server, namespace: kind === "http" ? "shop" : "data" };
  }
  return out;
}

beforeAll(async () => {
  const uiDir = ensureUiBuilt();
  hub = await startHub({ token: "t0ken", storagePath: ":memory:", storageLimitBytes: 64 << 20, redact: { defaults: true, keys: [], valuePatterns: [] }, uiDir, port: 0 });
  ring = new PcapRing({ dir: join(tmp, "ring"), limitBytes: 16 << 20 });
  for (const c of captures) {
    new PcapReader((linktype, tsNs, data, origLen) => ring.append(linktype, tsNs, data, origLen)).push(readFileSync(c));
    entries.push(...(await dissect(c, `w-${entries.length}`)));
  }
  worker = new HubClient({ url: hub.ingestUrl, token: "t0ken", workerId: "ui-test", node: "node-a", version: "test", onPcapRequest: (r) => ring.export(Number(r.sinceNs), Number(r.untilNs), (r.flows ?? []).map((f) => ({ srcIp: f.srcIp ?? "", srcPort: f.srcPort ?? 0, dstIp: f.dstIp ?? "", dstPort: f.dstPort ?? 0 }))) });
  worker.start();
  for (const e of entries) worker.send(e);
  await waitFor(async () => ((await (await fetch(`${hub.url}/api/entries?limit=1000`)).json()) as { entries: unknown[] }).entries.length === entries.length);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1500, height: 900 }, acceptDownloads: true });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop(0);
  await hub?.close();
  ring?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function waitFor(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rows = () => page.locator(".entry-row");
const shot = (name: string) => page.screenshot({ path: join(artifactsDir, `ui-${name}.png`) });

async function applyFilter(text: string) {
  const input = page.getByLabel("filter");
  await input.fill(text);
  await page.waitForTimeout(350); // the hub validates as you type (debounced)
  await input.press("Enter");
}

describe("UI in a real browser", () => {
  it("fills the traffic table with the stored entries and streams new ones live", async () => {
    await page.goto(hub.url);
    await page.locator(".entry-row").first().waitFor();
    expect(await page.getByRole("grid").getAttribute("aria-rowcount")).toBe(String(entries.length));
    await expect.poll(() => page.locator(".stream-state").textContent()).toBe("live");
    const fresh = { ...entries[0], id: "ui-test-live-1", timestampNs: Date.now() * 1e6, httpRequest: { method: "DELETE", path: "/api/live-entry" } };
    worker.send(fresh);
    await page.getByText("/api/live-entry").waitFor({ timeout: 10_000 });
    await shot("traffic");
  });

  it("narrows the table with a filter and keeps it in the URL", async () => {
    await applyFilter("redis");
    await expect.poll(async () => (await rows().allTextContents()).every((t) => t.includes("redis"))).toBe(true);
    await expect.poll(() => page.getByRole("grid").getAttribute("aria-rowcount")).toBe(String(entries.filter((e) => e.protocol === Protocol.REDIS).length));
    expect(new URL(page.url()).searchParams.get("q")).toBe("redis");
    await applyFilter("http and response.status >= 500");
    await expect.poll(() => page.getByRole("grid").getAttribute("aria-rowcount")).toBe("1");
    expect(await rows().first().textContent()).toContain("/api/orders/fail");
  });

  it("shows an invalid filter's error with its position", async () => {
    const input = page.getByLabel("filter");
    await input.fill("http andd redis");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/andd.*5|5.*andd|position 5/i);
    expect(await page.locator(".filter-bad").textContent()).toBe("andd redis");
    expect(await page.getByRole("button", { name: "Apply" }).isDisabled()).toBe(true);
    await shot("filter-error");
    await input.fill("");
    await input.press("Enter");
  });

  it("opens an entry with headers, a pretty JSON body and redacted secrets", async () => {
    await applyFilter('request.path == "/api/login"');
    await expect.poll(() => page.getByRole("grid").getAttribute("aria-rowcount")).toBe("1");
    await rows().first().click();
    const details = page.getByLabel("entry details");
    await details.waitFor();
    const text = (await details.textContent()) ?? "";
    expect(text).toContain("POST");
    expect(text).toContain("[REDACTED]");
    expect(text).not.toContain("hunter2-very-secret");
    expect(text).not.toContain("tok-9f8e7d6c5b4a");
    expect(text).not.toContain("s3cr3t-cookie-value");
    expect(await details.locator("pre.body-json").first().textContent()).toContain('"password": "[REDACTED]"');
    await shot("details");
    // clicking a value adds it to the filter
    await details.getByRole("button", { name: "200" }).click();
    await expect.poll(() => page.getByLabel("filter").inputValue()).toBe('request.path == "/api/login" and response.status == 200');
  });

  it("renders the service map and filters the traffic by an edge", async () => {
    await applyFilter("");
    await page.getByRole("tab", { name: "Service Map" }).click();
    const map = page.getByTestId("servicemap");
    await expect.poll(async () => Number(await map.getAttribute("data-edges"))).toBeGreaterThanOrEqual(3);
    expect(Number(await map.getAttribute("data-nodes"))).toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.locator(".servicemap-canvas canvas").count()).toBeGreaterThan(0);
    await shot("servicemap");
    const redisEdge = page.getByLabel("service map edges").locator("tbody tr", { hasText: "redis" }).first();
    await redisEdge.click();
    await expect.poll(() => page.getByRole("tab", { name: "Traffic" }).getAttribute("aria-selected")).toBe("true");
    await expect.poll(async () => (await rows().allTextContents()).length > 0 && (await rows().allTextContents()).every((t) => t.includes("redis"))).toBe(true);
  });

  it("downloads a PCAP of the current filter that tshark reads without malformed packets", async () => {
    await applyFilter("http");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "PCAP" }).click()]);
    const file = join(tmp, "download.pcapng");
    await download.saveAs(file);
    const frames = execFileSync("tshark", ["-r", file, "-T", "fields", "-e", "frame.number"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    const expected = execFileSync("tshark", ["-r", captures[0], "-Y", "http or tcp.port == 38665", "-T", "fields", "-e", "frame.number"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThanOrEqual(expected.length + 50);
    expect(execFileSync("tshark", ["-r", file, "-Y", "_ws.malformed"], { encoding: "utf8" }).trim()).toBe("");
    const methods = execFileSync("tshark", ["-r", file, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri"], { encoding: "utf8" });
    expect(methods).toContain("/api/login");
    expect(methods).not.toMatch(/^\*\d/m); // no redis bytes in an http-filtered export
  });

  it("shows each worker's restarts, capture gap, losses, dissectors and warnings from its WorkerStats", async () => {
    // A second worker that has lost nothing: its zeros come through the hub's JSON as zeros.
    const quiet = new HubClient({ url: hub.ingestUrl, token: "t0ken", workerId: "ui-quiet", node: "node-b", version: "test" });
    quiet.start();
    try {
      await waitFor(() => worker.stats.connected && quiet.stats.connected);
      worker.sendStats({
        packetsSeen: 5000, packetsDropped: 0, flowsActive: 4, captureState: "running (restarted 2x)",
        sidecarRestarts: 2, captureGapMs: 1500, threadRestarts: 1, threadFlowsLost: 3, threadPacketsLost: 70,
        dissectorsEnabled: ["http", "redis"], warnings: ["unknown dissector 'smtp' ignored"],
      });
      quiet.sendStats({ packetsSeen: 10, captureState: "running", dissectorsEnabled: ["http", "redis", "kafka"] });
      await waitFor(async () => {
        const list = ((await (await fetch(`${hub.url}/api/workers`)).json()) as { workers: { id: string; stats: Record<string, unknown> | null }[] }).workers;
        return list.find((w) => w.id === "ui-test")?.stats?.sidecarRestarts === 2 && list.find((w) => w.id === "ui-quiet")?.stats?.sidecarRestarts === 0;
      });

      // The panel polls /api/workers every 3 s.
      const warning = page.locator(".worker-warning");
      await warning.waitFor({ timeout: 10_000 });
      expect(await warning.textContent()).toBe("⚠ node-a: unknown dissector 'smtp' ignored");
      // In view: not clipped by the status bar, whose worker strip hides what overflows its right edge.
      const inStrip = () => warning.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const strip = el.closest(".workers")!.getBoundingClientRect();
        return r.width > 0 && r.left >= strip.left && r.right <= strip.right;
      });
      expect(await inStrip()).toBe(true);
      // A warning style, not plain status text: an amber fill behind it.
      const bg = await warning.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
      const statusBg = await page.locator(".statusbar").evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).backgroundColor);
      expect(bg).not.toBe(statusBg);
      expect(bg).not.toBe("rgba(0, 0, 0, 0)");
      const busy = page.locator(".worker", { hasText: "node-a:" });
      expect(await busy.textContent()).toContain("capture restarted 2×, capture gap 1.50 s, 1 thread restart, lost 70 packets, 3 flows");
      expect(await busy.getAttribute("class")).toContain("dropping");
      expect(await page.locator(".worker", { hasText: "node-b:" }).textContent()).toBe("● node-b: 10 pkts, 0 dropped, 0 flows");

      await page.getByText("workers", { exact: true }).click();
      const table = page.getByRole("table", { name: "worker status" });
      await table.waitFor();
      const cells = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
      expect(cells).toContainEqual(["node-a", "running (restarted 2x)", "2", "1.50 s", "1", "70", "3", "http, redis", "unknown dissector 'smtp' ignored"]);
      expect(cells).toContainEqual(["node-b", "running", "0", "none", "0", "0", "0", "http, redis, kafka", "none"]);
      expect(await inStrip()).toBe(true);
      await shot("workers");
      await page.getByText("workers", { exact: true }).click();
    } finally {
      await quiet.stop(0);
    }
  });
});
