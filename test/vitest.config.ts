import "../vitest.node20.js";
import { defineConfig } from "vitest/config";

// End-to-end tests: real processes, sockets, namespaces and browsers. They run one file
// at a time because several of them own fixed ports, network namespaces or the CPU.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "artifacts/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
