// Test and bench helper: the fixture pcaps' TCP streams, reassembled by tshark's
// "follow,tcp,raw" (segment by segment, both directions in capture order), and a small driver
// that feeds them to a session the way the flow driver does. Used until tests can go through
// the worker's own reader; tshark is needed for the oracle tests anyway.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Direction, defaultLimits, type DissectLimits, type Exchange, type DissectorSession, type SessionContext } from "../../types.js";

export const fixtureDir = dirname(fileURLToPath(import.meta.url));
/** Broker port of each fixture (librdkafka's mock cluster picks a free one), written by capture.sh. */
export const fixturePorts: Record<string, number> = JSON.parse(readFileSync(join(fixtureDir, "ports.json"), "utf8"));
export const fixtureNames = Object.keys(fixturePorts);

export interface Chunk {
  dir: Direction;
  data: Buffer;
}

export interface TcpStream {
  index: number;
  chunks: Chunk[];
}

function tshark(args: string[]): string {
  return execFileSync("tshark", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
}

/** Every TCP stream of a pcap, as tshark reassembles it. */
export function loadStreams(pcap: string): TcpStream[] {
  const ids = [...new Set(tshark(["-r", pcap, "-T", "fields", "-e", "tcp.stream"]).split("\n").filter(Boolean))];
  const out = tshark(["-r", pcap, "-q", ...ids.flatMap((i) => ["-z", `follow,tcp,raw,${i}`])]);
  const streams: TcpStream[] = [];
  let cur: TcpStream | null = null;
  for (const line of out.split("\n")) {
    const filter = /^Filter: tcp\.stream eq (\d+)/.exec(line);
    if (filter) streams.push((cur = { index: Number(filter[1]), chunks: [] }));
    else if (cur && /^\t?[0-9a-f]+$/.test(line)) {
      // tshark indents the second node's (the server's) data with a tab
      const dir = line.startsWith("\t") ? Direction.ServerToClient : Direction.ClientToServer;
      cur.chunks.push({ dir, data: Buffer.from(line.trim(), "hex") });
    }
  }
  return streams;
}

export interface DriveResult {
  exchanges: Exchange[];
  counters: Map<string, number>;
  /** Largest `need` the session asked for. */
  maxNeed: number;
  /** Feed results of kind "bad", with their reasons. */
  bad: string[];
}

/**
 * Feeds chunks to a fresh session like the flow driver: a buffer per direction, `need` waits,
 * `used` consumes, `bad` with skip 0 stops the direction, a `need` over the buffer cap drops it.
 */
export function drive(
  create: (ctx: SessionContext) => DissectorSession,
  chunks: Iterable<Chunk>,
  limits: DissectLimits = defaultLimits,
): DriveResult {
  const res: DriveResult = { exchanges: [], counters: new Map(), maxNeed: 0, bad: [] };
  const session = create({
    emit: (e) => res.exchanges.push(e),
    limits,
    count: (name, n = 1) => res.counters.set(name, (res.counters.get(name) ?? 0) + n),
  });
  const bufs: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
  const stopped = [false, false];
  let t = 1_000_000_000;
  for (const { dir, data } of chunks) {
    t += 1000;
    if (stopped[dir]) continue;
    bufs[dir] = bufs[dir]!.length === 0 ? data : Buffer.concat([bufs[dir]!, data]);
    for (;;) {
      const buf = bufs[dir]!;
      if (buf.length === 0) break;
      const f = session.feed(dir, buf, 0, t, t);
      if (f.kind === "used") {
        if (f.used <= 0 || f.used > buf.length) throw new Error(`bad used ${f.used}`);
        bufs[dir] = buf.subarray(f.used);
      } else if (f.kind === "need") {
        res.maxNeed = Math.max(res.maxNeed, f.atLeast);
        if (f.atLeast <= buf.length) throw new Error(`need ${f.atLeast} with ${buf.length} buffered`);
        if (f.atLeast > limits.maxBufferBytes) stopped[dir] = true;
        break;
      } else {
        res.bad.push(f.reason);
        if (f.skip === 0) {
          stopped[dir] = true;
          break;
        }
        bufs[dir] = buf.subarray(f.skip);
      }
    }
  }
  session.close("capture-end", t);
  return res;
}
