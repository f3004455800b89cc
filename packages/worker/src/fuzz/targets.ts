// Fuzz targets of the worker: every dissector (detect + session, driven the way src/flows drives
// it), the pcap reader (chunked vs whole), and the whole Pipeline (reader -> decode -> reassembly
// -> detection -> dissectors). Each target runs one input, reports what it did as features (the
// coverage proxy of fuzz/engine.ts) and throws on a crash or a broken contract of
// dissectors/types.ts. Used by the property tests (*.fuzz.test.ts) and the `pnpm fuzz` campaign.
import { Entry, Protocol, type EntryInit } from "@tapline/protocol";
import { shape, type FuzzTarget } from "../../../../fuzz/engine.js";
import { CaptureFormatError, PcapReader } from "../capture/index.js";
import { Pipeline } from "../flows/index.js";
import { defaultLimits, Direction, type CloseReason, type DissectLimits, type Dissector, type Exchange } from "../dissectors/types.js";

/** Thrown when a dissector breaks its written contract without throwing itself. */
export class ContractError extends Error {
  override name = "ContractError";
}

/** A target of fuzz/engine.ts (this folder is test-only: tsconfig.build.json leaves it out). */
export type ByteTarget = FuzzTarget;

// ---- the dissector input format ----
// byte 0: config. bits 0-2: close reason; bit 3: tight limits; bit 4: call expire() before close.
// then chunks: [h u8][len u16 BE][len bytes]. h bit 0: direction (1 = server to client);
// h bit 1: one second passes before this chunk. A short last chunk takes what is left.

const CLOSE_REASONS: readonly CloseReason[] = ["fin", "rst", "idle", "capture-end", "evicted"];

/** Limits small enough that fuzz inputs reach every cap. */
export const tightLimits: DissectLimits = {
  maxBodyBytes: 64,
  maxDecodedBytes: 256,
  maxBufferBytes: 2048,
  maxDetectBytes: 256,
  maxItems: 4,
  maxPending: 3,
};

export interface StreamChunk {
  direction: Direction;
  data: Buffer;
  /** Seconds passed before this chunk (only > 0 matters). */
  pause?: boolean;
}

/** The dissector input format for `chunks` (used to turn fixture flows into seeds). */
export function encodeChunks(chunks: readonly StreamChunk[], config = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([config])];
  for (const c of chunks) {
    for (let i = 0; i < c.data.length || i === 0; i += 0xffff) {
      const piece = c.data.subarray(i, i + 0xffff);
      const h = Buffer.from([(c.direction === Direction.ServerToClient ? 1 : 0) | (c.pause && i === 0 ? 2 : 0), piece.length >> 8, piece.length & 0xff]);
      parts.push(h, piece);
      if (!c.data.length) break;
    }
  }
  return Buffer.concat(parts);
}

export function decodeChunks(input: Buffer): { config: number; chunks: StreamChunk[] } {
  const chunks: StreamChunk[] = [];
  const config = input.length ? input[0] : 0;
  let off = 1;
  while (off < input.length) {
    const h = input[off];
    const len = off + 3 <= input.length ? input.readUInt16BE(off + 1) : 0;
    const start = Math.min(off + 3, input.length);
    const end = Math.min(start + len, input.length);
    chunks.push({ direction: h & 1 ? Direction.ServerToClient : Direction.ClientToServer, data: input.subarray(start, end), pause: (h & 2) !== 0 });
    off = end;
  }
  return { config, chunks };
}

/** Throws unless `entry` encodes as the protobuf Entry the hub receives (what the hub client does). */
function checkEncodes(entry: EntryInit, who: string): void {
  try {
    Entry.encode(entry).finish();
  } catch (err) {
    throw new ContractError(`${who}: emitted an entry protobuf cannot encode: ${(err as Error).message}`);
  }
}

const protocols = new Set<unknown>(Object.values(Protocol));

function checkExchange(d: Dissector, ex: Exchange): void {
  // A dissector may name a protocol above its own (http2 reports gRPC exchanges as GRPC).
  if (!protocols.has(ex.protocol)) throw new ContractError(`${d.name}: exchange protocol ${ex.protocol} is not a Protocol`);
  for (const k of ["requestStartNs", "responseEndNs", "requestSize", "responseSize"] as const) {
    const v = ex[k];
    if (!Number.isFinite(v) || v < 0) throw new ContractError(`${d.name}: exchange ${k} = ${v}`);
  }
  const { protocol, requestStartNs, responseEndNs, requestSize, responseSize, ...rest } = ex;
  checkEncodes(
    { id: "f-1", protocol, timestampNs: requestStartNs || responseEndNs, responseTimestampNs: responseEndNs, requestSize, responseSize, ...rest },
    d.name,
  );
}

