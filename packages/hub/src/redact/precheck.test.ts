// The byte pre-check may only answer "nothing to redact" when the redactor agrees.
import { describe, expect, it } from "vitest";
import * as fc from "fast-check";
import { Entry, Protocol } from "@tapline/protocol";
import type { EntryInit } from "@tapline/protocol";
import { CARRIERS, entryWithSecret } from "./carriers.js";
import { DEFAULT_SENSITIVE_WORDS, NameMatcher, Redactor } from "./index.js";

const encode = (e: EntryInit) => Entry.encode(Entry.fromObject(e)).finish();
const defaults = () => new Redactor({ defaults: true, keys: [], valuePatterns: [] });

describe("redaction pre-check over the encoded bytes", () => {
  it("lets benign entries skip the redactor", () => {
    const r = defaults();
    for (const carrier of CARRIERS) {
      if (carrier.startsWith("kafka")) continue; // Kafka requests always go through (SASL)
      const e = entryWithSecret(carrier, "comment", "hello");
      // entryWithSecret's base carries a Host header only; "comment" holds no word.
      expect(r.mayRedact(encode(e)), carrier).toBe(false);
    }
  });

  it.each([
    ["separators inside the word", "P-a_S.s w+o rd"], ["a JSON escape", "\\u0070assword"], ["a %-escape", "%70assword"],
    ["an upper-case %-escape", "%4Bey"], ["the Kelvin sign", "api\u212Aey"], ["dotted capital I", "redirectur\u0130"], ["upper case", "AUTHORIZATION"],
  ])("flags %s", (_what, name) => {
    expect(defaults().mayRedact(encode(entryWithSecret("requestHeader", name, "v")))).toBe(true);
  });

  it("always flags Kafka requests, Redis AUTH/ACL SETUSER, and every entry when value patterns are set", () => {
    const r = defaults();
    expect(r.mayRedact(encode({ id: "k", protocol: Protocol.KAFKA, kafkaRequest: { apiKey: 36, saslAuth: Buffer.from("\0a\0b") } }))).toBe(true);
    expect(r.mayRedact(encode({ id: "r", protocol: Protocol.REDIS, redisRequest: { command: "ACL", args: ["SETUSER", "bob", ">pw"] } }))).toBe(true);
    expect(r.mayRedact(encode({ id: "r", protocol: Protocol.REDIS, redisRequest: { command: "AUTH", args: ["pw"] } }))).toBe(true);
    const withPattern = new Redactor({ defaults: true, keys: [], valuePatterns: ["\\d{16}"] });
    expect(withPattern.mayRedact(encode(entryWithSecret("requestHeader", "comment", "hello")))).toBe(true);
    // A non-ASCII user key is case-folded by the redactor beyond ASCII: never skipped.
    expect(new Redactor({ defaults: false, keys: ["Пароль"], valuePatterns: [] }).mayRedact(encode(entryWithSecret("json", "a", "b")))).toBe(true);
  });

  it("property: whenever the pre-check says no, the redactor changes nothing", () => {
    // Names built from fragments of the words, separators, escapes and case-folding characters,
    // so that many come close to a sensitive name without being one.
    const fragment = fc.oneof(
      fc.constantFrom(...DEFAULT_SENSITIVE_WORDS).chain((w) => fc.integer({ min: 1, max: w.length }).map((k) => w.slice(0, k))),
      fc.constantFrom(...DEFAULT_SENSITIVE_WORDS).chain((w) => fc.integer({ min: 0, max: w.length - 1 }).map((k) => w.slice(k))),
      fc.constantFrom("-", "_", ".", " ", "+", "%", "\\u0070", "\u212A", "\u0130", "é", "x", "AGENT", "user-agent"),
    );
    const name = fc.array(fragment, { minLength: 1, maxLength: 4 }).chain((parts) => fc.boolean().map((up) => (up ? parts.join("").toUpperCase() : parts.join(""))));
    const keys = fc.array(fc.constantFrom("x-tenant", "sess+ion", "a.b"), { maxLength: 2 });
    let skipped = 0;
    fc.assert(fc.property(fc.constantFrom(...CARRIERS), name, fc.boolean(), keys, (carrier, n, defaultsOn, userKeys) => {
      const r = new Redactor({ defaults: defaultsOn, keys: userKeys, valuePatterns: [] });
      const e = entryWithSecret(carrier, n, "v4lue");
      const bytes = encode(e);
      if (r.mayRedact(bytes)) return true;
      skipped++;
      return r.redactEntry(Entry.decode(bytes)) === false;
    }), { numRuns: 3000 });
    expect(skipped).toBeGreaterThan(100); // the property was exercised, not vacuous
  });

  it("property: answers as the fold-and-regex test it replaces, on arbitrary bytes", () => {
    /** The earlier test: fold into a copy, then a regex alternation of the words and escapes. */
    const reference = (words: readonly string[], bytes: Uint8Array): boolean => {
      const folded: number[] = [];
      for (let b of bytes) {
        if (b === 0x2d || b === 0x5f || b === 0x2e || b === 0x20 || b === 0x2b) continue;
        if (b >= 0x41 && b <= 0x5a) b |= 0x20;
        folded.push(b);
      }
      const alternation = [...words, "auth", "setuser"].map((w) => w.replace(/\+/g, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      return new RegExp(`${alternation.join("|")}|\\\\u|%[0-9a-f]{2}|\\xe2\\x84\\xaa|\\xc4\\xb0`).test(Buffer.from(folded).toString("latin1"));
    };
    const fragment = fc.oneof(
      fc.constantFrom(...DEFAULT_SENSITIVE_WORDS).chain((w) => fc.integer({ min: 1, max: w.length }).map((k) => Buffer.from(w.slice(0, k)))),
      fc.constantFrom(...DEFAULT_SENSITIVE_WORDS, "x-tenant", "sess+ion").map((w) => Buffer.from(w.toUpperCase())),
      fc.constantFrom("-", "_", ".", " ", "+", "%", "%7", "%g", "A", "f", "\\", "u", "\u00e2", "\u0084", "\u00aa", "\u00c4", "\u00b0").map((t) => Buffer.from(t, "latin1")),
      fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)),
    );
    const body = fc.array(fragment, { maxLength: 12 }).map((parts) => Buffer.concat(parts));
    const keys = fc.array(fc.constantFrom("x-tenant", "sess+ion", "a.b", "Zip"), { maxLength: 2 });
    let flagged = 0;
    let passed = 0;
    fc.assert(fc.property(body, fc.boolean(), keys, (data, defaultsOn, userKeys) => {
      const r = new Redactor({ defaults: defaultsOn, keys: userKeys, valuePatterns: [] });
      const words = new NameMatcher({ defaults: defaultsOn, keys: userKeys }).wordList;
      const bytes = encode({ id: "p", httpRequest: { body: { data } } });
      const expected = reference(words, bytes);
      if (expected) flagged++;
      else passed++;
      expect(r.mayRedact(bytes)).toBe(expected);
    }), { numRuns: 3000 });
    expect(flagged).toBeGreaterThan(100);
    expect(passed).toBeGreaterThan(100);
  });
});
