import "../../vitest.node20.js";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The hub serves dist/ on :8899; `pnpm -C packages/ui dev` proxies the API to a running hub.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ["source"] },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8899", ws: true }, "/metrics": "http://127.0.0.1:8899" },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
} as Parameters<typeof defineConfig>[0]);
