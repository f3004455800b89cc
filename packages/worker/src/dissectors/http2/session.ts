// One HTTP/2 connection (RFC 9113): frames in each direction (grammar in frames.ts), header
// blocks through HPACK (hpack.ts), streams interleaved and paired by stream id; gRPC on top
// (grpc.ts). A request is HEADERS (+CONTINUATION) [+DATA] [+trailers] until END_STREAM; the
// response likewise; the exchange is emitted when the response ends or the stream is reset.
import { EntryStatus, Protocol } from "@tapline/protocol/enums";
import type { BodyInit, GrpcInfoInit, HeaderInit, HttpRequestInit, HttpResponseInit } from "@tapline/protocol";
import { BodyCollector, bodyCap } from "../http/body.js";
import { Direction, type CloseReason, type DissectorSession, type Exchange, type Feed, type SessionContext } from "../types.js";
import { errorCodeName, Flag, FRAME_HEADER, FrameType, PREFACE, prefaceMatch, Setting } from "./frames.js";
import { GrpcMessageReader, percentDecode, splitGrpcPath } from "./grpc.js";
import { HpackDecoder, type HeaderField } from "./hpack.js";

export const HPACK_UNKNOWN = "hpack state unknown (capture started mid-connection)";

interface Half {
  headers: HeaderField[] | null;
  /** A body read elsewhere (the HTTP/1.1 upgrade request's), used as it is. */
  preset?: BodyInit;
  trailers: HeaderField[] | null;
  informational: number[];
  body: BodyCollector;
  grpc: GrpcMessageReader | null;
  ended: boolean;
  size: number;
}

class H2Stream {
  startNs = 0;
  endNs = 0;
  pushed = false;
  warnings: string[] = [];
  readonly req: Half;
  readonly res: Half;
  constructor(
    readonly id: number,
    cap: number,
  ) {
    this.req = half(cap);
    this.res = half(cap);
  }
}

function half(cap: number): Half {
  const body = new BodyCollector();
  body.reset(cap);
  return { headers: null, trailers: null, informational: [], body, grpc: null, ended: false, size: 0 };
}

/** One direction's framing state. */
interface Side {
  /** Set once the first bytes were looked at (preface or not). */
  started: boolean;
  hpack: HpackDecoder;
  /** A header block waiting for CONTINUATION frames. */
  block: Buffer[] | null;
  blockLen: number;
  blockStream: number;
  blockEndStream: boolean;
  /** For PUSH_PROMISE: the promised stream (0 for HEADERS). */
  blockPromised: number;
  blockNs: number;
  /** A DATA frame being streamed: its stream, data and padding bytes still to come. */
  dataStream: number;
  dataLeft: number;
  padLeft: number;
  dataEndStream: boolean;
  /** Bytes of an oversize frame still to skip. */
  skipLeft: number;
}

function side(): Side {
  return {
    started: false,
    hpack: new HpackDecoder(false),
    block: null,
    blockLen: 0,
    blockStream: 0,
    blockEndStream: false,
    blockPromised: 0,
    blockNs: 0,
    dataStream: 0,
    dataLeft: 0,
    padLeft: 0,
    dataEndStream: false,
    skipLeft: 0,
  };
}

export class Http2Session implements DissectorSession {
  private readonly streams = new Map<number, H2Stream>();
  private readonly sides: [Side, Side] = [side(), side()];
  private goaway = "";
  /** Highest stream id opened so far, per parity (0: even, server push; 1: odd, client). */
  private readonly maxSid = [0, 0];

  constructor(private readonly ctx: SessionContext) {}

  /**
   * RFC 7540 §3.2 (h2c upgrade): the HTTP/1.1 request that asked for `Upgrade: h2c` is stream 1,
   * half-closed by the client; the server answers it in HTTP/2 after its 101. Both sides start
   * fresh after the 101 (client preface, server SETTINGS), so HPACK state is known.
   */
  adoptUpgrade(req: HttpRequestInit, startNs: number, size: number, informational: number[], warnings: string[]): void {
    const st = new H2Stream(1, bodyCap(this.ctx.limits));
    st.startNs = startNs;
    const hop = new Set(["connection", "upgrade", "http2-settings", "host", "keep-alive", "transfer-encoding"]);
    st.req.headers = [
      { name: ":method", value: req.method ?? "" },
      { name: ":path", value: req.path ?? "" },
      { name: ":scheme", value: "http" },
      { name: ":authority", value: req.host ?? "" },
      ...(req.headers ?? []).filter((h) => !hop.has((h.name ?? "").toLowerCase())).map((h) => ({ name: (h.name ?? "").toLowerCase(), value: h.value ?? "" })),
    ];
    if (req.body) st.req.preset = req.body;
    st.req.ended = true;
    st.req.size = size;
    st.res.informational.push(...informational);
    st.warnings.push("upgraded from HTTP/1.1 (h2c): this request was sent as HTTP/1.1", ...warnings);
    this.streams.set(1, st);
    this.maxSid[1] = 1;
  }

