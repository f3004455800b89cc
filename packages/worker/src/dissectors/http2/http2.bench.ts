// Throughput of the HTTP/2 dissector vs tshark on the same traffic, in one run:
//   pnpm -C packages/worker exec vitest run --config src/dissectors/__fixtures__/bench.config.ts http2
// (HTTP2_BENCH_MB=N sizes the pcap; figures are printed, nothing is asserted)
// The pcap is made by bench/dissect/gen-pcap.mjs from this folder's fixtures (curl, node http2
// client, grpc-js), each flow replicated with its own client address. Three figures:
//   parser   Http2Session alone over every fixture connection's reassembled bytes, repeated (payload MB/s)
//   pipeline the worker's whole path (pcap reader, TCP reassembly, detection, this dissector)
//   tshark   `tshark -r FILE -d tcp.port==N,http2 -T fields -e http2.streamid` on the same file
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "vitest";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { readFlows, streamBytes } from "../__fixtures__/pcap-streams.js";
import { defaultLimits, Direction } from "../types.js";
import { http2Dissector } from "./index.js";

const MB = Number(process.env.HTTP2_BENCH_MB ?? 40);
const fixture = (name: string) => new URL(`./__fixtures__/${name}.pcap`, import.meta.url).pathname;
const genPcap = fileURLToPath(new URL("../../../../../bench/dissect/gen-pcap.mjs", import.meta.url));

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

test("http2 parser", () => {
  // HPACK state is per connection, so each fixture connection gets a fresh session; its client
  // bytes are fed whole, then its server bytes (streams pair by id, so the order within a
  // direction is what matters)
  const conns = ["h2c", "h2-streams", "grpc"].flatMap((n) => readFlows(fixture(n))).map((f) => [streamBytes(f, Direction.ClientToServer), streamBytes(f, Direction.ServerToClient)] as const);
  const bytes = conns.reduce((n, [c, s]) => n + c.length + s.length, 0);
  let exchanges = 0;
  const ctx = { emit: () => void exchanges++, limits: defaultLimits, count: () => {} };
  const once = () => {
    for (const [c, s] of conns) {
      const session = http2Dissector.createSession(ctx);
      for (const [d, buf] of [[Direction.ClientToServer, c], [Direction.ServerToClient, s]] as const) {
        for (let off = 0; off < buf.length; ) {
          const f = session.feed(d, buf, off, 0, 0);
          if (f.kind !== "used") throw new Error(`bench input not clean: ${JSON.stringify(f)}`);
          off += f.used;
        }
      }
      session.close("capture-end", 0);
    }
  };
  for (let i = 0; i < 20; i++) once(); // warm-up
  exchanges = 0;
  let runs = 0;
  const ms = timeMs(() => {
    for (const end = Date.now() + 3000; Date.now() < end && runs < 100_000; runs++) once();
  });
  console.log(`http2 parser: ${conns.length} fixture connections, ${(bytes / 1e3).toFixed(0)} kB payload x${runs}: ${((bytes * runs) / 1e6 / (ms / 1000)).toFixed(0)} MB/s, ${((exchanges / ms) * 1000 / 1e3).toFixed(1)}k exchanges/s`);
});

test("http2 pipeline vs tshark", () => {
  const dir = mkdtempSync(join(tmpdir(), "http2-bench-"));
  try {
    const file = join(dir, "h2.pcap");
    const gen = JSON.parse(execFileSync("node", [genPcap, file, String(MB), "http2"], { encoding: "utf8" })) as { bytes: number; flows: number; serverPorts: { http2: number[] } };
    const frames = readFrames(file);
    let entries = 0;
    runPipeline(frames.slice(0, 2000), [http2Dissector]); // warm-up
    const pipelineMs = timeMs(() => (entries = runPipeline(frames, [http2Dissector]).entries.length));
    let out = "";
    const decodeAs = gen.serverPorts.http2.flatMap((p) => ["-d", `tcp.port==${p},http2`]);
    const tsharkMs = timeMs(() => {
      out = execFileSync("tshark", ["-r", file, ...decodeAs, "-Y", "http2.type == 1", "-T", "fields", "-e", "http2.streamid"], { encoding: "utf8", maxBuffer: 512 << 20, stdio: ["ignore", "pipe", "ignore"] });
    });
    const mbs = (ms: number) => (gen.bytes / 1e6 / (ms / 1000)).toFixed(1);
    console.log(
      [
        `http2 pcap ${(gen.bytes / 1e6).toFixed(1)} MB, ${gen.flows} connections`,
        `  pipeline ${pipelineMs.toFixed(0)} ms  ${mbs(pipelineMs)} MB/s  ${entries} entries`,
        `  tshark   ${tsharkMs.toFixed(0)} ms  ${mbs(tsharkMs)} MB/s  ${out.split("\n").filter(Boolean).length} packets with HEADERS`,
        `  ratio    pipeline ${(tsharkMs / pipelineMs).toFixed(1)}x tshark`,
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
