// SQLite's share of the hub's ingest: CPU per entry of inserting the bench's entries (already
// redacted and encoded) in the hub's layout (entries row + id index + blob in entry_data, the
// secondary indexes of filter/columns.ts), by rows per commit and by which secondary indexes exist.
// Each case gets a fresh file; the rounds alternate the cases (the machine is shared: take the min).
// Run: pnpm --filter @tapline/hub... build && node bench/hub/store.mjs [--entries 150000] [--rounds 2]
// (enough entries that every case passes a WAL checkpoint, as a running hub does).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { Entry } from "../../packages/protocol/dist/index.js";
import { COLUMNS, columnValues } from "../../packages/hub/dist/filter/columns.js";
import { entry } from "./entries.mjs";

const Database = createRequire(new URL("../../packages/hub/package.json", import.meta.url))("better-sqlite3");
const { values } = parseArgs({ options: { entries: { type: "string", default: "150000" }, rounds: { type: "string", default: "2" } } });
const N = Number(values.entries);
const INDEXED = COLUMNS.filter((c) => c.indexed).map((c) => c.name);
const CASES = {
  "commit per worker batch (500 rows), all indexes": { tx: 500, idx: INDEXED },
  "group commit (4000 rows), all indexes": { tx: 4000, idx: INDEXED },
  "group commit, without the namespace indexes": { tx: 4000, idx: INDEXED.filter((c) => !c.endsWith("namespace")) },
  "group commit, ts index only": { tx: 4000, idx: ["ts"] },
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
  const names = ["id", "worker_id", ...COLUMNS.map((c) => c.name)];
  const insert = db.prepare(`INSERT OR IGNORE INTO entries (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`);
  const data = db.prepare("INSERT INTO entry_data (entry, data) VALUES (?, ?)");
  const args = new Array(names.length);
  const write = db.transaction((lo, hi) => {
    for (let i = lo; i < hi; i++) {
      args[0] = rows[i].id;
      args[1] = "bench";
      for (let k = 0; k < rows[i].columns.length; k++) args[2 + k] = rows[i].columns[k];
      const r = insert.run(args);
      if (r.changes === 1) data.run(r.lastInsertRowid, rows[i].data);
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
console.log(JSON.stringify({ entries: N, secondaryIndexes: INDEXED, cases: best }, null, 2));
