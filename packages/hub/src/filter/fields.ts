// The fields a filter can name: type, how to read them from an EntryInit (the predicate
// path) and how they relate to the columns of columns.ts (the SQL path).
import { Protocol, RedisKind, protocolName, statusName, summarizeEntry } from "@tapline/protocol";
import type { BodyInit, EntryInit, EndpointInit, HeaderInit, KafkaResponseInit, RedisValueInit } from "@tapline/protocol";

export type FieldType = "string" | "number" | "boolean";

/**
 * How a field relates to a column; every mapping but `exact` only narrows (the caller then
 * runs the predicate), and `F` below is the field's value, `C` the column's.
 * - exact: F == C for every entry.
 * - equal: F != "" implies C == F, or `guard` holds.
 * - prefix / substring: F != "" implies C starts with / contains F (for lists: each value).
 * - protocols: a boolean that is true exactly when the protocol column is one of `names`.
 * - timestamp: milliseconds, against the `ts` column in microseconds (rounded down).
 * - none: no column knows it.
 */
export type SqlMapping =
  | { kind: "exact"; column: string }
  | { kind: "equal"; column: string; guard?: string }
  | { kind: "prefix"; column: string }
  | { kind: "substring"; column: string }
  | { kind: "protocols"; names: readonly string[] }
  | { kind: "timestamp" }
  | { kind: "none" };

export type FieldValue = string | number | boolean;

interface FieldBase {
  name: string;
  type: FieldType;
  description: string;
  example: string;
  /** Takes a name in brackets: request.headers["content-type"] (matched case-insensitively). */
  keyed: boolean;
  sql: SqlMapping;
}

/** One value per entry. */
export interface ScalarField extends FieldBase {
  multi: false;
  get(entry: EntryInit): FieldValue;
}

/** Zero or more values per entry (headers, args, topics, warnings): a test holds when any value passes. */
export interface ListField extends FieldBase {
  multi: true;
  /** `key` is the lower-cased bracket name for keyed fields, "" otherwise. */
  any(entry: EntryInit, key: string, test: (value: string) => boolean): boolean;
}

export type FieldSpec = ScalarField | ListField;

// Which payload an entry carries, with the precedence summarizeEntry() uses, so that a
// protocol-specific field is empty exactly when the summary columns describe another protocol.
type PayloadKind = "http" | "redis" | "kafka" | "dns" | "";
function payloadKind(e: EntryInit): PayloadKind {
  if (e.httpRequest || e.httpResponse) return "http";
  if (e.redisRequest || e.redisResponse) return "redis";
  if (e.kafkaRequest || e.kafkaResponse) return "kafka";
  if (e.dnsRequest || e.dnsResponse) return "dns";
  return "";
}

function bodyText(body: BodyInit | null | undefined): string {
  const data = body?.data;
  if (!data || data.length === 0) return "";
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
}

function anyHeader(headers: HeaderInit[] | null | undefined, key: string, test: (v: string) => boolean): boolean {
  if (!headers) return false;
  for (const h of headers) {
    const name = h.name ?? "";
    // Case-insensitive, allocation-free in the usual cases: lengths first, then the exact
    // (HTTP/2 names are lower case), only then a lower-cased copy.
    if (name.length === key.length && (name === key || name.toLowerCase() === key) && test(h.value ?? "")) return true;
  }
  return false;
}

function anyString(values: readonly (string | null | undefined)[] | null | undefined, test: (v: string) => boolean): boolean {
  if (!values) return false;
  for (const v of values) if (test(v ?? "")) return true;
  return false;
}

function redisValueText(v: RedisValueInit | null | undefined): string {
  if (!v) return "";
  if (v.text) return v.text;
  switch (v.kind) {
    case RedisKind.INTEGER:
      return String(v.integer ?? 0);
    case RedisKind.DOUBLE:
      return String(v.double ?? 0);
    case RedisKind.BOOLEAN:
      return String(!!v.boolean);
    case RedisKind.ARRAY:
    case RedisKind.SET:
    case RedisKind.MAP:
    case RedisKind.PUSH:
      return (v.elements ?? []).map(redisValueText).join(" ");
    default:
      return "";
  }
}

function kafkaErrorName(res: KafkaResponseInit | null | undefined): string {
  if (!res) return "";
  if (res.errorName) return res.errorName;
  for (const t of res.topics ?? []) {
    if (t.errorName) return t.errorName;
    for (const p of t.partitions ?? []) if (p.errorName) return p.errorName;
  }
  return "";
}

