// One HTTP/1.x connection: a reader per direction (RFC 9112 message framing, §6.3) and
// FIFO pairing of responses with requests (§9.3.2: pipelined responses come in request order).
import { EntryStatus, Protocol } from "@tapline/protocol/enums";
import type { HeaderInit, HttpRequestInit, HttpResponseInit } from "@tapline/protocol";
import type { CloseReason, DissectorSession, Exchange, Feed, SessionContext } from "../types.js";
import { Direction } from "../types.js";
import { BodyCollector, bodyCap } from "./body.js";
import {
  CRLFCRLF, LFLF, MAX_CHUNK_SIZE, parseChunkSize, parseFields, parseRequestHead, parseResponseHead,
} from "./wire.js";
import type { FieldInfo, RequestHead, ResponseHead } from "./wire.js";
import { Http2Session } from "../http2/session.js";

/** Header sections larger than this are refused (servers use 8–64 KiB). */
export const MAX_HEADER_BYTES = 64 * 1024;
/** chunk-size lines (with extensions) longer than this are refused. */
const MAX_CHUNK_LINE = 4096;

const enum State {
  Head,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  BodyUntilClose,
  Stopped,
}

interface PendingRequest {
  req: HttpRequestInit;
  method: string;
  startNs: number;
  size: number;
  warnings: string[];
  done: boolean;
  /** A response that completed before the request body did (early reply). */
  early?: { resp: HttpResponseInit; endNs: number; size: number; warnings: string[] };
}

const NEED_ONE_MORE = (avail: number): Feed => ({ kind: "need", atLeast: avail + 1 });

/** Reads one direction; `isRequest` picks request-line vs status-line grammar and framing rules. */
class MessageReader {
  state = State.Head;
  /** Bytes of the current message consumed so far. */
  size = 0;
  startNs = 0;
  remaining = 0;
  body = new BodyCollector();
  head: RequestHead | ResponseHead | undefined;
  trailers: HeaderInit[] | undefined;
  /** Where the header-end search resumes, relative to the message start (avoids rescans). */
  private scanned = 0;

  constructor(private readonly s: HttpSession, readonly isRequest: boolean) {}

  feed(data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    const avail = data.length - offset;
    switch (this.state) {
      case State.Head:
        return this.readHead(data, offset, avail, firstNs, lastNs);
      case State.BodyLength: {
        const n = Math.min(avail, this.remaining);
        this.body.add(data, offset, offset + n);
        this.remaining -= n;
        this.size += n;
        if (this.remaining === 0) this.s.messageDone(this, lastNs, false);
        return { kind: "used", used: n };
      }
      case State.BodyUntilClose:
        this.body.add(data, offset, data.length);
        this.size += avail;
        return { kind: "used", used: avail };
      case State.ChunkSize: {
        const nl = data.indexOf(0x0a, offset);
        if (nl < 0 || nl - offset > MAX_CHUNK_LINE) {
          return avail > MAX_CHUNK_LINE ? this.fail("chunk-size line too long") : NEED_ONE_MORE(avail);
        }
        const end = nl > offset && data[nl - 1] === 0x0d ? nl - 1 : nl;
        const n = parseChunkSize(data, offset, end);
        if (n === -2) return this.fail(`chunk size over ${MAX_CHUNK_SIZE} bytes`);
        if (n < 0) return this.fail("invalid chunk-size line");
        this.size += nl + 1 - offset;
        if (n === 0) {
          this.state = State.Trailers;
        } else {
          this.remaining = n;
          this.state = State.ChunkData;
        }
        return { kind: "used", used: nl + 1 - offset };
      }
      case State.ChunkData: {
        const n = Math.min(avail, this.remaining);
        this.body.add(data, offset, offset + n);
        this.remaining -= n;
        this.size += n;
        if (this.remaining === 0) this.state = State.ChunkEnd;
        return { kind: "used", used: n };
      }
      case State.ChunkEnd: {
        // CRLF after chunk-data (a bare LF is tolerated, RFC 9112 §2.2)
        if (data[offset] === 0x0a) return this.chunkEnd(1);
        if (avail < 2) return NEED_ONE_MORE(avail);
        if (data[offset] === 0x0d && data[offset + 1] === 0x0a) return this.chunkEnd(2);
        return this.fail("chunk data not followed by CRLF");
      }
      case State.Trailers: {
        // trailer-section CRLF: an empty line, or field lines ending with an empty line
        if (data[offset] === 0x0a || (avail >= 2 && data[offset] === 0x0d && data[offset + 1] === 0x0a)) {
          const used = data[offset] === 0x0a ? 1 : 2;
          this.size += used;
          this.s.messageDone(this, lastNs, false);
          return { kind: "used", used };
        }
        if (avail < 2) return NEED_ONE_MORE(avail);
        let end = data.indexOf(CRLFCRLF, offset);
        let len = 4;
        if (end < 0) {
          end = data.indexOf(LFLF, offset);
          len = 2;
        }
        if (end < 0) return avail > MAX_HEADER_BYTES ? this.fail("trailer section too large") : NEED_ONE_MORE(avail);
        const used = end + len - offset;
        const info = parseFields(data.toString("latin1", offset, end + len), 0, this.s.ctx.limits.maxItems);
        this.trailers = info.headers;
        this.size += used;
        this.s.messageDone(this, lastNs, false);
        return { kind: "used", used };
      }
      case State.Stopped:
        return { kind: "bad", reason: "not HTTP after upgrade or error", skip: 0 };
    }
  }

