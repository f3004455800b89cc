// One Entry as one line of protobuf JSON, written straight from the plain EntryInit:
// byte-identical to `JSON.stringify(entryToJson(entry))` without building the protobufjs
// message and the toObject copy (which, with base64 of bodies, cost more than dissection
// in `tapline dissect --format jsonl`).
//
// What entryToJson does, and this file mirrors (protobufjs 8 static code, proto3 implicit
// presence): a scalar is written when its value is not the default ("" / 0 / false), a
// message when it is not null, a repeated field when non-empty; fields in field-number
// order; enums by name (the number when unknown); 64-bit integers as JSON numbers; bytes as
// base64; non-finite doubles as strings. Anything outside the shapes producers build (a
// string where a number belongs, a protobufjs message instance, a too-deep tree...) makes
// entryJsonLine fall back to entryToJson, so the two never differ.
import { tapline } from "./gen/tapline.js";
import { entryToJson } from "./json.js";
import type { EntryInit } from "./schema.js";

/** Field kinds by how they are written; "int64" is uint64 and int64 alike (JS numbers, no Long). */
export type Kind = "string" | "uint32" | "int32" | "int64" | "double" | "bool" | "bytes" | "enum" | "message";

export interface Field {
  readonly name: string;
  /** `"name":` with the separating comma, and without it for the first written field. */
  readonly key: string;
  readonly firstKey: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** Message fields: the nested message's fields. Enum fields: the numbers by name. */
  readonly message?: Field[];
  readonly values?: Record<string, number>;
}

type Spec = [name: string, kind: Kind, repeated?: boolean, nested?: Field[] | Record<string, number>];

function fields(list: Spec[], into: Field[] = []): Field[] {
  for (const [name, kind, repeated = false, nested] of list) {
    into.push({
      name,
      key: `,"${name}":`,
      firstKey: `"${name}":`,
      kind,
      repeated,
      message: kind === "message" ? (nested as Field[]) : undefined,
      values: kind === "enum" ? (nested as Record<string, number>) : undefined,
    });
  }
  return into;
}

const S = "string", U32 = "uint32", I32 = "int32", I64 = "int64", F64 = "double", B = "bool", Y = "bytes", E = "enum", M = "message";
const v1 = tapline.v1;
// protobufjs's static enums: own properties name -> number (numbers -> names on the prototype).
const enumValues = (e: object) => e as Record<string, number>;

