import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { tapline } from "./gen/tapline.js";
import { Entry, EntryStatus, Protocol, entryFromJson, entryToJson, summarizeEntry, WorkerMessage } from "./index.js";

const protoPath = fileURLToPath(new URL("../proto/tapline.proto", import.meta.url));
const root = protobuf.loadSync(protoPath);
const ns = root.lookup("tapline.v1") as protobuf.Namespace;
const messageTypes = ns.nestedArray.flatMap(function collect(o): protobuf.Type[] {
  if (o instanceof protobuf.Type) return [o, ...o.nestedArray.flatMap(collect)];
  return [];
});

// A plain object with every field of `type` set to a non-default value (one level of nesting).
function sample(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seenOneofs = new Set<string>();
  for (const field of type.fieldsArray) {
    field.resolve();
    if (field.partOf) {
      if (seenOneofs.has(field.partOf.name)) continue;
      seenOneofs.add(field.partOf.name);
    }
    let value: unknown;
    if (field.resolvedType instanceof protobuf.Type) {
      if (depth > 1) continue;
      value = sample(field.resolvedType, depth + 1);
    } else if (field.resolvedType instanceof protobuf.Enum) {
      value = Math.max(...Object.values(field.resolvedType.values));
    } else {
      switch (field.type) {
        case "string": value = `${field.name}-\u00e9\u{1F600}`; break;
        case "bytes": value = new Uint8Array([0, 1, 2, 255]); break;
        case "bool": value = true; break;
        case "double": value = 1.5; break;
        case "int32": case "sint32": case "sfixed32": value = -7; break;
        case "int64": case "sint64": case "sfixed64": value = -1234567890123; break;
        case "uint64": case "fixed64": value = 1_763_000_000_123_456_768; break;
        default: value = 7;
      }
    }
    out[field.name] = field.repeated ? [value, value] : value;
  }
  return out;
}

type StaticCodec = {
  fromObject(o: Record<string, unknown>): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o?: protobuf.IConversionOptions): Record<string, unknown>;
};

function staticCodec(fullName: string): StaticCodec {
  let node: unknown = tapline;
  for (const part of fullName.replace(/^\./, "").split(".").slice(1)) node = (node as Record<string, unknown>)[part];
  return node as StaticCodec;
}

