// HPACK (RFC 7541): header block decoding with the static table, a dynamic table per direction,
// integer and string primitives and the canonical Huffman code.
//
//   Indexed Header Field          1xxxxxxx                          (§6.1, 7-bit index)
//   Literal with Incremental Idx  01xxxxxx  [name string] value     (§6.2.1, 6-bit name index)
//   Literal without Indexing      0000xxxx  [name string] value     (§6.2.2, 4-bit name index)
//   Literal Never Indexed         0001xxxx  [name string] value     (§6.2.3, 4-bit name index)
//   Dynamic Table Size Update     001xxxxx                          (§6.3, 5-bit max size)
//   String Literal                H xxxxxxx  octets                  (§5.2, H = Huffman)
//
// A capture may start after the connection did: the entries the dynamic table held then were
// never seen. References to them are reported (`unknownRefs`) and the field is left out; the
// names and values that are static or literal are kept. Nothing is guessed.
import { HUFFMAN_CODES } from "./huffman-codes.js";

// RFC 7541 Appendix A: the static table, index 1..61.
// prettier-ignore
const STATIC: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];
export const STATIC_TABLE_SIZE = STATIC.length;

// ---- Huffman (RFC 7541 §5.2, Appendix B) ----
// The code tree is walked four bits at a time: for each of the 256 internal nodes and each nibble,
// a precomputed step gives the next node and the symbol completed on the way (codes are at least
// five bits long, so a nibble completes at most one). Built from the code table at the first
// decode, not at load: `tapline dissect` of traffic without HTTP/2 does not pay for it.

/** Per (node, nibble): next node in bits 0..8, symbol + 1 in bits 9..17 (0 = none), FAIL bit on EOS or a dead end. */
const STEP = new Int32Array(256 * 16);
/** Per node: the bits read since the last symbol are all ones and fewer than eight (valid padding, §5.2). */
const ACCEPT = new Uint8Array(256);
const FAIL = 1 << 20;

let huffmanBuilt = false;

function buildHuffman(): void {
  huffmanBuilt = true;
  // tree: children[2*node + bit] = child node id (internal) or -(symbol + 1) (leaf); 0 = absent
  const children = new Int32Array(512);
  let nodes = 1;
  for (let sym = 0; sym < 257; sym++) {
    const code = HUFFMAN_CODES[2 * sym]!;
    const len = HUFFMAN_CODES[2 * sym + 1]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      const slot = 2 * node + bit;
      if (i === 0) children[slot] = -(sym + 1);
      else {
        if (children[slot] === 0) children[slot] = nodes++;
        node = children[slot]!;
      }
    }
  }
  for (let node = 0, n = 0; n < 8 && node >= 0; n++) {
    ACCEPT[node] = 1;
    node = children[2 * node + 1]! > 0 ? children[2 * node + 1]! : -1;
  }
  for (let start = 0; start < nodes; start++) {
    for (let nib = 0; nib < 16; nib++) {
      let node = start;
      let emitted = 0;
      let fail = 0;
      for (let b = 3; b >= 0; b--) {
        const c = children[2 * node + ((nib >>> b) & 1)]!;
        if (c < 0) {
          if (c === -257) fail = FAIL; // EOS inside a string is an error (§5.2)
          emitted = -c;
          node = 0;
        } else if (c === 0) fail = FAIL;
        else node = c;
      }
      STEP[start * 16 + nib] = node | (emitted << 9) | fail;
    }
  }
}

/** Decodes a Huffman string into latin1 text; undefined on a coding error (EOS, bad padding). */
export function huffmanDecode(buf: Buffer, start: number, end: number, scratch: Uint8Array): string | undefined {
  if (!huffmanBuilt) buildHuffman();
  let node = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    let s = STEP[node * 16 + (byte >>> 4)]!;
    if (s & FAIL) return undefined;
    if (s >>> 9) scratch[n++] = ((s >>> 9) & 0x1ff) - 1;
    node = s & 0x1ff;
    s = STEP[node * 16 + (byte & 15)]!;
    if (s & FAIL) return undefined;
    if (s >>> 9) scratch[n++] = ((s >>> 9) & 0x1ff) - 1;
    node = s & 0x1ff;
  }
  if (!ACCEPT[node]) return undefined;
  return Buffer.from(scratch.buffer, scratch.byteOffset, n).toString("latin1");
}

// ---- decoder ----

export interface HeaderField {
  name: string;
  value: string;
}

interface DynEntry {
  name: string;
  value: string;
  /** Inserted while the table's earlier contents were unknown and its name came from one of them. */
  unknown: boolean;
  size: number;
}

export interface DecodeResult {
  fields: HeaderField[];
  /** Fields that referenced dynamic table entries this capture never saw (left out of `fields`). */
  unknownRefs: number;
  /** Why the block could not be decoded, or "" when it was. */
  error: string;
}

/** Longest header name or value decoded; longer ones are a decoding error (the table would need them whole). */
const MAX_STRING = 1 << 20;

/**
 * One direction's HPACK decoding context (§2.2: one per direction of a connection).
 * `known` is false when the connection started before the capture: entries older than the
 * ones inserted since are then unknown.
 */
export class HpackDecoder {
  /** Entries, oldest first (index 62 is the last one). */
  private entries: DynEntry[] = [];
  private head = 0;
  private size = 0;
  private maxSize = 4096;
  private scratch = new Uint8Array(4096);
  known: boolean;
  /** Largest size the peer allowed (SETTINGS_HEADER_TABLE_SIZE); size updates above it are errors. */
  settingsMax = 4096;

