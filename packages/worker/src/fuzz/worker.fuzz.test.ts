// Bounded fuzzing in the normal suite (each target a few seconds): random and mutated inputs never
// make a dissector, the pcap reader or the pipeline throw or break its contract; cutting a real
// stream at other boundaries yields the same exchanges; every saved corpus input (crash
// regressions included) still runs clean. The long campaign is campaign.fuzz.test.ts (`pnpm fuzz`).
import fc from "fast-check";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { mutate, replayCorpus, Rng } from "../../../../fuzz/engine.js";
import { dissectors } from "../dissectors/registry.js";
import { Direction, type Dissector } from "../dissectors/types.js";
import { captureSeeds, dissectorSeeds } from "./seeds.js";
import { decodeChunks, dictionaries, dissectorTarget, driveDissector, encodeChunks, pcapReaderTarget, pipelineTarget, targetName, type ByteTarget } from "./targets.js";

const corpusRoot = fileURLToPath(new URL("../../../../fuzz/corpus/", import.meta.url));
/** Per property: fast-check stops after this long and the run counts as passed if nothing failed. */
const BUDGET_MS = Number(process.env.FUZZ_PROPERTY_MS ?? 1500);
const params = { numRuns: 1_000_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false } as const;

/** Mutated seeds: a seed and a mutation stream chosen by fast-check (shrinks to the seed). */
function mutatedSeeds(target: ByteTarget, seeds: Buffer[]): void {
  fc.assert(
    fc.property(fc.nat(seeds.length - 1), fc.integer({ min: 1 }), fc.nat(8), (i, rngSeed, extra) => {
      const rng = new Rng(rngSeed);
      let input = seeds[i];
      for (let k = 0; k <= extra; k++) input = mutate(input, rng, seeds, target.dictionary ?? [], target.maxLen ?? 65536);
      target.run(input, new Set());
    }),
    params,
  );
}

const chunkArb = (dict: readonly string[]) =>
  fc.record({
    direction: fc.constantFrom(Direction.ClientToServer, Direction.ServerToClient),
    pause: fc.boolean(),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.array(fc.oneof(fc.constantFrom(...(dict.length ? dict : ["\r\n"])), fc.string({ maxLength: 8 })), { maxLength: 24 }).map((parts) => Buffer.from(parts.join(""), "latin1")),
    ),
  });

/** Exchanges with the capture times left out (re-cutting moves them). */
function comparable(d: Dissector, input: Buffer): string {
  const r = driveDissector(d, input);
  return JSON.stringify(r.exchanges.map(({ requestStartNs: _a, responseEndNs: _b, ...rest }) => rest));
}

describe.each(dissectors.map((d) => [targetName(d), d] as const))("fuzz %s", (name, d) => {
  const target = dissectorTarget(d, dictionaries[d.name]);
  const seeds = dissectorSeeds(d);

  it("has seeds from its fixture captures", () => {
    expect(seeds.length).toBeGreaterThan(0);
  });

  it("random chunks in both directions never throw or break the feed contract", () => {
    fc.assert(
      fc.property(fc.nat(31), fc.array(chunkArb(dictionaries[d.name] ?? []), { maxLength: 12 }), (config, chunks) => {
        target.run(encodeChunks(chunks, config), new Set());
      }),
      params,
    );
  });

  it("mutated fixture streams never throw or break the feed contract", () => {
    mutatedSeeds(target, seeds);
  });

  // Datagrams keep their boundaries; only a byte stream can be cut elsewhere.
  it.skipIf(d.transport === "udp")("a real stream cut at other boundaries yields the same exchanges", () => {
    const clean = seeds.filter((_, i) => i % 2 === 0); // default limits, close on fin
    fc.assert(
      fc.property(fc.nat(clean.length - 1), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }), (i, sizes) => {
        const { chunks } = decodeChunks(clean[i]);
        const cut = [];
        let k = 0;
        for (const c of chunks)
          for (let off = 0; off < c.data.length; ) {
            const n = sizes[k++ % sizes.length];
            cut.push({ direction: c.direction, data: c.data.subarray(off, off + n) });
            off += n;
          }
        expect(comparable(d, encodeChunks(cut, 0))).toBe(comparable(d, clean[i]));
      }),
      { ...params, interruptAfterTimeLimit: BUDGET_MS / 2 },
    );
  });

  it("replays its saved corpus (crash regressions included) without a finding", () => {
    expect(replayCorpus(target, corpusRoot + name)).toEqual([]);
  });
});

describe("fuzz capture reader and pipeline", () => {
  const seeds = captureSeeds();
  const pipeline = pipelineTarget(dissectors);

  it("pcap reader: mutated captures read the same whole or chunked, and never throw", () => {
    expect(seeds.length).toBeGreaterThan(3);
    mutatedSeeds(pcapReaderTarget, seeds);
    expect(replayCorpus(pcapReaderTarget, corpusRoot + "pcap-reader")).toEqual([]);
  });

  it("pipeline: mutated captures reach no dissector bug, respect the byte caps and free every buffer", () => {
    mutatedSeeds(pipeline, seeds);
    expect(replayCorpus(pipeline, corpusRoot + "pipeline")).toEqual([]);
  });

  it("the checks can fail: a dissector that over-consumes is caught", () => {
    const liar = { ...dissectors[0], createSession: () => ({ feed: () => ({ kind: "used" as const, used: 1e9 }), close() {} }) };
    expect(() => dissectorTarget(liar).run(encodeChunks([{ direction: Direction.ClientToServer, data: Buffer.from("x") }]), new Set())).toThrow(/used=/);
  });
});
