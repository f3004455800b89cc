import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Entry, Protocol } from "@tapline/protocol";
import { createRequire } from "node:module";
import { columnIndex, columnValues } from "../filter/columns.js";
import { compileFilter } from "../filter/index.js";
import { EntryStore } from "./index.js";
import type { SqlFilter } from "./index.js";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** Runs `body` with a store on a fresh 2 MiB tmpfs (root only), unmounted afterwards. */
function onSmallDisk(body: (dir: string, open: () => EntryStore) => void, writerThread?: boolean): void {
  const dir = mkdtempSync(join(tmpdir(), "tapline-store-full-"));
  dirs.push(dir);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tapline-store-full", dir]);
  let store: EntryStore | undefined;
  try {
    body(dir, () => (store = new EntryStore({ path: join(dir, "e.db"), limitBytes: 256 << 20, writerThread })));
  } finally {
    store?.close();
    execFileSync("umount", [dir]);
  }
}

function row(i: number) {
  const e = { id: `w-${i}`, timestampNs: 1e18 + i * 1e6, protocol: Protocol.HTTP, httpRequest: { method: "GET", path: `/x/${i}`, body: { data: Buffer.alloc(900, i % 256) } } };
  return { id: e.id, workerId: "w", columns: columnValues(e), data: Entry.encode(e).finish() };
}

