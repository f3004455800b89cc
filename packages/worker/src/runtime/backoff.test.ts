import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles up to the maximum and starts over after a healthy run", () => {
    const b = new Backoff(250, 1000, 30_000);
    const t = 1_000_000;
    expect([b.next(t, t + 10), b.next(t, t + 10), b.next(t, t + 10), b.next(t, t + 10)]).toEqual([250, 500, 1000, 1000]);
    expect(b.next(t, t + 30_000)).toBe(250);
    expect(b.next(t, t + 10)).toBe(500);
  });
});
