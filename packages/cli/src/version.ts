// Versions reported by `tapline version`, the hub's /api/health and `tapline logs`.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_VERSION } from "@tapline/protocol/version";

export interface VersionInfo {
  cli: string;
  schema: string;
  commit: string;
  node: string;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/** The git commit of the build: TAPLINE_GIT_COMMIT (set in images), else the checkout's HEAD. */
export function gitCommit(): string {
  if (process.env.TAPLINE_GIT_COMMIT) return process.env.TAPLINE_GIT_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: packageDir, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "unknown";
  }
}

export function versionInfo(): VersionInfo {
  return { cli: cliVersion(), schema: SCHEMA_VERSION, commit: gitCommit(), node: process.version };
}
