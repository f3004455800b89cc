// UI render benchmark: frames per second in a real browser (Debian chromium) while the hub
// streams 5,000 entries/s to the live table, until 100k rows are loaded.
// Usage: node bench/ui/run.mjs [--rate 5000] [--seconds 20]   (after `make setup`)
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startHub } from "@tapline/hub";
import { HubClient } from "@tapline/worker";
import { Protocol, EntryStatus } from "@tapline/protocol";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const rate = arg("rate", 5000);
const seconds = arg("seconds", 20);
const uiDir = fileURLToPath(new URL("../../packages/ui/dist/", import.meta.url));

const hub = await startHub({ token: "bench", storagePath: ":memory:", storageLimitBytes: 2 * 2 ** 30, redact: { defaults: true, keys: [], valuePatterns: [] }, uiDir, port: 0 });
const worker = new HubClient({ url: hub.ingestUrl, token: "bench", workerId: "bench", node: "bench-node", version: "bench", maxQueueEntries: 1_000_000, batchMaxEntries: 500, batchMaxMs: 50 });
worker.start();

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"] });
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
await page.goto(hub.url);
await page.locator(".stream-state", { hasText: "live" }).waitFor({ timeout: 20_000 });
await page.evaluate(() => {
  const w = window;
  w.__frames = [];
  const tick = (t) => {
    w.__frames.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});

const paths = ["/api/items", "/api/cart", "/api/orders", "/api/users/42", "/healthz"];
let seq = 0;
const makeEntry = () => {
  const i = seq++;
  return {
    id: `bench-${i}`,
    timestampNs: Date.now() * 1e6,
    protocol: Protocol.HTTP,
    src: { ip: `10.1.${(i >> 8) & 255}.${i & 255}`, port: 40000 + (i % 20000), pod: `front-end-${i % 7}`, namespace: "shop" },
    dst: { ip: "10.1.9.9", port: 8080, pod: `catalogue-${i % 3}`, namespace: "shop" },
    httpRequest: { method: i % 5 ? "GET" : "POST", path: `${paths[i % paths.length]}?page=${i}`, version: "HTTP/1.1", headers: [{ name: "Host", value: "catalogue" }, { name: "Authorization", value: "Bearer x" }] },
    httpResponse: { status: i % 50 ? 200 : 503, version: "HTTP/1.1", headers: [{ name: "Content-Type", value: "application/json" }] },
    status: EntryStatus.COMPLETE,
    elapsedMs: (i % 100) / 3,
    requestSize: 180,
    responseSize: 900,
  };
};

const windows = [];
const start = Date.now();
let lastFrameCount = 0;
let lastWindow = start;
const tickMs = 20;
while (Date.now() - start < seconds * 1000) {
  const due = Math.floor(((Date.now() - start) / 1000) * rate);
  while (seq < due) worker.send(makeEntry());
  await new Promise((r) => setTimeout(r, tickMs));
  if (Date.now() - lastWindow >= 5000) {
    const frames = await page.evaluate(() => window.__frames.length);
    const rows = Number(await page.getByRole("grid").getAttribute("aria-rowcount"));
    windows.push({ atS: Math.round((Date.now() - start) / 1000), fps: +(((frames - lastFrameCount) * 1000) / (Date.now() - lastWindow)).toFixed(1), rows });
    lastFrameCount = frames;
    lastWindow = Date.now();
  }
}
const heap = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
const rows = Number(await page.getByRole("grid").getAttribute("aria-rowcount"));
const result = { rate, seconds, sent: seq, rowsInTable: rows, windows, minFps: Math.min(...windows.map((w) => w.fps)), meanFps: +(windows.reduce((n, w) => n + w.fps, 0) / windows.length).toFixed(1), browserHeapMiB: +(heap / 2 ** 20).toFixed(1), hubRssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1) };
console.log("UI render while streaming");
console.table(windows);
console.log(`sent ${seq} entries at ${rate}/s; table rows ${rows}; min ${result.minFps} fps, mean ${result.meanFps} fps; browser JS heap ${result.browserHeapMiB} MiB; hub+generator RSS ${result.hubRssMiB} MiB`);
mkdirSync(fileURLToPath(new URL("../results/", import.meta.url)), { recursive: true });
writeFileSync(fileURLToPath(new URL("../results/ui.json", import.meta.url)), JSON.stringify(result, null, 2) + "\n");
await browser.close();
await worker.stop(0);
await hub.close();
