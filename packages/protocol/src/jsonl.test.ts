import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { tapline } from "./gen/tapline.js";
import { entryToJson } from "./json.js";
import { entryJsonLine, jsonlFields, jsonlStats, type Field, type Kind } from "./jsonl.js";
import type { EntryInit } from "./schema.js";

const root = protobuf.loadSync(fileURLToPath(new URL("../proto/tapline.proto", import.meta.url)));
const entryType = root.lookupType("tapline.v1.Entry");

const kindOf: Record<string, Kind> = {
  string: "string", uint32: "uint32", int32: "int32", uint64: "int64", int64: "int64", double: "double", bool: "bool", bytes: "bytes",
};

/** The reference: what `tapline dissect --format jsonl` printed before entryJsonLine. */
function slow(e: unknown): string {
  return JSON.stringify(entryToJson(e as EntryInit));
}

function outcome(f: () => string): string {
  try {
    return f();
  } catch (err) {
    return `threw ${(err as Error).message}`;
  }
}

describe("entryJsonLine", () => {
  it("has every field of every message reachable from Entry, in field-number order, with its kind", () => {
    const seen = new Set<string>();
    function check(type: protobuf.Type, table: Field[]): void {
      if (seen.has(type.fullName)) return;
      seen.add(type.fullName);
      const protoFields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
      expect(table.map((f) => f.name), type.fullName).toEqual(protoFields.map((f) => f.name));
      protoFields.forEach((pf, i) => {
        pf.resolve();
        const f = table[i];
        expect(f.repeated, `${type.fullName}.${pf.name} repeated`).toBe(pf.repeated);
        if (pf.resolvedType instanceof protobuf.Type) {
          expect(f.kind, `${type.fullName}.${pf.name}`).toBe("message");
          check(pf.resolvedType, f.message!);
        } else if (pf.resolvedType instanceof protobuf.Enum) {
          expect(f.kind, `${type.fullName}.${pf.name}`).toBe("enum");
          expect({ ...f.values }).toEqual(pf.resolvedType.values);
        } else {
          expect(f.kind, `${type.fullName}.${pf.name}`).toBe(kindOf[pf.type]);
        }
      });
    }
    check(entryType, jsonlFields);
    expect(seen.size).toBeGreaterThan(15);
  });

  it("writes the edge values exactly as entryToJson does", () => {
    const body = Buffer.from("xxhello, wörld\u0000\u00ff", "utf8").subarray(2);
    const cases: unknown[] = [
      {},
      { elapsedMs: -0 },
      { elapsedMs: NaN, timestampNs: 2 ** 60 + 123, requestSize: 1.5 },
      { elapsedMs: Infinity, responseSize: -Infinity },
      { elapsedMs: -Infinity, status: 99, protocol: 0 },
      { protocol: 3, status: 1, id: "a\"b\\c\n\u2028\ud800\u0001é" },
      { id: "back\\slash", node: "\u007f~ é ü 日本 \ud83d\ude00", workerId: "\udc00", transport: "\u001f", warnings: ["x\\", "ok", "\ud83d"] },
      { src: {}, dst: { ip: "", port: 0 }, warnings: [] },
      { src: { port: -1 }, dst: { port: 2 ** 33 + 5 } },
      { httpRequest: { headers: [{}, { name: "a" }], body: { data: body, size: 12 } }, httpResponse: { informational: [0, 100, -3], body: { data: new Uint8Array(0) } } },
      { httpRequest: { body: { data: new Uint8Array([0, 255, 1, 2]) } } },
      { httpRequest: { body: { data: "aGVsbG8=" } } },
      { httpRequest: { body: { data: [1, 2, 3] } } },
      { redisResponse: { value: { kind: 5, elements: [{ kind: 3, integer: -5 }, { kind: 8, double: -0.5 }, { kind: 77 }] } } },
      { kafkaRequest: { correlationId: 2 ** 31 + 1, topics: [{ partitions: [{ index: 0.5, offset: -1, records: [{ key: Buffer.from("k") }] }] }] } },
      { kafkaResponse: { apiVersions: [{ apiKey: 0, maxVersion: 9 }], brokers: [{ port: 9092, host: "h" }] } },
      { grpc: { status: -1, requestMessages: [{ data: Buffer.from([1]) }] } },
      { timestampNs: "123" },
      { id: 5 },
      { protocol: "HTTP" },
      { protocol: 1.5 },
      { tls: "yes", redacted: 0 },
      { src: "nope" },
      { warnings: "nope" },
      { warnings: [null] },
      { httpRequest: { headers: [null] } },
      tapline.v1.Entry.create({ id: "x", src: { port: 0 } }),
      { src: tapline.v1.Endpoint.create({ ip: "1.2.3.4", port: 0 }) },
    ];
    for (const c of cases) expect(outcome(() => entryJsonLine(c as EntryInit)), JSON.stringify(c)).toBe(outcome(() => slow(c)));
  });

  it("falls back beyond the depth it mirrors (protobufjs's recursion limit)", () => {
    let v: Record<string, unknown> = { kind: 4, text: "leaf" };
    for (let i = 0; i < 120; i++) v = { kind: 5, elements: [v] };
    const e = { redisResponse: { value: v } };
    expect(outcome(() => entryJsonLine(e))).toBe(outcome(() => slow(e)));
  });

  it("agrees with entryToJson on random entries, well-formed or not", () => {
    // Values of the right kind mostly, and now and then of a wrong one.
    const wrong = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}));
    const byKind: Record<Exclude<Kind, "message">, fc.Arbitrary<unknown>> = {
      string: fc.oneof(fc.constant(""), fc.string(), fc.string({ unit: "binary" })),
      uint32: fc.oneof(fc.constant(0), fc.nat(), fc.integer(), fc.double()),
      int32: fc.oneof(fc.constant(0), fc.integer(), fc.double()),
      int64: fc.oneof(fc.constant(0), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      double: fc.oneof(fc.constant(0), fc.constant(-0), fc.double()),
      bool: fc.oneof(fc.boolean(), fc.constant(0), fc.constant(1)),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).subarray(1))),
      enum: fc.oneof(fc.constant(0), fc.integer({ min: -2, max: 20 })),
    };
    const value = (f: Field, depth: number, noisy: boolean): fc.Arbitrary<unknown> => {
      const one = f.kind === "message" ? msg(f.message!, depth + 1, noisy) : byKind[f.kind];
      const typed = f.repeated ? fc.array(one, { maxLength: 3 }) : one;
      return noisy ? fc.oneof({ arbitrary: typed, weight: 19 }, { arbitrary: wrong, weight: 1 }) : typed;
    };
    const msg = (table: Field[], depth: number, noisy: boolean): fc.Arbitrary<Record<string, unknown>> => {
      if (depth > 3) return fc.constant({});
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const f of table) model[f.name] = value(f, depth, noisy);
      return fc.record(model, { requiredKeys: [] });
    };
    // Well-formed entries take the fast path throughout; noisy ones mostly fall back.
    for (const noisy of [false, true]) {
      const before = jsonlStats.fallbacks;
      fc.assert(
        fc.property(msg(jsonlFields, 0, noisy), (e) => {
          expect(outcome(() => entryJsonLine(e as EntryInit))).toBe(outcome(() => slow(e)));
        }),
        { numRuns: 250 },
      );
      if (noisy) expect(jsonlStats.fallbacks).toBeGreaterThan(before);
      else expect(jsonlStats.fallbacks).toBe(before);
    }
  });
});
