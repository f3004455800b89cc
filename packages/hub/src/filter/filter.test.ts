import { EntryStatus, Protocol, RedisKind } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterArb } from "./__fixtures__/arbitraries.js";
import { EXAMPLES, FIELDS, FilterSyntaxError, MATCH_SUBJECT_LIMIT, compileFilter, parseFilter } from "./index.js";
import type { FilterAst } from "./index.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const enc = (s: string) => new TextEncoder().encode(s);

const httpGet: EntryInit = {
  id: "w1-1",
  timestampNs: T0 * 1e6,
  protocol: Protocol.HTTP,
  src: { ip: "10.0.0.5", port: 43210, pod: "checkout-7d9f", namespace: "shop", service: "checkout", workload: "checkout", process: "node", node: "n1" },
  dst: { ip: "10.0.0.7", port: 8080, pod: "cart-5c6b", namespace: "shop", service: "cart", node: "n2" },
  httpRequest: {
    method: "GET",
    path: "/api/v2/orders?id=1",
    host: "cart.shop.svc",
    headers: [
      { name: "Content-Type", value: "application/json" },
      { name: "Accept", value: "text/html" },
      { name: "accept", value: "application/xml" },
    ],
    body: { data: enc('{"orderId": 42, "note": "naïve"}') },
  },
  httpResponse: { status: 503, reason: "Service Unavailable", headers: [{ name: "Cache-Control", value: "no-store" }], body: { data: enc("upstream error") } },
  status: EntryStatus.COMPLETE,
  elapsedMs: 120.5,
  requestSize: 300,
  responseSize: 700,
  node: "n2",
  warnings: ["hpack state unknown (mid-stream start)"],
};
const grpcCall: EntryInit = {
  id: "w1-2",
  timestampNs: (T0 + 1000) * 1e6,
  protocol: Protocol.GRPC,
  tls: true,
  httpRequest: { method: "POST", path: "/shop.Cart/AddItem", headers: [{ name: "grpc-timeout", value: "1S" }] },
  httpResponse: { status: 200 },
  grpc: { service: "shop.Cart", method: "AddItem", status: 14, message: "upstream connect error" },
  status: EntryStatus.COMPLETE,
  elapsedMs: 3,
};
const h2: EntryInit = { id: "w1-3", protocol: Protocol.HTTP2, httpRequest: { method: "GET", path: "/" }, httpResponse: { status: 200 } };
const redisGet: EntryInit = {
  id: "w2-1",
  timestampNs: (T0 + 2000) * 1e6,
  protocol: Protocol.REDIS,
  redisRequest: { command: "GET", key: "session:42", args: ["session:42"] },
  redisResponse: { value: { kind: RedisKind.ERROR, text: "WRONGTYPE Operation against a key" }, error: true },
  status: EntryStatus.COMPLETE,
  elapsedMs: 0.2,
};
const kafkaProduce: EntryInit = {
  id: "w2-2",
  protocol: Protocol.KAFKA,
  kafkaRequest: { apiKey: 0, apiVersion: 9, apiName: "Produce", clientId: "billing", topics: [{ name: "payments" }, { name: "orders" }] },
  kafkaResponse: { errorCode: 0, topics: [{ name: "orders", partitions: [{ index: 0, errorName: "NOT_LEADER_OR_FOLLOWER" }] }] },
  status: EntryStatus.COMPLETE,
};
const dnsQuery: EntryInit = {
  id: "w3-1",
  protocol: Protocol.DNS,
  dnsRequest: { questions: [{ name: "nope.shop.svc.cluster.local", type: "AAAA" }] },
  dnsResponse: { rcode: "NXDOMAIN" },
  status: EntryStatus.COMPLETE,
};
const tcpReset: EntryInit = { id: "w3-2", protocol: Protocol.TCP, status: EntryStatus.CONNECTION_RESET };
const all = [httpGet, grpcCall, h2, redisGet, kafkaProduce, dnsQuery, tcpReset];

function ids(filter: string): string[] {
  const { predicate } = compileFilter(filter);
  return all.filter((e) => predicate(e)).map((e) => e.id!);
}

