// fast-check generators of entries and filters for the property tests (test-only: __fixtures__ stays out of the build).
// Values come from small pools so that comparisons in random filters hit random entries.
import fc from "fast-check";
import { EntryStatus, Protocol, RedisKind } from "@tapline/protocol";
import type { EntryInit, HeaderInit } from "@tapline/protocol";
import { FIELD_SPECS } from "../fields.js";
import type { FieldSpec } from "../fields.js";

const words = [
  "", "a", "GET", "get", "POST", "SET", "/", "/api/orders", "/api/orders?id=1", "/api/*?[x]", "shop", "Shop",
  "orders", "payments", "orders,payments", "x%_y", "é", "naïve", "😀", "a😀b", "cart.Cart/Add", "Add", "cart.Cart",
  "session:1", "Produce", "Fetch", "Produce v9", "api0 v1", "NXDOMAIN", "NOERROR", "json", "application/json",
  "text/plain; charset=utf-8", "10.0.0.7", "worker-1", "COMPLETE", "NO_RESPONSE", "A", "AAAA", "x.svc.cluster.local",
];
const str = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...words) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
const optStr = fc.option(str, { nil: undefined });
const numbers = [0, -1, 1, 2, 14, 100, 100.5, 200, 204, 404, 500, 503, 0.5, 6379, 9092, 43210];
const num = fc.constantFrom(...numbers);
export const TIME_BASE_MS = 1_763_900_000_000;
// ns timestamps about a µs apart around a base (doubles: multiples of 256 ns), plus 0, and
// literals rounded to the µs from the same points: the rounding of `ts` is exercised.
const nsAt = (d: number) => TIME_BASE_MS * 1e6 + d * 997;
const timestampNs = fc.oneof(fc.constant(0), fc.integer({ min: -30, max: 30 }).map(nsAt));

const headerNames = ["Content-Type", "content-type", "X-Id", "Accept", "CONTENT-TYPE"];
const headers = fc.array(fc.record({ name: fc.constantFrom(...headerNames), value: str }), { maxLength: 3 }) as fc.Arbitrary<HeaderInit[]>;
const body = fc.option(str.map((s) => ({ data: new TextEncoder().encode(s) })), { nil: undefined });
const endpoint = fc.record(
  { ip: str, port: num, pod: str, namespace: str, service: str, node: str, workload: str, process: str },
  { requiredKeys: [] },
);

