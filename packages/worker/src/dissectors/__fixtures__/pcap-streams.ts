// Test-only helpers shared by the dissector tests (in __fixtures__ so the build leaves them out): split a small loopback capture into TCP
// flows (classic pcap, Ethernet / null / raw / SLL / SLL2, IPv4/IPv6) and drive a
// DissectorSession over them the way the flow driver does (feed / need / used / bad).
// Loopback captures have no loss or reordering; this is not the worker's reassembler
// (src/tcp), only enough to replay fixture bytes into a dissector.
import { readFileSync } from "node:fs";
import type { CloseReason, Dissector, DissectLimits, DissectorSession, Exchange } from "../types.js";
import { defaultLimits, Direction } from "../types.js";

export interface Chunk {
  direction: Direction;
  data: Buffer;
  tsNs: number;
}

export interface Flow {
  client: string; // "ip:port"
  server: string;
  serverPort: number;
  chunks: Chunk[]; // payload in capture order
  end: CloseReason;
  endNs: number;
}

function linkOffset(linktype: number, pkt: Buffer): number {
  switch (linktype) {
    case 0: // BSD loopback: 4-byte family
      return 4;
    case 1: {
      let off = 14;
      let et = pkt.readUInt16BE(12);
      while (et === 0x8100 && pkt.length >= off + 4) {
        et = pkt.readUInt16BE(off + 2);
        off += 4;
      }
      return off;
    }
    case 101:
      return 0;
    case 113:
      return 16;
    case 276:
      return 20;
    default:
      throw new Error(`linktype ${linktype} not handled by the test helper`);
  }
}

