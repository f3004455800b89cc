// Filter benchmark: compile time, predicate throughput and SQL latency over 1M rows in a
// file database with the SQLite indexes of columns.ts, and through postings of its posted columns
// (store/postings.ts, walked as EntryStore.page() does) for the filters that have hints.
//   pnpm -C packages/hub exec vitest run -c src/filter/vitest.bench.config.ts
// The database is built once in the OS temp dir (about a minute) and removed afterwards
// unless TAPLINE_FILTER_BENCH_KEEP=1. TAPLINE_FILTER_BENCH_ROWS overrides the row count.
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Entry } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { afterAll, it } from "vitest";
import { COLUMNS, columnValues } from "./columns.js";
import { makeEntry, rng } from "./__fixtures__/benchdata.js";
import { compileFilter } from "./index.js";
import { Postings } from "../store/postings.js";

const ROWS = Number(process.env.TAPLINE_FILTER_BENCH_ROWS ?? 1_000_000);
const DB_VERSION = 3; // bump when makeEntry or COLUMNS change
const dbPath = join(tmpdir(), `tapline-filter-bench-v${DB_VERSION}-${COLUMNS.length}-${ROWS}.db`);

function buildDb(): void {
  const t0 = performance.now();
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, ${COLUMNS.map((c) => `${c.name} ${c.sqlType} NOT NULL`).join(", ")})`);
  const insert = db.prepare(`INSERT INTO entries VALUES (?, ${COLUMNS.map(() => "?").join(", ")})`);
  const r = rng(1);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(i, ...columnValues(makeEntry(i, r)));
  });
  for (let i = 0; i < ROWS; i += 50_000) batch(i, Math.min(ROWS, i + 50_000));
  for (const c of COLUMNS) if (c.lookup === "index") db.exec(`CREATE INDEX entries_${c.name} ON entries (${c.name})`);
  db.exec("ANALYZE");
  db.close();
  console.log(`built ${ROWS} rows in ${dbPath} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (!existsSync(dbPath)) buildDb();
const db = new Database(dbPath, { readonly: true });
afterAll(() => {
  db.close();
  if (process.env.TAPLINE_FILTER_BENCH_KEEP !== "1") for (const suffix of ["", "-wal", "-shm"]) rmSync(dbPath + suffix, { force: true });
});

// Decoded protobuf messages, as the hub holds them after ingest: one hidden class for every
// entry (plain object literals of many shapes make property access megamorphic, ~5x slower).
const sample: EntryInit[] = [];
const r = rng(2);
for (let i = 0; i < 10_000; i++) sample.push(Entry.decode(Entry.encode(Entry.fromObject(makeEntry(i, r))).finish()));

const filters = [
  'dst.namespace == "shop" and elapsedMs > 100',
  "http and response.status >= 500",
  'src.pod == "svc3-7"',
  'dst.service == "svc29" and response.status == 503',
  'src.ip == "10.9.9.9"',
  'summary.target == "/api/cart" and protocol == "http"',
  'redis and request.command == "GET"',
  'request.headers["content-type"] contains "json" and not request.path startsWith "/static"',
  'request.path matches /^\\/api\\/orders\\/[0-9]+$/ or (kafka and request.topic == "orders")',
];

interface Timing {
  p50: number;
  p99: number;
  runs: number;
}

/** Runs fn until both `minRuns` and `minMs` are reached (after a short warm-up); times in ms. */
function measure(fn: () => void, minRuns: number, minMs: number): Timing {
  for (let i = 0; i < Math.min(3, minRuns); i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
    if (times.length >= 100_000) break;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99), runs: times.length };
}

const fmt = (ms: number) => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const lines: string[] = [];
afterAll(() => console.log(`\nfilter benchmark, ${ROWS} rows (${dbPath})\n${lines.join("\n")}`));

it("compile time", () => {
  lines.push("compile (parse + predicate + SQL):");
  for (const f of filters) {
    const t = measure(() => void compileFilter(f), 2000, 300);
    lines.push(`  p50 ${fmt(t.p50)}  p99 ${fmt(t.p99)}  ${f}`);
  }
});