// The messages reachable from Entry, each field as in proto/tapline.proto, in field-number
// order. jsonl.test.ts checks this table against the .proto, so a new field cannot be missed.
const endpoint = fields([["ip", S], ["port", U32], ["pod", S], ["namespace", S], ["service", S], ["node", S], ["process", S], ["workload", S]]);
const header = fields([["name", S], ["value", S]]);
const body = fields([["data", Y], ["size", I64], ["decodedSize", I64], ["truncated", B], ["contentType", S], ["contentEncoding", S], ["decoded", B]]);
const httpRequest = fields([
  ["method", S], ["path", S], ["version", S], ["headers", M, true, header], ["body", M, false, body], ["host", S],
  ["trailers", M, true, header], ["scheme", S], ["upgrade", B], ["streamId", U32],
]);
const httpResponse = fields([
  ["status", U32], ["reason", S], ["version", S], ["headers", M, true, header], ["body", M, false, body],
  ["trailers", M, true, header], ["informational", U32, true],
]);
const grpcMessage = fields([["compressed", B], ["length", U32], ["data", Y], ["decoded", S]]);
const grpcInfo = fields([
  ["service", S], ["method", S], ["status", I32], ["message", S], ["requestMessages", M, true, grpcMessage], ["responseMessages", M, true, grpcMessage],
]);
const redisValue: Field[] = [];
fields(
  [
    ["kind", E, false, enumValues(v1.RedisValue.Kind)], ["text", S], ["integer", I64], ["double", F64], ["boolean", B],
    ["elements", M, true, redisValue], ["size", I64], ["truncated", B],
  ],
  redisValue,
);
const redisRequest = fields([["command", S], ["args", S, true], ["key", S], ["inline", B]]);
const redisResponse = fields([["value", M, false, redisValue], ["error", B]]);
const kafkaRecord = fields([
  ["key", Y], ["value", Y], ["keySize", U32], ["valueSize", U32], ["offset", I64], ["timestampMs", I64], ["headers", M, true, header], ["truncated", B],
]);
const kafkaPartition = fields([
  ["index", I32], ["errorCode", I32], ["errorName", S], ["offset", I64], ["recordCount", U32], ["records", M, true, kafkaRecord], ["recordsSize", I64],
]);
const kafkaTopic = fields([["name", S], ["partitions", M, true, kafkaPartition], ["errorCode", I32], ["errorName", S]]);
const kafkaRequest = fields([
  ["apiKey", U32], ["apiVersion", U32], ["correlationId", I32], ["clientId", S], ["apiName", S], ["topics", M, true, kafkaTopic], ["groupId", S],
  ["memberId", S], ["acks", I32], ["transactionalId", S], ["size", U32], ["saslMechanism", S], ["saslAuth", Y], ["summary", S],
]);
const kafkaBroker = fields([["nodeId", I32], ["host", S], ["port", I32]]);
const kafkaApiVersion = fields([["apiKey", I32], ["minVersion", I32], ["maxVersion", I32]]);
const kafkaResponse = fields([
  ["correlationId", I32], ["errorCode", I32], ["errorName", S], ["topics", M, true, kafkaTopic], ["throttleTimeMs", I32],
  ["brokers", M, true, kafkaBroker], ["apiVersions", M, true, kafkaApiVersion], ["size", U32], ["summary", S],
]);
const dnsQuestion = fields([["name", S], ["type", S]]);
const dnsAnswer = fields([["name", S], ["type", S], ["ttl", U32], ["data", S]]);
const dnsRequest = fields([["id", U32], ["questions", M, true, dnsQuestion], ["recursionDesired", B]]);
const dnsResponse = fields([["id", U32], ["rcode", S], ["answers", M, true, dnsAnswer], ["truncated", B]]);
const entryFields = fields([
  ["id", S], ["timestampNs", I64], ["protocol", E, false, enumValues(v1.Protocol)], ["src", M, false, endpoint], ["dst", M, false, endpoint],
  ["httpRequest", M, false, httpRequest], ["redisRequest", M, false, redisRequest], ["kafkaRequest", M, false, kafkaRequest], ["dnsRequest", M, false, dnsRequest],
  ["httpResponse", M, false, httpResponse], ["redisResponse", M, false, redisResponse], ["kafkaResponse", M, false, kafkaResponse], ["dnsResponse", M, false, dnsResponse],
  ["grpc", M, false, grpcInfo], ["status", E, false, enumValues(v1.EntryStatus)], ["elapsedMs", F64], ["tls", B],
  ["requestSize", I64], ["responseSize", I64], ["node", S], ["workerId", S], ["transport", S], ["warnings", S, true],
  ["responseTimestampNs", I64], ["redacted", B],
]);

/** The field table, for the test that compares it with the .proto. */
export const jsonlFields = entryFields;

/** Thrown inside the fast path when a value is outside what it mirrors exactly. */
const UNUSUAL = new Error("unusual value");

// Deeper trees fall back (protobufjs throws beyond util.recursionLimit = 100).
const MAX_DEPTH = 64;

function base64(data: Uint8Array): string {
  if (typeof Buffer === "function") return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  throw UNUSUAL;
}

type Writer = (obj: unknown, depth: number) => string;

/**
 * One writer function per message, compiled from the table (as protobufjs compiles its
 * own): a generic loop over the table reads every field with a keyed lookup on objects of
 * many shapes, which measured 3-4x slower than named property reads. The code comes only
 * from the table above (field names are proto identifiers), never from input.
 */