describe("entry store", () => {
  it("a file DB filled past its limit stays within it and keeps the newest", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const limit = 4 << 20;
    const store = new EntryStore({ path: join(dir, "e.db"), limitBytes: limit });
    const total = 20_000; // ~20 MB of entries into a 4 MiB store
    for (let i = 0; i < total; i += 200) store.insertBatch(Array.from({ length: 200 }, (_, k) => row(i + k)));
    const s = store.stats();
    expect(s.evicted).toBeGreaterThan(total / 2);
    expect(s.fileBytes).toBeLessThanOrEqual(limit);
    expect(s.entries + s.evicted).toBe(total);
    expect(store.get(`w-${total - 1}`)).toBeDefined();
    expect(store.get("w-0")).toBeUndefined();
    const newest = store.page({ where: "1", params: [] }, 0, 3).map((r) => Entry.decode(r.data).id);
    expect(newest).toEqual([`w-${total - 1}`, `w-${total - 2}`, `w-${total - 3}`]);
    store.close();
  });

  it("de-duplicates on id and rejects bad options", () => {
    const store = new EntryStore({ path: ":memory:", limitBytes: 8 << 20 });
    expect(store.insertBatch([row(1), row(2)])).toEqual([true, true]);
    expect(store.insertBatch([row(2), row(3)])).toEqual([false, true]);
    expect(store.stats().entries).toBe(3);
    store.close();
    expect(() => new EntryStore({ path: ":memory:", limitBytes: 10 })).toThrow(/at least 1 MiB/);
  });

  it("pages newest first through the narrow rows for indexed, ranged and unindexed filters, with a cursor", () => {
    const store = new EntryStore({ path: ":memory:", limitBytes: 64 << 20 });
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      id: `q-${i}`, timestampNs: 1e18 + i * 1e6, protocol: i % 7 ? Protocol.HTTP : Protocol.REDIS,
      dst: { pod: `pod-${i % 13}`, namespace: `ns-${i % 3}` }, elapsedMs: (i * 37) % 1000, httpResponse: { status: i % 11 ? 200 : 503 },
    }));
    store.insertBatch(entries.map((e) => ({ id: e.id, workerId: "w", columns: columnValues(e), data: Entry.encode(e).finish() })));
    store.analyze();
    const cases: [string, unknown[], (e: (typeof entries)[number]) => boolean][] = [
      ["dst_pod = ?", ["pod-5"], (e) => e.dst.pod === "pod-5"],
      ["elapsed_ms > ?", [990], (e) => e.elapsedMs > 990],
      ["(status_code >= ? AND dst_namespace = ?)", [500, "ns-1"], (e) => e.httpResponse.status >= 500 && e.dst.namespace === "ns-1"],
      ["protocol = ?", ["redis"], (e) => e.protocol === Protocol.REDIS],
    ];
    for (const [where, params, pred] of cases) {
      const want = entries.filter(pred).reverse().map((e) => e.id);
      const first = store.page({ where, params }, 0, 25);
      const cursor = first[first.length - 1].rowid;
      const second = store.page({ where, params }, cursor, 25);
      expect([...first, ...second].map((r) => Entry.decode(r.data).id), where).toEqual(want.slice(0, 50));
    }
    const scanned = [...store.scan<{ data: Buffer; dst_pod: string }>("dst_pod, data", { where: "dst_pod = ?", params: ["pod-2"] }, 0, Number.MAX_SAFE_INTEGER)];
    expect(scanned.map((r) => Entry.decode(r.data).id)).toEqual(entries.filter((e) => e.dst.pod === "pod-2").map((e) => e.id));
    store.close();
  });

  // A real full disk: a 2 MiB tmpfs (root only, like test/robustness/faults.test.ts), most of it
  // taken by a ballast file, under a store whose own limit is far above it.
  it.skipIf(process.getuid?.() !== 0)("diskFull tells the last write's outcome: set by a failed insert, kept through eviction, cleared by a later successful one", () => {
    onSmallDisk((dir, open) => {
      writeFileSync(join(dir, "ballast"), Buffer.alloc(1 << 20));
      const store = open();
      let i = 0;
      let failed = false;
      while (!failed && i < 20_000) {
        failed = store.insertBatch(Array.from({ length: 50 }, () => row(i++))).every((ok) => !ok);
      }
      expect(failed).toBe(true);
      const after = store.stats();
      // Usage is far under the store's own limit, and the forced eviction after the failure (which
      // on a full disk may itself fail) changed nothing: the disk is still full, and the flag says so.
      expect(after.usedBytes).toBeLessThan(after.limitBytes * 0.75);
      expect(after.diskFull).toBe(true);
      expect(store.insertBatch([row(i++)])).toEqual([false]);
      expect(store.stats().diskFull).toBe(true);
      expect(after.droppedOnError).toBeGreaterThan(0);
      unlinkSync(join(dir, "ballast"));
      expect(store.insertBatch([row(i++)])).toEqual([true]);
      expect(store.stats().diskFull).toBe(false);
    });
  });

  it.skipIf(process.getuid?.() !== 0)("write()'s open transaction: a failed write or commit rolls back all of it, counted as dropped, and runs every commit callback", () => {
    onSmallDisk((_dir, open) => {
      const store = open();
      // Committed rows survive whatever happens to a later transaction.
      store.write([row(0), row(1)], [{ workerId: "w", seq: 1 }]);
      store.commit();
      expect(store.lastSeq("w")).toBe(1);
      let called = 0;
      let written = 0;
      let failed = false;
      for (let i = 2; !failed && i < 20_000; i += 50) {
        const out = store.write(Array.from({ length: 50 }, (_, k) => row(i + k)), [{ workerId: "w", seq: 2 + i }], () => called++);
        written += 50;
        failed = out!.every((ok) => !ok);
        // Visible to this store's own reads before the commit.
        if (!failed) expect(store.get(`w-${i}`)).toBeDefined();
        if (!failed && written % 1000 === 0) {
          store.commit();
          failed = store.stats().droppedOnError > 0;
        }
      }
      expect(failed).toBe(true);
      const s = store.stats();
      expect(s.diskFull).toBe(true);
      expect(called).toBe(written / 50);
      expect(s.entries + s.droppedOnError + s.evicted).toBe(written + 2);
      expect(store.uncommitted).toBe(0);
    }, false);
  });

  it("the writer thread: rows packed, written on its own connection, answered per write after the commit, duplicates and seqs kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const store = new EntryStore({ path: join(dir, "e.db"), limitBytes: 64 << 20 });
    const answers: [boolean[], boolean][] = [];
    // Values that must survive the packing: non-ASCII and empty text, fractions, big integers.
    const odd = { ...row(9), id: "w-\u00e9\u{1F600}", workerId: "" };
    odd.columns = odd.columns.map((v) => (typeof v === "number" ? v + 0.5 : v));
    expect(store.write([row(1), row(2)], [{ workerId: "w", seq: 1 }], (ins, failed) => answers.push([ins, failed]))).toBeUndefined();
    expect(store.write([row(2), row(3), odd], [{ workerId: "w", seq: 2 }], (ins, failed) => answers.push([ins, failed]))).toBeUndefined();
    expect(store.uncommitted).toBe(5);
    expect(answers).toEqual([]); // nothing is answered before the commit
    store.commit();
    store.drain();
    expect(answers).toEqual([[[true, true], false], [[false, true, true], false]]);
    expect(store.uncommitted).toBe(0);
    expect(store.stats().entries).toBe(4);
    expect(store.lastSeq("w")).toBe(2);
    expect(Buffer.from(store.get(odd.id)!)).toEqual(Buffer.from(odd.data));
    const names = ["ts", "src_port", "elapsed_ms", "path", "method"];
    const Database = createRequire(import.meta.url)("better-sqlite3");
    const other = new Database(join(dir, "e.db"), { readonly: true });
    const got = other.prepare(`SELECT worker_id, ${names.join(", ")} FROM entries WHERE id = ?`).get(odd.id);
    other.close();
    expect(got).toEqual({ worker_id: "", ...Object.fromEntries(names.map((n) => [n, odd.columns[columnIndex(n)]])) });
    // insertBatch (this connection) after thread writes keeps the order and the de-duplication.
    expect(store.insertBatch([row(3), row(4)])).toEqual([false, true]);
    store.close();
  });

  it("the writer thread stores text exactly as this connection does: non-ASCII, empty, lone surrogates, a pair split across two values", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const texts = ["", "é", "😀", "a\uD83D", "\uDE00b", "\uD800", "x\uDC00y", "\u0000z", "ab".repeat(300)];
    const rows = Array.from({ length: 40 }, (_, i) => {
      const r = row(i);
      // Consecutive text columns get consecutive texts: "a\uD83D" then "\uDE00b" would be a pair if joined.
      r.columns = r.columns.map((v, k) => (typeof v === "string" ? texts[(i + k) % texts.length] : v));
      return { ...r, id: `${texts[i % texts.length]}-${i}`, workerId: texts[(i + 3) % texts.length] };
    });
    const threaded = new EntryStore({ path: join(dir, "t.db"), limitBytes: 64 << 20 });
    threaded.write(rows, []);
    threaded.close();
    const direct = new EntryStore({ path: join(dir, "d.db"), limitBytes: 64 << 20, writerThread: false });
    direct.insertBatch(rows);
    direct.close();
    const Database = createRequire(import.meta.url)("better-sqlite3");
    const dump = (file: string) => {
      const db = new Database(join(dir, file), { readonly: true });
      const out = db.prepare("SELECT * FROM entries ORDER BY rowid").all();
      db.close();
      return out;
    };
    const stored = dump("t.db");
    expect(stored).toHaveLength(40);
    expect(stored).toEqual(dump("d.db"));
    expect(stored.some((r: { src_pod: string }) => r.src_pod.includes("\uFFFD"))).toBe(true);
    // Found through postings by the value as sent, before and after a reopen (keys rebuilt from what SQLite reads back).
    for (const file of ["t.db", "t.db"]) {
      const store = new EntryStore({ path: join(dir, file), limitBytes: 64 << 20 });
      for (const t of texts) expectPostingsAgree(store, `src.pod == ${JSON.stringify(t)}`, 3);
      expect(allPages(store, compileFilter(`src.pod == ${JSON.stringify("\uD800")}`).sql, 3).length).toBeGreaterThan(0);
      store.close();
    }
  });

  it("statistics are refreshed on the writer thread each time the table has doubled", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const store = new EntryStore({ path: join(dir, "e.db"), limitBytes: 64 << 20 });
    const db = (store as unknown as { db: import("better-sqlite3").Database }).db;
    const counted = () => (db.prepare("SELECT stat FROM sqlite_stat1 WHERE idx = 'entries_ts'").pluck().get() as string | undefined)?.split(" ")[0];
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 6000; i += 500) {
      store.write(Array.from({ length: 500 }, (_, k) => row(i + k)), []);
      store.drain();
      seen.push(counted());
    }
    // Due at 1000 inserted rows, then each time as many more were inserted as the last one counted.
    expect([...new Set(seen)]).toEqual([undefined, "1000", "2000", "4000"]);
    store.close();
  });

  it("a writer thread that dies: rows packed for it are answered failed and counted dropped, later writes go through this connection", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const store = new EntryStore({ path: join(dir, "e.db"), limitBytes: 64 << 20 });
    const answers: [boolean[], boolean][] = [];
    store.write([row(1)], [{ workerId: "w", seq: 1 }], (ins, failed) => answers.push([ins, failed]));
    store.drain();
    store.write([row(2), row(3)], [{ workerId: "w", seq: 2 }], (ins, failed) => answers.push([ins, failed]));
    const thread = (store as unknown as { writer: { worker: import("node:worker_threads").Worker } }).writer.worker;
    const exited = new Promise((r) => thread.once("exit", r));
    await thread.terminate();
    await exited;
    store.commit();
    expect(answers).toEqual([[[true], false], [[false, false], true]]);
    expect(store.stats().droppedOnError).toBe(2);
    expect(store.write([row(4)], [{ workerId: "w", seq: 3 }], (ins, failed) => answers.push([ins, failed]))).toEqual([true]);
    store.commit();
    expect(answers[2]).toEqual([[true], false]);
    expect(store.get("w-4")).toBeDefined();
    expect(store.lastSeq("w")).toBe(3);
    expect(store.stats().entries).toBe(2);
    store.close();
  });

  it.skipIf(process.getuid?.() !== 0)("the writer thread on a full disk: the group's writes are answered failed, counted as dropped, and the store keeps serving", () => {
    onSmallDisk((_dir, open) => {
      const store = open();
      let answered = 0;
      let failedRows = 0;
      let written = 0;
      for (let i = 0; store.stats().droppedOnError === 0 && i < 20_000; i += 50) {
        store.write(Array.from({ length: 50 }, (_, k) => row(i + k)), [{ workerId: "w", seq: 1 + i }], (ins, failed) => {
          answered++;
          if (failed) {
            failedRows += ins.length;
            expect(ins.every((ok) => !ok)).toBe(true);
          }
        });
        written += 50;
        if (written % 1000 === 0) store.drain();
      }
      store.drain();
      const s = store.stats();
      expect(s.droppedOnError).toBeGreaterThan(0);
      expect(failedRows).toBe(s.droppedOnError);
      expect(answered).toBe(written / 50);
      expect(s.diskFull).toBe(true);
      expect(s.entries + s.droppedOnError + s.evicted).toBe(written);
      expect(store.uncommitted).toBe(0);
      expect(store.page({ where: "1", params: [] }, 0, 1)).toHaveLength(1);
    });
  });
});

