// Seed inputs of the worker's fuzz targets, from the real fixture pcaps: each dissector gets the
// reassembled streams of its own captures (in the chunk format of targets.ts, once with default and
// once with tight limits); the reader and the pipeline get the capture files themselves.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readFlows } from "../dissectors/__fixtures__/pcap-streams.js";
import { PcapReader } from "../capture/index.js";
import { decodeLink, decodeUdp, newPacketInfo } from "../decode/index.js";
import { Direction, type Dissector } from "../dissectors/types.js";
import { encodeChunks, type StreamChunk } from "./targets.js";

const src = fileURLToPath(new URL("../", import.meta.url));

/** Every fixture pcap/pcapng under src/ (skipping those over `maxBytes`). */
export function fixtureCaptures(maxBytes = 160 * 1024): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = dir + name;
      if (statSync(p).isDirectory()) walk(p + "/");
      else if (/\.pcap(ng)?$/.test(name) && statSync(p).size <= maxBytes) out.push(p);
    }
  };
  walk(src);
  return out;
}

/** The datagrams of a capture, grouped by UDP 4-tuple; the first sender of a pair is the client. */
function udpFlows(path: string): StreamChunk[][] {
  const flows = new Map<string, StreamChunk[]>();
  const p = newPacketInfo();
  const reader = new PcapReader((linktype, _ts, data) => {
    if (!decodeLink(linktype, data, p) || p.proto !== 17 || !decodeUdp(p)) return;
    const a = `${p.src4}${p.src6}:${p.srcPort}`;
    const b = `${p.dst4}${p.dst6}:${p.dstPort}`;
    const known = flows.get(`${b}>${a}`);
    const chunk = { direction: known ? Direction.ServerToClient : Direction.ClientToServer, data: Buffer.from(p.l4.subarray(p.payloadOff, p.payloadEnd)) };
    if (known) known.push(chunk);
    else flows.set(`${a}>${b}`, [...(flows.get(`${a}>${b}`) ?? []), chunk]);
  });
  reader.push(readFileSync(path));
  return [...flows.values()];
}

/** The streams (or datagrams) of the captures in dissectors/<name>/__fixtures__ (none when it has none). */
export function dissectorSeeds(d: Dissector): Buffer[] {
  const dir = `${src}dissectors/${d.name}/__fixtures__/`;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".pcap"));
  } catch {
    return [];
  }
  const seeds: Buffer[] = [];
  for (const f of files) {
    const flows = d.transport === "udp" ? udpFlows(dir + f) : readFlows(dir + f).map((flow) => flow.chunks);
    for (const chunks of flows) {
      // Windows of consecutive chunks up to SEED_BYTES: small inputs run fast, and the windows
      // that start mid-flow exercise a session that begins mid-stream (a capture started late).
      for (const w of windows(chunks)) {
        seeds.push(encodeChunks(w, 0));
        seeds.push(encodeChunks(w, 8 | 16 | 1));
      }
    }
  }
  return seeds;
}

/** Bytes of one dissector seed at most (the target's maxLen cuts longer ones anyway). */
export const SEED_BYTES = 8192;

function windows(chunks: StreamChunk[]): StreamChunk[][] {
  const out: StreamChunk[][] = [];
  let cur: StreamChunk[] = [];
  let bytes = 0;
  for (const c of chunks) {
    if (bytes + c.data.length > SEED_BYTES && cur.length) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c.data.length > SEED_BYTES ? { ...c, data: c.data.subarray(0, SEED_BYTES) } : c);
    bytes += Math.min(c.data.length, SEED_BYTES);
  }
  if (cur.length) out.push(cur);
  return out;
}

export function captureSeeds(): Buffer[] {
  return fixtureCaptures().map((p) => readFileSync(p));
}