/** Reads a classic pcap file into TCP flows, keyed by 4-tuple; the SYN sender is the client. */
export function readFlows(path: string): Flow[] {
  const f = readFileSync(path);
  const magic = f.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${path}: not a classic pcap`);
  const u32 = (o: number) => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  const linktype = u32(20) & 0xffff;
  const flows = new Map<string, Flow & { next: [number, number] }>();
  for (let off = 24; off + 16 <= f.length; ) {
    const tsNs = u32(off) * 1e9 + u32(off + 4) * (nano ? 1 : 1000);
    const incl = u32(off + 8);
    const pkt = f.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    let ip = linkOffset(linktype, pkt);
    const v = pkt[ip] >> 4;
    let src: string, dst: string, tcp: number, end: number;
    if (v === 4) {
      if (pkt[ip + 9] !== 6) continue;
      src = pkt.subarray(ip + 12, ip + 16).join(".");
      dst = pkt.subarray(ip + 16, ip + 20).join(".");
      end = ip + pkt.readUInt16BE(ip + 2);
      tcp = ip + (pkt[ip] & 15) * 4;
    } else if (v === 6) {
      if (pkt[ip + 6] !== 6) continue;
      src = `[${pkt.subarray(ip + 8, ip + 24).toString("hex")}]`;
      dst = `[${pkt.subarray(ip + 24, ip + 40).toString("hex")}]`;
      end = ip + 40 + pkt.readUInt16BE(ip + 4);
      tcp = ip + 40;
    } else continue;
    const sport = pkt.readUInt16BE(tcp);
    const dport = pkt.readUInt16BE(tcp + 2);
    const seq = pkt.readUInt32BE(tcp + 4);
    const flags = pkt[tcp + 13];
    const payload = pkt.subarray(tcp + (pkt[tcp + 12] >> 4) * 4, end);
    const a = `${src}:${sport}`;
    const b = `${dst}:${dport}`;
    let flow = flows.get(`${a}>${b}`) ?? flows.get(`${b}>${a}`);
    if (!flow) {
      // SYN without ACK: the sender is the client; otherwise guess the lower port is the server
      const clientIsA = (flags & 0x12) === 0x02 || sport > dport;
      flow = {
        client: clientIsA ? a : b,
        server: clientIsA ? b : a,
        serverPort: clientIsA ? dport : sport,
        chunks: [],
        end: "capture-end",
        endNs: tsNs,
        next: [-1, -1],
      };
      flows.set(`${flow.client}>${flow.server}`, flow);
    }
    const dir = a === flow.client ? Direction.ClientToServer : Direction.ServerToClient;
    flow.endNs = tsNs;
    if (flags & 0x04) flow.end = "rst";
    else if (flags & 0x01 && flow.end !== "rst") flow.end = "fin";
    if (flags & 0x02) {
      flow.next[dir] = (seq + 1) >>> 0;
      continue;
    }
    if (payload.length === 0) continue;
    if (flow.next[dir] < 0) flow.next[dir] = seq;
    // drop retransmitted bytes (loopback captures have no gaps)
    const dup = (flow.next[dir] - seq) | 0;
    if (dup >= payload.length) continue;
    const fresh = dup > 0 ? payload.subarray(dup) : payload;
    flow.chunks.push({ direction: dir, data: Buffer.from(fresh), tsNs });
    flow.next[dir] = (flow.next[dir] + fresh.length) >>> 0;
  }
  return [...flows.values()].map(({ next: _n, ...flow }) => flow);
}

/** Concatenated payload of one direction. */
export function streamBytes(flow: Flow, direction: Direction): Buffer {
  return Buffer.concat(flow.chunks.filter((c) => c.direction === direction).map((c) => c.data));
}

export interface DriveResult {
  exchanges: Exchange[];
  counters: Record<string, number>;
  bad: string[];
}

/**
 * Feeds chunks into a new session the way the flow driver does: bytes accumulate per direction,
 * `used` consumes, `need` waits for the next chunk, `bad` skips or stops the direction.
 * `split` optionally re-cuts each chunk (property tests), `close` ends the flow.
 */
export function drive(
  dissector: Dissector,
  chunks: Chunk[],
  opts: { limits?: Partial<DissectLimits>; close?: CloseReason; closeNs?: number } = {},
): DriveResult {
  const result: DriveResult = { exchanges: [], counters: {}, bad: [] };
  const session: DissectorSession = dissector.createSession({
    emit: (e) => result.exchanges.push(e),
    limits: { ...defaultLimits, ...opts.limits },
    count: (name, n = 1) => void (result.counters[name] = (result.counters[name] ?? 0) + n),
  });
  const pending: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
  const stopped = [false, false];
  for (const c of chunks) {
    const d = c.direction;
    if (stopped[d]) continue;
    let buf = pending[d].length ? Buffer.concat([pending[d], c.data]) : c.data;
    let off = 0;
    let guard = 0;
    while (off < buf.length && !stopped[d]) {
      if (++guard > 1e7) throw new Error("dissector made no progress");
      const r = session.feed(d, buf, off, c.tsNs, c.tsNs);
      if (r.kind === "need") {
        if (r.atLeast <= buf.length - off) throw new Error(`need ${r.atLeast} with ${buf.length - off} buffered`);
        break;
      }
      if (r.kind === "used") {
        if (r.used <= 0) throw new Error("used must be > 0");
        off += r.used;
      } else {
        result.bad.push(r.reason);
        if (r.skip === 0) stopped[d] = true;
        else off += r.skip;
      }
    }
    buf = buf.subarray(off);
    pending[d] = Buffer.from(buf);
  }
  session.close(opts.close ?? "fin", opts.closeNs ?? chunks.at(-1)?.tsNs ?? 0);
  return result;
}

/** Re-cuts chunks at the given sizes (cycled), keeping direction and time. */
export function rechunk(chunks: Chunk[], sizes: number[]): Chunk[] {
  const out: Chunk[] = [];
  let k = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.data.length; ) {
      const n = Math.max(1, sizes[k++ % sizes.length]);
      out.push({ direction: c.direction, data: c.data.subarray(i, i + n), tsNs: c.tsNs });
      i += n;
    }
  }
  return out;
}

/** Runs tshark over a capture and returns its JSON packets (the oracle). */
export async function tsharkJson(path: string, decodeAs?: string): Promise<any[]> {
  const { execFileSync } = await import("node:child_process");
  const args = ["-r", path, "-T", "json", "--no-duplicate-keys"];
  if (decodeAs) args.push("-d", decodeAs);
  return JSON.parse(execFileSync("tshark", args, { maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "ignore"] }).toString());
}

/** Every value of `key` anywhere under `node`, in document order (tshark JSON nests and repeats keys). */
export function findAll(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const n of node) findAll(n, key, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) Array.isArray(v) ? out.push(...v) : out.push(v);
      else findAll(v, key, out);
    }
  }
  return out;
}

export interface BenchWorkload {
  name: string;
  bytes: number;
  exchanges: number;
  totalBytes: number;
  totalNs: number;
  run(d: Dissector): void;
}

/** The flows' chunks repeated `times` into one session: a parser-only workload for *.bench.ts. */
export function benchWorkload(name: string, flows: Flow[], times: number): BenchWorkload {
  const chunks: Chunk[] = [];
  for (let i = 0; i < times; i++) for (const f of flows) chunks.push(...f.chunks);
  const bytes = chunks.reduce((a, c) => a + c.data.length, 0);
  const w: BenchWorkload = {
    name: `${name}: ${(bytes / 1e6).toFixed(1)} MB per run`,
    bytes,
    exchanges: 0,
    totalBytes: 0,
    totalNs: 0,
    run(d) {
      const t0 = process.hrtime.bigint();
      const r = drive(d, chunks, { close: "capture-end" });
      w.totalNs += Number(process.hrtime.bigint() - t0);
      w.totalBytes += bytes;
      w.exchanges = r.exchanges.length;
      if (r.bad.length) throw new Error(`bench input not clean: ${r.bad[0]}`);
    },
  };
  return w;
}

export function reportThroughput(label: string, workloads: BenchWorkload[]): void {
  for (const w of workloads) {
    if (!w.totalNs) continue;
    const mbps = w.totalBytes / 1e6 / (w.totalNs / 1e9);
    const eps = (w.exchanges * (w.totalBytes / w.bytes)) / (w.totalNs / 1e9);
    console.log(`${label} | ${w.name} | ${mbps.toFixed(0)} MB/s | ${(eps / 1e3).toFixed(0)}k exchanges/s`);
  }
}

/** Warms up, then runs `fn` until `ms` have passed (bounded, at most 10k runs). */
export function timeRuns(w: BenchWorkload, fn: () => void, ms: number): void {
  for (let i = 0; i < 3; i++) fn();
  w.totalBytes = 0;
  w.totalNs = 0;
  const end = Date.now() + ms;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) fn();
}
