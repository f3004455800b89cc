// Runs the dissectors' *.bench.ts files (vitest 5 has no `bench` export any more):
//   pnpm -C packages/worker exec vitest run --config src/dissectors/__fixtures__/bench.config.ts [http|redis]
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../../..", import.meta.url)),
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: { include: ["src/dissectors/**/*.bench.ts"], testTimeout: 120_000, fileParallelism: false },
});
