// Hub benchmark: ingest entries/s over a real ws connection with redaction on, p50/p99 latency of
// indexed-field filter queries over 1M stored entries, peak RSS. Writes bench/results/hub.json.
// Run: pnpm -C packages/hub build && node bench/hub/hub.mjs [--entries 1000000]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startHub } from "../../packages/hub/dist/index.js";
import { TestWorker } from "../../packages/hub/dist/testkit/index.js";
import { Protocol, EntryStatus } from "../../packages/protocol/dist/index.js";

const { values } = parseArgs({ options: { entries: { type: "string", default: "1000000" }, batch: { type: "string", default: "500" } } });
const TOTAL = Number(values.entries);
const BATCH = Number(values.batch);
const METHODS = ["GET", "POST", "PUT", "DELETE"];

function entry(i) {
  return {
    id: `bench-${i}`, timestampNs: 1_763_000_000_000_000_000 + i * 1000, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
    src: { ip: `10.0.${i % 50}.1`, port: 30000 + (i % 20000), pod: `client-${i % 40}`, namespace: `ns${i % 10}` },
    dst: { ip: `10.1.${i % 30}.1`, port: 8080, pod: `server-${i % 30}`, namespace: `ns${(i * 7) % 10}`, service: `svc-${i % 30}` },
    httpRequest: {
      method: METHODS[i % 4], path: `/api/items/${i}?page=2&api_key=abc${i}`, version: "HTTP/1.1",
      headers: [{ name: "Host", value: "shop" }, { name: "User-Agent", value: "curl/8" }, { name: "Authorization", value: `Bearer tok${i}` }, { name: "Content-Type", value: "application/json" }],
      body: { data: Buffer.from(`{"order":${i},"user":{"name":"n${i}","address":"street ${i}"},"items":[1,2,3]}`), size: 70 },
    },
    httpResponse: { status: i % 20 === 0 ? 503 : 200, version: "HTTP/1.1", headers: [{ name: "Content-Type", value: "application/json" }, { name: "Set-Cookie", value: `s=${i}` }], body: { data: Buffer.from(`{"ok":true,"id":${i}}`), size: 20 } },
    elapsedMs: (i % 1000) / 10, requestSize: 300, responseSize: 120, node: "node-1",
  };
}

const dir = mkdtempSync(join(tmpdir(), "tapline-bench-"));
let peakRss = 0;
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
const hub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "hub.db"), storageLimitBytes: 4 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: ["\\b(?:\\d[ -]?){13,16}\\b"] },
});
try {
  const w = new TestWorker({ url: hub.ingestUrl, token: "bench", workerId: "bench" });
  await w.hello();
  await w.waitFor((m) => !!m.helloAck);
  // Encode batches up front so the figure is the hub's work, not the stand-in's.
  const batches = [];
  for (let i = 0; i < TOTAL; i += BATCH) batches.push(Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, k) => entry(i + k)));
  const { WorkerMessage } = await import("../../packages/protocol/dist/index.js");
  const encoded = batches.map((entries, seq) => WorkerMessage.encode({ batch: { workerId: "bench", seq: seq + 1, entries } }).finish());
  batches.length = 0;
  const t0 = performance.now();
  for (let i = 0; i < encoded.length; i++) {
    w.socket.send(encoded[i]);
    if (i % 20 === 19) await w.flush(); // bounded in-flight data
  }
  await w.flush();
  const ingestSec = (performance.now() - t0) / 1000;
  const stored = hub.app.store.stats().entries;
  const redacted = hub.app.pipeline.counters.redacted;
  w.close();

  const filters = [
    'dst.namespace == "ns3"', 'src.pod == "client-7"', "response.status >= 500", 'request.method == "POST"',
    'http and dst.pod == "server-12" and response.status == 503', "elapsedMs > 99",
  ];
  const queries = {};
  for (const f of filters) {
    const times = [];
    for (let k = 0; k < 60; k++) {
      const t = performance.now();
      const res = await hub.app.inject({ method: "GET", url: `/api/entries?limit=100&filter=${encodeURIComponent(f)}` });
      times.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${f}: ${res.body}`);
    }
    times.sort((a, b) => a - b);
    queries[f] = { p50Ms: +times[Math.ceil(times.length * 0.5) - 1].toFixed(2), p99Ms: +times[Math.ceil(times.length * 0.99) - 1].toFixed(2) };
  }
  const result = {
    date: new Date().toISOString(), entries: TOTAL, stored, redactedEntries: redacted, batchSize: BATCH,
    ingestEntriesPerSec: Math.round(TOTAL / ingestSec), ingestSeconds: +ingestSec.toFixed(2),
    storageBytes: hub.app.store.stats().fileBytes, queries, peakRssBytes: Math.max(peakRss, process.memoryUsage().rss),
  };
  mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../results/hub.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(rssTimer);
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
