import { Entry, Protocol } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { columnValues } from "../filter/columns.js";
import { compileFilter } from "../filter/index.js";
import { EntryStore } from "../store/index.js";
import { queryEntries } from "./index.js";

let store: EntryStore | undefined;
afterEach(() => store?.close());

function fill(n: number, body: (i: number) => string): EntryStore {
  const s = new EntryStore({ path: ":memory:", limitBytes: 256 << 20 });
  const rows = Array.from({ length: n }, (_, i) => {
    const e: EntryInit = { id: `w-${i}`, timestampNs: 1e18 + i * 1e6, protocol: Protocol.HTTP, httpRequest: { method: "POST", path: "/", body: { data: Buffer.from(body(i)) } } };
    return { id: e.id!, workerId: "w", columns: columnValues(e), data: Entry.encode(Entry.fromObject(e)).finish() };
  });
  s.insertBatch(rows);
  return s;
}

describe("paged queries decided by the predicate", () => {
  it("end a page early at the time budget, with a cursor that goes on from there", () => {
    // The regex costs the linear engine a millisecond or more per 15 KB body (it matches every
    // body: `(...)*$` matches at the end), then `contains` picks one row in a hundred.
    store = fill(400, (i) => `${"ab ".repeat(5000)}${i % 100 === 0 ? "needle" : ""}`);
    const f = compileFilter('request.body matches /(\\w+\\s?)*$/ and request.body contains "needle"');
    const t = performance.now();
    const first = queryEntries(store, f, 0, 10, 5);
    expect(performance.now() - t).toBeLessThan(250);
    expect(first.entries.length).toBeLessThan(4);
    expect(first.next).not.toBeNull();
    // Following the cursors finds every match once, newest first.
    const ids = first.entries.map((e) => e.id);
    for (let next = first.next; next !== null; ) {
      const page = queryEntries(store, f, next, 10, 5);
      ids.push(...page.entries.map((e) => e.id));
      next = page.next;
    }
    expect(ids).toEqual(["w-300", "w-200", "w-100", "w-0"]);
  });

  it("fill a page in one call when the predicate is cheap", () => {
    store = fill(3000, (i) => (i % 2 ? "odd" : "even"));
    const page = queryEntries(store, compileFilter('request.body == "odd"'), 0, 1000);
    expect(page.entries).toHaveLength(1000);
    expect(page.entries[0]!.id).toBe("w-2999");
  });
});
