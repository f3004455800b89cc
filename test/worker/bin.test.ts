// The tapline-worker command: exit statuses and messages for bad flags and unusable input, and
// the same entries from a file whether dissected inline or on threads, from a path or stdin.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const worker = new URL("../../packages/worker/", import.meta.url).pathname;
const fixture = `${worker}src/dissectors/http/__fixtures__/http.pcap`;

/** Runs the bin from its TypeScript source (the package's dev loader transpiles it). */
function bin(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", `${worker}src/shard/dev-loader.mjs`, `${worker}src/bin.ts`, ...args], {
    input, encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 26,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const essence = (e: Record<string, unknown>) => JSON.stringify({ ...e, id: undefined });

describe("tapline-worker", () => {
  it("exits 2 with a clear message for bad flags and unusable input", () => {
    let r = bin(["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--bogus' \(see tapline-worker --help\)/);
    r = bin(["-i", "lo", "--no-kube", "--sidecar", "/nonexistent/tapline-capture"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("capture sidecar not found at /nonexistent/tapline-capture; build it with: make -C native");
    r = bin(["--read", `${worker}package.json`, "--pcap-limit", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a pcap\/pcapng capture/);
    r = bin(["--read", "/nonexistent.pcap", "--pcap-limit", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read/);
    r = bin(["--read", fixture, "--dissectors", "http,gopher"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown dissector "gopher"/);
  });

  it("prints the same entries inline, on two threads, and from stdin", () => {
    const one = bin(["--read", fixture, "--threads", "1", "--pcap-limit", "0"]);
    expect(one.code).toBe(0);
    const two = bin(["--read", fixture, "--threads", "2", "--pcap-limit", "0"]);
    expect(two.code).toBe(0);
    const stdin = bin(["--read", "-", "--threads", "2", "--main-thread", "read", "--pcap-limit", "0"], readFileSync(fixture));
    expect(stdin.code).toBe(0);
    const a = lines(one.stdout);
    expect(a.length).toBeGreaterThan(3);
    expect(lines(two.stdout).map(essence).sort()).toEqual(a.map(essence).sort());
    expect(lines(stdin.stdout).map(essence).sort()).toEqual(a.map(essence).sort());
    expect(one.stderr).toMatch(new RegExp(`\\d+ packets, ${a.length} entries`));
  });
});
