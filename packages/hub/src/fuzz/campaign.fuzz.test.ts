// The hub's part of `pnpm fuzz` (FUZZ_SECONDS per target; skipped in the normal suite): the filter
// parser/compiler and the redactor through fuzz/engine.ts. Figures go to fuzz/results/hub.json.
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { campaignEnv, recordResult, runCampaign, type FuzzTarget } from "../../../../fuzz/engine.js";
import { filterSeeds, filterTarget, redactSeeds, redactTarget } from "./targets.js";

const env = campaignEnv();
const fuzzDir = fileURLToPath(new URL("../../../../fuzz/", import.meta.url));
const filter = filterTarget();
afterAll(() => filter.close());

const targets: [string, FuzzTarget, () => Buffer[]][] = [
  ["filter", filter, filterSeeds],
  ["redact", redactTarget, redactSeeds],
];

describe.skipIf(!env.seconds)("fuzz campaign (hub)", () => {
  it.each(targets.filter(([name]) => !env.only || env.only.includes(name)))(
    "%s",
    (_name, target, seeds) => {
      const r = runCampaign(target, { ...env, corpusDir: `${fuzzDir}corpus/${target.name}`, seeds: seeds() });
      recordResult(`${fuzzDir}results/hub.json`, r);
      expect(r.findings).toEqual([]);
    },
    env.seconds * 1000 + 120_000,
  );
});
