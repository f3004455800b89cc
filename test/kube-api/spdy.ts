// Port-forward over SPDY/3.1, as kubectl does it: either on a raw connection after
// `Upgrade: SPDY/3.1` (X-Stream-Protocol-Version: portforward.k8s.io), or, since kubectl
// 1.30, tunnelled through a WebSocket with the subprotocol "SPDY/3.1+portforward.k8s.io"
// whose binary messages carry the SPDY byte stream.
//
// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2):
//   control frame: 1 | version(15)=3 | type(16) | flags(8) | length(24) | data
//   data frame:    0 | stream-id(31)             | flags(8) | length(24) | data
// Header blocks (SYN_STREAM, SYN_REPLY) are zlib streams, one per direction for the whole
// session, primed with the SPDY/3 dictionary (§2.6.10.1) and flushed with Z_SYNC_FLUSH.
//
// Port-forward protocol v1 (kubelet, portforward.k8s.io): for each forwarded connection the
// client opens an "error" stream and a "data" stream with headers streamType, port and
// requestID; the server dials the port, copies bytes both ways on the data stream, and writes
// a failure message, if any, on the error stream.
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import type { WebSocket } from "ws";
import { dialError, type ResolveTarget } from "./portforward.js";

export const WEBSOCKET_SPDY_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
export const SPDY_PORTFORWARD_PROTOCOLS = ["portforward.k8s.io"];

const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const WINDOW_UPDATE = 9;
const FLAG_FIN = 0x01;
const MAX_FRAME = 1 << 24;
/** Bytes of target data per DATA frame. */
const DATA_CHUNK = 32 * 1024;

/**
 * The SPDY/3 header compression dictionary (draft 3 §2.6.10.1): length-prefixed common
 * header names and values, then a run of status codes, dates and media types.
 */
const DICTIONARY: Buffer = (() => {
  const words =
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow authorization cache-control connection content-base content-encoding content-language content-length content-location content-md5 content-range content-type date etag expect expires from host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade user-agent vary via warning www-authenticate method get status 200|OK version HTTP/1.1 url public set-cookie keep-alive origin";
  const parts: Buffer[] = [];
  for (const w of words.split(" ").map((s) => s.replace("|", " "))) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, "latin1"));
  }
  const tail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  parts.push(Buffer.from(tail, "latin1"));
  return Buffer.concat(parts);
})();

/** One zlib stream used block by block: each call returns the output of one sync-flushed input. */
class BlockCodec {
  private out: Buffer[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private failed?: Error;
  private pending?: (e: Error) => void;
  constructor(private readonly z: Inflate | Deflate) {
    z.on("data", (c: Buffer) => this.out.push(c));
    // A failed (de)compression fails the pending block; the session then shuts down.
    z.on("error", (e) => {
      this.failed = e;
      this.pending?.(e);
    });
  }
  run(input: Buffer): Promise<Buffer> {
    const p = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failed) return reject(this.failed);
          this.pending = reject;
          this.z.write(input);
          this.z.flush(zc.Z_SYNC_FLUSH, () => {
            this.pending = undefined;
            const b = Buffer.concat(this.out);
            this.out = [];
            resolve(b);
          });
        }),
    );
    this.chain = p.catch(() => {});
    return p;
  }
  close(): void {
    this.z.destroy();
  }
}

function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const kb = Buffer.from(k.toLowerCase());
    const vb = Buffer.from(v);
    parts.push(u32(kb.length), kb, u32(vb.length), vb);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; names are lower case, multiple values NUL-separated. */
export function decodeHeaderBlock(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (b.length < 4) throw new Error("header block too short");
  let off = 0;
  const n = b.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < n; i++) {
    if (off + 4 > b.length) throw new Error("header block truncated");
    const kl = b.readUInt32BE(off);
    off += 4;
    if (off + kl + 4 > b.length) throw new Error("header block truncated");
    const k = b.subarray(off, off + kl).toString("latin1").toLowerCase();
    off += kl;
    const vl = b.readUInt32BE(off);
    off += 4;
    if (off + vl > b.length) throw new Error("header block truncated");
    out[k] = b.subarray(off, off + vl).toString("latin1");
    off += vl;
  }
  return out;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | 3, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([h, payload]);
}

function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return payload.length > 0 ? Buffer.concat([h, payload]) : h;
}

export type SpdyTransport = { kind: "socket"; socket: Duplex; head: Buffer } | { kind: "websocket"; ws: WebSocket };

interface Stream {
  id: number;
  type: string;
  requestId: string;
  port: number;
  remoteClosed: boolean;
  localClosed: boolean;
}

interface Pair {
  data?: Stream;
  error?: Stream;
  sock?: Socket;
  /** Client bytes that came before the dial finished. */
  pending: Buffer[];
  started: boolean;
}