  constructor(known: boolean) {
    this.known = known;
  }

  get dynamicCount(): number {
    return this.entries.length - this.head;
  }

  /** Decodes one complete header block. On error the table state is unreliable; the caller marks it unknown. */
  decode(buf: Buffer, start: number, end: number, maxFields: number): DecodeResult {
    const res: DecodeResult = { fields: [], unknownRefs: 0, error: "" };
    let p = start;
    let fieldsSeen = false;
    const int = { v: 0, p: 0 };
    while (p < end) {
      const b = buf[p]!;
      if (b & 0x80) {
        // §6.1 indexed
        if (!readInt(buf, p, end, 7, int)) return fail(res, "truncated index");
        p = int.p;
        fieldsSeen = true;
        const f = this.lookup(int.v);
        if (f === null) return fail(res, `index ${int.v} out of range`);
        if (f === undefined) res.unknownRefs++;
        else if (res.fields.length < maxFields) res.fields.push(f);
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only before the first field (§4.2)
        if (fieldsSeen) return fail(res, "table size update after a field");
        if (!readInt(buf, p, end, 5, int)) return fail(res, "truncated size update");
        p = int.p;
        if (int.v > this.settingsMax && int.v > 65536) return fail(res, `table size ${int.v} over the allowed ${this.settingsMax}`);
        this.maxSize = int.v;
        this.evict(0);
        if (int.v === 0) this.known = true; // an empty table is known again
        continue;
      }
      fieldsSeen = true;
      const incremental = (b & 0xc0) === 0x40;
      const prefix = incremental ? 6 : 4;
      if (!readInt(buf, p, end, prefix, int)) return fail(res, "truncated name index");
      p = int.p;
      let name: string | undefined;
      let nameUnknown = false;
      if (int.v === 0) {
        const s = this.readString(buf, p, end, int);
        if (s === undefined) return fail(res, "bad name string");
        name = s;
        p = int.p;
      } else {
        const f = this.lookup(int.v);
        if (f === null) return fail(res, `name index ${int.v} out of range`);
        if (f === undefined) nameUnknown = true;
        else name = f.name;
      }
      const value = this.readString(buf, p, end, int);
      if (value === undefined) return fail(res, "bad value string");
      p = int.p;
      if (nameUnknown) res.unknownRefs++;
      else if (res.fields.length < maxFields) res.fields.push({ name: name!, value });
      if (incremental) this.insert(name ?? "", value, nameUnknown);
    }
    return res;
  }

  /** Entry at `index`: a field, undefined when it is a dynamic entry this capture never saw, null when out of range. */
  private lookup(index: number): HeaderField | undefined | null {
    if (index === 0) return null;
    if (index <= STATIC_TABLE_SIZE) {
      const [name, value] = STATIC[index - 1]!;
      return { name, value };
    }
    const i = index - STATIC_TABLE_SIZE - 1;
    if (i < this.dynamicCount) {
      const e = this.entries[this.entries.length - 1 - i]!;
      return e.unknown ? undefined : { name: e.name, value: e.value };
    }
    // Past what we hold: older entries exist only if the table's start was missed (§2.3.3 otherwise).
    return this.known ? null : undefined;
  }

  private insert(name: string, value: string, unknown: boolean): void {
    // §4.1: entry size counts the octets of name and value plus 32
    const size = Buffer.byteLength(name, "latin1") + value.length + 32;
    this.evict(size);
    if (size > this.maxSize) return; // §4.4: a too-large entry empties the table and is not added
    this.entries.push({ name, value, unknown, size });
    this.size += size;
  }

  /** §4.4: evicts from the oldest end until `room` more octets fit. */
  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.head < this.entries.length) {
      this.size -= this.entries[this.head]!.size;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** §5.2 string literal at p; sets int.p past it. */
  private readString(buf: Buffer, p: number, end: number, int: { v: number; p: number }): string | undefined {
    if (p >= end) return undefined;
    const huff = (buf[p]! & 0x80) !== 0;
    if (!readInt(buf, p, end, 7, int)) return undefined;
    const len = int.v;
    const s = int.p;
    if (len > MAX_STRING || s + len > end) return undefined;
    int.p = s + len;
    if (!huff) return buf.toString("latin1", s, s + len);
    // a Huffman code is at least 5 bits, so len octets decode to at most 8*len/5 symbols
    const most = Math.ceil((len * 8) / 5);
    if (this.scratch.length < most) this.scratch = new Uint8Array(most * 2);
    return huffmanDecode(buf, s, s + len, this.scratch);
  }
}

/** §5.1 integer with an N-bit prefix at buf[p]; false when truncated or over 2^31. */
function readInt(buf: Buffer, p: number, end: number, prefix: number, out: { v: number; p: number }): boolean {
  const max = (1 << prefix) - 1;
  let v = buf[p]! & max;
  p++;
  if (v === max) {
    let shift = 0;
    for (;;) {
      if (p >= end || shift > 28) return false;
      const b = buf[p++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (v > 0x7fffffff) return false;
  }
  out.v = v;
  out.p = p;
  return true;
}

function fail(res: DecodeResult, error: string): DecodeResult {
  res.error = error;
  return res;
}
