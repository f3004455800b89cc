// RESP2 / RESP3, the Redis serialization protocol
// (https://redis.io/docs/latest/develop/reference/protocol-spec/).
//
//   simple string   "+" text CRLF            error        "-" text CRLF
//   integer         ":" [+|-] digits CRLF    bulk string  "$" length CRLF data CRLF   ($-1 CRLF: RESP2 null)
//   array           "*" count CRLF values    (*-1 CRLF: RESP2 null array)
//   RESP3:  null "_" CRLF · boolean "#" (t|f) CRLF · double "," text CRLF (inf, -inf, nan)
//           big number "(" digits CRLF · bulk error "!" length CRLF data CRLF
//           verbatim "=" length CRLF fmt(3) ":" data CRLF · map "%" count CRLF (key value)*
//           set "~" count CRLF values · attribute "|" count CRLF (key value)* then the value it annotates
//           push ">" count CRLF values (out-of-band: pub/sub messages, invalidations)
//   inline command: a line of space-separated words without a type prefix (clients only)
//
// The reader is incremental: it keeps a stack of open aggregates and streams bulk strings,
// so a value is never buffered whole; only the first `textCap` bytes of each string and the
// first `maxItems` elements of each aggregate are kept. Declared lengths are checked before
// anything is allocated for them.
import { RedisKind } from "@tapline/protocol/enums";
import type { RedisValueInit } from "@tapline/protocol";

/** Redis's own proto-max-bulk-len default: bigger bulk lengths are refused. */
export const MAX_BULK = 512 * 1024 * 1024;
/** Aggregates nested deeper than this are refused (Redis replies nest a few levels at most). */
export const MAX_DEPTH = 32;
/** Longest simple line (simple string, error, inline command); Redis's inline limit is 64 KiB. */
export const MAX_LINE = 64 * 1024;
const MAX_COUNT = 0x7fffffff;

const CR = 0x0d;
const LF = 0x0a;

interface Frame {
  node: RedisValueInit;
  elements: RedisValueInit[];
  remaining: number;
  attribute: boolean;
}

interface BulkState {
  node: RedisValueInit;
  /** data bytes still to come, then the 2 bytes of CRLF */
  remaining: number;
  crlf: number;
  parts: Buffer[];
  kept: number;
  verbatim: boolean;
}

const TYPE_BYTES = new Set([..."+-:$*_#,(!=%~|>"].map((c) => c.charCodeAt(0)));

export function isTypeByte(b: number): boolean {
  return TYPE_BYTES.has(b);
}

/** Reads one direction's values incrementally. After `read`, check `value` (a complete top-level value) or `error`. */
export class RespReader {
  value: RedisValueInit | undefined;
  /** The complete value was an inline command: its words. */
  inline: string[] | undefined;
  error: string | undefined;
  /** Attributes skipped while reading the current value. */
  attributes = 0;
  private stack: Frame[] = [];
  private bulk: BulkState | undefined;

  constructor(
    private readonly textCap: number,
    private readonly maxItems: number,
    private readonly allowInline: boolean,
  ) {}

  /** True while inside a value (some of it consumed). */
  get busy(): boolean {
    return this.stack.length > 0 || this.bulk !== undefined;
  }

  /** Consumes bytes from data[offset]; stops after one complete top-level value. Returns bytes consumed. */
  read(data: Buffer, offset: number): number {
    this.value = undefined;
    this.inline = undefined;
    let pos = offset;
    const end = data.length;
    while (pos < end && this.value === undefined && this.error === undefined) {
      if (this.bulk) {
        pos = this.readBulk(data, pos);
        continue;
      }
      const t = data[pos];
      if (!TYPE_BYTES.has(t)) {
        if (this.allowInline && this.stack.length === 0) pos = this.readInline(data, pos);
        else this.error = `invalid RESP type byte 0x${t.toString(16)}`;
        break;
      }
      const nl = data.indexOf(LF, pos + 1);
      if (nl < 0 || nl - pos > MAX_LINE) {
        if (end - pos > MAX_LINE) this.error = "RESP line too long";
        break;
      }
      if (data[nl - 1] !== CR) {
        this.error = "RESP line not ended by CRLF";
        break;
      }
      const s = pos + 1;
      const e = nl - 1;
      const next = nl + 1;
      switch (t) {
        case 0x2b: // + simple string
          this.complete({ kind: RedisKind.SIMPLE_STRING, text: data.toString("utf8", s, Math.min(e, s + this.textCap)) });
          break;
        case 0x2d: // - error
          this.complete({ kind: RedisKind.ERROR, text: data.toString("utf8", s, Math.min(e, s + this.textCap)) });
          break;
        case 0x3a: // : integer
          this.complete(integerNode(data.toString("latin1", s, e)));
          break;
        case 0x5f: // _ null
          this.complete({ kind: RedisKind.NULL });
          break;
        case 0x23: // # boolean
          if (e - s !== 1 || (data[s] !== 0x74 && data[s] !== 0x66)) this.error = "invalid RESP3 boolean";
          else this.complete({ kind: RedisKind.BOOLEAN, boolean: data[s] === 0x74 });
          break;
        case 0x2c: // , double
          this.complete(doubleNode(data.toString("latin1", s, e)));
          break;
        case 0x28: // ( big number
          this.complete({ kind: RedisKind.BIG_NUMBER, text: data.toString("latin1", s, Math.min(e, s + this.textCap)) });
          break;
        default: {
          const n = parseLength(data, s, e);
          if (n === undefined) {
            this.error = `invalid RESP length in ${String.fromCharCode(t)} header`;
            break;
          }
          if (t === 0x24 || t === 0x21 || t === 0x3d) {
            // $ bulk string, ! bulk error, = verbatim
            if (n < 0) {
              this.complete({ kind: RedisKind.NULL });
              break;
            }
            if (n > MAX_BULK) {
              this.error = `bulk length ${n} over ${MAX_BULK}`;
              break;
            }
            const kind = t === 0x24 ? RedisKind.BULK_STRING : t === 0x21 ? RedisKind.BULK_ERROR : RedisKind.VERBATIM;
            if (next + n + 2 <= end && t === 0x24) {
              // fast path: the whole bulk string is here; decode it in place, no copy
              if (data[next + n] !== CR || data[next + n + 1] !== LF) {
                this.error = "bulk string not followed by CRLF";
                break;
              }
              const node: RedisValueInit = { kind, size: n, text: data.toString("utf8", next, next + Math.min(n, this.textCap)) };
              if (n > this.textCap) node.truncated = true;
              pos = next + n + 2;
              this.complete(node);
              continue;
            }
            this.bulk = { node: { kind, size: n }, remaining: n, crlf: 2, parts: [], kept: 0, verbatim: t === 0x3d };
          } else {
            // * array, % map, ~ set, > push, | attribute
            if (n < 0) {
              this.complete({ kind: RedisKind.NULL });
              break;
            }
            if (n > MAX_COUNT) {
              this.error = `aggregate count ${n} too large`;
              break;
            }
            if (this.stack.length >= MAX_DEPTH) {
              this.error = `RESP nesting deeper than ${MAX_DEPTH}`;
              break;
            }
            const pairs = t === 0x25 || t === 0x7c;
            const kind = t === 0x2a ? RedisKind.ARRAY : t === 0x25 ? RedisKind.MAP : t === 0x7e ? RedisKind.SET : t === 0x3e ? RedisKind.PUSH : RedisKind.ATTRIBUTE;
            const node: RedisValueInit = { kind, size: n };
            const remaining = pairs ? n * 2 : n;
            if (remaining === 0) {
              if (t === 0x7c) this.attributes++;
              else this.complete(node);
            } else {
              this.stack.push({ node, elements: [], remaining, attribute: t === 0x7c });
            }
          }
        }
      }
      pos = next;
    }
    return pos - offset;
  }

