// `tapline dissect` end to end: the built CLI from the checkout on real captures (committed
// fixtures from loopback traffic), stdin, hostile captures, and inputs that are not captures.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = `${root}packages/worker/src/capture/__fixtures__/`;
const tmp = mkdtempSync(join(tmpdir(), "tapline-dissect-e2e-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// ./tapline rebuilds the workspace when sources changed: do it once, outside the tests' timeouts.
beforeAll(() => void spawnSync(`${root}tapline`, ["version"], { timeout: 300_000 }), 300_000);

function tapline(args: string[], input?: Buffer) {
  return spawnSync(`${root}tapline`, args, { input, encoding: "utf8", timeout: 180_000, maxBuffer: 64 << 20 });
}

/** tshark's view of the same capture: method, path and status of each HTTP message. */
function tsharkHttp(path: string): { requests: string[]; statuses: string[] } {
  const out = execFileSync("tshark", ["-r", path, "-Y", "http", "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const rows = out.trim().split("\n").map((l) => l.split("\t"));
  return { requests: rows.filter((r) => r[0]).map((r) => `${r[0]} ${r[1]}`), statuses: rows.filter((r) => r[2]).map((r) => r[2]) };
}

describe("tapline dissect", () => {
  for (const name of ["loopback.pcap", "loopback.pcapng", "loopback-ns.pcap"]) {
    it(`prints one JSON entry per HTTP exchange of ${name}, agreeing with tshark, and the refused connection`, () => {
      const r = tapline(["dissect", fixtures + name, "--format", "jsonl"]);
      expect(r.status, r.stderr).toBe(0);
      const entries = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, any>);
      const http = entries.filter((e) => e.protocol === "HTTP");
      const oracle = tsharkHttp(fixtures + name);
      expect(http.map((e) => `${e.httpRequest.method} ${e.httpRequest.path}`)).toEqual(oracle.requests);
      expect(http.map((e) => String(e.httpResponse.status))).toEqual(oracle.statuses);
      for (const e of http) {
        expect(e.status).toBe("COMPLETE");
        expect(e.dst).toEqual({ ip: "127.0.0.1", port: 9000 });
        expect(e.elapsedMs).toBeGreaterThan(0);
        expect(e.id).toMatch(/^local-\d+$/);
      }
      const tcp = entries.filter((e) => e.protocol === "TCP");
      expect(tcp.map((e) => [e.status, e.dst.port])).toEqual([["CONNECTION_REFUSED", 7071]]);
      expect(r.stderr).toMatch(/120 packets, 5 entries/);
    });
  }

  it("--format none prints nothing and counts the same entries as jsonl", () => {
    const r = tapline(["dissect", fixtures + "loopback.pcap", "--format", "none"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/120 packets, 5 entries/);
  });

  it("reads stdin with -, prints a table, and honours --dissectors", () => {
    const bytes = readFileSync(fixtures + "sll2.pcap");
    const t = tapline(["dissect", "-", "--format", "table"], bytes);
    expect(t.status, t.stderr).toBe(0);
    const lines = t.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PROTOCOL\s+SRC\s+DST\s+METHOD\s+TARGET\s+STATUS\s+ELAPSED_MS$/);
    expect(lines[1]).toMatch(/^http\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:9000\s+GET\s+\/sll2\s+200\s+\d+\.\d{3}$/);
    // Only Redis asked for: the HTTP flow is not dissected.
    const only = tapline(["dissect", fixtures + "loopback.pcap", "--format", "jsonl", "--dissectors", "redis"]);
    expect(only.status).toBe(0);
    expect(only.stdout).not.toContain('"HTTP"');
  });

  it("exits 0 on a hostile capture: truncated, corrupted bytes, a bogus record length", () => {
    const orig = readFileSync(fixtures + "loopback.pcap");
    const truncated = join(tmp, "truncated.pcap");
    writeFileSync(truncated, orig.subarray(0, orig.length - 100));
    const corrupt = Buffer.from(orig);
    for (let i = 100; i < corrupt.length; i += 37) corrupt[i] ^= 0x5a;
    const corruptPath = join(tmp, "corrupt.pcap");
    writeFileSync(corruptPath, corrupt);
    for (const f of [truncated, corruptPath]) {
      const r = tapline(["dissect", f, "--format", "jsonl"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/packets, \d+ entries/);
    }
    expect(tapline(["dissect", truncated]).stderr).toMatch(/truncated record/);
  });

  it("exits 2 with a clear message for a non-capture, a missing file and bad flags", () => {
    const text = join(tmp, "notes.txt");
    writeFileSync(text, "this is not a capture\n");
    const r1 = tapline(["dissect", text]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/not a pcap\/pcapng capture/);
    const r2 = tapline(["dissect", join(tmp, "missing.pcap")]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/cannot read .*no such file/i);
    const r3 = tapline(["dissect", fixtures + "loopback.pcap", "--format", "xml"]);
    expect(r3.status).toBe(2);
    expect(r3.stderr).toMatch(/jsonl, table or none/);
    const r4 = tapline(["dissect", fixtures + "loopback.pcap", "--dissectors", "http,gopher"]);
    expect(r4.status).toBe(2);
    expect(r4.stderr).toMatch(/unknown dissector gopher/);
    const r5 = tapline(["dissect", "-"], Buffer.alloc(0));
    expect(r5.status).toBe(2);
    expect(r5.stderr).toMatch(/empty input/);
  });
});
