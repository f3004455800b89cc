// The tapline-worker command: exit statuses and messages for bad flags and unusable input, and
// the same entries from a file whether dissected inline or on threads, from a path or stdin.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const worker = new URL("../../packages/worker/", import.meta.url).pathname;
const fixture = `${worker}src/dissectors/http/__fixtures__/http.pcap`;

/** Runs the bin from its TypeScript source (the package's dev loader transpiles it). */
function bin(args: string[], input?: Buffer, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, ["--conditions=source", "--import", `${worker}src/shard/dev-loader.mjs`, `${worker}src/bin.ts`, ...args], {
    input, encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 26, env,
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

  it("under a container memory limit restarts itself once with a heap limit at half of it, same entries and exit codes", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TAPLINE_MEMORY_LIMIT_MIB: "300" };
    delete env.NODE_OPTIONS;
    const limited = bin(["--read", fixture, "--pcap-limit", "0"], undefined, env);
    expect(limited.code).toBe(0);
    const m = /heap limit (\d+) MiB \(container memory limit 300 MiB\)/.exec(limited.stderr);
    expect(m, limited.stderr).not.toBeNull();
    // --max-old-space-size=150; V8's limit adds the young generation on top
    expect(Number(m![1])).toBeGreaterThanOrEqual(150);
    expect(Number(m![1])).toBeLessThan(260);
    const plain = bin(["--read", fixture, "--pcap-limit", "0"]);
    expect(plain.stderr).not.toMatch(/heap limit/);
    expect(lines(limited.stdout).map(essence)).toEqual(lines(plain.stdout).map(essence));
    expect(bin(["--bogus"], undefined, env).code).toBe(2);
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