export function handleSpdyPortForward(transport: SpdyTransport, target: { namespace: string; pod: string; ports: number[] }, resolve: ResolveTarget): void {
  const inflater = new BlockCodec(createInflate({ dictionary: DICTIONARY }));
  const deflater = new BlockCodec(createDeflate({ dictionary: DICTIONARY }));
  const streams = new Map<number, Stream>();
  const pairs = new Map<string, Pair>();
  let buf: Buffer = Buffer.alloc(0);
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  const write = (b: Buffer) => {
    if (closed) return;
    if (transport.kind === "socket") transport.socket.write(b);
    else if (transport.ws.readyState === transport.ws.OPEN) transport.ws.send(b);
  };
  const shutdown = () => {
    if (closed) return;
    closed = true;
    for (const p of pairs.values()) p.sock?.destroy();
    inflater.close();
    deflater.close();
    if (transport.kind === "socket") transport.socket.destroy();
    else transport.ws.terminate();
  };

  const sendData = (s: Stream, payload: Buffer, fin = false) => {
    if (s.localClosed) return;
    for (let off = 0; off < payload.length; off += DATA_CHUNK) write(dataFrame(s.id, 0, payload.subarray(off, off + DATA_CHUNK)));
    if (fin) {
      write(dataFrame(s.id, FLAG_FIN, Buffer.alloc(0)));
      s.localClosed = true;
    }
  };

  const start = (p: Pair) => {
    if (p.started || !p.data || !p.error) return;
    p.started = true;
    const { data, error } = p;
    const fail = (err: Error) => {
      sendData(error, Buffer.from(dialError(target.namespace, target.pod, data.port, err)), true);
      sendData(data, Buffer.alloc(0), true);
    };
    const t = resolve(target.namespace, target.pod, data.port);
    if (!t) return fail(new Error(`no test mapping for port ${data.port} (connection refused)`));
    const sock = connect({ host: t.host, port: t.port });
    p.sock = sock;
    for (const b of p.pending) sock.write(b);
    p.pending = [];
    if (data.remoteClosed) sock.end();
    sock.on("data", (d: Buffer) => sendData(data, d));
    sock.on("error", fail);
    sock.on("end", () => sendData(data, Buffer.alloc(0), true));
    sock.on("close", () => {
      sendData(data, Buffer.alloc(0), true);
      sendData(error, Buffer.alloc(0), true);
    });
  };

  const onSynStream = async (payload: Buffer, flags: number) => {
    if (payload.length < 10) throw new Error("short SYN_STREAM");
    const id = payload.readUInt32BE(0) & 0x7fffffff;
    const headers = decodeHeaderBlock(await inflater.run(payload.subarray(10)));
    debug?.("SYN_STREAM", id, headers);
    const type = headers.streamtype ?? "";
    const port = Number(headers.port);
    const requestId = headers.requestid ?? String(id);
    // Reply at once: the client waits for SYN_REPLY before it uses the stream.
    const block = await deflater.run(encodeHeaderBlock({}));
    const reply = Buffer.alloc(4);
    reply.writeUInt32BE(id);
    write(controlFrame(SYN_REPLY, 0, Buffer.concat([reply, block])));
    const s: Stream = { id, type, requestId, port, remoteClosed: (flags & FLAG_FIN) !== 0, localClosed: false };
    streams.set(id, s);
    if ((type !== "data" && type !== "error") || !Number.isInteger(port) || port <= 0 || port > 65535) {
      const rst = Buffer.alloc(8);
      rst.writeUInt32BE(id, 0);
      rst.writeUInt32BE(1, 4); // PROTOCOL_ERROR
      write(controlFrame(RST_STREAM, 0, rst));
      return;
    }
    let p = pairs.get(requestId);
    if (!p) {
      p = { pending: [], started: false };
      pairs.set(requestId, p);
    }
    if (type === "data") p.data = s;
    else p.error = s;
    start(p);
  };

  const onData = (id: number, flags: number, payload: Buffer) => {
    const s = streams.get(id);
    if (!s) return;
    const p = pairs.get(s.requestId);
    if (s.type === "data" && p) {
      if (payload.length > 0) {
        if (p.sock) p.sock.write(payload);
        else p.pending.push(Buffer.from(payload));
      }
    }
    if (flags & FLAG_FIN) {
      s.remoteClosed = true;
      if (s.type === "data" && p?.sock) p.sock.end();
    }
  };

  const debug = process.env.KUBE_API_DEBUG ? (...a: unknown[]) => console.error("kube-api spdy:", ...a) : undefined;
  const onFrame = async (frame: Buffer) => {
    const flags = frame[4];
    debug?.(frame[0] & 0x80 ? `control type ${frame.readUInt16BE(2)}` : `data stream ${frame.readUInt32BE(0)}`, `flags ${flags} len ${frame.length - 8}`);
    const payload = frame.subarray(8);
    if ((frame[0] & 0x80) === 0) return onData(frame.readUInt32BE(0) & 0x7fffffff, flags, payload);
    const type = frame.readUInt16BE(2);
    switch (type) {
      case SYN_STREAM:
        return onSynStream(payload, flags);
      case RST_STREAM: {
        const s = streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (s) pairs.get(s.requestId)?.sock?.destroy();
        return;
      }
      case PING:
        // Echo the client's ping (odd ids are the client's, §2.6.5).
        write(controlFrame(PING, 0, payload.subarray(0, 4)));
        return;
      case GOAWAY:
        shutdown();
        return;
      case SETTINGS:
      case WINDOW_UPDATE:
      case HEADERS:
      case SYN_REPLY:
        return;
      default:
        return;
    }
  };

  const onBytes = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4) & 0xffffff;
      if (len >= MAX_FRAME) return shutdown();
      if (buf.length < 8 + len) break;
      const frame = Buffer.from(buf.subarray(0, 8 + len));
      buf = buf.subarray(8 + len);
      // Frames are handled strictly in order; header (de)compression is asynchronous.
      chain = chain
        .then(() => onFrame(frame))
        .catch((e: unknown) => {
          if (process.env.KUBE_API_DEBUG) console.error("kube-api spdy:", e);
          shutdown();
        });
    }
  };

  if (transport.kind === "socket") {
    if (transport.head.length > 0) onBytes(Buffer.from(transport.head));
    transport.socket.on("data", onBytes);
    transport.socket.on("close", shutdown);
    transport.socket.on("error", shutdown);
  } else {
    transport.ws.on("message", (d: Buffer, isBinary: boolean) => {
      if (isBinary) onBytes(Buffer.from(d));
    });
    transport.ws.on("close", shutdown);
    transport.ws.on("error", shutdown);
  }
}
