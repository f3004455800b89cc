import { describe, expect, it } from "vitest";
import { heapRelaunchMiB } from "./heap.js";

const GiB = 2 ** 30;

describe("heapRelaunchMiB", () => {
  it("asks for half of the container limit when the heap could outgrow it", () => {
    expect(heapRelaunchMiB({ TAPLINE_MEMORY_LIMIT_MIB: "1024" }, [], 4 * GiB)).toBe(512);
  });
  it("leaves the heap alone without a limit, with a limit already set, or when it already fits", () => {
    expect(heapRelaunchMiB({}, [], 4 * GiB)).toBeUndefined();
    expect(heapRelaunchMiB({ TAPLINE_MEMORY_LIMIT_MIB: "1024" }, ["--max-old-space-size=300"], 4 * GiB)).toBeUndefined();
    expect(heapRelaunchMiB({ TAPLINE_MEMORY_LIMIT_MIB: "1024", NODE_OPTIONS: "--max-old-space-size=700" }, [], 4 * GiB)).toBeUndefined();
    expect(heapRelaunchMiB({ TAPLINE_MEMORY_LIMIT_MIB: "8192" }, [], 2 * GiB)).toBeUndefined();
  });
  it("ignores values that are not a sane limit", () => {
    for (const v of ["", "abc", "-5", "12", "1e9"]) expect(heapRelaunchMiB({ TAPLINE_MEMORY_LIMIT_MIB: v }, [], 4 * GiB)).toBeUndefined();
  });
});
