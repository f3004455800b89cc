// Hub benchmark: ingest entries/s over a real ws connection with redaction on (every entry holds
// secrets: Authorization, api_key in the query, user/address in the JSON body, and a card-number
// value pattern is configured), the same entries with the default redaction only (no value
// pattern), the same for entries without sensitive names (the byte pre-check
// path, no value pattern), then the store filled to --entries directly (big transactions) and
// p50/p99 latency of filter queries through the API over them, peak RSS.
// The sending worker runs in its own process (client.mjs): the hub's CPU per entry is this
// process's CPU (every thread) from the first batch sent until the last entry is committed; the
// wall figure runs until then too, and the client's own (acked) one until the HelloAck covering its
// last batch (acks are throttled: up to 200 ms later). rowsPerCommit: how many entries the ingest's
// group commit gathered per SQLite transaction.
// Writes bench/results/hub.json.
// Run: pnpm --filter @tapline/hub... build && node bench/hub/hub.mjs [--ingest 200000] [--entries 1000000]
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startHub } from "../../packages/hub/dist/index.js";
import { entry, cleanEntry } from "./entries.mjs";

const { values } = parseArgs({ options: { entries: { type: "string", default: "1000000" }, ingest: { type: "string", default: "200000" }, batch: { type: "string", default: "500" }, "ingest-only": { type: "boolean", default: false } } });
const TOTAL = Number(values.entries);
const INGEST = Math.min(TOTAL, Number(values.ingest));
const BATCH = Number(values.batch);

const dir = mkdtempSync(join(tmpdir(), "tapline-bench-"));
let peakRss = 0;
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
const { Entry } = await import("../../packages/protocol/dist/index.js");
const { columnValues } = await import("../../packages/hub/dist/filter/columns.js");

/** Nearest-rank percentile, ms with two decimals. */
function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.ceil(sorted.length * p) - 1].toFixed(2);
}

/** Has a client process send `count` entries made by `maker` over one worker connection. */
async function ingestRun(hub, workerId, maker, count) {
  const before = hub.app.store.stats().entries;
  let stored = 0;
  let allStored = () => {};
  const storedAll = new Promise((r) => { allStored = r; });
  let t1 = 0;
  let cpu1;
  // Listeners hear of entries when they are written; the clock stops when the last is committed.
  const committed = () => {
    if (hub.app.store.uncommitted > 0) return setImmediate(committed);
    t1 = performance.now();
    cpu1 = process.cpuUsage(cpu0);
    allStored();
  };
  hub.app.pipeline.onStored((entries) => {
    stored += entries.length;
    if (stored === count) setImmediate(committed);
  });
  // Rows per SQLite transaction: how well the pipeline's group commit gathers batches.
  const store = hub.app.store;
  const transactions0 = store.transactions;
  const child = fork(new URL("./client.mjs", import.meta.url));
  const exited = new Promise((r) => child.once("exit", r));
  const next = () => new Promise((resolve) => child.once("message", resolve));
  child.send({ url: hub.ingestUrl, token: "bench", workerId, maker, count, batch: BATCH });
  await next(); // ready: batches encoded, hello acknowledged
  let cpu0 = process.cpuUsage();
  const load = loadavg()[0];
  const t0 = performance.now();
  const done = next();
  child.send({ go: true });
  await storedAll;
  const client = await done;
  await exited;
  const commits = store.transactions - transactions0;
  const cpu = cpu1.user + cpu1.system;
  const sec = (t1 - t0) / 1000;
  if (hub.app.store.stats().entries - before !== count) throw new Error(`${workerId}: stored ${hub.app.store.stats().entries - before} of ${count}`);
  return {
    entriesPerSec: Math.round(count / sec), seconds: +sec.toFixed(2), hubCpuMicrosPerEntry: +(cpu / count).toFixed(1),
    ackedEntriesPerSec: Math.round(count / client.seconds), clientCpuMicrosPerEntry: +(client.cpuMicros / count).toFixed(1), loadAverage1m: +load.toFixed(2),
    rowsPerCommit: Math.round(count / commits),
  };
}

const hub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "hub.db"), storageLimitBytes: 8 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: ["\\b(?:\\d[ -]?){13,16}\\b"] },
});
// Default redaction only: the same entries with secrets, no user value pattern (the CLI's default).
const defaultsHub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "defaults.db"), storageLimitBytes: 8 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: [] },
});
const cleanHub = await startHub({
  port: 0, token: "bench", storagePath: join(dir, "clean.db"), storageLimitBytes: 8 * 2 ** 30,
  redact: { defaults: true, keys: [], valuePatterns: [] },
});
try {
  const ingest = await ingestRun(hub, "bench", "entry", INGEST);
  const redacted = hub.app.pipeline.counters.redacted;
  const ingestDefaults = await ingestRun(defaultsHub, "defaults", "entry", Math.min(INGEST, 100_000));
  await defaultsHub.close();
  const ingestClean = await ingestRun(cleanHub, "clean", "cleanEntry", Math.min(INGEST, 100_000));
  if (values["ingest-only"]) {
    console.log(JSON.stringify({ loadAverage: loadavg().map((l) => +l.toFixed(1)), ingest, redacted, ingestDefaults, ingestClean, peakRssBytes: Math.max(peakRss, process.memoryUsage().rss) }, null, 2));
    await hub.close();
    await cleanHub.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }

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
    ingestEntriesPerSec: ingest.entriesPerSec, ingestSeconds: ingest.seconds, ingestHubCpuMicrosPerEntry: ingest.hubCpuMicrosPerEntry,
    ingest, ingestDefaults, ingestClean, fillSeconds: +fillSec.toFixed(1),
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
