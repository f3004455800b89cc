// Throughput of the Kafka dissector vs tshark on the same traffic, in one run:
//   pnpm -C packages/worker exec vitest run -c src/dissectors/kafka/vitest.bench.config.ts
// (KAFKA_BENCH_REPEAT=N scales the input; the figures are printed, nothing is asserted)
// The fixture captures are small, so both are measured on a larger pcap made by repeating each
// fixture R times with a fresh client port per repetition (distinct flows; checksums are not
// recomputed, which tshark does not check by default). Parser MB/s counts TCP payload bytes;
// the ratio compares wall time for the same traffic.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "vitest";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { defaultLimits, Direction } from "../types.js";
import { kafkaDissector } from "./index.js";
import { fixtureDir, fixtureNames, fixturePorts, loadStreams } from "./__fixtures__/streams.js";

const REPEAT = Number(process.env.KAFKA_BENCH_REPEAT ?? 400);

/** Classic pcap (Ethernet, IPv4, as tcpdump -i lo writes) repeated with the client port rewritten. */
function repeatPcap(file: string, brokerPort: number, times: number, firstPort: number): Buffer {
  const f = readFileSync(file);
  if (f.readUInt32LE(0) !== 0xa1b2c3d4 || f.readUInt32LE(20) !== 1) throw new Error(`${file}: expected microsecond pcap, Ethernet`);
  const parts: Buffer[] = [f.subarray(0, 24)];
  const clientPorts = new Map<number, number>();
  for (let k = 0; k < times; k++) {
    for (let off = 24; off + 16 <= f.length; ) {
      const len = f.readUInt32LE(off + 8);
      const rec = Buffer.from(f.subarray(off, off + 16 + len));
      rec.writeUInt32LE(rec.readUInt32LE(0) + k, 0); // one second later per repetition
      const ip = 16 + 14;
      const tcp = ip + (rec[ip]! & 0x0f) * 4;
      for (const at of [tcp, tcp + 2]) {
        const port = rec.readUInt16BE(at);
        if (port === brokerPort) continue;
        if (!clientPorts.has(port)) clientPorts.set(port, clientPorts.size);
        rec.writeUInt16BE(firstPort + ((k * 16 + clientPorts.get(port)!) % 50000), at);
      }
      parts.push(rec);
      off += 16 + len;
    }
  }
  return Buffer.concat(parts);
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

it("kafka dissector vs tshark throughput", () => {
  const dir = mkdtempSync(join(tmpdir(), "kafka-bench-"));
  const lines: string[] = [];
  try {
    for (const name of fixtureNames) {
      const port = fixturePorts[name]!;
      const big = join(dir, name);
      writeFileSync(big, repeatPcap(join(fixtureDir, name), port, REPEAT, 10000));
      const pcapBytes = statSync(big).size;

      // the parser alone: each stream's directions fed whole, a fresh session per repetition
      const streams = loadStreams(join(fixtureDir, name)).map((s) =>
        [Direction.ClientToServer, Direction.ServerToClient].map((d) => Buffer.concat(s.chunks.filter((c) => c.dir === d).map((c) => c.data))),
      );
      const payload = streams.reduce((n, [c, s]) => n + c!.length + s!.length, 0) * REPEAT;
      let exchanges = 0;
      const ctx = { emit: () => void exchanges++, limits: defaultLimits, count: () => {} };
      const parse = () => {
        for (let k = 0; k < REPEAT; k++) {
          for (const [c, s] of streams) {
            const session = kafkaDissector.createSession(ctx);
            for (const [d, buf] of [[Direction.ClientToServer, c!], [Direction.ServerToClient, s!]] as const) {
              for (let off = 0; off < buf.length; ) {
                const f = session.feed(d, buf, off, 0, 0);
                if (f.kind !== "used") break;
                off += f.used;
              }
            }
            session.close("capture-end", 0);
          }
        }
      };
      parse(); // warm-up
      exchanges = 0;
      const parserMs = timeMs(parse);

      // the worker's whole path: pcap reader, TCP reassembly, detection, this dissector
      const frames = readFrames(big);
      let entries = 0;
      const pipelineMs = timeMs(() => (entries = runPipeline(frames, [kafkaDissector]).entries.length));

      let tsharkOut = "";
      const tsharkMs = timeMs(() => {
        tsharkOut = execFileSync("tshark", ["-r", big, "-d", `tcp.port==${port},kafka`, "-T", "fields", "-e", "kafka.api_key", "-e", "kafka.correlation_id", "-Y", "kafka"], {
          encoding: "utf8",
          maxBuffer: 512 * 1024 * 1024,
          stdio: ["ignore", "pipe", "ignore"],
        });
      });
      const tsharkPdus = tsharkOut.split("\n").filter(Boolean).length;
      const mbs = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);
      lines.push(
        `${name} x${REPEAT}: pcap ${(pcapBytes / 1e6).toFixed(1)} MB, payload ${(payload / 1e6).toFixed(1)} MB`,
        `  parser   ${parserMs.toFixed(0)} ms  ${mbs(payload, parserMs)} MB/s payload  ${exchanges} exchanges`,
        `  pipeline ${pipelineMs.toFixed(0)} ms  ${mbs(pcapBytes, pipelineMs)} MB/s pcap  ${entries} entries`,
        `  tshark   ${tsharkMs.toFixed(0)} ms  ${mbs(pcapBytes, tsharkMs)} MB/s pcap  ${tsharkPdus} kafka frames`,
        `  ratio    parser ${(tsharkMs / parserMs).toFixed(1)}x tshark, pipeline ${(tsharkMs / pipelineMs).toFixed(1)}x tshark`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(lines.join("\n"));
}, 300_000);
