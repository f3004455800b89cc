import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RegexError, compileLinearRegex } from "./index.js";

/** Milliseconds one call takes. */
function timed(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

describe("linear-time regexes", () => {
  it("runs the patterns that make V8 backtrack for seconds in milliseconds", () => {
    // In V8 `(a+)+$` on 30 a's and a '!' takes over a second (it doubles with every 'a'), and
    // `.*q.*r` on 15 KB of text about 200 ms (quadratic); these are not run with V8 here.
    const body = `GET /api/v2/orders?id=${"x".repeat(50)} `.repeat(200);
    const cases: [string, string][] = [
      ["(a+)+$", `${"a".repeat(30)}!`],
      ["(a|a)*$", `${"a".repeat(5000)}!`],
      ["(a|aa)+$", `${"a".repeat(16384)}!`],
      [".*q.*r", body],
      ["(\\w+\\s?)*$", body],
      ["^(([a-z])+.)+[A-Z]([a-z])+$", "a".repeat(5000)],
    ];
    for (const [source, subject] of cases) {
      const re = compileLinearRegex(source);
      re.test(subject); // warm the DFA cache once, as a long-lived filter would
      expect(timed(() => re.test(subject)), source).toBeLessThan(100);
    }
  });

  it("agrees with V8 on safe patterns over ASCII text without line terminators but \\n", () => {
    const patterns = ["^GET$", "a", "^$", "/", ".*", "[*]", "orders|payments", "^/api/", "^[A-Z]+$", "a.b", "\\d{2,3}-\\w+", "\\bid\\b", "(?:ab)+c?$", "[^a-c]{2}", "x*y+?z", "\\x41|\\u0042", "(?<year>\\d{4})-\\d\\d"];
    const subject = fc.string({ unit: fc.constantFrom(..."abcxyzAB GET/api-_0123456789\n*"), maxLength: 30 });
    fc.assert(
      fc.property(fc.constantFrom(...patterns), fc.constantFrom("", "i", "m", "s", "is"), subject, (source, flags, s) => {
        const ours = compileLinearRegex(source, flags);
        const v8 = new RegExp(source, `${flags}g`);
        expect(ours.test(s)).toBe(new RegExp(source, flags).test(s));
        expect(ours.replaceAll(s, "[R$&]")).toBe(s.replace(v8, "[R$$&]"));
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects backreferences and lookaround with their offset, and bad syntax with V8's message", () => {
    const cases: [string, string, number | undefined][] = [
      ["(a)\\1", "backreference '\\1' is not supported (regexes run in linear time, without backtracking)", 3],
      ["(?<n>a)x\\k<n>", "backreference '\\k<n>' is not supported (regexes run in linear time, without backtracking)", 8],
      ["ab(?=c)", "lookaround '(?=' is not supported (regexes run in linear time, without backtracking)", 2],
      ["(?<!x)y", "lookaround '(?<!' is not supported (regexes run in linear time, without backtracking)", 0],
      ["a(", "Invalid regular expression: /a(/: Unterminated group", undefined],
      ["x{1001}", "not supported by the linear-time engine: invalid repeat count: `{1001}`", 1],
      ["[\\b]", "not supported by the linear-time engine: invalid escape sequence: `\\b`", 1],
    ];
    for (const [source, message, offset] of cases) {
      let caught: unknown;
      try {
        compileLinearRegex(source);
      } catch (err) {
        caught = err;
      }
      expect(caught, source).toBeInstanceOf(RegexError);
      expect((caught as RegexError).message).toBe(message);
      expect((caught as RegexError).offset, source).toBe(offset);
    }
    // Escaped or bracketed, the same characters are plain text.
    expect(compileLinearRegex("\\(\\?=[(?=]\\\\1").test("(?==\\1")).toBe(true);
    expect(() => compileLinearRegex("a", "g")).toThrow("unsupported regex flag 'g' (use i, m, s or u)");
  });

  it("replaces every match literally and returns the subject itself when nothing matches", () => {
    const re = compileLinearRegex("\\b(?:\\d[ -]?){13,16}\\b");
    expect(re.replaceAll("card 4111 1111 1111 1111 and 4111111111111111.", "$1[X]")).toBe("card $1[X]and $1[X].");
    const s = "no digits here";
    expect(re.replaceAll(s, "[X]")).toBe(s);
  });
});
