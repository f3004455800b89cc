// Fuzz targets of the hub (test-only: tsconfig.build.json leaves src/fuzz out):
// - filter: any text either compiles or fails with a FilterSyntaxError whose position lies in the
//   text; a compiled filter's predicate never throws and its SQL runs on a real SQLite store.
// - redact: entries built from fuzz bytes (header names/values, JSON, urlencoded and multipart
//   bodies, Redis and Kafka fields) never make the redactor throw, and no value planted under a
//   sensitive name survives it.
import { Entry, EntryStatus, Protocol, type EntryInit } from "@tapline/protocol";
import { shape, type FuzzTarget } from "../../../../fuzz/engine.js";
import { compileFilter, FilterSyntaxError, EXAMPLES, type FilterAst } from "../filter/index.js";
import { columnValues } from "../filter/columns.js";
import { NameMatcher, Redactor, DEFAULT_SENSITIVE_WORDS, REDACTED } from "../redact/index.js";
import { EntryStore } from "../store/index.js";

export class FuzzFinding extends Error {
  override name = "FuzzFinding";
}

/** Three stored entries (HTTP, Redis, Kafka) the fuzzed filters run against. */
export function sampleEntries(): EntryInit[] {
  const base = { timestampNs: 1_763_000_000_000_000_000, requestSize: 10, responseSize: 20, elapsedMs: 3.5, node: "n1", workerId: "w1" };
  return [
    {
      ...base, id: "s-1", protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
      src: { ip: "10.0.0.1", port: 40000, pod: "front-1", namespace: "shop" }, dst: { ip: "10.0.0.2", port: 8080, pod: "cart-1", namespace: "shop", service: "cart" },
      httpRequest: { method: "POST", path: "/api/v1/orders?x=1", version: "HTTP/1.1", headers: [{ name: "Content-Type", value: "application/json" }] },
      httpResponse: { status: 503, version: "HTTP/1.1", headers: [] },
    },
    {
      ...base, id: "s-2", protocol: Protocol.REDIS, status: EntryStatus.NO_RESPONSE,
      src: { ip: "10.0.0.3", port: 40001 }, dst: { ip: "10.0.0.4", port: 6379 }, redisRequest: { command: "GET", args: ["k"] },
    },
    {
      ...base, id: "s-3", protocol: Protocol.KAFKA, status: EntryStatus.COMPLETE,
      src: { ip: "10.0.0.5", port: 40002 }, dst: { ip: "10.0.0.6", port: 9092 }, kafkaRequest: { apiKey: 0, apiVersion: 9, topics: [{ name: "orders" }] },
    },
  ];
}

function astFeatures(ast: FilterAst, features: Set<string>, depth = 0): void {
  const lit = ast.kind === "compare" ? ast.value.type : "";
  features.add(`a:${ast.kind}:${ast.kind === "compare" || ast.kind === "test" ? ast.field : ""}:${ast.kind === "compare" ? ast.op : ""}:${lit}:${Math.min(depth, 6)}`);
  if (ast.kind === "and" || ast.kind === "or") {
    astFeatures(ast.left, features, depth + 1);
    astFeatures(ast.right, features, depth + 1);
  } else if (ast.kind === "not") astFeatures(ast.operand, features, depth + 1);
}

/** Filter parser and compiler; the SQL runs on an in-memory store holding sampleEntries(). */
export function filterTarget(): FuzzTarget & { close(): void } {
  const store = new EntryStore({ path: ":memory:", limitBytes: 8 << 20 });
  const entries = sampleEntries();
  store.insertBatch(entries.map((e) => ({ id: e.id!, workerId: "w1", columns: columnValues(e), data: Entry.encode(e).finish() })));
  return {
    name: "filter",
    maxLen: 512,
    dictionary: [
      "and ", "or ", "not ", "(", ")", "==", "!=", ">=", "<", " contains ", " startsWith ", " matches ", "/a+/", "\"", "\\", "[\"", "\"]",
      "http", "redis", "kafka", "tls", "grpc", "dns", "src.pod", "dst.namespace", "request.headers", "response.status", "elapsedMs", "request.path", "status",
      "-1", "1e309", "0x1f", "true", "null", "||", "&&", "!",
    ].map((s) => Buffer.from(s)),
    run(input, features) {
      const text = input.toString("utf8");
      let compiled;
      try {
        compiled = compileFilter(text);
      } catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw new FuzzFinding(`filter ${JSON.stringify(text)}: ${(err as Error).stack}`);
        const pos = err.position;
        if (!(Number.isInteger(pos) && pos >= 0 && pos <= text.length)) throw new FuzzFinding(`filter ${JSON.stringify(text)}: error position ${pos} outside the text`);
        features.add(`x:${shape(err.message)}:${err.position === text.length}`);
        return;
      }
      astFeatures(compiled.ast, features);
      features.add(`sql:${compiled.sql.exact}`);
      const matched: boolean[] = [];
      for (const e of entries) matched.push(compiled.predicate(e) === true);
      const rows = store.page(compiled.sql, 0, 10).length;
      features.add(`m:${matched.join("")}:${rows}`);
      // An exact SQL clause selects exactly what the predicate accepts.
      if (compiled.sql.exact && rows !== matched.filter(Boolean).length) {
        throw new FuzzFinding(`filter ${JSON.stringify(text)}: SQL selects ${rows} rows, the predicate ${matched.filter(Boolean).length}`);
      }
    },
    close: () => store.close(),
  };
}

