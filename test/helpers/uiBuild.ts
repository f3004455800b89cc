// The UI's production build, made once if missing or older than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const uiDir = fileURLToPath(new URL("../../packages/ui/dist/", import.meta.url));
const uiSrc = fileURLToPath(new URL("../../packages/ui/src/", import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function ensureUiBuilt(): string {
  const index = join(uiDir, "index.html");
  if (!existsSync(index) || statSync(index).mtimeMs < newest(uiSrc)) {
    // vitest sets NODE_ENV=test, which would make vite bundle React's development build.
    execFileSync("pnpm", ["-C", fileURLToPath(new URL("../../packages/ui", import.meta.url)), "run", "build"], { stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
  }
  return uiDir;
}
