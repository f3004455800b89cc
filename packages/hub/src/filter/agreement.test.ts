// SQL/predicate agreement (issue 5): for random entries stored in a table built from
// COLUMNS/columnValues and random filters over the grammar, the rows selected by the SQL
// (then the predicate, when the SQL is not exact) are exactly the rows the predicate selects.
import Database from "better-sqlite3";
import fc from "fast-check";
import type { EntryInit } from "@tapline/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { entryArb, filterArb, leafFilters } from "./__fixtures__/arbitraries.js";
import { COLUMNS, columnValues } from "./columns.js";
import { compileFilter } from "./index.js";

const db = new Database(":memory:");
db.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, ${COLUMNS.map((c) => `${c.name} ${c.sqlType} NOT NULL`).join(", ")})`);
for (const c of COLUMNS) if (c.indexed) db.exec(`CREATE INDEX entries_${c.name} ON entries (${c.name})`);
const insert = db.prepare(`INSERT INTO entries VALUES (?, ${COLUMNS.map(() => "?").join(", ")})`);
const clear = db.prepare("DELETE FROM entries");
afterAll(() => db.close());

function load(entries: EntryInit[]): void {
  clear.run();
  entries.forEach((e, i) => insert.run(i, ...columnValues(e)));
}

function check(entries: EntryInit[], filter: string): { exact: boolean; sqlRows: number; matches: number } {
  const f = compileFilter(filter);
  const expected = entries.flatMap((e, i) => (f.predicate(e) ? [i] : []));
  const rows = db.prepare(`SELECT seq FROM entries WHERE ${f.sql.where} ORDER BY seq`).pluck().all(...f.sql.params) as number[];
  const selected = f.sql.exact ? rows : rows.filter((i) => f.predicate(entries[i]!));
  expect(selected, `${filter}\nwhere ${f.sql.where} ${JSON.stringify(f.sql.params)}`).toEqual(expected);
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