/** The features of an exchange: status and which message fields are set; each warning on its own. */
function exchangeFeatures(ex: Exchange, features: Set<string>): void {
  let s = `e:${ex.status ?? "-"}`;
  for (const k of Object.keys(ex)) if (k.endsWith("Request") || k.endsWith("Response") || k === "grpc") s += `:${k}`;
  features.add(s);
  for (const w of ex.warnings ?? []) features.add(`w:${shape(w)}`);
}

export interface DriveOutcome {
  exchanges: Exchange[];
  counters: Map<string, number>;
  bad: number;
}

/**
 * Runs one dissector over a decoded input the way src/flows/pipeline.ts does: bytes accumulate per
 * direction, `used` consumes, `need` waits (and stops the direction past maxBufferBytes), `bad`
 * skips or stops it. Every contract of dissectors/types.ts is checked; a violation throws.
 */
export function driveDissector(d: Dissector, input: Buffer, features: Set<string> = new Set()): DriveOutcome {
  const { config, chunks } = decodeChunks(input);
  const limits = config & 8 ? tightLimits : defaultLimits;
  const out: DriveOutcome = { exchanges: [], counters: new Map(), bad: 0 };
  const session = d.createSession({
    limits,
    emit(ex) {
      checkExchange(d, ex);
      out.exchanges.push(ex);
      exchangeFeatures(ex, features);
    },
    count(counter, n = 1) {
      out.counters.set(counter, (out.counters.get(counter) ?? 0) + n);
      features.add(`c:${counter}`);
    },
  });
  const pending: [Buffer | null, Buffer | null] = [null, null];
  const stopped = [false, false];
  const detected = [false, false];
  const prev = ["-", "-"];
  let ts = 1_700_000_000e9;
  for (const c of chunks) {
    const dir = c.direction;
    ts += c.pause ? 1e9 : 1e3;
    if (!detected[dir] && c.data.length) {
      detected[dir] = true;
      const r = d.detect(c.data, dir);
      if (r !== "no" && r !== "more" && !(r && r.match === true && (r.senderRole === "client" || r.senderRole === "server"))) {
        throw new ContractError(`${d.name}: detect returned ${JSON.stringify(r)}`);
      }
      features.add(`d${dir}:${typeof r === "string" ? r : r.senderRole}`);
    }
    if (d.transport === "udp") {
      session.datagram?.(dir, c.data, ts);
      continue;
    }
    if (stopped[dir]) continue;
    const held = pending[dir];
    const buf = held ? Buffer.concat([held, c.data]) : c.data;
    let off = 0;
    for (let guard = 0; off < buf.length; guard++) {
      if (guard > buf.length + 16) throw new ContractError(`${d.name}: no progress after ${guard} feed calls`);
      const avail = buf.length - off;
      const r = session.feed(dir, buf, off, ts, ts);
      const k = r.kind;
      features.add(`${dir}${prev[dir]}>${k}`);
      prev[dir] = k;
      if (k === "used") {
        if (!(Number.isInteger(r.used) && r.used > 0 && r.used <= avail)) throw new ContractError(`${d.name}: used=${r.used} with ${avail} bytes available`);
        off += r.used;
      } else if (k === "need") {
        if (!(r.atLeast > avail)) throw new ContractError(`${d.name}: need atLeast=${r.atLeast} with ${avail} bytes already available`);
        features.add(`n${dir}:${Math.min(24, Math.floor(Math.log2(r.atLeast)))}`);
        if (r.atLeast > limits.maxBufferBytes) {
          // The driver drops the flow here; the fuzz driver stops this direction.
          features.add(`n${dir}:over-cap`);
          stopped[dir] = true;
        }
        break;
      } else if (k === "bad") {
        out.bad++;
        if (!(Number.isInteger(r.skip) && r.skip >= 0)) throw new ContractError(`${d.name}: bad with skip=${r.skip}`);
        features.add(`b:${shape(r.reason)}${r.skip === 0 ? ":stop" : ""}`);
        if (r.skip === 0) {
          stopped[dir] = true;
          break;
        }
        off = Math.min(buf.length, off + r.skip);
      } else throw new ContractError(`${d.name}: feed returned kind ${String(k)}`);
    }
    // What is left is copied, as the driver's DirBuffer does: the session must not rely on `buf`.
    pending[dir] = stopped[dir] || off >= buf.length ? null : Buffer.from(buf.subarray(off));
  }
  if (config & 16) session.expire?.(ts + 61e9, 60e9);
  session.close(CLOSE_REASONS[config & 7] ?? "fin", ts + 1e3);
  return out;
}