/** Rowids posted in the store (6 per stored row when nothing is in flight). */
const posted = (store: EntryStore) => (store as unknown as { postings: { size: number } }).postings.size;

/** Rows whose pods and namespace come from `pick(i)`. */
function podRow(i: number, pick: (i: number) => { src: string; dst: string; ns: string }, prefix = "p") {
  const { src, dst, ns } = pick(i);
  const e = { id: `${prefix}-${i}`, timestampNs: 1e18 + i * 1e6, protocol: Protocol.HTTP, src: { pod: src }, dst: { pod: dst, namespace: ns }, httpRequest: { method: i % 4 ? "GET" : "POST", path: `/p/${i}` }, httpResponse: { status: i % 9 ? 200 : 500 } };
  return { id: e.id, workerId: "w", columns: columnValues(e), data: Entry.encode(e).finish() };
}
const mixed = (i: number) => ({ src: `client-${i % 7}`, dst: i % 997 === 5 ? "rare" : `server-${i % 13}`, ns: `ns-${i % 3}` });

/** Every page of `filter` from the newest, following the cursor: ids, and the rowid cursors. */
function allPages(store: EntryStore, filter: SqlFilter, limit: number): string[] {
  const ids: string[] = [];
  for (let before = 0; ; ) {
    const page = store.page(filter, before, limit);
    ids.push(...page.map((r) => Entry.decode(r.data).id));
    if (page.length < limit) return ids;
    before = page[page.length - 1]!.rowid;
  }
}