  private chunkEnd(used: number): Feed {
    this.size += used;
    this.state = State.ChunkSize;
    return { kind: "used", used };
  }

  fail(reason: string): Feed {
    this.state = State.Stopped;
    this.s.ctx.count("bad_message");
    this.s.readerFailed(this, reason);
    return { kind: "bad", reason, skip: 0 };
  }

  private readHead(data: Buffer, offset: number, avail: number, firstNs: number, lastNs: number): Feed {
    // §2.2: ignore empty lines before a request-line
    if (data[offset] === 0x0d || data[offset] === 0x0a) {
      let i = offset;
      while (i < data.length && (data[i] === 0x0d || data[i] === 0x0a)) i++;
      return { kind: "used", used: i - offset };
    }
    const from = offset + (this.scanned > 3 ? this.scanned - 3 : 0);
    let end = data.indexOf(CRLFCRLF, from);
    let sep = 4;
    if (end < 0) {
      // bare-LF line endings (tolerated by §2.2); only searched when the start line uses them
      const nl = data.indexOf(0x0a, offset);
      if (nl > offset && data[nl - 1] !== 0x0d) {
        end = data.indexOf(LFLF, nl - 1);
        sep = 2;
      }
    }
    const cap = Math.min(MAX_HEADER_BYTES, this.s.ctx.limits.maxBufferBytes);
    if (end < 0 || end + sep - offset > cap) {
      if (avail > cap) return this.fail(`header section over ${cap} bytes`);
      this.scanned = avail;
      return NEED_ONE_MORE(avail);
    }
    this.scanned = 0;
    const used = end + sep - offset;
    const text = data.toString("latin1", offset, end + sep);
    const maxItems = this.s.ctx.limits.maxItems;
    const head = this.isRequest ? parseRequestHead(text, maxItems) : parseResponseHead(text, maxItems);
    if (typeof head === "string") return this.fail(head);
    // §6.3 item 5: an invalid Content-Length (without Transfer-Encoding) makes the framing unknowable
    if (head.error?.includes("Content-Length") && !head.transferEncoding) return this.fail(head.error);
    this.head = head;
    this.trailers = undefined;
    this.size = used;
    this.startNs = firstNs;
    this.state = this.s.headDone(this, head);
    this.body.reset(bodyCap(this.s.ctx.limits), this.state === State.BodyLength ? head.contentLength : 0);
    if (this.state === State.BodyLength) this.remaining = head.contentLength;
    else if (this.state === State.Head) this.s.messageDone(this, lastNs, false);
    return { kind: "used", used };
  }
}