/** The target of one dissector (its detect, feed, expire and close). */
export function dissectorTarget(d: Dissector, dictionary: readonly string[] = []): ByteTarget {
  return {
    name: targetName(d),
    // Like libFuzzer's -max_len: small inputs keep the rate up; seeds are 8 KiB windows of real flows.
    maxLen: 16 * 1024,
    dictionary: dictionary.map((s) => Buffer.from(s, "latin1")),
    run(input, features) {
      driveDissector(d, input, features);
    },
  };
}

/** The corpus/target name: the dissector's name, with "-udp" for a datagram dissector (dns has both). */
export function targetName(d: Dissector): string {
  return d.transport === "udp" ? `${d.name}-udp` : d.name;
}

/** Tokens that open doors in each protocol's grammar (the mutator splices them in). */
export const dictionaries: Record<string, readonly string[]> = {
  http: [
    "\r\n", "\r\n\r\n", ": ", "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.0 ", "Content-Length: ", "Transfer-Encoding: chunked\r\n",
    "Content-Encoding: gzip\r\n", "Content-Encoding: br\r\n", "Content-Encoding: deflate\r\n", "Connection: close\r\n", "Connection: upgrade\r\n",
    "Upgrade: websocket\r\n", "HTTP/1.1 101 Switching Protocols\r\n", "HTTP/1.1 100 Continue\r\n", "Expect: 100-continue\r\n", "0\r\n\r\n",
    "ffffffff\r\n", ";ext=1", "HEAD ", "CONNECT ", "Content-Type: application/json\r\n", "Trailer: x\r\n", "-1", "99999999999",
  ],
  redis: ["*", "$", "+OK\r\n", "-ERR x\r\n", ":", "\r\n", "%", "~", ">", "|", "_\r\n", "#t\r\n", ",1.5\r\n", "(", "=", "!", "$-1\r\n", "*-1\r\n", "GET", "AUTH", "HELLO 3", "SUBSCRIBE", "MULTI", "EXEC", "-1", "2147483647"],
  kafka: ["\x00\x00\x00\x00", "\xff\xff\xff\xff", "\x7f\xff\xff\xff", "\x00\x12", "\x00\x03", "\x00\x00", "\x00\x01", "\x00\x0a", "\x00\x24", "\x00\x11", "\x00\x09", "\x00\x0c", "\x00\x00\x00\x01", "\x02", "\x01", "\x80\x80\x80\x80\x08"],
  http2: ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "\x00\x00\x00\x04\x00\x00\x00\x00\x00", "\x00\x00\x08\x06\x00\x00\x00\x00\x00", "\x01", "\x04", "\x00\x00\x00\x01", "\x82", "\x84", "\x86", "\x3f\xe1\x1f", "\x80", "\x00\x00\x05\x00\x01", "grpc-status", "application/grpc"],
  dns: ["\x00\x01", "\x00\x1c", "\xc0\x0c", "\x81\x80", "\x01\x00", "\x00\x00\x29", "\x3f"],
};

// ---- the pcap reader ----

interface SeenPacket {
  linktype: number;
  tsNs: number;
  len: number;
  hash: number;
}

function readAll(input: Buffer, sizes: readonly number[]): { packets: SeenPacket[]; stats: ReturnType<PcapReader["end"]> | string } {
  const packets: SeenPacket[] = [];
  const reader = new PcapReader((linktype, tsNs, data, origLen) => {
    if (!(origLen >= 0)) throw new ContractError(`pcap reader: origLen ${origLen}`);
    let h = 0;
    for (let i = 0; i < data.length; i += 7) h = (h * 31 + data[i]) | 0;
    packets.push({ linktype, tsNs, len: data.length, hash: h });
  });
  try {
    let k = 0;
    for (let off = 0; off < input.length; ) {
      const n = sizes[k++ % sizes.length];
      reader.push(input.subarray(off, off + n));
      off += n;
    }
    return { packets, stats: reader.end() };
  } catch (err) {
    if (err instanceof CaptureFormatError) return { packets, stats: `format: ${shape(err.message)}` };
    throw err;
  }
}

