// SQL/predicate agreement (issue 5): for random entries stored in a table built from
// COLUMNS/columnValues and random filters over the grammar, the rows selected by the SQL
// (then the predicate, when the SQL is not exact) are exactly the rows the predicate selects;
// and so are those found through the store's postings when the SQL has hints (store/postings.ts:
// candidates from the hinted lists, re-checked with the SQL), as EntryStore.page() does.
import Database from "better-sqlite3";
import fc from "fast-check";
import type { EntryInit } from "@tapline/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { entryArb, filterArb, leafFilters } from "./__fixtures__/arbitraries.js";
import { COLUMNS, columnValues } from "./columns.js";
import { compileFilter } from "./index.js";
import { Postings } from "../store/postings.js";

const db = new Database(":memory:");
db.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, ${COLUMNS.map((c) => `${c.name} ${c.sqlType} NOT NULL`).join(", ")})`);
for (const c of COLUMNS) if (c.lookup === "index") db.exec(`CREATE INDEX entries_${c.name} ON entries (${c.name})`);
const insert = db.prepare(`INSERT INTO entries VALUES (?, ${COLUMNS.map(() => "?").join(", ")})`);
const clear = db.prepare("DELETE FROM entries");
afterAll(() => db.close());
const postings = new Postings(COLUMNS.flatMap((c, index) => (c.lookup === "postings" ? [{ name: c.name, index }] : [])));
let hinted = 0;

function load(entries: EntryInit[]): void {
  clear.run();
  postings.clear();
  // seq i is rowid i + 1 in the postings (0 means "no bound" to a walk).
  entries.forEach((e, i) => {
    const values = columnValues(e);
    insert.run(i, ...values);
    postings.add(i + 1, values);
  });
}

/** The rows of `where` among the posted candidates, ascending. */
function viaPostings(f: ReturnType<typeof compileFilter>): number[] {
  const walk = postings.walk(f.sql.hints!, 0)!;
  const candidates: number[] = [];
  for (let n; (n = walk.take(candidates, 7, candidates.length)) > 0; );
  const seqs = candidates.map((r) => r - 1).reverse();
  if (seqs.length === 0) return [];
  return db.prepare(`SELECT seq FROM entries WHERE seq IN (${seqs.map(() => "?").join(", ")}) AND ${f.sql.where} ORDER BY seq`).pluck().all(...seqs, ...f.sql.params) as number[];
}

function check(entries: EntryInit[], filter: string): { exact: boolean; sqlRows: number; matches: number } {
  const f = compileFilter(filter);
  const expected = entries.flatMap((e, i) => (f.predicate(e) ? [i] : []));
  const rows = db.prepare(`SELECT seq FROM entries WHERE ${f.sql.where} ORDER BY seq`).pluck().all(...f.sql.params) as number[];
  const selected = f.sql.exact ? rows : rows.filter((i) => f.predicate(entries[i]!));
  expect(selected, `${filter}\nwhere ${f.sql.where} ${JSON.stringify(f.sql.params)}`).toEqual(expected);
  if (f.sql.hints) {
    hinted++;
    expect(viaPostings(f), `${filter} through postings ${JSON.stringify(f.sql.hints)}`).toEqual(rows);
  }
  return { exact: f.sql.exact, sqlRows: rows.length, matches: expected.length };
}

describe("SQL and predicate agree", () => {
  it("on random entries and random filters", () => {
    let exact = 0;
    let narrowed = 0;
    let nonEmpty = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 40 }), fc.array(filterArb, { minLength: 1, maxLength: 8 }), (entries, filters) => {
        load(entries);
        for (const filter of filters) {
          const r = check(entries, filter);
          runs++;
          if (r.exact) exact++;
          if (r.sqlRows < entries.length) narrowed++;
          if (r.matches > 0 && r.matches < entries.length) nonEmpty++;
        }
      }),
      { numRuns: 250 },
    );
    // The generators must produce informative cases, not only trivial ones.
    expect(exact / runs).toBeGreaterThan(0.1);
    expect(narrowed / runs).toBeGreaterThan(0.2);
    expect(nonEmpty / runs).toBeGreaterThan(0.1);
  });

  it("on every field, operator and pooled value, and their negations", () => {
    // Seeded entries plus one that breaks the naive mapping of request.method onto `method`
    // (a gRPC entry's method column is service/method).
    const entries: EntryInit[] = [
      ...fc.sample(entryArb, { numRuns: 400, seed: 7 }),
      { protocol: 3, httpRequest: { method: "GET" }, grpc: { service: "cart.Cart", method: "Add" } },
    ];
    load(entries);
    let filters = 0;
    for (const leafText of leafFilters()) {
      check(entries, leafText);
      check(entries, `not (${leafText})`);
      filters += 2;
    }
    expect(filters).toBeGreaterThan(2000);
    expect(hinted).toBeGreaterThan(100);
  });

  it("on hand-picked edge cases", () => {
    const entries = fc.sample(entryArb, { numRuns: 300, seed: 42 });
    load(entries);
    for (const filter of [
      'request.path startsWith "/api/*?[x"',
      'summary.target startsWith "/api/*"',
      'summary.target endsWith "😀b"',
      'summary.method endsWith ""',
      'src.pod contains "%_"',
      'not request.method == "GET"',
      'not (request.path contains "api" or grpc.method == "Add")',
      'request.apiName == "Produce"',
      '!(request.topic startsWith "pay") && kafka',
      "not timestamp > 1763900000000.001",
      "timestamp == 1763900000000",
      'request.headers["CONTENT-type"] != "json"',
      "http2 == false",
      "not error",
    ]) {
      check(entries, filter);
    }
  });
});