it("predicate throughput", () => {
  lines.push("predicate over EntryInit objects:");
  for (const f of filters) {
    const { predicate } = compileFilter(f);
    const matches = sample.filter((e) => predicate(e)).length;
    let matched = 0; // consumed below so the loop cannot be optimized away
    const t = measure(() => {
      for (let i = 0; i < sample.length; i++) if (predicate(sample[i]!)) matched++;
    }, 20, 500);
    lines.push(`  ${(sample.length / (t.p50 / 1000) / 1e6).toFixed(1)} M entries/s  (${matches} of ${sample.length} match${matched < 0 ? "" : ""})  ${f}`);
  }
});

// Two ways to page newest first: by the rowid (insertion order, close to time order; an index
// on a filter column yields rowids in order, so no sort) and by the ts index (SQLite often picks
// the filter's index and then sorts every match).
for (const order of ["seq", "ts"]) {
  it(`SQL latency: newest 100 matches (ORDER BY ${order} DESC LIMIT 100)`, () => {
    lines.push(`SQL, newest 100 matches over ${ROWS} rows, ORDER BY ${order} DESC:`);
    for (const f of filters) {
      const { sql } = compileFilter(f);
      const stmt = db.prepare(`SELECT seq FROM entries WHERE ${sql.where} ORDER BY ${order} DESC LIMIT 100`).pluck();
      let rows = 0;
      const t = measure(() => void (rows = stmt.all(...sql.params).length), 10, 1000);
      lines.push(`  p50 ${fmt(t.p50)}  p99 ${fmt(t.p99)}  rows ${rows}${sql.exact ? "" : " (superset, predicate follows)"}  ${f}`);
    }
  });
}

it("SQL latency through postings: newest 100 matches (candidates in chunks, re-checked by SQL)", () => {
  const posted = COLUMNS.flatMap((c, index) => (c.lookup === "postings" ? [{ name: c.name, index }] : []));
  const postings = new Postings(posted);
  const t0 = performance.now();
  const values: (string | number)[] = new Array(COLUMNS.length).fill("");
  for (const row of db.prepare(`SELECT seq, ${posted.map((c) => c.name).join(", ")} FROM entries ORDER BY seq`).raw().iterate() as IterableIterator<unknown[]>) {
    posted.forEach((c, k) => (values[c.index] = row[1 + k] as string));
    postings.add((row[0] as number) + 1, values); // rowid = seq + 1: 0 is no rowid
  }
  lines.push(`SQL through postings (built in ${((performance.now() - t0) / 1000).toFixed(1)} s), newest 100 matches over ${ROWS} rows:`);
  const chunks = [128, 512, 2048];
  for (const f of filters) {
    const { sql } = compileFilter(f);
    if (!sql.hints) continue;
    const stmts = chunks.map((n) => db.prepare(`SELECT seq FROM entries NOT INDEXED WHERE seq IN (${"?, ".repeat(n - 1)}?) AND ${sql.where} ORDER BY seq DESC`).pluck());
    let rows = 0;
    const t = measure(() => {
      const walk = postings.walk(sql.hints!, 0)!;
      const found: number[] = [];
      for (let round = 0; found.length < 100; round++) {
        const k = Math.min(round, chunks.length - 1);
        const ids: unknown[] = new Array(chunks[k]);
        const n = walk.take(ids as number[], chunks[k]);
        if (n === 0) break;
        for (let i = 0; i < n; i++) ids[i] = (ids[i] as number) - 1;
        ids.fill(-1, n);
        for (const seq of stmts[k]!.all(...ids, ...sql.params) as number[]) if (found.length < 100) found.push(seq);
        if (n < chunks[k]) break;
      }
      rows = found.length;
    }, 10, 1000);
    lines.push(`  p50 ${fmt(t.p50)}  p99 ${fmt(t.p99)}  rows ${rows}${sql.exact ? "" : " (superset, predicate follows)"}  ${f}`);
  }
});

it("SQL latency: count(*) of every match", () => {
  lines.push(`SQL, count(*) over ${ROWS} rows:`);
  for (const f of filters.slice(0, 6)) {
    const { sql } = compileFilter(f);
    const stmt = db.prepare(`SELECT count(*) FROM entries WHERE ${sql.where}`).pluck();
    let count = 0;
    const t = measure(() => void (count = stmt.get(...sql.params) as number), 5, 1000);
    lines.push(`  p50 ${fmt(t.p50)}  p99 ${fmt(t.p99)}  count ${count}  ${f}`);
  }
});
