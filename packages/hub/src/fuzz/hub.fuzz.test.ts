// Bounded fuzzing in the normal suite: random and mutated filter texts and redaction inputs (the
// targets of targets.ts), plus the saved corpus of each (crash regressions included).
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { mutate, replayCorpus, Rng } from "../../../../fuzz/engine.js";
import { filterSeeds, filterTarget, redactSeeds, redactTarget } from "./targets.js";

const corpusRoot = fileURLToPath(new URL("../../../../fuzz/corpus/", import.meta.url));
const params = { numRuns: 1_000_000, interruptAfterTimeLimit: Number(process.env.FUZZ_PROPERTY_MS ?? 1500), markInterruptAsFailure: false } as const;

describe("fuzz filter", () => {
  const target = filterTarget();
  afterAll(() => target.close());
  const seeds = filterSeeds();
  const token = fc.constantFrom(...(target.dictionary ?? []).map((b) => b.toString()), " ", "\"x\"", "42", "/r/", "request.headers[\"a\"]");

  it("token soup compiles or fails with a positioned FilterSyntaxError; compiled SQL runs and agrees with the predicate", () => {
    fc.assert(fc.property(fc.array(token, { maxLength: 16 }), (parts) => target.run(Buffer.from(parts.join("")), new Set())), params);
  });

  it("mutated examples and arbitrary strings never escape as another error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }).map((s) => Buffer.from(s)), fc.tuple(fc.nat(seeds.length - 1), fc.integer({ min: 1 })).map(([i, r]) => mutate(seeds[i], new Rng(r), seeds, target.dictionary ?? [], 512))), (input) =>
        target.run(input, new Set()),
      ),
      params,
    );
    expect(replayCorpus(target, corpusRoot + "filter")).toEqual([]);
  });
});

describe("fuzz redact", () => {
  const seeds = redactSeeds();
  it("no value planted under a sensitive name survives, whatever the names, values and bodies around it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), fc.constantFrom("j", "u", "m", "r"), (name, value, body, kind) =>
        redactTarget.run(Buffer.from([name, value, body, kind].join("\0"), "latin1"), new Set()),
      ),
      params,
    );
  });

  it("mutated inputs too, and the saved corpus", () => {
    fc.assert(fc.property(fc.nat(seeds.length - 1), fc.integer({ min: 1 }), (i, r) => redactTarget.run(mutate(seeds[i], new Rng(r), seeds, redactTarget.dictionary ?? [], 4096), new Set())), params);
    expect(replayCorpus(redactTarget, corpusRoot + "redact")).toEqual([]);
  });
});