  feed(direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    const s = this.sides[direction];
    const avail = data.length - offset;
    if (s.skipLeft > 0) {
      const n = Math.min(s.skipLeft, avail);
      s.skipLeft -= n;
      return { kind: "used", used: n };
    }
    if (s.dataLeft > 0 || s.padLeft > 0) return this.streamData(direction, s, data, offset, lastNs);
    if (!s.started) {
      if (direction === Direction.ClientToServer) {
        const m = prefaceMatch(data, offset);
        if (m >= 0 && m < PREFACE.length) return { kind: "need", atLeast: PREFACE.length };
        s.started = true;
        // §3.4: a connection seen from its preface has an empty table on both sides
        if (m === PREFACE.length) {
          s.hpack.known = true;
          return { kind: "used", used: PREFACE.length };
        }
      } else {
        if (avail < FRAME_HEADER) return { kind: "need", atLeast: FRAME_HEADER };
        s.started = true;
        // §3.4: the server preface is a SETTINGS frame; seen first, the server's encoder is fresh
        s.hpack.known = data[offset + 3] === FrameType.SETTINGS && (data[offset + 4]! & Flag.ACK) === 0;
      }
    }
    if (avail < FRAME_HEADER) return { kind: "need", atLeast: FRAME_HEADER };
    const len = data.readUIntBE(offset, 3);
    const type = data[offset + 3]!;
    const flags = data[offset + 4]!;
    const sid = data.readUInt32BE(offset + 5) & 0x7fffffff;
    if (s.block && type !== FrameType.CONTINUATION) {
      // §6.10: nothing may come between a header block's frames
      this.ctx.count("protocol_error");
      this.lostBlock(direction, s, "header block interrupted before END_HEADERS");
    }
    if (type === FrameType.DATA) return this.dataHeader(direction, s, data, offset, len, flags, sid, avail, lastNs);
    const total = FRAME_HEADER + len;
    if (total > this.ctx.limits.maxBufferBytes) {
      this.ctx.count("oversize_frame");
      if (type === FrameType.HEADERS || type === FrameType.CONTINUATION || type === FrameType.PUSH_PROMISE) {
        this.lostBlock(direction, s, `header frame of ${len} bytes over the buffer cap`);
        if (type === FrameType.HEADERS) this.stream(sid, firstNs, direction)?.warnings.push("header block over the buffer cap: not decoded");
      }
      const n = Math.min(total, avail);
      s.skipLeft = total - n;
      return { kind: "used", used: n };
    }
    if (avail < total) return { kind: "need", atLeast: total };
    const p = offset + FRAME_HEADER;
    const end = p + len;
    switch (type) {
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE: {
        let q = p;
        let padLen = 0;
        if (flags & Flag.PADDED) {
          if (len < 1) return this.frameError(s, total, avail, "HEADERS padding without a length");
          padLen = data[q++]!;
        }
        let promised = 0;
        if (type === FrameType.PUSH_PROMISE) {
          if (q + 4 > end) return this.frameError(s, total, avail, "PUSH_PROMISE too short");
          promised = data.readUInt32BE(q) & 0x7fffffff;
          q += 4;
        } else if (flags & Flag.PRIORITY) q += 5;
        if (q + padLen > end || sid === 0) {
          this.lostBlock(direction, s, "malformed header frame");
          return this.frameError(s, total, avail, "HEADERS frame with bad padding or stream 0");
        }
        const st = this.stream(type === FrameType.PUSH_PROMISE ? promised : sid, firstNs, direction);
        if (st) {
          if (direction === Direction.ClientToServer || type === FrameType.PUSH_PROMISE) st.req.size += total;
          else st.res.size += total;
        }
        s.blockStream = sid;
        s.blockEndStream = type === FrameType.HEADERS && (flags & Flag.END_STREAM) !== 0;
        s.blockPromised = promised;
        s.blockNs = direction === Direction.ClientToServer ? firstNs : lastNs;
        if (flags & Flag.END_HEADERS) this.headerBlock(direction, s, data, q, end - padLen, lastNs);
        else this.startBlock(s, data, q, end - padLen);
        break;
      }
      case FrameType.CONTINUATION: {
        if (!s.block || sid !== s.blockStream) {
          this.ctx.count("protocol_error");
          this.lostBlock(direction, s, "CONTINUATION without a header block");
          break;
        }
        if (s.blockLen + len > this.ctx.limits.maxBufferBytes) {
          this.lostBlock(direction, s, "header block over the buffer cap");
          break;
        }
        const st = this.streams.get(s.blockPromised || sid);
        if (st) {
          if (direction === Direction.ClientToServer || s.blockPromised) st.req.size += total;
          else st.res.size += total;
        }
        s.block.push(Buffer.from(data.subarray(p, end)));
        s.blockLen += len;
        if (flags & Flag.END_HEADERS) {
          const block = Buffer.concat(s.block);
          s.block = null;
          this.headerBlock(direction, s, block, 0, block.length, lastNs);
        }
        break;
      }
      case FrameType.RST_STREAM: {
        const st = this.streams.get(sid);
        if (st && len >= 4) {
          st.warnings.push(`RST_STREAM ${errorCodeName(data.readUInt32BE(p))} from the ${direction === Direction.ClientToServer ? "client" : "server"}`);
          st.endNs = lastNs;
          this.finish(st, EntryStatus.CONNECTION_RESET);
        }
        break;
      }
      case FrameType.SETTINGS:
        if (!(flags & Flag.ACK)) {
          for (let q = p; q + 6 <= end; q += 6) {
            // §6.5.2: the sender's limit applies to the header blocks its peer encodes
            if (data.readUInt16BE(q) === Setting.HEADER_TABLE_SIZE) this.sides[1 - direction]!.hpack.settingsMax = data.readUInt32BE(q + 2);
          }
        }
        break;
      case FrameType.GOAWAY:
        if (len >= 8) {
          const code = data.readUInt32BE(p + 4);
          this.goaway = `GOAWAY ${errorCodeName(code)} (last stream ${data.readUInt32BE(p) & 0x7fffffff}) from the ${direction === Direction.ClientToServer ? "client" : "server"}`;
          if (code !== 0) this.ctx.count("goaway_error");
        }
        break;
      default:
        // PRIORITY, PING, WINDOW_UPDATE carry nothing for an entry; unknown types are ignored (§5.5)
        break;
    }
    return { kind: "used", used: total };
  }

