import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { Entry, Protocol, RedisKind } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { CARRIERS, entryWithSecret } from "./carriers.js";
import { DEFAULT_SENSITIVE_WORDS, NameMatcher, REDACTED, RedactConfigError, Redactor, redactJson } from "./index.js";

const defaults = () => new Redactor({ defaults: true, keys: [], valuePatterns: [] });
const SECRET = "s3cr3t-V4lue";

/** The entry as it would be stored: encoded protobuf bytes, searched as text. */
function storedText(entry: EntryInit): string {
  return Buffer.from(Entry.encode(Entry.fromObject(entry)).finish()).toString("latin1");
}

describe("name matcher (SPEC §3)", () => {
  const m = new NameMatcher({ defaults: true, keys: [] });
  it.each(["Set-Cookie", "X-Api-Key", "user_password", "authToken", "AUTHORIZATION", "x.jwt", "First Name", "ZIP", "redirect_uri", "Proxy-Authorization"])(
    "%s is sensitive", (name) => expect(m.isSensitive(name)).toBe(true));
  it.each(["User-Agent", "user-agent", ":authority", "Content-Length", "Content-Type", "Accept", "Host", "Keep-Alive", "Cache-Control", "Connection", "grpc-accept-encoding"])(
    "%s stays readable", (name) => expect(m.isSensitive(name)).toBe(false));
  it("every default word matches itself in case variants", () => {
    for (const w of DEFAULT_SENSITIVE_WORDS) {
      expect(m.isSensitive(w.toUpperCase())).toBe(true);
      expect(m.isSensitive(`x-${w}-id`)).toBe(true);
    }
  });
  it("--no-default-redact keeps only user keys; a user key overrides the allow list", () => {
    const only = new NameMatcher({ defaults: false, keys: ["X-Tenant"] });
    expect(only.isSensitive("password")).toBe(false);
    expect(only.isSensitive("x_tenant")).toBe(true);
    expect(new NameMatcher({ defaults: true, keys: ["user-agent"] }).isSensitive("User-Agent")).toBe(true);
  });
});