/** Framing of a message body, RFC 9112 §6.3 (`method` is the request's, for responses). */
function framing(isRequest: boolean, head: FieldInfo, status: number, method: string): State {
  if (!isRequest) {
    // items 1-2: HEAD, 1xx, 204, 304 and 2xx to CONNECT have no body
    if (method === "HEAD" || (status >= 100 && status < 200) || status === 204 || status === 304) return State.Head;
  }
  if (head.transferEncoding) {
    if (head.chunked) return State.ChunkSize;
    // item 4: a response with another final coding is delimited by close; a request is an error
    return isRequest ? State.Stopped : State.BodyUntilClose;
  }
  if (head.contentLength >= 0) return head.contentLength === 0 ? State.Head : State.BodyLength;
  // items 7-8: a request without length has no body; a response reads until close
  return isRequest ? State.Head : State.BodyUntilClose;
}

export class HttpSession implements DissectorSession {
  private readonly req: MessageReader;
  private readonly res: MessageReader;
  /** After `Upgrade: h2c` and 101 the connection speaks HTTP/2: every later byte goes here. */
  private h2: Http2Session | undefined;
  private h2cPending = false;
  private readonly pending: PendingRequest[] = [];
  /** 1xx statuses seen before the final response (§15.2). */
  private informational: number[] = [];
  private upgradeNote = "";

  constructor(readonly ctx: SessionContext) {
    this.req = new MessageReader(this, true);
    this.res = new MessageReader(this, false);
  }

  feed(direction: Direction, data: Buffer, offset: number, firstNs: number, lastNs: number): Feed {
    if (this.h2) return this.h2.feed(direction, data, offset, firstNs, lastNs);
    return (direction === Direction.ClientToServer ? this.req : this.res).feed(data, offset, firstNs, lastNs);
  }

  /** Called when a header section is parsed; returns the body state. */
  headDone(r: MessageReader, head: RequestHead | ResponseHead): State {
    if (r.isRequest) {
      const h = head as RequestHead;
      const req: HttpRequestInit = { method: h.method, path: h.target, version: h.version, headers: h.headers, host: h.host };
      const warnings: string[] = [];
      if (h.upgrade) req.upgrade = true;
      if (h.dropped) warnings.push(`${h.dropped} header fields over the limit not kept`);
      if (h.error) warnings.push(h.error);
      this.pending.push({ req, method: h.method, startNs: r.startNs, size: 0, warnings, done: false });
      const st = framing(true, h, 0, h.method);
      if (st === State.Stopped) r.fail("request with a transfer coding other than chunked");
      return st;
    }
    const h = head as ResponseHead;
    const method = this.pending[0]?.method ?? "";
    if (h.status === 101 && h.upgrade.toLowerCase() === "h2c" && this.pending[0]?.req.upgrade) {
      // RFC 7540 §3.2: the upgrade request becomes HTTP/2 stream 1; its answer comes as HTTP/2
      this.h2cPending = true;
      return State.Head;
    }
    if (h.status === 101 || (method === "CONNECT" && h.status >= 200 && h.status < 300)) {
      // §9.9 / RFC 9110 §7.8: after 101 (or a CONNECT tunnel) the bytes are another protocol
      const proto = h.status === 101 ? h.upgrade.toLowerCase() || "unknown protocol" : "CONNECT tunnel";
      this.upgradeNote = `${h.status === 101 ? "upgraded to" : "switched to"} ${proto}; later bytes not dissected`;
      return State.Head;
    }
    return framing(false, h, h.status, method);
  }