  private readBulk(data: Buffer, pos: number): number {
    const b = this.bulk!;
    const end = data.length;
    if (b.remaining > 0) {
      const n = Math.min(b.remaining, end - pos);
      if (b.kept < this.textCap) {
        const k = Math.min(n, this.textCap - b.kept);
        b.parts.push(Buffer.from(data.subarray(pos, pos + k)));
        b.kept += k;
      }
      b.remaining -= n;
      pos += n;
    }
    while (b.remaining === 0 && b.crlf > 0 && pos < end) {
      if (data[pos] !== (b.crlf === 2 ? CR : LF)) {
        this.error = "bulk string not followed by CRLF";
        return pos;
      }
      b.crlf--;
      pos++;
    }
    if (b.remaining === 0 && b.crlf === 0) {
      this.bulk = undefined;
      const buf = b.parts.length === 1 ? b.parts[0] : Buffer.concat(b.parts);
      // verbatim: 3-byte format and ':' precede the text
      b.node.text = buf.toString("utf8", b.verbatim ? Math.min(4, buf.length) : 0);
      if (b.kept < b.node.size!) b.node.truncated = true;
      this.complete(b.node);
    }
    return pos;
  }

  private readInline(data: Buffer, pos: number): number {
    const nl = data.indexOf(LF, pos);
    if (nl < 0) {
      if (data.length - pos > MAX_LINE) this.error = "inline command too long";
      return pos;
    }
    const line = data.toString("utf8", pos, nl > pos && data[nl - 1] === CR ? nl - 1 : nl);
    const words = line.split(/[ \t]+/).filter((w) => w.length > 0);
    if (words.length) {
      this.inline = words;
      this.value = { kind: RedisKind.ARRAY, size: words.length, elements: words.map((w) => ({ kind: RedisKind.BULK_STRING, text: w })) };
    }
    return nl + 1;
  }

  private complete(v: RedisValueInit): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) {
        this.value = v;
        return;
      }
      if (!top.attribute) {
        if (top.elements.length < this.maxItems) top.elements.push(v);
        else top.node.truncated = true;
      }
      if (--top.remaining > 0) return;
      this.stack.pop();
      if (top.attribute) {
        // RESP3 attributes annotate the next value; they are counted, not kept
        this.attributes++;
        return;
      }
      top.node.elements = top.elements;
      v = top.node;
    }
  }
}

/** Signed decimal length from data[s, e); undefined when malformed or beyond 2^53. */
function parseLength(data: Buffer, s: number, e: number): number | undefined {
  let i = s;
  let neg = false;
  if (data[i] === 0x2d) {
    neg = true;
    i++;
  }
  if (i >= e || e - i > 15) return undefined;
  let n = 0;
  for (; i < e; i++) {
    const d = data[i] - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

function integerNode(s: string): RedisValueInit {
  const n = Number(s);
  const node: RedisValueInit = { kind: RedisKind.INTEGER, integer: Number.isFinite(n) ? n : 0 };
  if (!Number.isSafeInteger(n)) node.text = s; // int64 beyond 2^53 keeps its exact digits
  return node;
}

function doubleNode(s: string): RedisValueInit {
  const l = s.toLowerCase();
  const d = l === "inf" || l === "+inf" ? Infinity : l === "-inf" ? -Infinity : Number(s);
  return { kind: RedisKind.DOUBLE, double: d, text: s };
}