function compile(root: Field[]): Writer {
  const tables: Field[][] = [];
  const index = (t: Field[]): number => {
    let i = tables.indexOf(t);
    if (i < 0) {
      i = tables.push(t) - 1;
      for (const f of t) if (f.message) index(f.message);
    }
    return i;
  };
  index(root);
  const names: Record<number, string>[] = [];
  const body: string[] = [];
  // Writes the non-null value `v` of the singular field `f`.
  const write = (f: Field, v: string, key: string): string => {
    const put = (text: string) => `s += ${key} + ${text};`;
    switch (f.kind) {
      case "string":
        return `if (typeof ${v} !== "string") throw U; if (${v}.length !== 0) ${put(`JSON.stringify(${v})`)}`;
      case "uint32":
        return `if (typeof ${v} !== "number") throw U; if (${v} !== 0) ${put(`(${v} >>> 0)`)}`;
      case "int32":
        return `if (typeof ${v} !== "number") throw U; if (${v} !== 0) ${put(`(${v} | 0)`)}`;
      case "int64":
        return `if (typeof ${v} !== "number" || !isFinite(${v})) throw U; if (${v} !== 0) ${put(v)}`;
      case "double":
        // -0 is kept by fromObject and written by JSON.stringify as 0; non-finite as strings.
        return `if (typeof ${v} !== "number") throw U; if (${v} !== 0) ${put(`(isFinite(${v}) ? ${v} : '"' + ${v} + '"')`)} else if (1 / ${v} < 0) ${put(`"0"`)}`;
      case "bool":
        return `if (${v}) ${put(`"true"`)}`;
      case "bytes":
        return `if (${v} instanceof Uint8Array) { if (${v}.length !== 0) ${put(`'"' + b64(${v}) + '"'`)} } else if (${v}.length) throw U;`;
      case "enum": {
        const byNumber: Record<number, string> = {};
        for (const [name, n] of Object.entries(f.values!)) byNumber[n] = name;
        const n = names.push(byNumber) - 1;
        return `if (typeof ${v} !== "number" || (${v} | 0) !== ${v}) throw U; if (${v} !== 0) ${put(`(N[${n}][${v}] !== undefined ? '"' + N[${n}][${v}] + '"' : ${v})`)}`;
      }
      case "message":
        return put(`W[${tables.indexOf(f.message!)}](${v}, d + 1)`);
    }
  };
  tables.forEach((t, i) => {
    const lines = [
      `W[${i}] = function (o, d) {`,
      `if (typeof o !== "object" || o === null || d > ${MAX_DEPTH}) throw U;`,
      `const p = Object.getPrototypeOf(o); if (p !== Object.prototype && p !== null) throw U;`,
      `let s = "{", v;`,
    ];
    for (const f of t) {
      const key = `(s.length === 1 ? ${JSON.stringify(f.firstKey)} : ${JSON.stringify(f.key)})`;
      lines.push(`v = o.${f.name};`);
      if (f.repeated) {
        // Elements are written whatever their value (zeros too), so no default test.
        const elem =
          f.kind === "message" ? `s += W[${tables.indexOf(f.message!)}](e, d + 1);`
          : f.kind === "string" ? `if (typeof e !== "string") throw U; s += JSON.stringify(e);`
          : f.kind === "uint32" ? `if (typeof e !== "number") throw U; s += (e >>> 0);`
          : "throw U;"; // no other repeated kind in the schema; the table test would say so
        lines.push(`if (v) { if (!Array.isArray(v)) throw U; if (v.length !== 0) { s += ${key} + "["; for (let j = 0; j < v.length; j++) { if (j !== 0) s += ","; const e = v[j]; ${elem} } s += "]"; } }`);
      } else {
        lines.push(`if (v != null) { ${write(f, "v", key)} }`);
      }
    }
    lines.push(`return s + "}";`, `};`);
    body.push(lines.join("\n"));
  });
  const make = new Function("U", "b64", "N", `const W = [];\n${body.join("\n")}\nreturn W[0];`) as (u: Error, b: typeof base64, n: typeof names) => Writer;
  return make(UNUSUAL, base64, names);
}

const writeEntry = compile(entryFields);

/** How many entries took the slow path (tests check that well-formed ones never do). */
export const jsonlStats = { fallbacks: 0 };

/** `JSON.stringify(entryToJson(entry))`, fast for the plain objects the dissectors build. */
export function entryJsonLine(entry: EntryInit): string {
  try {
    return writeEntry(entry, 0);
  } catch (err) {
    if (err !== UNUSUAL) throw err;
    jsonlStats.fallbacks++;
    return JSON.stringify(entryToJson(entry));
  }
}