  /** A message (head and body) is complete. */
  messageDone(r: MessageReader, endNs: number, cut: boolean): void {
    const head = r.head;
    if (!head) return;
    if (r.state !== State.Stopped) r.state = State.Head;
    const limits = this.ctx.limits;
    const body = r.body.finish(head.contentType, head.contentEncoding, limits, cut, this.ctx);
    r.head = undefined;
    if (r.isRequest) {
      // the request was queued at its head; fill it in
      const p = this.pending.findLast((x) => !x.done);
      if (!p) return;
      if (body) p.req.body = body;
      if (r.trailers) p.req.trailers = r.trailers;
      p.size = r.size;
      p.done = true;
      if (cut) p.warnings.push("request cut short");
      if (p.early) {
        this.pending.splice(this.pending.indexOf(p), 1);
        this.emit(p, p.early.resp, p.early.endNs, p.early.size, EntryStatus.COMPLETE, p.early.warnings);
      }
      this.trimPending();
      return;
    }
    const h = head as ResponseHead;
    const warnings: string[] = [];
    if (this.h2cPending && h.status === 101) {
      const p = this.pending.shift()!;
      this.h2cPending = false;
      this.h2 = new Http2Session(this.ctx);
      this.h2.adoptUpgrade(p.req, p.startNs, p.size, [...this.informational, 101], p.warnings);
      this.informational = [];
      return;
    }
    if (h.status >= 100 && h.status < 200 && h.status !== 101) {
      this.informational.push(h.status);
      return;
    }
    const resp: HttpResponseInit = { status: h.status, reason: h.reason, version: h.version, headers: h.headers };
    if (body) resp.body = body;
    if (r.trailers) resp.trailers = r.trailers;
    if (this.informational.length) {
      resp.informational = this.informational;
      this.informational = [];
    }
    if (h.dropped) warnings.push(`${h.dropped} header fields over the limit not kept`);
    if (h.error) warnings.push(h.error);
    if (this.upgradeNote) {
      warnings.push(this.upgradeNote);
      this.req.state = State.Stopped;
      this.res.state = State.Stopped;
    }
    const status = cut ? EntryStatus.TRUNCATED : EntryStatus.COMPLETE;
    const p = this.pending[0];
    if (p && !p.done && !cut) {
      // an early response (e.g. 413 before the upload ended): emitted once the request completes
      p.early = { resp, endNs, size: r.size, warnings };
      return;
    }
    if (p) this.pending.shift();
    this.emit(p, resp, endNs, r.size, status, warnings);
  }

  readerFailed(r: MessageReader, reason: string): void {
    const p = r.isRequest ? this.pending.findLast((x) => !x.done) : this.pending[0];
    if (p) p.warnings.push(`${r.isRequest ? "request" : "response"} stream not HTTP: ${reason}`);
  }

  private emit(p: PendingRequest | undefined, resp: HttpResponseInit | undefined, endNs: number, respSize: number, status: EntryStatus, respWarnings: string[]): void {
    const warnings = p ? [...p.warnings, ...respWarnings] : ["response without a request (capture began mid-stream)", ...respWarnings];
    const ex: Exchange = {
      protocol: Protocol.HTTP,
      status,
      requestStartNs: p?.startNs ?? 0,
      responseEndNs: resp ? endNs : 0,
      requestSize: p?.size ?? 0,
      responseSize: resp ? respSize : 0,
    };
    if (p) ex.httpRequest = p.req;
    if (resp) ex.httpResponse = resp;
    if (warnings.length) ex.warnings = warnings;
    this.ctx.emit(ex);
  }

  /** Too many requests without a response: the oldest ones become NO_RESPONSE. */
  private trimPending(): void {
    while (this.pending.length > this.ctx.limits.maxPending) {
      const p = this.pending.shift()!;
      this.emit(p, undefined, 0, 0, EntryStatus.NO_RESPONSE, ["pending request limit reached"]);
    }
  }

  close(reason: CloseReason, tsNs: number): void {
    if (this.h2) return this.h2.close(reason, tsNs);
    // §6.3 item 8: a body delimited by close is complete now; anything else in flight is cut short
    if (this.res.head) this.res.state === State.BodyUntilClose ? this.messageDone(this.res, tsNs, false) : this.messageDone(this.res, tsNs, true);
    if (this.req.head) this.messageDone(this.req, tsNs, true);
    const status =
      reason === "rst" ? EntryStatus.CONNECTION_RESET : reason === "fin" ? EntryStatus.CLOSED_EARLY : EntryStatus.NO_RESPONSE;
    for (const p of this.pending.splice(0)) {
      if (p.early) this.emit(p, p.early.resp, p.early.endNs, p.early.size, EntryStatus.COMPLETE, p.early.warnings);
      else this.emit(p, undefined, 0, 0, status, []);
    }
    this.req.state = State.Stopped;
    this.res.state = State.Stopped;
  }

  expire(nowNs: number, timeoutNs: number): void {
    if (this.h2) return this.h2.expire(nowNs, timeoutNs);
    // a response in progress belongs to the oldest request: keep it
    while (this.pending.length && !this.res.head) {
      const p = this.pending[0];
      if (!p.done || p.startNs > nowNs - timeoutNs) break;
      this.pending.shift();
      this.emit(p, undefined, 0, 0, EntryStatus.NO_RESPONSE, ["no response before the pairing timeout"]);
    }
  }
}
