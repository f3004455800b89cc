// Runs the filter benchmark (filter.bench.ts), which the package's test suite leaves out.
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: { include: ["src/filter/*.bench.ts"], testTimeout: 600_000, hookTimeout: 600_000 },
});
