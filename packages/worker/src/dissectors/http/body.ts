// Message bodies: streamed through, copied only up to a cap, decoded (gzip/deflate/br)
// with an output cap so a decompression bomb stops at limits.maxDecodedBytes.
import zlib from "node:zlib";
import type { BodyInit } from "@tapline/protocol";
import type { DissectLimits, SessionContext } from "../types.js";

/**
 * Collects the first `cap` bytes of a body (copies: the driver's buffer is only lent) and
 * counts the rest. One buffer grown by doubling, so a body in one segment is copied once and
 * one in many segments about twice (not once per part and again to join the parts).
 */
/** The cap to reset a collector with: 0 (count only) when bodies are not kept. */
export function bodyCap(limits: DissectLimits): number {
  return limits.keepBodies === false ? 0 : limits.maxBodyBytes;
}

export class BodyCollector {
  private buf: Buffer | null = null;
  private kept = 0;
  /** Bytes seen on the wire after de-chunking (RFC 9112 §7.1.3: the decoded length). */
  size = 0;
  private cap = 0;
  private expected = 0;

  /** `expected`: the declared body length when known (Content-Length), so one buffer of the right size is allocated. */
  reset(cap: number, expected = 0): void {
    this.buf = null;
    this.kept = 0;
    this.size = 0;
    this.cap = cap;
    this.expected = expected > cap ? cap : expected;
  }

  add(data: Buffer, start: number, end: number): void {
    this.size += end - start;
    if (this.kept >= this.cap) return;
    const n = Math.min(this.cap - this.kept, end - start);
    let buf = this.buf;
    if (!buf || this.kept + n > buf.length) {
      // Doubling from the first part's size copied a 64 KiB body about twice in six allocations.
      // With a declared length, grow straight towards it, but never past 8x the bytes received:
      // a header declaring a big body and sending none must not make us hold the cap per flow.
      const want = this.kept + n;
      const size = this.expected > want ? Math.min(this.expected, Math.max(want * 8, buf ? buf.length * 2 : 0)) : buf ? Math.max(buf.length * 2, want) : n;
      const grown = Buffer.allocUnsafe(Math.min(this.cap, size));
      if (buf) buf.copy(grown, 0, 0, this.kept);
      this.buf = buf = grown;
    }
    data.copy(buf, this.kept, start, start + n);
    this.kept += n;
  }

  /**
   * The body as an entry field, or undefined when empty; only its size and content fields when
   * `limits.keepBodies` is false (the collector was reset with a cap of 0 then). `cut`: the message ended early (capture
   * gap, close). `counters` (the session context) hears "body_truncated" when the kept data is cut.
   *
   * A content-coded body is decoded lazily, the first time `data`, `decoded`, `decodedSize` or
   * `truncated` is read (by the jsonl writer, the protobuf encoder towards the hub, a test...):
   * output that never shows bodies (`dissect --format table`) does not pay for inflating them,
   * which was 14% of a table dissect of the HTTP benchmark file. Those four fields are accessors
   * until then, and plain values after.
   */
  finish(contentType: string, contentEncoding: string, limits: DissectLimits, cut: boolean, counters?: Pick<SessionContext, "count">): BodyInit | undefined {
    if (this.size === 0) return undefined;
    if (limits.keepBodies === false) return { size: this.size, contentType, contentEncoding };
    const raw = this.buf ? this.buf.subarray(0, this.kept) : Buffer.alloc(0);
    this.buf = null;
    const rawTruncated = cut || this.kept < this.size;
    const body: BodyInit = { size: this.size, contentType, contentEncoding };
    if (contentEncoding && raw.length > 0 && codec(contentEncoding)) {
      lazyDecode(body, raw, contentEncoding, limits, rawTruncated, counters);
      return body;
    }
    body.data = raw.length > limits.maxBodyBytes ? raw.subarray(0, limits.maxBodyBytes) : raw;
    body.truncated = rawTruncated || raw.length > limits.maxBodyBytes;
    if (body.truncated) counters?.count("body_truncated");
    return body;
  }
}

