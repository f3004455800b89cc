// Hub benchmark: ingest entries/s over a real ws connection with redaction on (every entry holds
// secrets: Authorization, api_key in the query, user/address in the JSON body, and a card-number
// value pattern is configured), the same for entries without sensitive names (the byte pre-check
// path, no value pattern), then the store filled to --entries directly (big transactions) and
// p50/p99 latency of filter queries through the API over them, peak RSS.
// Writes bench/results/hub.json.
// Run: pnpm --filter @tapline/hub... build && node bench/hub/hub.mjs [--ingest 200000] [--entries 1000000]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startHub } from "../../packages/hub/dist/index.js";
import { TestWorker } from "../../packages/hub/dist/testkit/index.js";
import { Protocol, EntryStatus } from "../../packages/protocol/dist/index.js";

const { values } = parseArgs({ options: { entries: { type: "string", default: "1000000" }, ingest: { type: "string", default: "200000" }, batch: { type: "string", default: "500" } } });
const TOTAL = Number(values.entries);
const INGEST = Math.min(TOTAL, Number(values.ingest));
const BATCH = Number(values.batch);
const METHODS = ["GET", "POST", "PUT", "DELETE"];

/** The same shape without any sensitive name or value-pattern match (most real traffic). */
function cleanEntry(i) {
  const e = entry(i);
  e.id = `clean-${i}`;
  e.httpRequest.path = `/api/items/${i}?page=2`;
  e.httpRequest.headers = e.httpRequest.headers.filter((h) => h.name !== "Authorization");
  e.httpRequest.body.data = Buffer.from(`{"order":${i},"items":[1,2,3],"note":"n${i}"}`);
  e.httpResponse.headers = e.httpResponse.headers.filter((h) => h.name !== "Set-Cookie");
  return e;
}

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
const { WorkerMessage, Entry } = await import("../../packages/protocol/dist/index.js");
const { columnValues } = await import("../../packages/hub/dist/filter/columns.js");

/** Nearest-rank percentile, ms with two decimals. */
function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.ceil(sorted.length * p) - 1].toFixed(2);
}

/** Sends `count` entries made by `make` over one worker connection; entries/s and CPU µs per entry. */
async function ingestRun(hub, workerId, make, count) {
  const w = new TestWorker({ url: hub.ingestUrl, token: "bench", workerId });
  await w.hello();
  await w.waitFor((m) => !!m.helloAck);
  // Encode batches up front so the figure is the hub's work, not the stand-in's.
  const encoded = [];
  for (let i = 0, seq = 1; i < count; i += BATCH, seq++) {
    const entries = Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => make(i + k));
    encoded.push(WorkerMessage.encode({ batch: { workerId, seq, entries } }).finish());
  }
  const before = hub.app.store.stats().entries;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < encoded.length; i++) {
    w.socket.send(encoded[i]);
    if (i % 20 === 19) await w.flush(); // bounded in-flight data
  }
  await w.flush();
  const sec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  w.close();
  const stored = hub.app.store.stats().entries - before;
  if (stored !== count) throw new Error(`${workerId}: stored ${stored} of ${count}`);
  return { entriesPerSec: Math.round(count / sec), seconds: +sec.toFixed(2), cpuMicrosPerEntry: +((cpu.user + cpu.system) / count).toFixed(1) };
}

const hub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "hub.db"), storageLimitBytes: 8 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: ["\\b(?:\\d[ -]?){13,16}\\b"] },
});
const cleanHub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "clean.db"), storageLimitBytes: 8 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: [] },
});
try {
  const ingest = await ingestRun(hub, "bench", entry, INGEST);
  const redacted = hub.app.pipeline.counters.redacted;
  const ingestClean = await ingestRun(cleanHub, "clean", cleanEntry, Math.min(INGEST, 100_000));

  // The rest of the 1M straight into the store, in transactions of 10k rows.
  const tf = performance.now();
  for (let i = INGEST; i < TOTAL; i += 10_000) {
    const rows = [];
    for (let k = i; k < Math.min(TOTAL, i + 10_000); k++) {
      const e = Entry.fromObject(entry(k));
      hub.app.redactor.redactEntry(e);
      rows.push({ id: e.id, workerId: "bench", columns: columnValues(e), data: Entry.encode(e).finish() });
    }
    hub.app.store.insertBatch(rows);
  }
  const fillSec = (performance.now() - tf) / 1000;
  const stored = hub.app.store.stats().entries;

  const filters = [
    'dst.namespace == "ns3"', 'src.pod == "client-7"', "response.status >= 500", 'request.method == "POST"',
    'http and dst.pod == "server-12" and response.status == 503', "elapsedMs > 99",
  ];
  const queries = {};
  for (const f of filters) {
    const times = [];
    const cpus = [];
    for (let k = 0; k < 100; k++) {
      const c = process.cpuUsage();
      const t = performance.now();
      const res = await hub.app.inject({ method: "GET", url: `/api/entries?limit=100&filter=${encodeURIComponent(f)}` });
      times.push(performance.now() - t);
      const u = process.cpuUsage(c);
      cpus.push((u.user + u.system) / 1000);
      if (res.statusCode !== 200) throw new Error(`${f}: ${res.body}`);
      if (k === 0 && res.json().entries.length === 0 && !f.includes("503")) throw new Error(`${f}: no entries`);
    }
    // Wall time depends on what else runs on the machine; CPU time of the query is the hub's own cost.
    queries[f] = { p50Ms: pct(times, 0.5), p99Ms: pct(times, 0.99), cpuP50Ms: pct(cpus, 0.5), cpuP99Ms: pct(cpus, 0.99) };
  }
  const result = {
    date: new Date().toISOString(), loadAverage: loadavg().map((l) => +l.toFixed(1)), entries: TOTAL, stored, batchSize: BATCH,
    ingestEntries: INGEST, redactedEntries: redacted,
    ingestEntriesPerSec: ingest.entriesPerSec, ingestSeconds: ingest.seconds, ingestCpuMicrosPerEntry: ingest.cpuMicrosPerEntry,
    ingestClean, fillSeconds: +fillSec.toFixed(1),
    storageBytes: hub.app.store.stats().fileBytes, queries, peakRssBytes: Math.max(peakRss, process.memoryUsage().rss),
  };
  mkdirSync(new URL("../results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../results/hub.json", import.meta.url), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(rssTimer);
  await hub.close();
  await cleanHub.close();
  rmSync(dir, { recursive: true, force: true });
}
