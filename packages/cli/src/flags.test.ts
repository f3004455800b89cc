import { describe, expect, it } from "vitest";
import { compilePodRegex, parseByteQuantity, parseNamespaces, parseTolerations, parseKeyValues } from "./flags.js";
import { UsageError } from "./errors.js";

describe("flag parsers", () => {
  it("accepts valid pod regexes, including groups and named groups", () => {
    for (const r of ["(catalo*|front-end*)", ".*", "^api-[0-9]{2,3}$", "(?:a|b)+", "(?<n>x)\\d", "[)(]x"]) {
      expect(compilePodRegex(r).source).toBe(r);
    }
  });

  it.each([
    ["(abc", 1, "unterminated group"],
    ["ab)c", 3, "unmatched ')'"],
    ["*abc", 1, "nothing to repeat"],
    ["a[bc", 2, "unterminated character class"],
    ["a{3,1}", 2, "numbers out of order"],
    ["ab\\", 3, "trailing backslash"],
  ])("rejects %s at position %i", (src, pos, why) => {
    let err: unknown;
    try {
      compilePodRegex(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(`position ${pos}: ${why}`);
    expect((err as Error).message).toContain(`\n  ${" ".repeat(pos - 1)}^`);
  });

  it("parses Kubernetes byte quantities and rejects the rest", () => {
    expect(parseByteQuantity("--storage-limit", "500Mi")).toBe(500 * 2 ** 20);
    expect(parseByteQuantity("--storage-limit", "2G")).toBe(2e9);
    expect(parseByteQuantity("--storage-limit", "1024")).toBe(1024);
    expect(() => parseByteQuantity("--storage-limit", "5XB")).toThrow(/invalid --storage-limit '5XB'/);
    expect(() => parseByteQuantity("--storage-limit", "0")).toThrow(/at least 1 byte/);
  });

  it("merges repeated and comma-separated namespaces and validates them", () => {
    expect(parseNamespaces(["a,b", "c", "a"])).toEqual(["a", "b", "c"]);
    expect(() => parseNamespaces(["Bad_NS"])).toThrow(/invalid namespace 'Bad_NS'/);
  });

  it("parses tolerations in kubectl taint syntax", () => {
    expect(parseTolerations(["dedicated=apps:NoSchedule,gpu", "*"])).toEqual([
      { key: "dedicated", operator: "Equal", value: "apps", effect: "NoSchedule" },
      { key: "gpu", operator: "Exists" },
      { operator: "Exists" },
    ]);
    expect(() => parseTolerations(["k=v:Sometimes"])).toThrow(/invalid --tolerations/);
  });

  it("parses node selectors", () => {
    expect(parseKeyValues("--node-selector", ["a=b,c=d"])).toEqual({ a: "b", c: "d" });
    expect(() => parseKeyValues("--node-selector", ["nokey"])).toThrow(/expected key=value/);
  });
});