/** What a lazily decoded body needs to settle: a non-enumerable own property of the body. */
interface Pending {
  raw: Buffer;
  encoding: string;
  limits: DissectLimits;
  rawTruncated: boolean;
  counters?: Pick<SessionContext, "count">;
}
const PENDING = Symbol("tapline.pendingBody");
type LazyBody = BodyInit & { [PENDING]?: Pending };

/** Decodes once and turns the four accessors into plain values. */
function settle(body: LazyBody): void {
  const p = body[PENDING];
  if (!p) return;
  body[PENDING] = undefined;
  const { raw, limits, rawTruncated } = p;
  const decoded = decode(raw, p.encoding, limits.maxDecodedBytes, rawTruncated);
  let data: Buffer;
  let truncated: boolean;
  if (decoded) {
    data = decoded.data.length > limits.maxBodyBytes ? Buffer.from(decoded.data.subarray(0, limits.maxBodyBytes)) : decoded.data;
    truncated = decoded.partial || decoded.data.length > limits.maxBodyBytes;
  } else {
    data = raw.length > limits.maxBodyBytes ? raw.subarray(0, limits.maxBodyBytes) : raw;
    truncated = rawTruncated || raw.length > limits.maxBodyBytes;
  }
  Object.defineProperties(body, {
    data: { value: data, writable: true, enumerable: true, configurable: true },
    decoded: { value: decoded ? true : undefined, writable: true, enumerable: true, configurable: true },
    decodedSize: { value: decoded ? decoded.data.length : undefined, writable: true, enumerable: true, configurable: true },
    truncated: { value: truncated, writable: true, enumerable: true, configurable: true },
  });
  if (truncated) p.counters?.count("body_truncated");
}

function lazyField(name: "data" | "decoded" | "decodedSize" | "truncated"): PropertyDescriptor {
  return {
    enumerable: true,
    configurable: true,
    get(this: LazyBody) {
      settle(this);
      return this[name];
    },
    set(this: LazyBody, v: unknown) {
      settle(this);
      Object.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
    },
  };
}

/**
 * The four accessors, shared by every lazy body (`this` is the body): defining them with
 * closures and descriptors made per body cost 3-4 µs a body.
 */
const lazyFields: PropertyDescriptorMap = {
  data: lazyField("data"),
  decoded: lazyField("decoded"),
  decodedSize: lazyField("decodedSize"),
  truncated: lazyField("truncated"),
};

/** Makes body's decoded fields accessors that decode `raw` once, then become plain values. */
function lazyDecode(body: BodyInit, raw: Buffer, encoding: string, limits: DissectLimits, rawTruncated: boolean, counters?: Pick<SessionContext, "count">): void {
  Object.defineProperty(body, PENDING, { value: { raw, encoding, limits, rawTruncated, counters }, writable: true, configurable: true });
  Object.defineProperties(body, lazyFields);
}

type Inflate = (buf: Buffer, opts: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

function codec(encoding: string): Inflate[] | undefined {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return [zlib.gunzipSync];
    case "deflate":
      // RFC 9110 §8.4.1.2 says zlib-wrapped; some servers send raw deflate
      return [zlib.inflateSync, zlib.inflateRawSync];
    case "br":
      return [zlib.brotliDecompressSync];
    default:
      return undefined;
  }
}

/**
 * Decodes `raw` with an output cap. Flush mode "sync" accepts a truncated input (we may hold only
 * the first bytes of the body). When the output would pass `maxOut` (node throws instead of
 * returning a prefix), decode ever shorter input prefixes: deflate and brotli are streams, so a
 * prefix of the input yields a prefix of the output. Returns undefined when not decodable.
 */
export function decode(raw: Buffer, encoding: string, maxOut: number, inputCut: boolean): { data: Buffer; partial: boolean } | undefined {
  const fns = codec(encoding);
  if (!fns || raw.length === 0) return undefined;
  for (const fn of fns) {
    const br = fn === zlib.brotliDecompressSync;
    const opts = br
      ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: maxOut }
      : { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: maxOut };
    let input = raw;
    let partial = inputCut;
    for (;;) {
      try {
        const data = fn(input, opts);
        return { data, partial };
      } catch (e) {
        if ((e as { code?: string }).code !== "ERR_BUFFER_TOO_LARGE" || input.length < 2) break;
        input = input.subarray(0, input.length >> 1);
        partial = true;
      }
    }
  }
  return undefined;
}