/** The same pages by SQL alone (no hints): what the postings path must give. */
function expectPostingsAgree(store: EntryStore, filter: string, limit: number): string[] {
  const sql = compileFilter(filter).sql;
  expect(sql.hints, filter).toBeDefined();
  const { hints: _, ...plain } = sql;
  const want = allPages(store, plain, limit);
  expect(allPages(store, sql, limit), filter).toEqual(want);
  return want;
}

const FILTERS = [
  'dst.pod == "rare"', 'src.pod == "client-3"', 'dst.pod in ("server-1", "server-12", "rare", "server-1")',
  'src.pod == "client-2" and dst.namespace == "ns-1" and response.status == 500', '(dst.pod == "server-4" or dst.pod == "server-5") and summary.method == "POST"',
  'dst.pod == "server-1" and src.pod == "client-1"', 'dst.pod == "nobody"', 'dst.namespace == "ns-2" and timestamp > 1000000000005000', 'src.pod == "client-3" and summary.target startsWith "/p/1"',
];

describe("entry store postings", () => {
  it("page through postings exactly as through SQL: planted rare rows, an IN over several values, intersections, across chunk boundaries", () => {
    const store = new EntryStore({ path: ":memory:", limitBytes: 256 << 20 });
    for (let i = 0; i < 12_000; i += 1000) store.insertBatch(Array.from({ length: 1000 }, (_, k) => podRow(i + k, mixed)));
    expect(posted(store)).toBe(12_000 * 6);
    for (const f of FILTERS) for (const limit of [1, 7, 100, 700, 5000]) expectPostingsAgree(store, f, limit);
    expect(expectPostingsAgree(store, 'dst.pod == "rare"', 5)).toEqual(Array.from({ length: 13 }, (_, k) => `p-${(12 - k) * 997 + 5}`));
    // A value with no posting: an empty page without reading the table.
    const t = performance.now();
    for (let k = 0; k < 100; k++) expect(store.page(compileFilter('src.pod == "nobody" and elapsedMs > 1').sql, 0, 100)).toEqual([]);
    expect(performance.now() - t).toBeLessThan(50);
    store.close();
  });

  it("a duplicate id takes a rowid but leaves no posting and no second row (insertBatch, write, the writer thread)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    for (const path of [":memory:", join(dir, "e.db")]) {
      const store = new EntryStore({ path, limitBytes: 64 << 20 });
      const rows = Array.from({ length: 3000 }, (_, i) => podRow(i, mixed));
      expect(store.insertBatch(rows.slice(0, 1000)).every(Boolean)).toBe(true);
      // Resent: half duplicates, through write() (the thread for the file).
      const answers: boolean[] = [];
      const out = store.write(rows.slice(500, 2000), [], (ins) => answers.push(...ins));
      store.drain();
      expect(answers.filter(Boolean)).toHaveLength(1000);
      if (path === ":memory:") expect(out!.filter(Boolean)).toHaveLength(1000);
      expect(store.insertBatch(rows.slice(1500, 3000)).filter(Boolean)).toHaveLength(1000);
      expect(store.stats().entries).toBe(3000);
      expect(posted(store)).toBe(3000 * 6);
      for (const f of FILTERS) expectPostingsAgree(store, f, 333);
      store.close();
    }
  });

  it("eviction trims the postings with the rows, and a reopened store rebuilds them and goes on with higher rowids", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapline-store-"));
    dirs.push(dir);
    const path = join(dir, "e.db");
    let store = new EntryStore({ path, limitBytes: 2 << 20 });
    let i = 0;
    for (; i < 30_000; i += 500) {
      store.write(Array.from({ length: 500 }, (_, k) => podRow(i + k, mixed)), []);
      store.commit();
    }
    store.drain();
    const s = store.stats();
    expect(s.evicted).toBeGreaterThan(10_000);
    expect(posted(store)).toBe(s.entries * 6);
    for (const f of FILTERS) expectPostingsAgree(store, f, 250);
    const before = allPages(store, compileFilter('src.pod == "client-5"').sql, 100);
    store.close();

    store = new EntryStore({ path, limitBytes: 2 << 20 });
    expect(posted(store)).toBe(s.entries * 6);
    expect(allPages(store, compileFilter('src.pod == "client-5"').sql, 100)).toEqual(before);
    store.insertBatch(Array.from({ length: 50 }, (_, k) => podRow(i + k, mixed)));
    const newest = store.page(compileFilter('src.pod == "client-5"').sql, 0, 1).map((r) => Entry.decode(r.data).id);
    expect(newest).toEqual([`p-${[...Array(50).keys()].map((k) => i + k).filter((n) => n % 7 === 5).pop()}`]);
    for (const f of FILTERS) expectPostingsAgree(store, f, 250);
    store.close();
  });

  it("scan() through postings gives what the ts index gives, oldest first, within the time window", () => {
    const store = new EntryStore({ path: ":memory:", limitBytes: 64 << 20 });
    store.insertBatch(Array.from({ length: 12_000 }, (_, i) => podRow(i, mixed)));
    const t0 = 1e18 / 1000;
    for (const f of FILTERS) {
      const sql = compileFilter(f).sql;
      const { hints: _, ...plain } = sql;
      for (const [since, until] of [[0, Number.MAX_SAFE_INTEGER], [t0 + 3000e3, t0 + 3500e3], [t0 + 100e3, t0 + 9000e3]]) {
        const ids = (filter: SqlFilter) => [...store.scan<{ data: Buffer }>("data, dst_pod", filter, since, until)].map((r) => Entry.decode(r.data).id);
        expect(ids(sql), f).toEqual(ids(plain));
      }
    }
    store.close();
  });

});
