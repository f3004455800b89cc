// Test-only helpers for the flow driver: a tiny line protocol dissector ("PING n" / "PONG n",
// spoken by servers.mjs in ../../capture/__fixtures__), frame crafting, and a segment shuffler
// that rewrites a real capture's TCP payload packets (reorder, duplicate, overlap, re-split).
import { readFileSync } from "node:fs";
import { EntryStatus, Protocol, type EntryInit } from "@tapline/protocol";
import { PcapReader } from "../../capture/index.js";
import { decodeLink, decodeTcp, newPacketInfo } from "../../decode/index.js";
import { Direction, type Dissector, type DissectorName, type DissectorSession, type SessionContext } from "../../dissectors/types.js";
import { Pipeline, type FlowLimits } from "../index.js";

export interface Frame {
  linktype: number;
  tsNs: number;
  data: Buffer;
}

export function readFrames(path: string): Frame[] {
  const frames: Frame[] = [];
  const r = new PcapReader((linktype, tsNs, data) => frames.push({ linktype, tsNs, data: Buffer.from(data) }));
  r.push(readFileSync(path));
  r.end();
  return frames;
}

/** A line protocol: requests "PING <arg>\n", replies "PONG <arg>\n", paired in order. */
export function lineDissector(ports: number[] = [7070]): Dissector {
  return {
    name: "line" as DissectorName,
    protocol: Protocol.HTTP,
    transport: "tcp",
    defaultPorts: ports,
    detect(data) {
      const head = data.toString("latin1", 0, Math.min(5, data.length));
      if (data.length < 5) return "PING ".startsWith(head) || "PONG ".startsWith(head) ? "more" : "no";
      if (head === "PING ") return { match: true, senderRole: "client" };
      if (head === "PONG ") return { match: true, senderRole: "server" };
      return "no";
    },
    createSession(ctx: SessionContext): DissectorSession {
      const pending: { arg: string; startNs: number; size: number }[] = [];
      return {
        feed(direction, data, offset, firstNs, lastNs) {
          const nl = data.indexOf(10, offset);
          if (nl < 0) return { kind: "need", atLeast: data.length - offset + 1 };
          const line = data.toString("latin1", offset, nl);
          const used = nl + 1 - offset;
          const m = /^(PING|PONG) (.*)$/.exec(line);
          if (!m) return { kind: "bad", reason: "not a PING/PONG line", skip: used };
          if (direction === Direction.ClientToServer) pending.push({ arg: m[2], startNs: firstNs, size: used });
          else {
            const req = pending.shift();
            ctx.emit({
              protocol: Protocol.HTTP,
              httpRequest: req ? { method: "PING", path: req.arg } : undefined,
              httpResponse: { status: 200, reason: m[2] },
              requestStartNs: req?.startNs ?? 0,
              responseEndNs: lastNs,
              requestSize: req?.size ?? 0,
              responseSize: used,
            });
          }
          return { kind: "used", used };
        },
        close(reason) {
          const status = reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
          for (const req of pending.splice(0)) {
            ctx.emit({
              protocol: Protocol.HTTP,
              httpRequest: { method: "PING", path: req.arg },
              status,
              requestStartNs: req.startNs,
              responseEndNs: 0,
              requestSize: req.size,
              responseSize: 0,
            });
          }
        },
      };
    },
  };
}

export function runPipeline(frames: Iterable<Frame>, dissectors: Dissector[], flowLimits?: Partial<FlowLimits>) {
  const entries: EntryInit[] = [];
  const p = new Pipeline({ workerId: "t", dissectors, flowLimits, onEntry: (e) => entries.push(e) });
  for (const f of frames) p.pushPacket(f.linktype, f.tsNs, f.data);
  p.finish();
  return { entries, stats: p.getStats(), pipeline: p };
}

/** Entry fields that do not depend on packet timing or numbering. */
export function essence(e: EntryInit) {
  return {
    protocol: e.protocol,
    status: e.status,
    src: `${e.src?.ip}:${e.src?.port}`,
    dst: `${e.dst?.ip}:${e.dst?.port}`,
    req: e.httpRequest?.path,
    res: e.httpResponse?.reason,
    sizes: [e.requestSize, e.responseSize],
    warnings: e.warnings,
  };
}

// ---- frame crafting (Ethernet + IPv4 + TCP) ----

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: Buffer;
}

