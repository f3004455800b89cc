// `pnpm -C packages/cli gen-chart`: writes deploy/helm/tapline from the manifest builder.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateChart } from "./generate.js";

export const chartDir = fileURLToPath(new URL("../../../../deploy/helm/tapline", import.meta.url));

rmSync(join(chartDir, "templates"), { recursive: true, force: true });
for (const f of generateChart()) {
  mkdirSync(dirname(join(chartDir, f.path)), { recursive: true });
  writeFileSync(join(chartDir, f.path), f.content);
}
process.stdout.write(`wrote ${chartDir}\n`);
