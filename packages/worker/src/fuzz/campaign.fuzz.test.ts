// The long fuzz campaign (`pnpm fuzz`, FUZZ_SECONDS per target; skipped in the normal suite):
// every dissector, the pcap reader and the pipeline through fuzz/engine.ts, seeded from the fixture
// captures plus fuzz/corpus/<target>. Findings are saved there as crash-* inputs, which
// worker.fuzz.test.ts replays. Figures go to fuzz/results/worker.json.
// FUZZ_SAVE=N keeps up to N new interesting inputs per target in the corpus.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { campaignEnv, recordResult, runCampaign, type FuzzTarget } from "../../../../fuzz/engine.js";
import { dissectors } from "../dissectors/registry.js";
import { captureSeeds, dissectorSeeds } from "./seeds.js";
import { dictionaries, dissectorTarget, pcapReaderTarget, pipelineTarget } from "./targets.js";

const env = campaignEnv();
const fuzzDir = fileURLToPath(new URL("../../../../fuzz/", import.meta.url));

const targets: [string, FuzzTarget, () => Buffer[]][] = [
  ...dissectors.map((d): [string, FuzzTarget, () => Buffer[]] => {
    const t = dissectorTarget(d, dictionaries[d.name]);
    return [t.name, t, () => dissectorSeeds(d)];
  }),
  ["pcap-reader", pcapReaderTarget, captureSeeds],
  ["pipeline", pipelineTarget(dissectors), captureSeeds],
];

describe.skipIf(!env.seconds)("fuzz campaign (worker)", () => {
  it.each(targets.filter(([name]) => !env.only || env.only.includes(name)))(
    "%s",
    (_name, target, seeds) => {
      const r = runCampaign(target, { ...env, corpusDir: `${fuzzDir}corpus/${target.name}`, seeds: seeds() });
      recordResult(`${fuzzDir}results/worker.json`, r);
      expect(r.findings).toEqual([]);
    },
    env.seconds * 1000 + 120_000,
  );
});