  /** The 9-byte header (and pad length) of a DATA frame; the payload is streamed, never buffered whole. */
  private dataHeader(direction: Direction, s: Side, data: Buffer, offset: number, len: number, flags: number, sid: number, avail: number, lastNs: number): Feed {
    let head = FRAME_HEADER;
    let padLen = 0;
    if (flags & Flag.PADDED) {
      if (len < 1) return this.frameError(s, FRAME_HEADER, avail, "DATA padding without a length");
      if (avail < FRAME_HEADER + 1) return { kind: "need", atLeast: FRAME_HEADER + 1 };
      padLen = data[offset + FRAME_HEADER]!;
      head++;
      if (padLen > len - 1) return this.frameError(s, FRAME_HEADER + len, avail, "DATA padding longer than the frame");
    }
    const st = sid === 0 ? undefined : this.stream(sid, 0, direction);
    if (st) {
      if (direction === Direction.ClientToServer) st.req.size += FRAME_HEADER + len;
      else st.res.size += FRAME_HEADER + len;
    }
    s.dataStream = sid;
    s.dataLeft = len - (head - FRAME_HEADER) - padLen;
    s.padLeft = padLen;
    s.dataEndStream = (flags & Flag.END_STREAM) !== 0;
    if (s.dataLeft === 0 && s.padLeft === 0) this.dataEnd(direction, s, lastNs);
    return { kind: "used", used: head };
  }

  private streamData(direction: Direction, s: Side, data: Buffer, offset: number, lastNs: number): Feed {
    const avail = data.length - offset;
    let used = 0;
    if (s.dataLeft > 0) {
      used = Math.min(s.dataLeft, avail);
      s.dataLeft -= used;
      const st = this.streams.get(s.dataStream);
      if (st) {
        const h = direction === Direction.ClientToServer ? st.req : st.res;
        h.body.add(data, offset, offset + used);
        h.grpc?.add(data, offset, offset + used);
      }
    }
    if (s.dataLeft === 0 && used < avail) {
      const pad = Math.min(s.padLeft, avail - used);
      s.padLeft -= pad;
      used += pad;
    }
    if (s.dataLeft === 0 && s.padLeft === 0) this.dataEnd(direction, s, lastNs);
    return { kind: "used", used };
  }

