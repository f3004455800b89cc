import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Postings, postingKey } from "./postings.js";
import type { PostingHint } from "./postings.js";

// Two posted columns at positions 0 and 2 of a row's values (1 is not posted).
const columns = [{ name: "a", index: 0 }, { name: "b", index: 2 }];

function all(p: Postings, hints: PostingHint[], before = 0, chunk = 3): number[] {
  const walk = p.walk(hints, before)!;
  const out: number[] = [];
  for (let n; (n = walk.take(out, chunk, out.length)) > 0; );
  return out;
}

describe("postings", () => {
  it("walk a value's rowids newest first below a cursor, the union of an IN, the intersection of several hints", () => {
    const p = new Postings(columns);
    for (let r = 1; r <= 30; r++) p.add(r, [`a${r % 3}`, "x", `b${r % 5}`]);
    expect(all(p, [{ column: "a", values: ["a1"] }])).toEqual([28, 25, 22, 19, 16, 13, 10, 7, 4, 1]);
    expect(all(p, [{ column: "a", values: ["a1"] }], 16)).toEqual([13, 10, 7, 4, 1]);
    expect(all(p, [{ column: "a", values: ["a1", "a2", "a1"] }], 9)).toEqual([8, 7, 5, 4, 2, 1]);
    expect(all(p, [{ column: "a", values: ["a1"] }, { column: "b", values: ["b2", "b3"] }])).toEqual([28, 22, 13, 7]);
    // A value never posted: nothing, whatever the other hints hold.
    expect(all(p, [{ column: "b", values: ["b0"] }, { column: "a", values: ["zz"] }])).toEqual([]);
    expect(p.walk([{ column: "a", values: ["zz"] }], 0)!.estimate).toBe(0);
    expect(p.walk([], 0)).toBeUndefined();
    expect(() => p.walk([{ column: "x", values: ["1"] }], 0)).toThrow(/no postings/);
  });

  it("trim the oldest rowids, remove a group's duplicates or a range, and drop values left empty", () => {
    const p = new Postings(columns);
    const rows = Array.from({ length: 20 }, (_, i) => [`a${i % 2}`, 0, i < 10 ? "old" : "new"]);
    rows.forEach((v, i) => p.add(i + 1, v));
    p.trimBelow(11);
    expect(all(p, [{ column: "b", values: ["old"] }])).toEqual([]);
    expect(p.lists({ column: "b", values: ["old"] })).toEqual([]);
    expect(all(p, [{ column: "a", values: ["a0"] }])).toEqual([19, 17, 15, 13, 11]);
    // Rows 16-20 were a group: 17 and 19 duplicates (keep 0), the others new.
    p.removeRows(16, rows.slice(15), Uint8Array.from([1, 0, 1, 0, 1]));
    expect(all(p, [{ column: "a", values: ["a0", "a1"] }])).toEqual([20, 18, 16, 15, 14, 13, 12, 11]);
    p.removeRange(12, 15);
    expect(all(p, [{ column: "b", values: ["new"] }])).toEqual([20, 18, 16, 15, 11]);
    p.removeRows(11, rows.slice(10), undefined);
    expect(p.size).toBe(0);
  });

  it("keys text as SQLite reads it back: a lone surrogate is three U+FFFD", () => {
    expect(postingKey("a\uD800b")).toBe("a\uFFFD\uFFFD\uFFFDb");
    expect(postingKey("\uDC00\uD83D\uDE00\uD83D")).toBe("\uFFFD\uFFFD\uFFFD😀\uFFFD\uFFFD\uFFFD");
    expect(postingKey("a😀")).toBe("a😀");
    expect(postingKey(12)).toBe("12");
    const p = new Postings(columns);
    p.add(1, ["\uDC00", 0, ""]);
    expect(all(p, [{ column: "a", values: ["\uDC00"] }])).toEqual([1]);
    expect(all(p, [{ column: "a", values: ["\uFFFD\uFFFD\uFFFD"] }])).toEqual([1]);
  });

  it("agree with a plain model through appends, trims, removals and walks (lists grow, compact and shrink)", () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("add" as const), n: fc.integer({ min: 1, max: 40 }), seed: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("trim" as const), keep: fc.integer({ min: 0, max: 60 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("dups" as const), mask: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("range" as const), back: fc.integer({ min: 0, max: 30 }), len: fc.integer({ min: 0, max: 10 }) }) },
    );
    const query = fc.record({
      a: fc.uniqueArray(fc.constantFrom("p", "q", "r", "s"), { minLength: 1, maxLength: 3 }),
      b: fc.option(fc.uniqueArray(fc.constantFrom("u", "v", "w"), { minLength: 1, maxLength: 2 }), { nil: undefined }),
      before: fc.integer({ min: 0, max: 400 }),
      chunk: fc.integer({ min: 1, max: 9 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.array(query, { minLength: 1, maxLength: 5 }), (ops, queries) => {
        const p = new Postings(columns);
        const model = new Map<number, (string | number)[]>();
        let next = 1;
        let lastGroup = { first: 1, rows: [] as (string | number)[][] };
        for (const o of ops) {
          if (o.kind === "add") {
            lastGroup = { first: next, rows: [] };
            for (let i = 0; i < o.n; i++) {
              const h = (o.seed * 31 + i * 7) >>> 0;
              const v = ["pqrs"[h % 4], 0, "uvw"[(h >> 3) % 3]];
              p.add(next, v);
              model.set(next, v);
              lastGroup.rows.push(v);
              next++;
            }
          } else if (o.kind === "trim") {
            const below = Math.max(1, next - o.keep);
            p.trimBelow(below);
            for (const r of model.keys()) if (r < below) model.delete(r);
          } else if (o.kind === "dups") {
            // Only the last group added, and only once (its rowids may be gone by now: removing them is a no-op).
            const keep = Uint8Array.from(lastGroup.rows, (_, i) => (o.mask >> i % 30) & 1);
            p.removeRows(lastGroup.first, lastGroup.rows, keep);
            lastGroup.rows.forEach((_, i) => { if (!keep[i]) model.delete(lastGroup.first + i); });
            lastGroup = { first: next, rows: [] };
          } else {
            const lo = Math.max(1, next - o.back);
            p.removeRange(lo, lo + o.len);
            for (let r = lo; r < lo + o.len; r++) model.delete(r);
          }
        }
        expect(p.size).toBe(model.size * 2);
        for (const q of queries) {
          const hints: PostingHint[] = [{ column: "a", values: q.a }];
          if (q.b) hints.push({ column: "b", values: q.b });
          const want = [...model.entries()]
            .filter(([r, v]) => (q.before === 0 || r < q.before) && (q.a as string[]).includes(v[0] as string) && (!q.b || (q.b as string[]).includes(v[2] as string)))
            .map(([r]) => r)
            .sort((x, y) => y - x);
          expect(all(p, hints, q.before, q.chunk)).toEqual(want);
        }
      }),
      { numRuns: 300 },
    );
  });
});
