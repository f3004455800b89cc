// The demo end to end (root, network namespaces): `tapline demo` as a real process; within
// seconds the hub API holds HTTP, Redis and Kafka entries between named endpoints, latencies,
// 5xx answers and [REDACTED] values, no planted secret anywhere, the service map's edges, and
// the UI loads in a real browser. Ctrl-C stops everything: no namespace or process is left.
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { join } from "node:path";
import { artifactsDir, launchBrowser } from "../helpers/browser.js";
import { ensureUiBuilt } from "../helpers/uiBuild.js";
import { netnsUnavailableReason } from "../helpers/netns.js";
import { buildCli, getJson, serve, type Served } from "../local/run.js";

const PORT = 18932;
const skip = netnsUnavailableReason();
type Json = Record<string, any>;

function demoNamespaces(pid: number): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").filter((l) => l.startsWith(`tld-${pid}-`));
}

function demoProcesses(): string[] {
  return execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => /demo\/(system\.mjs|services\/)/.test(l) && !/\bps\b/.test(l));
}

describe.skipIf(!!skip)(`tapline demo${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let demo: Served;
  let api: string;
  let browser: Browser | undefined;
  let systemPid = 0;

  beforeAll(async () => {
    buildCli();
    ensureUiBuilt();
    demo = await serve(["demo", "--no-open", "--port", String(PORT), "--duration", "120"]);
    api = `http://127.0.0.1:${PORT}`;
    systemPid = Number(/tld-(\d+)-/.exec(demo.output())?.[1] ?? 0);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.interrupt();
  });

  it("shows HTTP, Redis and Kafka between named services, with latencies, 5xx and redactions, within seconds", async () => {
    const want = ["HTTP", "REDIS", "KAFKA"];
    let entries: Json[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      entries = (await getJson<{ entries: Json[] }>(`${api}/api/entries?limit=1000`)).entries;
      const have = new Set(entries.map((e) => e.protocol));
      const fiveXx = entries.some((e) => e.httpResponse?.status >= 500);
      const slow = entries.some((e) => e.httpRequest?.path === "/api/recommendations");
      if (want.every((p) => have.has(p)) && fiveXx && slow && entries.some((e) => e.redacted)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (const p of want) expect(entries.filter((e) => e.protocol === p).length, p).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.src.ip).toMatch(/^(10\.77\.0\.\d+|127\.0\.0\.1)$/);
      expect(e.dst.ip).toMatch(/^(10\.77\.0\.\d+|127\.0\.0\.1)$/);
    }
    const pods = new Set(entries.flatMap((e) => [e.src.pod, e.dst.pod]));
    for (const p of ["loadgen", "front-end", "catalog-api", "redis", "kafka", "order-worker"]) expect(pods, p).toContain(p);
    // The recommendations call sleeps 300..700 ms in the API.
    expect(entries.some((e) => e.httpRequest?.path === "/api/recommendations" && e.elapsedMs >= 300)).toBe(true);
    expect(entries.some((e) => e.httpResponse?.status >= 500)).toBe(true);
    const text = JSON.stringify(entries);
    expect(text).toContain("[REDACTED]");
    // Every secret the load generator and the API send starts with PLANTED-; none may be shown.
    expect(text).not.toContain("PLANTED-");
    const one = await fetch(`${api}/api/entries/${encodeURIComponent(entries.find((e) => e.redacted)!.id)}`);
    expect(await one.text()).not.toContain("PLANTED-");
  });

  it("draws the system on the service map", async () => {
    const wanted = ["users/loadgen shop/front-end http", "shop/front-end shop/catalog-api http", "shop/catalog-api shop/redis redis", "shop/catalog-api shop/kafka kafka", "shop/order-worker shop/kafka kafka"];
    let edges = new Set<string>();
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 1000))) {
      const map = await getJson<{ edges: Json[] }>(`${api}/api/servicemap`);
      edges = new Set(map.edges.map((e) => `${e.src} ${e.dst} ${e.protocol}`));
      if (wanted.every((e) => edges.has(e))) break;
    }
    for (const e of wanted) expect(edges, e).toContain(e);
  });

  it("loads the UI in a browser with live rows", async () => {
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(demo.url.replace("localhost", "127.0.0.1"));
    try {
      // Rows name the demo's services (from the names file), not bare addresses.
      await page.getByText("catalog-api").first().waitFor({ timeout: 20_000 });
    } finally {
      await page.screenshot({ path: join(artifactsDir, "demo-ui.png") });
    }
    expect(await page.locator(".entry-row").count()).toBeGreaterThan(0);
  });

  it("stops everything on Ctrl-C and leaves no namespace or process behind", async () => {
    expect(systemPid).toBeGreaterThan(0);
    expect(demoNamespaces(systemPid).length).toBe(2);
    expect(await demo.interrupt()).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(demoNamespaces(systemPid)).toEqual([]);
    expect(demoProcesses()).toEqual([]);
    await expect(fetch(`${api}/api/health`)).rejects.toThrow();
  });
});
