// `tapline view FILE` end to end: the real CLI serves a capture file, and /api/entries holds the
// same entries (count, methods, paths, statuses) as `tapline dissect FILE --format jsonl`;
// the service map and the PCAP export work from the file alone; Ctrl-C ends it with 0.
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, getJson, root, serve } from "./run.js";

const fixtures = `${root}packages/worker/src/capture/__fixtures__/`;
const tmp = mkdtempSync(join(tmpdir(), "tapline-view-e2e-"));
const PORT = 18931;

beforeAll(buildCli, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, any>;
/** What both paths must agree on, in time order. */
function digest(e: Json): string {
  return [e.protocol, e.httpRequest?.method ?? e.redisRequest?.command ?? "", e.httpRequest?.path ?? "", e.httpResponse?.status ?? "", e.status ?? ""].join(" ");
}

describe("tapline view FILE", () => {
  for (const name of ["loopback.pcap", "loopback.pcapng", "sll2.pcap"]) {
    it(`serves the entries tapline dissect finds in ${name}`, async () => {
      const d = spawnSync(process.execPath, [`${root}packages/cli/dist/bin.js`, "dissect", fixtures + name, "--format", "jsonl", "-q"], { encoding: "utf8" });
      expect(d.status, d.stderr).toBe(0);
      const expected = d.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Json);
      expect(expected.length).toBeGreaterThan(0);

      const v = await serve(["view", fixtures + name, "--no-open", "--port", String(PORT)]);
      try {
        const { entries } = await getJson<{ entries: Json[] }>(`${v.url.replace("localhost", "127.0.0.1")}/api/entries?limit=1000`);
        const byTime = (a: Json, b: Json) => Number(a.timestampNs) - Number(b.timestampNs) || String(a.id).localeCompare(String(b.id));
        expect(entries.length).toBe(expected.length);
        expect(entries.sort(byTime).map(digest)).toEqual(expected.sort(byTime).map(digest));

        const map = await getJson<{ edges: Json[] }>(`${v.url}/api/servicemap`);
        expect(map.edges.reduce((n, e) => n + e.count, 0)).toBe(expected.length);

        // Export of the first entry's flow: a pcapng tshark reads, holding only that flow.
        const first = expected[0];
        const filter = `src.port == ${first.src.port} and dst.port == ${first.dst.port}`;
        const r = await fetch(`${v.url}/api/pcap?filter=${encodeURIComponent(filter)}`);
        expect(r.status).toBe(200);
        const file = join(tmp, `${name}.export.pcapng`);
        writeFileSync(file, Buffer.from(await r.arrayBuffer()));
        const ports = execFileSync("tshark", ["-r", file, "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport"], { encoding: "utf8" })
          .trim().split("\n").map((l) => l.split("\t").map(Number).sort((a, b) => a - b).join("-"));
        expect(ports.length).toBeGreaterThan(0);
        expect(new Set(ports)).toEqual(new Set([[first.src.port, first.dst.port].sort((a, b) => a - b).join("-")]));
      } finally {
        expect(await v.interrupt()).toBe(0);
      }
    });
  }

  it("refuses what is not a capture, with a clear error and exit 2", () => {
    const text = join(tmp, "notes.txt");
    writeFileSync(text, "this is not a capture\n".repeat(10));
    for (const f of [text, join(tmp, "missing.pcap")]) {
      const r = spawnSync(process.execPath, [`${root}packages/cli/dist/bin.js`, "view", f, "--no-open", "--port", String(PORT)], { encoding: "utf8", timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/tapline: .*(not a|cannot read|capture)/i);
    }
  });
});