/** PcapReader: never throws (but CaptureFormatError), and cutting the input into chunks changes nothing. */
export const pcapReaderTarget: ByteTarget = {
  name: "pcap-reader",
  maxLen: 160 * 1024,
  dictionary: ["\xd4\xc3\xb2\xa1", "\x4d\x3c\xb2\xa1", "\x0a\x0d\x0d\x0a", "\x4d\x3c\x2b\x1a", "\x01\x00\x00\x00", "\x06\x00\x00\x00", "\x03\x00\x00\x00", "\x09\x01\x09", "\xff\xff\x00\x00"].map((s) => Buffer.from(s, "latin1")),
  run(input, features) {
    const whole = readAll(input, [input.length || 1]);
    // Chunk sizes from the input's length: deterministic per input, varied across inputs.
    const split = readAll(input, [1 + (input.length % 13), 7, 1 + (input.length % 257), 4096]);
    if (typeof whole.stats === "string") features.add(whole.stats);
    else {
      const s = whole.stats;
      features.add(`f:${s.format}:${s.truncated > 0}:${s.badRecords > 0}:${shape(s.stoppedReason)}`);
      for (const p of whole.packets.slice(0, 8)) features.add(`l:${p.linktype > 300 ? "other" : p.linktype}`);
    }
    const a = JSON.stringify(whole.packets);
    const b = JSON.stringify(split.packets);
    if (a !== b) throw new ContractError(`pcap reader: ${whole.packets.length} packets whole, ${split.packets.length} when chunked (or they differ)`);
  },
};

// ---- the whole pipeline ----

/** Reader -> Pipeline with every dissector; a dissector exception (counted as a bug) is a finding. */
export function pipelineTarget(dissectors: readonly Dissector[]): ByteTarget {
  return {
    name: "pipeline",
    maxLen: 160 * 1024,
    dictionary: ["\x02", "\x12", "\x11", "\x04", "\x18", "\x00\x00\x00\x00", "\xff\xff\xff\xff", "\x80\x00\x00\x00"].map((s) => Buffer.from(s, "latin1")),
    run(input, features) {
      // Limits from the input length: some inputs run with tight caps so every drop path is reached.
      const tight = input.length % 3 === 0;
      const entries: EntryInit[] = [];
      const pipeline = new Pipeline({
        workerId: "fuzz",
        dissectors,
        limits: tight ? tightLimits : undefined,
        flowLimits: tight ? { maxFlowBytes: 4096, maxTotalBytes: 16384, maxFlows: 3, gapTimeoutNs: 1e6, idleTimeoutNs: 1e9 } : undefined,
        onEntry(e) {
          checkEncodes(e, "pipeline");
          entries.push(e);
        },
      });
      const reader = new PcapReader((linktype, tsNs, data) => pipeline.pushPacket(linktype, tsNs, data));
      try {
        reader.push(input);
      } catch (err) {
        if (!(err instanceof CaptureFormatError)) throw err;
        features.add("not-a-capture");
        return;
      }
      pipeline.finish();
      const st = pipeline.getStats();
      for (const [name, d] of Object.entries(st.dissectors)) {
        if (d.bugs > 0) throw new ContractError(`pipeline: dissector ${name} threw: ${st.lastBug}`);
        for (const c of Object.keys(d.counters)) features.add(`c:${name}:${c}`);
      }
      if (tight && st.bytesHeldPeak > 16384) throw new ContractError(`pipeline: held ${st.bytesHeldPeak} bytes over the 16384 cap`);
      if (st.bytesHeld !== 0) throw new ContractError(`pipeline: ${st.bytesHeld} bytes still held after finish()`);
      for (const k of ["undecodable", "flowsDropped", "flowsEvicted", "flowsUndetected", "fragments", "fragmentsDropped", "retransmitted", "outOfOrder", "overlapBytes", "gaps"] as const) {
        if (st[k] > 0) features.add(`s:${k}:${tight}`);
      }
      for (const e of entries) {
        features.add(`e:${e.protocol}:${e.status}`);
        for (const w of e.warnings ?? []) features.add(`w:${e.protocol}:${shape(w)}`);
      }
    },
  };
}
