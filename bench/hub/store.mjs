// SQLite's share of the hub's ingest: CPU per entry of inserting the bench's entries (already
// redacted and encoded) in the hub's layout (entries row with the rowid given by the store + id index
// + blob in entry_data, the SQLite indexes of filter/columns.ts), by rows per commit and by which
// secondary indexes exist (the text columns that were indexed are now posted in memory, on the
// main thread: store/postings.ts).
// Each case gets a fresh file; the rounds alternate the cases (the machine is shared: take the min).
// With --open-rows N: the time EntryStore takes to open a file of N such rows (it rebuilds the postings).
// Run: pnpm --filter @tapline/hub... build && node bench/hub/store.mjs [--entries 150000] [--rounds 2] [--open-rows 1000000]
// (enough entries that every case passes a WAL checkpoint, as a running hub does).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { Entry } from "../../packages/protocol/dist/index.js";
import { COLUMNS, columnValues } from "../../packages/hub/dist/filter/columns.js";
import { EntryStore } from "../../packages/hub/dist/store/index.js";
import { entry } from "./entries.mjs";

const Database = createRequire(new URL("../../packages/hub/package.json", import.meta.url))("better-sqlite3");
const { values } = parseArgs({ options: { entries: { type: "string", default: "150000" }, rounds: { type: "string", default: "2" }, "open-rows": { type: "string", default: "0" } } });
const N = Number(values.entries);
const INDEXED = COLUMNS.filter((c) => c.lookup === "index").map((c) => c.name);
const POSTED = COLUMNS.filter((c) => c.lookup === "postings").map((c) => c.name);
const CASES = {
  "commit per worker batch (500 rows), the store's indexes": { tx: 500, idx: INDEXED },
  "group commit (4000 rows), the store's indexes": { tx: 4000, idx: INDEXED },
  "group commit, the posted text columns indexed in SQLite too (the layout before postings)": { tx: 4000, idx: [...INDEXED, ...POSTED] },
  "group commit, no secondary index": { tx: 4000, idx: [] },
};

const rows = [];
for (let i = 0; i < N; i++) {
  const e = Entry.fromObject(entry(i));
  rows.push({ id: e.id, columns: columnValues(e), data: Entry.encode(e).finish() });
}

function run({ tx, idx }) {
  const dir = mkdtempSync(join(tmpdir(), "tapline-store-bench-"));
  const db = new Database(join(dir, "e.db"));
  // The store's settings for a large limit (store/store.ts).
  for (const p of ["journal_mode = WAL", "synchronous = NORMAL", "cache_size = -65536", "wal_autocheckpoint = 16384"]) db.pragma(p);
  db.exec(`CREATE TABLE entries (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, worker_id TEXT NOT NULL, ${COLUMNS.map((c) => `${c.name} ${c.sqlType} NOT NULL`).join(", ")})`);
  db.exec("CREATE TABLE entry_data (entry INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  for (const c of idx) db.exec(`CREATE INDEX entries_${c} ON entries(${c})`);
  const names = ["rowid", "id", "worker_id", ...COLUMNS.map((c) => c.name)];
  const insert = db.prepare(`INSERT OR IGNORE INTO entries (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`);
  const data = db.prepare("INSERT INTO entry_data (entry, data) VALUES (?, ?)");
  const args = new Array(names.length);
  const write = db.transaction((lo, hi) => {
    for (let i = lo; i < hi; i++) {
      args[0] = i + 1;
      args[1] = rows[i].id;
      args[2] = "bench";
      for (let k = 0; k < rows[i].columns.length; k++) args[3 + k] = rows[i].columns[k];
      if (insert.run(args).changes === 1) data.run(i + 1, rows[i].data);
    }
  });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += tx) write(i, Math.min(N, i + tx));
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const bytes = statSync(join(dir, "e.db")).size;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { cpuMicrosPerEntry: (c.user + c.system) / N, wallMicrosPerEntry: (wall * 1000) / N, dbBytesPerEntry: bytes / N };
}

const best = {};
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, c] of Object.entries(CASES)) {
    const m = run(c);
    const b = (best[name] ??= m);
    for (const k of Object.keys(m)) b[k] = Math.min(b[k], m[k]);
  }
}
for (const b of Object.values(best)) for (const k of Object.keys(b)) b[k] = +b[k].toFixed(2);

/** Milliseconds to open a store file of `n` rows (the bench's entries, repeated), best of the rounds. */
function openMs(n) {
  const dir = mkdtempSync(join(tmpdir(), "tapline-store-bench-"));
  const path = join(dir, "e.db");
  let store = new EntryStore({ path, limitBytes: 64 * 2 ** 30, writerThread: false });
  for (let i = 0; i < n; i += 10_000) {
    store.insertBatch(Array.from({ length: Math.min(10_000, n - i) }, (_, k) => ({ ...rows[(i + k) % N], id: `open-${i + k}`, workerId: "bench" })));
  }
  store.close();
  let best = Infinity;
  for (let r = 0; r < Number(values.rounds); r++) {
    const t = performance.now();
    store = new EntryStore({ path, limitBytes: 64 * 2 ** 30 });
    best = Math.min(best, performance.now() - t);
    store.close();
  }
  rmSync(dir, { recursive: true, force: true });
  return +best.toFixed(0);
}
const openRows = Number(values["open-rows"]);
const open = openRows > 0 ? { rows: openRows, openMs: openMs(openRows) } : undefined;
console.log(JSON.stringify({ entries: N, sqliteIndexes: INDEXED, postedColumns: POSTED, cases: best, open }, null, 2));