const none: SqlMapping = { kind: "none" };
const exact = (column: string): SqlMapping => ({ kind: "exact", column });

function scalar(
  name: string,
  type: FieldType,
  sql: SqlMapping,
  get: (e: EntryInit) => FieldValue,
  description: string,
  example: string,
): ScalarField {
  return { name, type, sql, get, description, example, keyed: false, multi: false };
}

function list(
  name: string,
  keyed: boolean,
  sql: SqlMapping,
  any: ListField["any"],
  description: string,
  example: string,
): ListField {
  return { name, type: "string", sql, any, description, example, keyed, multi: true };
}

function endpointFields(side: "src" | "dst", who: string): FieldSpec[] {
  const ep = (e: EntryInit): EndpointInit => e[side] ?? {};
  return [
    scalar(`${side}.ip`, "string", exact(`${side}_ip`), (e) => ep(e).ip ?? "", `IP address of the ${who}`, `${side}.ip == "10.0.0.7"`),
    scalar(`${side}.port`, "number", exact(`${side}_port`), (e) => ep(e).port ?? 0, `TCP/UDP port of the ${who}`, `${side}.port == ${side === "src" ? 43210 : 6379}`),
    scalar(`${side}.pod`, "string", exact(`${side}_pod`), (e) => ep(e).pod ?? "", `Pod name of the ${who}`, `${side}.pod startsWith "checkout-"`),
    scalar(`${side}.namespace`, "string", exact(`${side}_namespace`), (e) => ep(e).namespace ?? "", `Namespace of the ${who}`, `${side}.namespace == "shop"`),
    scalar(`${side}.service`, "string", exact(`${side}_service`), (e) => ep(e).service ?? "", `Kubernetes Service of the ${who}`, `${side}.service == "cart"`),
    scalar(`${side}.node`, "string", none, (e) => ep(e).node ?? "", `Node the ${who} runs on`, `${side}.node == "worker-1"`),
    scalar(`${side}.workload`, "string", none, (e) => ep(e).workload ?? "", `Deployment/StatefulSet/DaemonSet of the ${who}`, `${side}.workload == "checkout"`),
    scalar(`${side}.process`, "string", none, (e) => ep(e).process ?? "", `Process name of the ${who}, when known`, `${side}.process == "curl"`),
  ];
}

function protocolTerm(name: string, names: readonly string[], protocols: readonly Protocol[], description: string): ScalarField {
  return scalar(name, "boolean", { kind: "protocols", names }, (e) => protocols.includes(e.protocol ?? 0), description, name);
}

const P = Protocol;