describe("protocol schema", () => {
  it("has the messages every process relies on", () => {
    const names = messageTypes.map((t) => t.name);
    for (const n of ["Entry", "EntryBatch", "WorkerHello", "WorkerStats", "ServiceMapEdge", "TapConfig", "PcapChunk"]) expect(names).toContain(n);
  });

  it.each(messageTypes.map((t) => [t.fullName, t] as const))("round-trips %s with every field set", (fullName, type) => {
    const codec = staticCodec(fullName);
    const object = sample(type);
    const bytes = codec.encode(codec.fromObject(object)).finish();
    const decoded = codec.toObject(codec.decode(bytes), { longs: Number, bytes: Array });
    const expected = codec.toObject(codec.fromObject(object), { longs: Number, bytes: Array });
    expect(decoded).toEqual(expected);
    // The static code and the reflection decoder read the same bytes the same way.
    expect(type.toObject(type.decode(bytes), { longs: Number, bytes: Array })).toEqual(expected);
  });

  it("tolerates unknown fields from a newer schema", () => {
    const entry = Entry.encode({ id: "w1-1", protocol: Protocol.REDIS }).finish();
    const w = protobuf.Writer.create();
    w.uint32((999 << 3) | 2).string("from the future");
    w.uint32((998 << 3) | 0).uint64(42);
    const withUnknown = new Uint8Array([...entry, ...w.finish()]);
    const decoded = Entry.decode(withUnknown);
    expect(decoded.id).toBe("w1-1");
    expect(decoded.protocol).toBe(Protocol.REDIS);
    // Re-encoding keeps the unknown bytes so a hub of an older version forwards them intact.
    const again = Entry.encode(decoded).finish();
    expect(Entry.decode(again).id).toBe("w1-1");
    expect(again.length).toBeGreaterThanOrEqual(entry.length);
  });

  it("rejects truncated input with an error rather than garbage", () => {
    const bytes = Entry.encode({ id: "x".repeat(50), httpRequest: { method: "GET", path: "/" } }).finish();
    expect(() => Entry.decode(bytes.subarray(0, bytes.length - 3))).toThrow();
  });

  it("maps entries to the protobuf JSON form and back", () => {
    const entry = {
      id: "n1-7",
      timestampNs: 1_763_000_000_000_000_000,
      protocol: Protocol.HTTP,
      src: { ip: "10.0.0.1", port: 51000, pod: "front", namespace: "shop" },
      dst: { ip: "10.0.0.2", port: 80 },
      httpRequest: { method: "GET", path: "/x?y=1", headers: [{ name: "Host", value: "a" }], body: { data: new Uint8Array([104, 105]), size: 2 } },
      httpResponse: { status: 503 },
      status: EntryStatus.COMPLETE,
      elapsedMs: 1.25,
    };
    const json = entryToJson(entry);
    expect(json.protocol).toBe("HTTP");
    expect(json.httpRequest).toMatchObject({ method: "GET", body: { data: "aGk=", size: 2 } });
    const back = entryFromJson(JSON.parse(JSON.stringify(json)));
    expect(back.httpResponse?.status).toBe(503);
    expect(Array.from(back.httpRequest?.body?.data ?? [])).toEqual([104, 105]);
    expect(summarizeEntry(back)).toEqual({ protocol: "http", method: "GET", target: "/x?y=1", status: "503", isError: true });
  });

  it("summarizes every protocol", () => {
    expect(summarizeEntry({ protocol: Protocol.REDIS, redisRequest: { command: "GET", key: "k" }, redisResponse: { error: true, value: { kind: 2, text: "WRONGTYPE bad" } } }))
      .toMatchObject({ method: "GET", target: "k", status: "WRONGTYPE", isError: true });
    expect(summarizeEntry({ protocol: Protocol.KAFKA, kafkaRequest: { apiName: "Produce", apiVersion: 9, topics: [{ name: "orders" }] }, kafkaResponse: {} }))
      .toMatchObject({ method: "Produce v9", target: "orders", status: "OK", isError: false });
    expect(summarizeEntry({ protocol: Protocol.TCP, status: EntryStatus.CONNECTION_REFUSED }))
      .toMatchObject({ protocol: "tcp", status: "CONNECTION_REFUSED", isError: true });
  });

  it("never throws decoding random bytes other than with an Error", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try { WorkerMessage.decode(bytes); } catch (e) { expect(e).toBeInstanceOf(Error); }
    }), { numRuns: 2000 });
  });

  it("keeps generated code in step with the .proto file", () => {
    const generated = readFileSync(new URL("./gen/tapline.d.ts", import.meta.url), "utf8");
    for (const t of messageTypes) expect(generated, `regenerate with pnpm -C packages/protocol gen (missing ${t.name})`).toContain(`class ${t.name} `);
  });
});

describe("64-bit fields", () => {
  it("decode as JS numbers, not Long objects", () => {
    const ts = 1_763_000_000_123_456_768;
    const bytes = Entry.encode({ id: "a", timestampNs: ts, requestSize: 5_000_000_000, responseSize: 7 }).finish();
    const e = Entry.decode(bytes);
    expect(typeof e.timestampNs).toBe("number");
    expect(typeof e.requestSize).toBe("number");
    expect(e.requestSize + e.responseSize).toBe(5_000_000_007);
    expect(Math.abs(e.timestampNs - ts)).toBeLessThan(512);
    expect(typeof Entry.fromObject({ timestampNs: "1763000000123456768" }).timestampNs).toBe("number");
  });
});