const http = fc.record(
  {
    httpRequest: fc.record({ method: str, path: str, host: str, headers, body }, { requiredKeys: [] }),
    httpResponse: fc.record({ status: fc.constantFrom(0, 200, 204, 404, 500, 503), reason: str, headers, body }, { requiredKeys: [] }),
    grpc: fc.record({ service: str, method: str, status: fc.constantFrom(-1, 0, 2, 14), message: str }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const redisValue = fc.record(
  { kind: fc.constantFrom(RedisKind.SIMPLE_STRING, RedisKind.ERROR, RedisKind.INTEGER, RedisKind.NULL, RedisKind.ARRAY), text: str, integer: num },
  { requiredKeys: [] },
);
const redis = fc.record(
  {
    redisRequest: fc.record({ command: str, args: fc.array(str, { maxLength: 3 }), key: str }, { requiredKeys: [] }),
    redisResponse: fc.record({ value: redisValue, error: fc.boolean() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const topics = fc.array(fc.record({ name: str, errorName: str }, { requiredKeys: [] }), { maxLength: 3 });
const kafka = fc.record(
  {
    kafkaRequest: fc.record(
      { apiKey: fc.nat(70), apiVersion: fc.nat(12), apiName: str, clientId: str, groupId: str, topics },
      { requiredKeys: [] },
    ),
    kafkaResponse: fc.record({ errorCode: fc.constantFrom(0, 6, 3), errorName: str, topics }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const dns = fc.record(
  {
    dnsRequest: fc.record({ questions: fc.array(fc.record({ name: str, type: str }), { maxLength: 2 }) }),
    dnsResponse: fc.record({ rcode: str }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const protocols = [Protocol.HTTP, Protocol.HTTP2, Protocol.GRPC, Protocol.REDIS, Protocol.KAFKA, Protocol.DNS, Protocol.TCP, Protocol.PROTOCOL_UNSPECIFIED];
const payloadFor: Record<number, fc.Arbitrary<Partial<EntryInit>>> = {
  [Protocol.HTTP]: http,
  [Protocol.HTTP2]: http,
  [Protocol.GRPC]: http,
  [Protocol.REDIS]: redis,
  [Protocol.KAFKA]: kafka,
  [Protocol.DNS]: dns,
  [Protocol.TCP]: fc.constant({}),
  [Protocol.PROTOCOL_UNSPECIFIED]: fc.constant({}),
};

const common = fc.record(
  {
    id: str,
    timestampNs,
    src: endpoint,
    dst: endpoint,
    status: fc.constantFrom(...(Object.values(EntryStatus).filter((v) => typeof v === "number") as EntryStatus[])),
    elapsedMs: num,
    tls: fc.boolean(),
    requestSize: fc.nat(2000),
    responseSize: fc.nat(2000),
    node: str,
    warnings: fc.array(str, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

/** An entry: mostly a payload that fits its protocol; sometimes any payload with any protocol. */
export const entryArb: fc.Arbitrary<EntryInit> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...protocols).chain((p) => fc.tuple(fc.constant(p), common, payloadFor[p]!)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...protocols), common, fc.oneof(http, redis, kafka, dns, fc.tuple(http, redis).map(([a, b]) => ({ ...a, ...b })))) },
).map(([protocol, c, payload]) => ({ protocol, ...c, ...payload }));

function quote(s: string, single: boolean): string {
  const json = JSON.stringify(s);
  return single ? `'${json.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'` : json;
}

const regexes = ["^GET$", "a", "^$", "/", ".*", "[*]", "orders|payments", "^/api/", "😀", "^[A-Z]+$"];
const stringLit = fc.tuple(fc.constantFrom(...words), fc.boolean()).map(([s, single]) => quote(s, single));
const timestampLit = fc.oneof(
  fc.tuple(fc.integer({ min: -30, max: 30 }), fc.constantFrom(0, 0, -0.001, 0.001)).map(([d, delta]) => String(Math.round((nsAt(d) / 1e6) * 1000) / 1000 + delta)),
  fc.constantFrom(`"${new Date(TIME_BASE_MS).toISOString()}"`, "0"),
);

function compareArb(f: FieldSpec): fc.Arbitrary<string> {
  const name = f.keyed ? fc.constantFrom(...headerNames, "x-missing").map((h) => `${f.name}[${JSON.stringify(h)}]`) : fc.constant(f.name);
  let opValue: fc.Arbitrary<string>;
  if (f.type === "boolean") opValue = fc.tuple(fc.constantFrom("==", "!="), fc.constantFrom("true", "false")).map(([o, v]) => `${o} ${v}`);
  else if (f.type === "number") {
    const value = f.name === "timestamp" ? timestampLit : num.map(String);
    opValue = fc.tuple(fc.constantFrom("==", "!=", "<", "<=", ">", ">="), value).map(([o, v]) => `${o} ${v}`);
  } else {
    opValue = fc.oneof(
      fc.tuple(fc.constantFrom("==", "!=", "contains", "startsWith", "endsWith"), stringLit).map(([o, v]) => `${o} ${v}`),
      fc.tuple(fc.constantFrom(...regexes), fc.constantFrom("", "i")).map(([r, flags]) =>
        flags || r.includes("/") ? `matches ${JSON.stringify(r)}` : `matches /${r}/${flags}`,
      ),
    );
  }
  // `in` / `not in` with 1 to 4 values of the field's type (dates for timestamp, as the parser allows).
  const one = f.type === "boolean" ? fc.constantFrom("true", "false") : f.type === "number" ? (f.name === "timestamp" ? timestampLit : num.map(String)) : stringLit;
  const inList = fc.tuple(fc.constantFrom("in", "not in"), fc.array(one, { minLength: 1, maxLength: 4 })).map(([o, vs]) => `${o} (${vs.join(", ")})`);
  return fc.oneof(
    { weight: 1, arbitrary: name },
    { weight: 4, arbitrary: fc.tuple(name, opValue).map(([n, ov]) => `${n} ${ov}`) },
    { weight: 1, arbitrary: fc.tuple(name, inList).map(([n, l]) => `${n} ${l}`) },
  );
}

const leaf = fc.constantFrom(...FIELD_SPECS).chain(compareArb);

/** Filter text from the grammar: leaves joined by and/or/not in every spelling, with parentheses. */
export const filterArb: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.tuple(tie("expr"), fc.constantFrom("and", "&&", "or", "||"), tie("expr")).map(([a, op, b]) => `${a} ${op} ${b}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom("not ", "!"), tie("expr")).map(([n, e]) => `${n}(${e})`) },
    { weight: 1, arbitrary: tie("expr").map((e) => `(${e})`) },
  ),
})).expr;

/** Every field with every operator its type allows and a spread of pooled values (deterministic). */
export function leafFilters(): string[] {
  const out: string[] = [];
  const stringValues = words.filter((_, i) => i % 3 === 0).concat(["GET", "orders", "Produce", "Add", "/api/*?[x]", "a😀b"]);
  const timestamps = [-3, 0, 1, 2, 5].flatMap((d) => {
    const ms = Math.round((nsAt(d) / 1e6) * 1000) / 1000;
    return [ms, ms - 0.001, ms + 0.001].map(String);
  });
  for (const f of FIELD_SPECS) {
    const names = f.keyed ? ['["content-type"]', '["x-missing"]'].map((k) => f.name + k) : [f.name];
    for (const name of names) {
      out.push(name);
      if (f.type === "boolean") for (const v of ["true", "false"]) out.push(`${name} == ${v}`, `${name} != ${v}`);
      else if (f.type === "number") {
        for (const op of ["==", "!=", "<", "<=", ">", ">="]) {
          for (const v of f.name === "timestamp" ? timestamps : numbers.map(String)) out.push(`${name} ${op} ${v}`);
        }
      } else {
        for (const op of ["==", "!=", "contains", "startsWith", "endsWith"]) for (const v of stringValues) out.push(`${name} ${op} ${JSON.stringify(v)}`);
        for (const r of regexes) out.push(`${name} matches ${JSON.stringify(r)}`);
      }
      // `in` over pooled values: pairs, with and without "" (which `equal` mappings cannot narrow).
      const pool = f.type === "boolean" ? ["true", "false"] : f.type === "number" ? (f.name === "timestamp" ? timestamps : numbers.map(String)) : stringValues.map((v) => JSON.stringify(v));
      for (let i = 0; i < pool.length; i++) out.push(`${name} in (${pool[i]})`, `${name} in (${pool[i]}, ${pool[(i * 7 + 3) % pool.length]})`);
      out.push(`${name} in (${pool.join(", ")})`);
    }
  }
  return out;
}