const SECRET = "S3CR3T-planted";
const sensitive = new NameMatcher({ defaults: true, keys: [] });

/**
 * Entry from fuzz bytes: the input is cut at NUL bytes into a header name, its value, a body and a
 * body kind; the value and body get SECRET planted under a sensitive key, which must not survive.
 */
export const redactTarget: FuzzTarget = {
  name: "redact",
  maxLen: 4096,
  dictionary: [...DEFAULT_SENSITIVE_WORDS, "\x00", "{", "}", "[", "]", "\":", "\"", ",", "&", "=", "--Bq7\r\n", "Content-Disposition: form-data; name=\"", "\r\n\r\n", "%3D", "%26", "\\u0070", "\\\""].map((s) => Buffer.from(s, "latin1")),
  run(input, features) {
    const [name = "", value = "", body = "", kind = ""] = input.toString("latin1").split("\x00");
    const word = DEFAULT_SENSITIVE_WORDS[input.length % DEFAULT_SENSITIVE_WORDS.length];
    const bodies: Record<string, [string, string]> = {
      j: ["application/json", `{"a":${JSON.stringify(body)},"${word}":"${SECRET}","n":{"x_${word}":["${SECRET}"]}}`],
      u: ["application/x-www-form-urlencoded", `${body}&${word}=${SECRET}&z=${encodeURIComponent(body)}`],
      // A mixed-case boundary, as browsers send (----WebKitFormBoundaryAbC...): boundaries are case-sensitive.
      m: ["multipart/form-data; boundary=Bq7", `--Bq7\r\nContent-Disposition: form-data; name="${word}"\r\n\r\n${SECRET}\r\n--Bq7\r\nContent-Disposition: form-data; name="f"\r\n\r\n${body}\r\n--Bq7--\r\n`],
      r: ["text/plain", body],
    };
    const [contentType, text] = bodies[kind[0] ?? "r"] ?? bodies.r;
    const entry: EntryInit = {
      id: "r-1", protocol: Protocol.HTTP, status: EntryStatus.COMPLETE, timestampNs: 1, requestSize: 1, responseSize: 1,
      httpRequest: {
        method: "POST", path: `/p?${name}=${value}&${word}=${SECRET}`, version: "HTTP/1.1",
        headers: [{ name, value }, { name: `X-${word}`, value: SECRET }, { name: "Content-Type", value: contentType }],
        body: { data: Buffer.from(text, "latin1"), size: text.length },
      },
      redisRequest: { command: "AUTH", args: [value, SECRET] },
      // Record values are redacted as JSON (SPEC §3 names forms only for HTTP bodies).
      kafkaRequest: { apiKey: 0, apiVersion: 9, topics: [{ name: "t", partitions: [{ index: 0, records: [{ headers: [{ name: word, value: SECRET }], value: Buffer.from(bodies.j[1], "latin1") }] }] }] },
    };
    const redactor = new Redactor({ defaults: true, keys: [], valuePatterns: [] });
    const encoded = Entry.encode(entry).finish();
    if (!redactor.mayRedact(encoded)) throw new FuzzFinding(`precheck skipped an entry with ${word}=${SECRET} in it`);
    const changed = redactor.redactEntry(entry);
    features.add(`k:${kind[0] ?? ""}:${changed}:${sensitive.isSensitive(name)}`);
    // Every string and bytes field is in the encoding as is: the secret must not be anywhere in it.
    if (Buffer.from(Entry.encode(entry).finish()).includes(SECRET)) {
      throw new FuzzFinding(`planted secret survived redaction (word ${word}, body kind ${kind[0] ?? "r"}, name ${JSON.stringify(name)})`);
    }
    if (sensitive.isSensitive(name) && value && entry.httpRequest!.headers![0].value !== REDACTED) {
      throw new FuzzFinding(`header ${JSON.stringify(name)} is sensitive but kept its value`);
    }
  },
};

export const filterSeeds = (): Buffer[] => EXAMPLES.map((e) => Buffer.from(e.filter));
export const redactSeeds = (): Buffer[] =>
  ["Authorization\0Bearer x\0hello\0j", "user-agent\0curl\0a=1&b=2\0u", "X-Api-Key\0k\0field\0m", "Cookie\0s=1\0plain\0r"].map((s) => Buffer.from(s, "latin1"));