  private dataEnd(direction: Direction, s: Side, lastNs: number): void {
    if (!s.dataEndStream) return;
    const st = this.streams.get(s.dataStream);
    if (st) this.endHalf(direction, st, lastNs);
  }

  private endHalf(direction: Direction, st: H2Stream, lastNs: number): void {
    if (direction === Direction.ClientToServer) st.req.ended = true;
    else {
      st.res.ended = true;
      st.endNs = lastNs;
      this.finish(st, EntryStatus.COMPLETE);
    }
  }

  private startBlock(s: Side, data: Buffer, start: number, end: number): void {
    s.block = [Buffer.from(data.subarray(start, end))];
    s.blockLen = end - start;
  }

  /** A header block could not be read whole: the decoder's table is unreliable from here on. */
  private lostBlock(direction: Direction, s: Side, why: string): void {
    s.block = null;
    s.blockLen = 0;
    s.hpack = new HpackDecoder(false);
    this.ctx.count("hpack_lost");
    const st = this.streams.get(s.blockPromised || s.blockStream);
    if (st) st.warnings.push(`${why}; ${direction === Direction.ClientToServer ? "request" : "response"} headers lost`);
  }

  private headerBlock(direction: Direction, s: Side, buf: Buffer, start: number, end: number, lastNs: number): void {
    const r = s.hpack.decode(buf, start, end, this.ctx.limits.maxItems);
    const sid = s.blockPromised || s.blockStream;
    const st = this.streams.get(sid) ?? this.stream(sid, s.blockNs, direction);
    if (r.error) {
      this.ctx.count("hpack_error");
      s.hpack = new HpackDecoder(false);
      st?.warnings.push(`hpack decoding failed: ${r.error}`);
    }
    if (!st) return;
    if (r.unknownRefs > 0 && !st.warnings.includes(HPACK_UNKNOWN)) {
      this.ctx.count("hpack_unknown");
      st.warnings.push(HPACK_UNKNOWN);
    }
    if (s.blockPromised) {
      // §8.4: a promised request; its response comes on the promised (even) stream
      st.pushed = true;
      st.req.headers = r.fields;
      st.req.ended = true;
      this.grpcFor(st, r.fields, st.req);
      return;
    }
    if (direction === Direction.ClientToServer) {
      if (st.req.headers === null) {
        st.req.headers = r.fields;
        st.startNs = s.blockNs;
        this.grpcFor(st, r.fields, st.req);
      } else st.req.trailers = r.fields;
      if (s.blockEndStream) this.endHalf(direction, st, lastNs);
      return;
    }
    if (st.res.headers === null) {
      const status = Number(field(r.fields, ":status"));
      // §8.1: 1xx responses precede the final one
      if (status >= 100 && status < 200 && !s.blockEndStream) {
        st.res.informational.push(status);
        return;
      }
      st.res.headers = r.fields;
      this.grpcFor(st, r.fields, st.res);
    } else st.res.trailers = r.fields;
    if (s.blockEndStream) this.endHalf(direction, st, lastNs);
  }

  /** gRPC is recognised by content-type application/grpc[+proto|+json|...] on either side. */
  private grpcFor(st: H2Stream, fields: HeaderField[], h: Half): void {
    const ct = field(fields, "content-type");
    if (!ct.startsWith("application/grpc")) return;
    const { maxItems, maxBodyBytes, maxDecodedBytes } = this.ctx.limits;
    if (!st.req.grpc) st.req.grpc = new GrpcMessageReader(maxItems, maxBodyBytes, maxDecodedBytes);
    if (!st.res.grpc) st.res.grpc = new GrpcMessageReader(maxItems, maxBodyBytes, maxDecodedBytes);
    h.grpc!.encoding = field(fields, "grpc-encoding");
  }

  /** The stream `sid`, created on first sight (bounded by maxPending); undefined for stream 0. */
  private stream(sid: number, startNs: number, direction: Direction): H2Stream | undefined {
    if (sid === 0) return undefined;
    let st = this.streams.get(sid);
    if (st) return st;
    // §5.1.1: ids only grow, so an id at or below the highest one seen belongs to a stream that
    // already ended (late DATA or WINDOW_UPDATE after its exchange was emitted)
    if (sid <= this.maxSid[sid & 1]!) return undefined;
    this.maxSid[sid & 1] = sid;
    if (this.streams.size >= this.ctx.limits.maxPending) {
      const oldest = this.streams.values().next().value as H2Stream;
      this.ctx.count("pending_evicted");
      oldest.warnings.push("too many open streams: emitted before its end");
      this.finish(oldest, EntryStatus.NO_RESPONSE);
    }
    st = new H2Stream(sid, bodyCap(this.ctx.limits));
    st.startNs = direction === Direction.ClientToServer ? startNs : 0;
    this.streams.set(sid, st);
    return st;
  }