/** The AST as a compact s-expression, to read precedence at a glance. */
function sexp(ast: FilterAst): string {
  switch (ast.kind) {
    case "all":
      return "all";
    case "const":
      return String(ast.value);
    case "and":
    case "or":
      return `(${ast.kind} ${sexp(ast.left)} ${sexp(ast.right)})`;
    case "not":
      return `(not ${sexp(ast.operand)})`;
    case "test":
      return ast.key === undefined ? ast.field : `${ast.field}[${ast.key}]`;
    case "compare": {
      const v = ast.value;
      const shown = v.type === "regex" ? `/${v.source}/${v.flags}` : JSON.stringify(v.value);
      return `(${ast.op} ${ast.key === undefined ? ast.field : `${ast.field}[${ast.key}]`} ${shown})`;
    }
    case "in": {
      const shown = ast.values.map((v) => (v.type === "regex" ? `/${v.source}/` : JSON.stringify(v.value))).join(" ");
      return `(in ${ast.key === undefined ? ast.field : `${ast.field}[${ast.key}]`} ${shown})`;
    }
  }
}

describe("grammar", () => {
  it.each([
    ["", "all"],
    ["   ", "all"],
    ["http or redis and tls", "(or http (and redis tls))"],
    ["http and redis or tls", "(or (and http redis) tls)"],
    ["not http and tls", "(and (not http) tls)"],
    ["!http || !!tls && dns", "(or (not http) (and (not (not tls)) dns))"],
    ["(http or redis) and tls", "(and (or http redis) tls)"],
    ["not (http or redis)", "(not (or http redis))"],
    ["http or redis or dns", "(or (or http redis) dns)"],
    ["http && redis && dns", "(and (and http redis) dns)"],
    ["not response.status == 200", '(not (== response.status 200))'],
    ['request.headers["Content-Type"] contains "json"', '(contains request.headers[content-type] "json")'],
    ["true or false", "(or true false)"],
    ["elapsedMs>=-1.5e2", "(>= elapsedMs -150)"],
    [`src.pod == 'it\\'s "x"\\n\\u00e9\\u{1F600}\\x41'`, `(== src.pod ${JSON.stringify(`it's "x"\né\u{1F600}A`)})`],
    ["request.path matches /^\\/api\\/[a-z/]+$/i", "(matches request.path /^\\/api\\/[a-z/]+$/i)"],
    ['request.path matches "^/api"', "(matches request.path /^/api/)"],
    ['timestamp >= "2026-11-23T10:00:00Z"', `(>= timestamp ${T0})`],
    ['request.method in ("GET", \'POST\')', '(in request.method "GET" "POST")'],
    ["response.status in (500,502 , 503)", "(in response.status 500 502 503)"],
    ['dst.namespace not in ("kube-system") and http', '(and (not (in dst.namespace "kube-system")) http)'],
    ['not request.headers["Accept"] in ("a") or tls', '(or (not (in request.headers[accept] "a")) tls)'],
    ['timestamp in ("2026-11-23T10:00:00Z", 0)', `(in timestamp ${T0} 0)`],
    ["tls in (true)", "(in tls true)"],
  ])("%s", (text, expected) => {
    expect(sexp(parseFilter(text))).toBe(expected);
  });
});

describe("operators and fields", () => {
  it.each([
    ["http", ["w1-1", "w1-2", "w1-3"]],
    ["http2", ["w1-2", "w1-3"]],
    ["grpc", ["w1-2"]],
    ["redis or kafka", ["w2-1", "w2-2"]],
    ["dns", ["w3-1"]],
    ["tcp", ["w3-2"]],
    ["tls", ["w1-2"]],
    ["http == false and not tcp", ["w2-1", "w2-2", "w3-1"]],
    ['protocol == "grpc"', ["w1-2"]],
    ['request.method == "GET"', ["w1-1", "w1-3"]],
    ['request.method == "get"', []],
    ['request.method != "GET"', ["w1-2", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ["response.status >= 500", ["w1-1"]],
    ["response.status > 503", []],
    ["response.status <= 200 and response.status", ["w1-2", "w1-3"]],
    ["response.status < 200", ["w2-1", "w2-2", "w3-1", "w3-2"]],
    ["elapsedMs > 100", ["w1-1"]],
    ["elapsedMs >= 3 and elapsedMs <= 3", ["w1-2"]],
    ['request.path contains "orders"', ["w1-1"]],
    ['request.path contains "ORDERS"', []],
    ['request.path startsWith "/shop."', ["w1-2"]],
    ['request.path endsWith "id=1"', ["w1-1"]],
    ['request.path matches /V2/i', ["w1-1"]],
    ['request.path matches "V2"', []],
    ['request.headers["content-type"] contains "json"', ["w1-1"]],
    ['request.headers["ACCEPT"] == "application/xml"', ["w1-1"]],
    ['request.headers["accept"] == "text/html"', ["w1-1"]],
    ['request.headers["accept"] != "text/html"', ["w1-2", "w1-3", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ['request.headers["x-missing"]', []],
    ['response.headers["cache-control"] == "no-store"', ["w1-1"]],
    ['request.body contains "naïve"', ["w1-1"]],
    ['response.body matches "^upstream"', ["w1-1"]],
    ['request.host == "cart.shop.svc"', ["w1-1"]],
    ['src.pod startsWith "checkout-" and dst.service == "cart"', ["w1-1"]],
    ['src.workload == "checkout" and src.process == "node" and src.node == "n1" and src.port == 43210', ["w1-1"]],
    ['dst.namespace == "shop" and elapsedMs > 100', ["w1-1"]],
    ['grpc.service == "shop.Cart" and grpc.method == "AddItem"', ["w1-2"]],
    ["grpc.status != 0", ["w1-1", "w1-2", "w1-3", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ["grpc.status == -1", ["w1-1", "w1-3", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ['grpc.message contains "connect"', ["w1-2"]],
    ['redis and request.command == "GET"', ["w2-1"]],
    ['request.key startsWith "session:"', ["w2-1"]],
    ['request.args == "session:42"', ["w2-1"]],
    ['response.error and response.value startsWith "WRONGTYPE"', ["w2-1"]],
    ['kafka and request.topic == "orders"', ["w2-2"]],
    ['request.topic == "payments" and request.apiName == "Produce" and request.apiKey == 0 and request.apiVersion >= 9', ["w2-2"]],
    ['request.clientId == "billing"', ["w2-2"]],
    ['response.errorName == "NOT_LEADER_OR_FOLLOWER" and response.errorCode == 0', ["w2-2"]],
    ['request.query.name endsWith ".cluster.local" and request.query.type == "AAAA"', ["w3-1"]],
    ['response.rcode == "NXDOMAIN"', ["w3-1"]],
    ['status == "CONNECTION_RESET"', ["w3-2"]],
    ['status != "COMPLETE"', ["w1-3", "w3-2"]],
    ["error", ["w1-1", "w1-2", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ["size > 999", ["w1-1"]],
    ['node == "n2"', ["w1-1"]],
    ['warnings contains "hpack"', ["w1-1"]],
    ['id == "w2-1"', ["w2-1"]],
    ['timestamp >= "2026-11-23T10:00:01Z"', ["w1-2", "w2-1"]],
    [`timestamp > ${T0 + 1000} and timestamp < ${T0 + 2001}`, ["w2-1"]],
    ['summary.method == "shop.Cart/AddItem"', ["w1-2"]],
    ['summary.target == "payments,orders"', ["w2-2"]],
    ['summary.status == "grpc 14"', ["w1-2"]],
    ["true and not false", all.map((e) => e.id!)],
    ['request.method in ("GET", "PUT")', ["w1-1", "w1-3"]],
    ['request.method in ("get")', []],
    ["response.status in (500, 502, 503)", ["w1-1"]],
    ["response.status not in (200, 503)", ["w2-1", "w2-2", "w3-1", "w3-2"]],
    ['dst.namespace not in ("shop")', ["w1-2", "w1-3", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ['request.headers["accept"] in ("application/xml", "x")', ["w1-1"]],
    ['request.headers["accept"] not in ("text/html")', ["w1-2", "w1-3", "w2-1", "w2-2", "w3-1", "w3-2"]],
    ['request.topic in ("orders")', ["w2-2"]],
    ['request.command in ("GET", "SET") and redis', ["w2-1"]],
    ['protocol in ("dns", "tcp")', ["w3-1", "w3-2"]],
    ["grpc.status in (14, -1) and http2", ["w1-2", "w1-3"]],
    ["http in (true) and tls in (true)", ["w1-2"]],
  ])("%s", (filter, expected) => {
    expect(ids(filter)).toEqual(expected);
  });
});

describe("errors carry the position", () => {
  it.each([
    ["http andd response.status", "unexpected token 'andd' at 5 (did you mean 'and'?)"],
    ['request.method == "GET" andd x', "unexpected token 'andd' at 24 (did you mean 'and'?)"],
    ["response.status == ", "expected a value after '==' at 19"],
    ["response.status == and", "expected a value after '==' at 19"],
    ['src.pod == "abc', "unterminated string at 11"],
    ["reqest.method == 'GET'", "unknown field 'reqest.method' at 0 (did you mean 'request.method'?)"],
    ["elapsedms > 1", "unknown field 'elapsedms' at 0 (did you mean 'elapsedMs'?)"],
    ["frobnicate", "unknown field 'frobnicate' at 0"],
    ['request.method == 5', "cannot compare string field 'request.method' with a number at 18"],
    ['elapsedMs > "slow"', "cannot compare number field 'elapsedMs' with a string at 12"],
    ["tls == 1", "cannot compare boolean field 'tls' with a number at 7"],
    ['request.path < "b"', "operator '<' needs a number field; 'request.path' is a string at 13"],
    ['elapsedMs contains "1"', "operator 'contains' needs a string field; 'elapsedMs' is a number at 10"],
    ["request.path matches /a(/", "invalid regex: Invalid regular expression: /a(/: Unterminated group at 21"],
    ["request.path matches /a/g", "unsupported regex flags 'g' at 21 (use i, m, s or u)"],
    ["request.path matches 5", "expected a regex or a string after 'matches' at 21"],
    ["request.path == /a/", "a /regex/ goes only after 'matches' at 16"],
    ["request.path matches /abc", "unterminated regex at 21"],
    ['src.pod == "a\\qb"', "invalid escape '\\q' in string at 13"],
    ["elapsedMs > 1.2.3", "invalid number '1.2.3' at 12"],
    ["elapsedMs > 1e999", "number '1e999' is out of range at 12"],
    ["(http or redis", "expected ')' at 14 (to close '(' at 0)"],
    ["http)", "unmatched ')' at 4"],
    ["http and", "expected an expression after 'and' at 8"],
    ["not", "expected an expression after 'not' at 3"],
    ["http or == 1", "unexpected token '==' at 8"],
    ["src.pod = 'a'", "unexpected character '=' at 8 (did you mean '=='?)"],
    ["http & tls", "unexpected character '&' at 5 (did you mean '&&'?)"],
    ["http # tls", "unexpected character '#' at 5"],
    ["request.headers == 'x'", "field 'request.headers' needs a name in brackets at 15 (e.g. request.headers[\"content-type\"])"],
    ["request.path['x']", "field 'request.path' takes no [name] at 12"],
    ["request.headers[accept]", "expected a quoted name after '[' at 16 (e.g. request.headers[\"content-type\"])"],
    ["request.headers['accept' == 'x'", "expected ']' at 25"],
    ['timestamp > "yesterday"', "invalid date 'yesterday' at 12 (e.g. \"2026-11-23T10:00:00Z\")"],
    ["request.path matches /(a)\\1/", "invalid regex: backreference '\\1' is not supported (regexes run in linear time, without backtracking) at 25"],
    ["request.path matches /ab(?=c)/", "invalid regex: lookaround '(?=' is not supported (regexes run in linear time, without backtracking) at 24"],
    ['request.path matches "(?<!x)y"', "invalid regex: lookaround '(?<!' is not supported (regexes run in linear time, without backtracking) at 21"],
    ["request.path matches /x{1001}/", "invalid regex: not supported by the linear-time engine: invalid repeat count: `{1001}` at 23"],
    ["response.status in ()", "empty list after 'in' at 19 (give at least one value)"],
    ['request.method in "GET"', "expected '(' after 'in' at 18 (e.g. request.method in (\"a\", \"b\"))"],
    ["response.status in 500", "expected '(' after 'in' at 19 (e.g. response.status in (500, 503))"],
    ['request.method in ("GET", "POST"', "expected ')' at 32 (to close '(' at 18)"],
    ['request.method in ("GET" "POST")', "unexpected token '\"POST\"' at 25 (expected ',' or ')')"],
    ['request.method in ("GET",)', "expected a value after ',' at 25"],
    ["response.status in (", "expected a value after '(' at 20"],
    ['response.status in (500, "503")', "cannot compare number field 'response.status' with a string at 25"],
    ['request.method in ("GET", 1)', "cannot compare string field 'request.method' with a number at 26"],
    ["request.path in (/a/)", "a /regex/ goes only after 'matches' at 17"],
    ['request.method not ("GET")', "unexpected token 'not' at 15"],
    ["in (1)", "unexpected token 'in' at 0"],
    ['request.method inn ("GET")', "unexpected token 'inn' at 15 (did you mean 'in'?)"],
    [`response.status in (${Array.from({ length: 1001 }, (_, i) => i).join(",")})`, "more than 1000 values after 'in' at 3910"],
  ])("%s", (text, message) => {
    let caught: unknown;
    try {
      compileFilter(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FilterSyntaxError);
    const err = caught as FilterSyntaxError;
    expect(err.message).toBe(message);
    expect(err.position).toBe(Number(/ at (\d+)/.exec(message)![1]));
    expect(err.end).toBeGreaterThanOrEqual(err.position);
  });

  it("never throws anything but FilterSyntaxError, with a position inside the text", () => {
    const damaged = fc
      .tuple(filterArb, fc.nat(), fc.nat(3), fc.constantFrom("", "(", ")", '"', "'", "/", "[", "]", "=", "!", "&", "\\", "and", " ", "x"))
      .map(([f, at, del, ins]) => f.slice(0, at % (f.length + 1)) + ins + f.slice((at % (f.length + 1)) + del));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), damaged), (text) => {
        try {
          compileFilter(text);
        } catch (err) {
          if (!(err instanceof FilterSyntaxError)) throw err;
          expect(err.position).toBeGreaterThanOrEqual(0);
          expect(err.position).toBeLessThanOrEqual(text.length);
          expect(err.message).toContain(` at ${err.position}`);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("rejects a non-string filter with a TypeError", () => {
    expect(() => parseFilter(42 as unknown as string)).toThrow(TypeError);
  });
});

describe("matches runs in bounded time", () => {
  it("on patterns that backtrack exponentially in V8, over a body past the subject cap", () => {
    const e: EntryInit = { ...httpGet, httpRequest: { ...httpGet.httpRequest, body: { data: enc(`${"a".repeat(200_000)}!`) } } };
    // The subject is cut at MATCH_SUBJECT_LIMIT, so `$` matches at the cut, before the "!".
    const cases: [string, boolean][] = [["(a+)+$", true], ["(a+)+b", false], ["(a|aa)+!", false], ["(a|a)*$", true], [".*q.*r", false]];
    for (const [re, expected] of cases) {
      const filter = `request.body matches /${re}/`;
      const { predicate } = compileFilter(filter);
      predicate(e);
      const t = performance.now();
      expect(predicate(e), filter).toBe(expected);
      expect(performance.now() - t, filter).toBeLessThan(150);
    }
  });

  it("reads the first MATCH_SUBJECT_LIMIT units of a value", () => {
    const at = (n: number): EntryInit => ({ ...httpGet, httpRequest: { ...httpGet.httpRequest, body: { data: enc(`${"x".repeat(n)}needle`) } } });
    const { predicate } = compileFilter("request.body matches /needle/");
    expect(predicate(at(MATCH_SUBJECT_LIMIT - 6))).toBe(true);
    expect(predicate(at(MATCH_SUBJECT_LIMIT - 5))).toBe(false);
    expect(compileFilter('request.body contains "needle"').predicate(at(MATCH_SUBJECT_LIMIT))).toBe(true);
  });
});

describe("compileFilter", () => {
  it("gives SQL that is exact for indexed fields and a superset otherwise", () => {
    expect(compileFilter("").sql).toEqual({ where: "1", params: [], exact: true });
    const indexed = compileFilter('dst.namespace == "shop" and elapsedMs > 100');
    expect(indexed.sql).toEqual({
      where: "((dst_namespace = ?) AND (elapsed_ms > ?))", params: ["shop", 100], exact: true, hints: [{ column: "dst_namespace", values: ["shop"] }],
    });
    const http = compileFilter("http and response.status >= 500").sql;
    expect(http).toEqual({ where: "((protocol IN (?, ?, ?)) AND (status_code >= ?))", params: ["http", "http2", "grpc", 500], exact: true });
    const header = compileFilter('http and request.headers["content-type"] contains "json"').sql;
    expect(header).toEqual({ where: "(protocol IN (?, ?, ?))", params: ["http", "http2", "grpc"], exact: false });
    // not over an inexact part: the SQL may not narrow it, only the exact conjunct remains.
    const negated = compileFilter('not request.body contains "x" and src.pod == "a"').sql;
    expect(negated).toEqual({ where: "(src_pod = ?)", params: ["a"], exact: false, hints: [{ column: "src_pod", values: ["a"] }] });
    const cmd = compileFilter('request.command == "GET"').sql;
    expect(cmd).toEqual({ where: "(method = ?)", params: ["GET"], exact: false, hints: [{ column: "method", values: ["GET"] }] });
  });

  it("hints at the posted columns' values every selected row holds, and only those", () => {
    const hints = (f: string) => compileFilter(f).sql.hints;
    expect(hints('src.pod == "a" and dst.namespace in ("x", "y", "x")')).toEqual([
      { column: "src_pod", values: ["a"] }, { column: "dst_namespace", values: ["x", "y"] },
    ]);
    // or: a column hinted on both sides, with the values of both; not: nothing.
    expect(hints('(src.pod == "a" and dst.pod == "b") or src.pod == "c"')).toEqual([{ column: "src_pod", values: ["a", "c"] }]);
    expect(hints('src.pod == "a" or dst.pod == "b"')).toBeUndefined();
    expect(hints('not src.pod == "a"')).toBeUndefined();
    expect(hints('src.pod != "a"')).toBeUndefined();
    expect(hints('not (src.pod != "a")')).toEqual([{ column: "src_pod", values: ["a"] }]);
    expect(hints('dst.namespace not in ("x")')).toBeUndefined();
    // Columns without postings, and tests other than equality, give none.
    expect(hints('summary.target == "/x" and response.status == 500')).toBeUndefined();
    expect(hints('src.pod startsWith "a" or src.pod contains "b"')).toBeUndefined();
    // request.method is method = ? or a gRPC entry (the guard): no hint.
    expect(hints('request.method == "GET"')).toBeUndefined();
    expect(hints('summary.method == "GET"')).toEqual([{ column: "method", values: ["GET"] }]);
    expect(hints('request.command in ("GET", "SET")')).toEqual([{ column: "method", values: ["GET", "SET"] }]);
  });

  it("compiles `in` to SQL IN over the column, exact for exact columns", () => {
    expect(compileFilter("response.status in (500, 502, 503)").sql).toEqual({ where: "(status_code IN (?, ?, ?))", params: [500, 502, 503], exact: true });
    expect(compileFilter('dst.namespace not in ("kube-system", "tapline")').sql).toEqual({
      where: "NOT (dst_namespace IN (?, ?))", params: ["kube-system", "tapline"], exact: true,
    });
    // request.method narrows through the method column (gRPC's service/method is the guard).
    expect(compileFilter('request.method in ("GET", "POST")').sql).toEqual({
      where: "((method IN (?, ?)) OR (instr(method, '/') > 0))", params: ["GET", "POST"], exact: false,
    });
    expect(compileFilter('request.method in ("GET", "")').sql).toEqual({ where: "1", params: [], exact: false });
    expect(compileFilter('request.headers["x"] in ("a")').sql).toEqual({ where: "1", params: [], exact: false });
    expect(compileFilter("tls in (true, false)").sql.exact).toBe(true);
  });

  it("compiles every example and every field's example", () => {
    for (const { filter } of EXAMPLES) expect(() => compileFilter(filter), filter).not.toThrow();
    for (const f of FIELDS) {
      expect(() => compileFilter(f.example), f.example).not.toThrow();
      expect(f.example, f.name).toContain(f.name);
    }
    expect(new Set(FIELDS.map((f) => f.name)).size).toBe(FIELDS.length);
  });
});