function ip4(s: string): Buffer {
  return Buffer.from(s.split(".").map(Number));
}

export function tcpFrame(t: TcpSpec): Buffer {
  const payload = t.payload ?? Buffer.alloc(0);
  const f = Buffer.alloc(14 + 20 + 20 + payload.length);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40 + payload.length, 16);
  f[22] = 64;
  f[23] = 6;
  ip4(t.src).copy(f, 26);
  ip4(t.dst).copy(f, 30);
  f.writeUInt16BE(t.sport, 34);
  f.writeUInt16BE(t.dport, 36);
  f.writeUInt32BE(t.seq >>> 0, 38);
  f.writeUInt32BE((t.ack ?? 0) >>> 0, 42);
  f[46] = 0x50;
  f[47] = t.flags;
  f.writeUInt16BE(65535, 48);
  payload.copy(f, 54);
  return f;
}

/** Copy of an Ethernet/IPv4/TCP frame carrying payload[from, to) of the original, with seq moved accordingly. */
export function subSegment(frame: Buffer, from: number, to: number): Buffer {
  const p = newPacketInfo();
  if (!decodeLink(1, frame, p) || !decodeTcp(p)) throw new Error("not an Ethernet/IPv4/TCP frame");
  const hdrEnd = p.payloadOff;
  const out = Buffer.alloc(hdrEnd + (to - from));
  frame.copy(out, 0, 0, hdrEnd);
  frame.copy(out, hdrEnd, hdrEnd + from, hdrEnd + to);
  out.writeUInt16BE(hdrEnd - 14 + (to - from), 16);
  out.writeUInt32BE((p.seq + from) >>> 0, 38);
  if (to < p.payloadEnd - p.payloadOff) out[47] &= ~0x01; // only the last piece keeps a FIN
  return out;
}

export function payloadOf(frame: Buffer): Buffer {
  const p = newPacketInfo();
  if (!decodeLink(1, frame, p) || !decodeTcp(p)) return Buffer.alloc(0);
  return p.l4.subarray(p.payloadOff, p.payloadEnd);
}

export function payloadLength(frame: Buffer): number {
  return payloadOf(frame).length;
}

export interface ShuffleOps {
  rand: () => number;
  /** Probability to split a payload packet into pieces. */
  split: number;
  /** Probability to add an overlapping piece (a retransmission spanning part of a neighbour). */
  overlap: number;
  duplicate: number;
  /** Window within which payload packets are reordered. */
  window: number;
}

/**
 * Rewrites the payload packets of a capture: re-split at random points, duplicated, with
 * overlapping retransmissions, reordered within a window of one direction's consecutive
 * packets. Control packets (SYN, FIN, RST, pure ACK) keep their place, so reordering stays
 * inside a connection's data phase.
 * Timestamps are kept from the original packet.
 */
export function shuffle(frames: Frame[], o: ShuffleOps): Frame[] {
  const out: Frame[] = [];
  let run: Frame[] = [];
  const flush = () => {
    for (let i = 0; i < run.length; i++) {
      const j = Math.min(run.length - 1, i + Math.floor(o.rand() * o.window));
      [run[i], run[j]] = [run[j], run[i]];
    }
    out.push(...run);
    run = [];
  };
  let runPort = -1;
  for (const f of frames) {
    const len = payloadLength(f.data);
    const control = len === 0 || (f.data[47] & 0x07) !== 0;
    // Reordering stays within one direction: a reply never overtakes its request.
    const sport = f.data.readUInt16BE(34);
    if (sport !== runPort) flush();
    runPort = sport;
    if (control) {
      flush();
      out.push(f);
      continue;
    }
    let cuts = [0, len];
    if (o.rand() < o.split && len > 1) {
      const c = 1 + Math.floor(o.rand() * (len - 1));
      cuts = [0, c, len];
    }
    for (let i = 0; i + 1 < cuts.length; i++) run.push({ ...f, data: subSegment(f.data, cuts[i], cuts[i + 1]) });
    if (o.rand() < o.overlap && len > 2) {
      const a = Math.floor(o.rand() * (len - 1));
      const b = a + 1 + Math.floor(o.rand() * (len - a - 1));
      run.push({ ...f, data: subSegment(f.data, a, b) });
    }
    if (o.rand() < o.duplicate) run.push(f);
  }
  flush();
  return out;
}
