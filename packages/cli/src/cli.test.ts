import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const tapline = (args: string[]) => spawnSync(`${root}/tapline`, args, { encoding: "utf8", timeout: 230_000 });

describe("tapline CLI from the checkout", () => {
  // The first run may build the whole workspace through ./tapline.
  it("prints help listing the commands", { timeout: 240_000 }, () => {
    const r = tapline(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: tapline");
    expect(r.stdout).toContain("version");
  });

  it("prints versions of the CLI, the schema and the commit", () => {
    const r = tapline(["version", "--json"]);
    expect(r.status).toBe(0);
    const v = JSON.parse(r.stdout) as Record<string, string>;
    expect(v.cli).toMatch(/^\d+\.\d+\.\d+/);
    expect(v.schema).toMatch(/^\d+\.\d+$/);
    const head = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    expect(v.commit).toBe(head);
  });

  it("rejects an unknown command with exit 2 and a message", () => {
    const r = tapline(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/i);
  });
});
