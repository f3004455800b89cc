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
  /** Message fields: the nested message's fields. Enum fields: names by number. */
  readonly message?: Field[];
  readonly names?: Record<number, string>;
}

type Spec = [name: string, kind: Kind, repeated?: boolean, nested?: Field[] | Record<number, string>];

function fields(list: Spec[], into: Field[] = []): Field[] {
  for (const [name, kind, repeated = false, nested] of list) {
    into.push({
      name,
      key: `,"${name}":`,
      firstKey: `"${name}":`,
      kind,
      repeated,
      message: kind === "message" ? (nested as Field[]) : undefined,
      names: kind === "enum" ? (nested as Record<number, string>) : undefined,
    });
  }
  return into;
}

const S = "string", U32 = "uint32", I32 = "int32", I64 = "int64", F64 = "double", B = "bool", Y = "bytes", E = "enum", M = "message";
const v1 = tapline.v1;

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
    ["kind", E, false, v1.RedisValue.Kind as unknown as Record<number, string>], ["text", S], ["integer", I64], ["double", F64], ["boolean", B],
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
  ["id", S], ["timestampNs", I64], ["protocol", E, false, v1.Protocol as unknown as Record<number, string>], ["src", M, false, endpoint], ["dst", M, false, endpoint],
  ["httpRequest", M, false, httpRequest], ["redisRequest", M, false, redisRequest], ["kafkaRequest", M, false, kafkaRequest], ["dnsRequest", M, false, dnsRequest],
  ["httpResponse", M, false, httpResponse], ["redisResponse", M, false, redisResponse], ["kafkaResponse", M, false, kafkaResponse], ["dnsResponse", M, false, dnsResponse],
  ["grpc", M, false, grpcInfo], ["status", E, false, v1.EntryStatus as unknown as Record<number, string>], ["elapsedMs", F64], ["tls", B],
  ["requestSize", I64], ["responseSize", I64], ["node", S], ["workerId", S], ["transport", S], ["warnings", S, true],
  ["responseTimestampNs", I64], ["redacted", B],
]);

/** The field table, for the test that compares it with the .proto. */
export const jsonlFields = entryFields;

/** Thrown inside the fast path when a value is outside what it mirrors exactly. */
const UNUSUAL = new Error("unusual value");

// Deeper trees fall back (protobufjs throws beyond util.recursionLimit = 100).
const MAX_DEPTH = 64;

const hasBuffer = typeof Buffer === "function";

function base64(data: Uint8Array): string {
  if (hasBuffer) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
  throw UNUSUAL;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A scalar's JSON text, or undefined when it holds the default (not written). */
function scalar(v: unknown, f: Field): string | undefined {
  switch (f.kind) {
    case "string":
      if (typeof v !== "string") throw UNUSUAL;
      return v.length ? JSON.stringify(v) : undefined;
    case "uint32":
      if (typeof v !== "number") throw UNUSUAL;
      return v !== 0 ? String(v >>> 0) : undefined;
    case "int32":
      if (typeof v !== "number") throw UNUSUAL;
      return v !== 0 ? String(v | 0) : undefined;
    case "int64":
      if (typeof v !== "number" || !Number.isFinite(v)) throw UNUSUAL;
      return v !== 0 ? String(v) : undefined;
    case "double":
      if (typeof v !== "number") throw UNUSUAL;
      if (Object.is(v, 0)) return undefined;
      if (v === 0) return "0"; // -0 is kept by fromObject and written by JSON as 0
      return Number.isFinite(v) ? String(v) : `"${v}"`;
    case "bool":
      return v ? "true" : undefined;
    case "bytes":
      if (!(v instanceof Uint8Array)) {
        if (!(v as { length?: unknown }).length) return undefined;
        throw UNUSUAL;
      }
      return v.length ? `"${base64(v)}"` : undefined;
    case "enum":
      if (typeof v !== "number" || (v | 0) !== v) throw UNUSUAL;
      return v !== 0 ? (f.names![v] !== undefined ? `"${f.names![v]}"` : String(v)) : undefined;
    default:
      throw UNUSUAL;
  }
}

function message(obj: unknown, list: Field[], depth: number): string {
  if (!isPlainObject(obj) || depth > MAX_DEPTH) throw UNUSUAL;
  let out = "{";
  let first = true;
  for (let i = 0; i < list.length; i++) {
    const f = list[i];
    const v = obj[f.name];
    if (f.repeated) {
      if (!v) continue;
      if (!Array.isArray(v)) throw UNUSUAL;
      if (!v.length) continue;
      let text = "[";
      for (let j = 0; j < v.length; j++) {
        if (j) text += ",";
        if (f.kind === "message") text += message(v[j], f.message!, depth + 1);
        else if (f.kind === "string") {
          if (typeof v[j] !== "string") throw UNUSUAL;
          text += JSON.stringify(v[j]);
        } else if (f.kind === "uint32") {
          if (typeof v[j] !== "number") throw UNUSUAL;
          text += String(v[j] >>> 0);
        } else throw UNUSUAL;
      }
      out += (first ? f.firstKey : f.key) + text + "]";
      first = false;
      continue;
    }
    if (v == null) continue;
    if (f.kind === "message") {
      out += (first ? f.firstKey : f.key) + message(v, f.message!, depth + 1);
      first = false;
      continue;
    }
    const text = scalar(v, f);
    if (text === undefined) continue;
    out += (first ? f.firstKey : f.key) + text;
    first = false;
  }
  return out + "}";
}

/** How many entries took the slow path (tests check that well-formed ones never do). */
export const jsonlStats = { fallbacks: 0 };

/** `JSON.stringify(entryToJson(entry))`, fast for the plain objects the dissectors build. */
export function entryJsonLine(entry: EntryInit): string {
  try {
    return message(entry, entryFields, 0);
  } catch (err) {
    if (err !== UNUSUAL) throw err;
    jsonlStats.fallbacks++;
    return JSON.stringify(entryToJson(entry));
  }
}