/** Every field, in the order the help lists them. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  protocolTerm("http", ["http", "http2", "grpc"], [P.HTTP, P.HTTP2, P.GRPC], "HTTP/1.x, HTTP/2 or gRPC entry"),
  protocolTerm("http2", ["http2", "grpc"], [P.HTTP2, P.GRPC], "HTTP/2 entry, gRPC included"),
  protocolTerm("grpc", ["grpc"], [P.GRPC], "gRPC entry"),
  protocolTerm("redis", ["redis"], [P.REDIS], "Redis entry"),
  protocolTerm("kafka", ["kafka"], [P.KAFKA], "Kafka entry"),
  protocolTerm("dns", ["dns"], [P.DNS], "DNS entry"),
  protocolTerm("tcp", ["tcp"], [P.TCP], "TCP connection without an identified application protocol"),
  scalar("tls", "boolean", exact("tls"), (e) => !!e.tls, "The plaintext came from TLS hooks", "tls"),
  scalar("id", "string", none, (e) => e.id ?? "", "Entry id (<worker>-<seq>)", 'id == "worker-a-42"'),
  scalar("timestamp", "number", { kind: "timestamp" }, (e) => (e.timestampNs ?? 0) / 1e6, "Time of the first request byte, ms since the Unix epoch; compares with a date string too", 'timestamp > "2026-11-23T10:00:00Z"'),
  scalar("protocol", "string", exact("protocol"), (e) => protocolName(e.protocol), "Protocol name: http, http2, grpc, redis, kafka, dns, tcp", 'protocol == "redis"'),
  ...endpointFields("src", "client"),
  ...endpointFields("dst", "server"),
  scalar("request.method", "string", { kind: "equal", column: "method", guard: "instr(method, '/') > 0" }, (e) => e.httpRequest?.method ?? "", "HTTP method", 'request.method == "POST"'),
  scalar("request.path", "string", { kind: "equal", column: "path" }, (e) => e.httpRequest?.path ?? "", "HTTP request target (path and query)", 'request.path startsWith "/api/"'),
  scalar("request.host", "string", none, (e) => e.httpRequest?.host ?? "", "HTTP Host header or :authority", 'request.host == "cart.shop.svc"'),
  list("request.headers", true, none, (e, key, t) => anyHeader(e.httpRequest?.headers, key, t), "HTTP request header (name case-insensitive; any of its values)", 'request.headers["content-type"] contains "json"'),
  scalar("request.body", "string", none, (e) => bodyText(e.httpRequest?.body), "HTTP request body as captured (UTF-8 text)", 'request.body contains "orderId"'),
  scalar("request.command", "string", { kind: "equal", column: "method" }, (e) => (payloadKind(e) === "redis" ? e.redisRequest?.command ?? "" : ""), "Redis command, upper case", 'request.command == "GET"'),
  scalar("request.key", "string", { kind: "equal", column: "path" }, (e) => (payloadKind(e) === "redis" ? e.redisRequest?.key ?? "" : ""), "Redis key", 'request.key startsWith "session:"'),
  list("request.args", false, none, (e, _k, t) => payloadKind(e) === "redis" && anyString(e.redisRequest?.args, t), "Redis command arguments (any)", 'request.args == "EX"'),
  list("request.topic", false, { kind: "substring", column: "path" }, (e, _k, t) => payloadKind(e) === "kafka" && !!e.kafkaRequest?.topics?.some((tp) => t(tp.name ?? "")), "Kafka topic of the request (any)", 'request.topic == "orders"'),
  scalar("request.apiKey", "number", none, (e) => (payloadKind(e) === "kafka" ? e.kafkaRequest?.apiKey ?? 0 : 0), "Kafka API key", "request.apiKey == 0"),
  scalar("request.apiName", "string", { kind: "prefix", column: "method" }, (e) => (payloadKind(e) === "kafka" ? e.kafkaRequest?.apiName ?? "" : ""), "Kafka API name: Produce, Fetch, Metadata, ...", 'request.apiName == "Produce"'),
  scalar("request.apiVersion", "number", none, (e) => (payloadKind(e) === "kafka" ? e.kafkaRequest?.apiVersion ?? 0 : 0), "Kafka API version", "request.apiVersion >= 9"),
  scalar("request.clientId", "string", none, (e) => (payloadKind(e) === "kafka" ? e.kafkaRequest?.clientId ?? "" : ""), "Kafka client id", 'request.clientId == "billing"'),
  scalar("request.groupId", "string", none, (e) => (payloadKind(e) === "kafka" ? e.kafkaRequest?.groupId ?? "" : ""), "Kafka consumer group", 'request.groupId == "billing-consumers"'),
  scalar("request.query.name", "string", { kind: "equal", column: "path" }, (e) => (payloadKind(e) === "dns" ? e.dnsRequest?.questions?.[0]?.name ?? "" : ""), "DNS question name (the first question)", 'request.query.name endsWith ".svc.cluster.local"'),
  scalar("request.query.type", "string", { kind: "equal", column: "method" }, (e) => (payloadKind(e) === "dns" ? e.dnsRequest?.questions?.[0]?.type ?? "" : ""), "DNS question type: A, AAAA, SRV, ...", 'request.query.type == "AAAA"'),
  scalar("response.status", "number", exact("status_code"), (e) => e.httpResponse?.status ?? 0, "HTTP status code (0 when there is none)", "response.status >= 500"),
  scalar("response.reason", "string", none, (e) => e.httpResponse?.reason ?? "", "HTTP reason phrase", 'response.reason == "Not Found"'),
  list("response.headers", true, none, (e, key, t) => anyHeader(e.httpResponse?.headers, key, t), "HTTP response header (name case-insensitive; any of its values)", 'response.headers["cache-control"] contains "no-store"'),
  scalar("response.body", "string", none, (e) => bodyText(e.httpResponse?.body), "HTTP response body as captured (UTF-8 text)", 'response.body contains "error"'),
  scalar("response.error", "boolean", none, (e) => payloadKind(e) === "redis" && !!e.redisResponse?.error, "The Redis reply is an error", "redis and response.error"),
  scalar("response.value", "string", none, (e) => (payloadKind(e) === "redis" ? redisValueText(e.redisResponse?.value) : ""), "Redis reply as text (errors, strings, numbers; arrays joined by spaces)", 'response.value startsWith "WRONGTYPE"'),
  scalar("response.errorName", "string", none, (e) => (payloadKind(e) === "kafka" ? kafkaErrorName(e.kafkaResponse) : ""), "Kafka error name (top level or first topic/partition)", 'response.errorName == "NOT_LEADER_OR_FOLLOWER"'),
  scalar("response.errorCode", "number", none, (e) => (payloadKind(e) === "kafka" ? e.kafkaResponse?.errorCode ?? 0 : 0), "Kafka top-level error code", "response.errorCode != 0"),
  scalar("response.rcode", "string", none, (e) => (payloadKind(e) === "dns" ? e.dnsResponse?.rcode ?? "" : ""), "DNS response code: NOERROR, NXDOMAIN, ...", 'response.rcode == "NXDOMAIN"'),
  scalar("grpc.service", "string", none, (e) => (payloadKind(e) === "http" ? e.grpc?.service ?? "" : ""), "gRPC service (package.Service)", 'grpc.service == "shop.Cart"'),
  scalar("grpc.method", "string", { kind: "substring", column: "method" }, (e) => (payloadKind(e) === "http" ? e.grpc?.method ?? "" : ""), "gRPC method", 'grpc.method == "AddItem"'),
  scalar("grpc.status", "number", none, (e) => (payloadKind(e) === "http" ? e.grpc?.status ?? -1 : -1), "gRPC status code (-1 when absent)", "grpc.status != 0"),
  scalar("grpc.message", "string", none, (e) => (payloadKind(e) === "http" ? e.grpc?.message ?? "" : ""), "grpc-message", 'grpc.message contains "deadline"'),
  scalar("elapsedMs", "number", exact("elapsed_ms"), (e) => e.elapsedMs ?? 0, "First request byte to last response byte, ms", "elapsedMs > 100"),
  scalar("status", "string", exact("entry_status"), (e) => statusName(e.status), "How the entry ended: COMPLETE, NO_RESPONSE, CONNECTION_RESET, CONNECTION_REFUSED, CONNECTION_TIMEOUT, CLOSED_EARLY, TRUNCATED", 'status != "COMPLETE"'),
  scalar("error", "boolean", exact("is_error"), (e) => summarizeEntry(e).isError, "Counts as an error: HTTP 5xx, gRPC status != 0, Redis/Kafka/DNS error, no response", "error"),
  scalar("size", "number", exact("size"), (e) => (e.requestSize ?? 0) + (e.responseSize ?? 0), "Request plus response bytes on the wire", "size > 1000000"),
  scalar("node", "string", exact("node"), (e) => e.node ?? "", "Node whose worker captured the entry", 'node == "worker-1"'),
  list("warnings", false, none, (e, _k, t) => anyString(e.warnings, t), "Dissector warnings (any)", 'warnings contains "hpack"'),
  scalar("summary.method", "string", exact("method"), (e) => summarizeEntry(e).method, "Method column of the traffic table: HTTP method or gRPC service/method, Redis command, Kafka API and version, DNS type", 'summary.method == "GET"'),
  scalar("summary.target", "string", exact("path"), (e) => summarizeEntry(e).target, "Target column: HTTP path, Redis key, Kafka topics, DNS name", 'summary.target contains "cart"'),
  scalar("summary.status", "string", none, (e) => summarizeEntry(e).status, "Status column: HTTP status, grpc N, Redis reply kind, Kafka error, DNS rcode or the transport outcome", 'summary.status == "NXDOMAIN"'),
];

const byName = new Map(FIELD_SPECS.map((f) => [f.name, f]));

export function fieldSpec(name: string): FieldSpec | undefined {
  return byName.get(name);
}

/** The public catalog for autocomplete and help. */
export interface FieldInfo {
  name: string;
  type: FieldType;
  description: string;
  example: string;
  /** Takes a bracketed name: request.headers["x"]. */
  keyed: boolean;
  /** Has several values per entry; a comparison holds when any value passes. */
  multi: boolean;
  /** A column narrows or decides it in SQL (fast over stored entries). */
  indexed: boolean;
}

export const FIELDS: readonly FieldInfo[] = FIELD_SPECS.map((f) => ({
  name: f.name,
  type: f.type,
  description: f.description,
  example: f.example,
  keyed: f.keyed,
  multi: f.multi,
  indexed: f.sql.kind !== "none",
}));
