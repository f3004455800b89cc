// gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
//
//   Length-Prefixed-Message → Compressed-Flag Message-Length Message
//   Compressed-Flag → 0 / 1          ; 1 byte
//   Message-Length  → {length of Message} ; 4 bytes, big endian
//
// Messages span DATA frames freely, so a small per-stream reader collects them across frames.
// Without a schema a protobuf message is shown as its raw fields (protobuf encoding guide:
// tag = field_number << 3 | wire_type; 0 varint, 1 i64, 2 length-delimited, 5 i32).
import type { GrpcInfoInit } from "@tapline/protocol";
import { decode } from "../http/body.js";

export type GrpcMessageInit = NonNullable<GrpcInfoInit["requestMessages"]>[number];

/** Collects length-prefixed messages from one side of a stream. Copies what it keeps. */
export class GrpcMessageReader {
  readonly messages: GrpcMessageInit[] = [];
  /** Messages seen (also those past maxItems). */
  count = 0;
  private head = Buffer.alloc(5);
  private headLen = 0;
  private left = 0;
  private parts: Buffer[] = [];
  private kept = 0;
  private cur: GrpcMessageInit | null = null;
  /** grpc-encoding of this side (gzip, deflate, ...): compressed messages are decoded with it. */
  encoding = "";

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
    private readonly maxDecoded: number,
  ) {}

  /** Adds DATA payload bytes data[start..end). */
  add(data: Buffer, start: number, end: number): void {
    let p = start;
    while (p < end) {
      if (this.cur === null) {
        const n = Math.min(5 - this.headLen, end - p);
        data.copy(this.head, this.headLen, p, p + n);
        this.headLen += n;
        p += n;
        if (this.headLen < 5) return;
        this.headLen = 0;
        this.left = this.head.readUInt32BE(1);
        this.cur = { compressed: this.head[0] === 1, length: this.left };
        this.parts = [];
        this.kept = 0;
        if (this.left === 0) this.done();
        continue;
      }
      const n = Math.min(this.left, end - p);
      const keep = Math.min(n, this.maxBytes - this.kept);
      if (keep > 0 && this.count < this.maxItems) {
        this.parts.push(Buffer.from(data.subarray(p, p + keep)));
        this.kept += keep;
      }
      this.left -= n;
      p += n;
      if (this.left === 0) this.done();
    }
  }

  /** True when the stream ended inside a message. */
  get partial(): boolean {
    return this.cur !== null || this.headLen > 0;
  }

  private done(): void {
    const m = this.cur!;
    this.cur = null;
    this.count++;
    if (this.messages.length >= this.maxItems) return;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    m.data = data;
    if (data.length !== m.length) return void this.messages.push(m);
    if (!m.compressed) m.decoded = renderProtobuf(data);
    else if (this.encoding && this.encoding !== "identity") {
      const plain = decode(data, this.encoding, this.maxDecoded, false);
      if (plain && !plain.partial) m.decoded = renderProtobuf(plain.data);
    }
    this.messages.push(m);
  }
}

const MAX_DEPTH = 8;
const MAX_TEXT = 8192;

/**
 * Renders protobuf bytes as raw fields, one per line ("1: 150", "2: \"text\"", "3 { ... }",
 * "4: 0x0000000000000001 (i64)"). Returns "" when the bytes are not a well-formed message.
 */
export function renderProtobuf(buf: Buffer): string {
  const out: string[] = [];
  const ok = render(buf, 0, buf.length, 0, out, { chars: 0 });
  return ok ? out.join("\n") : "";
}

interface Budget {
  chars: number;
}

function render(buf: Buffer, start: number, end: number, depth: number, out: string[], budget: Budget): boolean {
  const pad = "  ".repeat(depth);
  const v = { n: 0, p: 0 };
  let p = start;
  while (p < end) {
    if (!varint(buf, p, end, v)) return false;
    p = v.p;
    const field = Math.floor(v.n / 8);
    const wire = v.n % 8;
    if (field === 0 || field > 536870911) return false;
    let line: string;
    switch (wire) {
      case 0:
        if (!varint(buf, p, end, v)) return false;
        p = v.p;
        line = `${pad}${field}: ${v.n}`;
        break;
      case 1:
        if (p + 8 > end) return false;
        line = `${pad}${field}: 0x${buf.toString("hex", p, p + 8)} (i64)`;
        p += 8;
        break;
      case 5:
        if (p + 4 > end) return false;
        line = `${pad}${field}: 0x${buf.toString("hex", p, p + 4)} (i32)`;
        p += 4;
        break;
      case 2: {
        if (!varint(buf, p, end, v)) return false;
        p = v.p;
        const len = v.n;
        if (len > end - p) return false;
        const s = p;
        p += len;
        // a nested message when the bytes parse as one, else a string when printable, else hex
        if (len > 0 && depth < MAX_DEPTH && !printable(buf, s, p)) {
          const inner: string[] = [];
          if (render(buf, s, p, depth + 1, inner, budget)) {
            out.push(`${pad}${field} {`, ...inner, `${pad}}`);
            continue;
          }
        }
        line = printable(buf, s, p) ? `${pad}${field}: ${JSON.stringify(buf.toString("utf8", s, p))}` : `${pad}${field}: 0x${buf.toString("hex", s, Math.min(p, s + 256))}${len > 256 ? "…" : ""}`;
        break;
      }
      default:
        return false; // groups (3, 4) are deprecated; 6 and 7 do not exist
    }
    budget.chars += line.length;
    if (budget.chars > MAX_TEXT) {
      out.push(`${pad}…`);
      return true;
    }
    out.push(line);
  }
  return true;
}

/** Printable UTF-8 text: no control bytes other than tab/newline, and it decodes cleanly. */
function printable(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f) return false;
  }
  return !buf.toString("utf8", s, e).includes("\ufffd");
}

/** Reads a base-128 varint (up to 2^53 exactly, then approximate). */
function varint(buf: Buffer, p: number, end: number, out: { n: number; p: number }): boolean {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= end) return false;
    const b = buf[p++]!;
    n += (b & 0x7f) * mul;
    mul *= 128;
    if (!(b & 0x80)) {
      out.n = n;
      out.p = p;
      return true;
    }
  }
  return false;
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md, "Responses"); malformed escapes stay as sent. */
export function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** "/pkg.Service/Method" → [service, method]; ["", path] when it is not of that form. */
export function splitGrpcPath(path: string): [string, string] {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? [m[1]!, m[2]!] : ["", path];
}