  /** A malformed frame: counted, and skipped whole (what is not buffered yet is skipped as it arrives). */
  private frameError(s: Side, total: number, avail: number, reason: string): Feed {
    this.ctx.count("bad_frame");
    const skip = Math.min(total, avail);
    s.skipLeft = total - skip;
    return { kind: "bad", reason, skip };
  }

  private finish(st: H2Stream, status: EntryStatus): void {
    if (!this.streams.delete(st.id)) return;
    const { req, res } = st;
    const grpc = req.grpc !== null;
    const ex: Exchange = {
      protocol: grpc ? Protocol.GRPC : Protocol.HTTP2,
      status,
      requestStartNs: req.headers ? st.startNs : 0,
      responseEndNs: res.headers || res.ended ? st.endNs : 0,
      requestSize: req.size,
      responseSize: res.size,
    };
    const limits = this.ctx.limits;
    if (req.headers) {
      const r: HttpRequestInit = {
        method: field(req.headers, ":method"),
        path: field(req.headers, ":path"),
        scheme: field(req.headers, ":scheme"),
        host: field(req.headers, ":authority") || field(req.headers, "host"),
        version: "HTTP/2",
        headers: regular(req.headers),
        streamId: st.id,
      };
      const body = req.preset ?? req.body.finish(field(req.headers, "content-type"), field(req.headers, "content-encoding"), limits, !req.ended);
      if (body) r.body = body;
      if (req.trailers) r.trailers = regular(req.trailers);
      ex.httpRequest = r;
    }
    if (res.headers) {
      const r: HttpResponseInit = { status: Number(field(res.headers, ":status")) || 0, version: "HTTP/2", headers: regular(res.headers) };
      const body = res.body.finish(field(res.headers, "content-type"), field(res.headers, "content-encoding"), limits, !res.ended);
      if (body) r.body = body;
      if (res.trailers) r.trailers = regular(res.trailers);
      if (res.informational.length) r.informational = res.informational;
      ex.httpResponse = r;
    }
    if (grpc) ex.grpc = grpcInfo(st);
    if (st.pushed) st.warnings.push("server push (PUSH_PROMISE)");
    if (!req.headers && !st.pushed && !st.warnings.includes(HPACK_UNKNOWN)) st.warnings.push("stream began before the capture: request not seen");
    if (status !== EntryStatus.COMPLETE && this.goaway) st.warnings.push(this.goaway);
    if (st.warnings.length) ex.warnings = st.warnings;
    this.ctx.count(grpc ? "grpc_calls" : "streams");
    this.ctx.emit(ex);
  }

  close(reason: CloseReason, tsNs: number): void {
    const status = reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
    for (const st of [...this.streams.values()]) {
      if (st.res.headers && !st.endNs) st.endNs = tsNs;
      this.finish(st, status);
    }
  }

  expire(nowNs: number, timeoutNs: number): void {
    for (const st of [...this.streams.values()]) {
      if (st.res.headers || st.startNs === 0 || nowNs - st.startNs < timeoutNs) continue;
      this.finish(st, EntryStatus.NO_RESPONSE);
    }
  }
}

function grpcInfo(st: H2Stream): GrpcInfoInit {
  const path = st.req.headers ? field(st.req.headers, ":path") : "";
  const [service, method] = splitGrpcPath(path);
  // grpc-status is in the trailers, or in the headers of a Trailers-Only response
  const fields = st.res.trailers ?? st.res.headers ?? [];
  const status = field(fields, "grpc-status");
  const info: GrpcInfoInit = {
    service,
    method,
    status: status === "" ? -1 : Number(status),
    message: percentDecode(field(fields, "grpc-message")),
    requestMessages: st.req.grpc?.messages ?? [],
    responseMessages: st.res.grpc?.messages ?? [],
  };
  return info;
}

/** First value of `name` (a pseudo-header or a lower-case field name), "" when absent. */
function field(fields: HeaderField[], name: string): string {
  for (const f of fields) if (f.name === name) return f.value;
  return "";
}

/** The fields without pseudo-headers (§8.3), as entry headers. */
function regular(fields: HeaderField[]): HeaderInit[] {
  const out: HeaderInit[] = [];
  for (const f of fields) if (f.name.charCodeAt(0) !== 0x3a) out.push({ name: f.name, value: f.value });
  return out;
}