describe("redactor carriers", () => {
  it.each(CARRIERS)("%s: every default word, the key stays, the value goes", (carrier) => {
    const r = defaults();
    for (const word of DEFAULT_SENSITIVE_WORDS) {
      for (const name of [word, word.toUpperCase(), `X-${word}`]) {
        const e = entryWithSecret(carrier, name, SECRET);
        expect(r.redactEntry(e), `${carrier}/${name}`).toBe(true);
        expect(e.redacted).toBe(true);
        const text = storedText(e);
        expect(text, `${carrier}/${name}`).not.toContain(SECRET);
        expect(text).toContain(REDACTED);
        if (!carrier.startsWith("query")) expect(text).toContain(name);
      }
    }
  });

  it("leaves benign entries byte-identical and unmarked", () => {
    for (const carrier of CARRIERS) {
      const e = entryWithSecret(carrier, "comment", "hello");
      const before = storedText(e);
      expect(defaults().redactEntry(e)).toBe(false);
      expect(storedText(e)).toBe(before);
      expect(e.redacted ?? false).toBe(false);
    }
  });

  it("redacts Redis AUTH, HELLO ... AUTH, MIGRATE AUTH2, ACL SETUSER and CONFIG SET", () => {
    const cases: [string, string[], number[]][] = [
      ["AUTH", ["pw1"], [0]],
      ["AUTH", ["alice", "pw1"], [0, 1]],
      ["HELLO", ["3", "auth", "alice", "pw1", "SETNAME", "c"], [2, 3]],
      ["MIGRATE", ["h", "6379", "", "0", "5000", "AUTH2", "alice", "pw1", "KEYS", "a"], [6, 7]],
      ["ACL SETUSER", ["alice", "on", ">pw1", "~*"], [2]],
      ["ACL", ["SETUSER", "alice", "on", "#abc"], [3]],
      ["CONFIG SET", ["requirepass", "pw1", "maxmemory", "1gb"], [1]],
    ];
    for (const [command, args, secret] of cases) {
      const e: EntryInit = { id: "r", protocol: Protocol.REDIS, redisRequest: { command, args: [...args] } };
      expect(defaults().redactEntry(e)).toBe(true);
      args.forEach((a, i) => expect(e.redisRequest!.args![i]).toBe(secret.includes(i) ? REDACTED : a));
    }
    const get: EntryInit = { id: "g", protocol: Protocol.REDIS, redisRequest: { command: "GET", args: ["k"], key: "k" } };
    expect(defaults().redactEntry(get)).toBe(false);
  });

  it("Redis: values of sensitive hash fields in HSCAN, HRANDFIELD, HGETEX replies; other fields and nil replies stay", () => {
    const b = (text: string) => ({ kind: RedisKind.BULK_STRING, text });
    const arr = (...elements: object[]) => ({ kind: RedisKind.ARRAY, elements });
    const cases: [string, string[], object, string[]][] = [
      ["HSCAN", ["h", "0"], arr(b("0"), arr(b("password"), b("pw1"), b("name"), b("bob"))), ["bob"]],
      ["HSCAN", ["h", "0", "NOVALUES"], arr(b("0"), arr(b("password"), b("token"))), ["password", "token"]],
      ["HRANDFIELD", ["h", "2", "WITHVALUES"], arr(b("token"), b("pw1"), b("name"), b("bob")), ["token", "name", "bob"]],
      ["HRANDFIELD", ["h", "2", "WITHVALUES"], arr(arr(b("token"), b("pw1")), arr(b("name"), b("bob"))), ["token", "name", "bob"]],
      ["HGETEX", ["h", "EX", "10", "FIELDS", "2", "name", "apiKey"], arr(b("bob"), b("pw1")), ["bob"]],
      ["HGET", ["h", "name"], b("bob"), ["bob"]],
      ["CLIENT INFO", [], { kind: RedisKind.MAP, elements: [b("user"), b("pw1"), b("db"), { kind: RedisKind.INTEGER, integer: 0 }] }, ["user", "db"]],
    ];
    for (const [command, args, value, kept] of cases) {
      const planted = JSON.stringify(value).includes("pw1");
      const e: EntryInit = { id: "r", protocol: Protocol.REDIS, redisRequest: { command, args }, redisResponse: { value } };
      const changed = defaults().redactEntry(e);
      const text = storedText(e);
      expect(text, command).not.toContain("pw1");
      expect(changed, command).toBe(planted);
      for (const k of kept) expect(text, `${command} keeps ${k}`).toContain(k);
    }
    const nil: EntryInit = { id: "n", protocol: Protocol.REDIS, redisRequest: { command: "HGET", args: ["h", "password"] }, redisResponse: { value: { kind: RedisKind.NULL } } };
    expect(defaults().redactEntry(nil)).toBe(false);
  });

  it("gRPC: value patterns apply to raw protobuf renderings and message bytes (they carry field numbers, not names)", () => {
    const r = new Redactor({ defaults: true, keys: [], valuePatterns: ["\\b4111\\d{12}\\b"] });
    const e: EntryInit = {
      id: "g", protocol: Protocol.GRPC, httpRequest: { method: "POST", path: "/p.S/M" },
      grpc: { requestMessages: [{ length: 18, data: Buffer.from("\x0a\x104111111111111111"), decoded: '1: "4111111111111111"' }] },
    };
    expect(r.redactEntry(e)).toBe(true);
    expect(storedText(e)).not.toContain("4111111111111111");
    expect(e.grpc!.requestMessages![0]!.decoded).toBe(`1: "${REDACTED}"`);
  });

  it("redacts Kafka SASL bytes", () => {
    const e: EntryInit = { id: "k", protocol: Protocol.KAFKA, kafkaRequest: { apiKey: 36, apiName: "SaslAuthenticate", saslAuth: Buffer.from(`\0alice\0${SECRET}`) } };
    defaults().redactEntry(e);
    expect(storedText(e)).not.toContain(SECRET);
    expect(Buffer.from(e.kafkaRequest!.saslAuth!).toString()).toBe(REDACTED);
  });

  it("replaces only the matching part for user value patterns (card numbers)", () => {
    const r = new Redactor({ defaults: true, keys: ["x-tenant"], valuePatterns: ["\\b(?:\\d[ -]?){13,16}\\b"] });
    const e = entryWithSecret("json", "note", "card 4111 1111 1111 1111 ok");
    e.httpRequest!.headers!.push({ name: "X-Tenant", value: "acme" }, { name: "X-Note", value: "pay 4111111111111111" });
    r.redactEntry(e);
    const text = storedText(e);
    expect(text).not.toContain("4111");
    expect(text).toContain(`card ${REDACTED}ok`);
    expect(e.httpRequest!.headers!.find((h) => h.name === "X-Note")!.value).toBe(`pay ${REDACTED}`);
    expect(e.httpRequest!.headers!.find((h) => h.name === "X-Tenant")!.value).toBe(REDACTED);
  });

  it("rejects bad value patterns at construction", () => {
    expect(() => new Redactor({ defaults: true, keys: [], valuePatterns: ["(unclosed"] })).toThrow(RedactConfigError);
    expect(() => new Redactor({ defaults: true, keys: [], valuePatterns: ["a*"] })).toThrow(/empty string/);
    // Patterns that would need backtracking are refused at start-up, with the offset.
    expect(() => new Redactor({ defaults: true, keys: [], valuePatterns: ["\\d+", "(\\d)\\1{3}"] })).toThrow(
      "redact: invalid value pattern /(\\d)\\1{3}/: backreference '\\1' is not supported (regexes run in linear time, without backtracking) (at offset 4)",
    );
    expect(() => new Redactor({ defaults: true, keys: [], valuePatterns: ["secret(?=:)"] })).toThrow(/lookaround '\(\?=' is not supported .* \(at offset 6\)$/);
  });

  it("runs value patterns in bounded time on every value (no catastrophic backtracking)", () => {
    // `(a|a)*b` backtracks exponentially in V8 on a run of a's without a b; here it is linear.
    const r = new Redactor({ defaults: true, keys: [], valuePatterns: ["(a|a)*b", "(x+x+)+y"] });
    const e = entryWithSecret("json", "note", `${"a".repeat(30_000)} ${"x".repeat(30_000)}`);
    e.httpRequest!.headers!.push({ name: "X-Note", value: `${"a".repeat(5000)}b` });
    const t = performance.now();
    r.redactEntry(e);
    expect(performance.now() - t).toBeLessThan(500);
    expect(e.httpRequest!.headers!.find((h) => h.name === "X-Note")!.value).toBe(REDACTED);
  });

  it("JSON: objects, escapes in keys, truncated bodies, formatting kept", () => {
    const m = new NameMatcher({ defaults: true, keys: [] });
    expect(redactJson(`{"a": 1, "auth": {"x": [1, "}"]}, "b": 2}`, m)).toBe(`{"a": 1, "auth": "${REDACTED}", "b": 2}`);
    expect(redactJson(`{"\\u0070assword":"p"}`, m)).toBe(`{"\\u0070assword":"${REDACTED}"}`);
    expect(redactJson(`{"list":[{"token":"abc`, m)).toBe(`{"list":[{"token":"${REDACTED}"`);
    expect(redactJson(`{"name":"token", "v": "password"}`, m)).toBe(`{"name":"token", "v": "password"}`);
  });

  it("query names: %-escapes and + are decoded before matching, a malformed escape is matched raw", () => {
    const e: EntryInit = { id: "q", httpRequest: { method: "GET", path: "/p?%70assword=a1&pass+code=b2&x%ZZtoken=c3&page=2&q=%41" } };
    expect(defaults().redactEntry(e)).toBe(true);
    expect(e.httpRequest!.path).toBe(`/p?%70assword=${REDACTED}&pass+code=${REDACTED}&x%ZZtoken=${REDACTED}&page=2&q=%41`);
  });

  it("bodies: one without a sensitive name is left as it is; escaped names are still found", () => {
    const clean = Buffer.from(`{"ok":true,"id":7}`);
    const e: EntryInit = {
      id: "b",
      httpRequest: { method: "POST", path: "/f", headers: [{ name: "Content-Type", value: "application/x-www-form-urlencoded" }], body: { data: Buffer.from("a=1&%70assword=hunter2") } },
      httpResponse: { status: 200, headers: [{ name: "Content-Type", value: "application/json" }], body: { data: clean } },
    };
    expect(defaults().redactEntry(e)).toBe(true);
    expect(Buffer.from(e.httpRequest!.body!.data!).toString()).toBe(`a=1&%70assword=${REDACTED}`);
    expect(e.httpResponse!.body!.data).toBe(clean);
    const j: EntryInit = { id: "j", httpResponse: { status: 200, body: { data: Buffer.from(`{"\\u0070assword":"hunter2"}`) } } };
    expect(defaults().redactEntry(j)).toBe(true);
    expect(Buffer.from(j.httpResponse!.body!.data!).toString()).toBe(`{"\\u0070assword":"${REDACTED}"}`);
  });

  it("property: a planted secret under any default key on any carrier is never stored", () => {
    const r = defaults();
    const name = fc.tuple(fc.constantFrom(...DEFAULT_SENSITIVE_WORDS), fc.constantFrom("", "x-", "my_", "X."), fc.constantFrom("", "-id", "_value"), fc.boolean())
      .map(([w, pre, post, upper]) => { const n = `${pre}${w}${post}`; return upper ? n.toUpperCase() : n; });
    const secret = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 12, maxLength: 24 }).map((s) => `Zq${s}`);
    fc.assert(fc.property(fc.constantFrom(...CARRIERS), name, secret, (carrier, n, s) => {
      const e = entryWithSecret(carrier, n, s);
      r.redactEntry(e);
      return !storedText(e).includes(s) && e.redacted === true;
    }), { numRuns: 500 });
  });
});
