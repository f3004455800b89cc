// Bounds-checked reader for Kafka's primitive types.
// Spec: https://kafka.apache.org/protocol#protocol_types and KIP-482 (flexible versions).
//
//   Message      => Size:INT32 (bytes that follow, big-endian) Header Body
//   INT8/16/32/64 big-endian; UUID 16 bytes; BOOLEAN INT8
//   VARINT/VARLONG zig-zag LEB128 (records); UNSIGNED_VARINT LEB128 (KIP-482 lengths, tags)
//   STRING          INT16 length N >= 0, then N UTF-8 bytes      NULLABLE_STRING: N = -1 is null
//   COMPACT_STRING  UNSIGNED_VARINT N+1, then N bytes           COMPACT_NULLABLE_STRING: 0 is null
//   BYTES / COMPACT_BYTES and the nullable forms: as strings, INT32 length for BYTES
//   ARRAY           INT32 count (-1 null)  COMPACT_ARRAY  UNSIGNED_VARINT count+1 (0 null)
//   TAGGED_FIELDS   UNSIGNED_VARINT n, then n x (tag:UNSIGNED_VARINT size:UNSIGNED_VARINT data[size])
//
// Nothing throws: a read past `end` sets `ok = false`, moves to `end` and returns a zero value,
// so a decoder reads a whole structure and checks `ok` once. Lengths are checked against the
// bytes left before anything is allocated for them.

/** Strings kept from the wire are cut to this many bytes (topic names are at most 249). */
export const MAX_STRING_BYTES = 1024;

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;
  ok = true;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Re-targets the reader (lets one reader serve a whole stream without allocating). */
  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.ok = true;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(): void {
    this.ok = false;
    this.pos = this.end;
  }

  private has(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    this.fail();
    return false;
  }

  skip(n: number): void {
    if (n < 0 || !this.has(n)) return this.fail();
    this.pos += n;
  }

  i8(): number {
    if (!this.has(1)) return 0;
    return this.buf.readInt8(this.pos++);
  }

  i16(): number {
    if (!this.has(2)) return 0;
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(): number {
    if (!this.has(4)) return 0;
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u32(): number {
    if (!this.has(4)) return 0;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** INT64 as a JS number: exact up to 2^53, which covers offsets and millisecond timestamps. */
  i64(): number {
    if (!this.has(8)) return 0;
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  /** UNSIGNED_VARINT, at most 5 bytes (32 bits). */
  uvarint(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) {
        this.fail();
        return 0;
      }
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    this.fail();
    return 0;
  }

  /** Zig-zag VARINT / VARLONG (records), up to 10 bytes; exact up to 2^53. */
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) {
        this.fail();
        return 0;
      }
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    }
    this.fail();
    return 0;
  }

  /** Length of a STRING/COMPACT_STRING (or the nullable forms): -1 for null, checked against what is left. */
  private strLen(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.i16();
    if (n < -1 || n > this.end - this.pos) {
      this.fail();
      return -1;
    }
    return n;
  }

  /** A (nullable) string, decoded; null for a null string or on failure. Kept strings are cut to MAX_STRING_BYTES. */
  str(compact: boolean): string | null {
    const n = this.strLen(compact);
    if (n < 0) return null;
    const start = this.pos;
    this.pos += n;
    return this.buf.toString("utf8", start, start + Math.min(n, MAX_STRING_BYTES));
  }

  /** Skips a (nullable) string without decoding it. */
  skipStr(compact: boolean): void {
    const n = this.strLen(compact);
    if (n > 0) this.pos += n;
  }

  /** Length of BYTES/COMPACT_BYTES (or nullable): -1 for null; the data starts at `pos` and the caller advances. */
  bytesLen(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.i32();
    if (n < -1 || n > this.end - this.pos) {
      this.fail();
      return -1;
    }
    return n;
  }

  skipBytes(compact: boolean): void {
    const n = this.bytesLen(compact);
    if (n > 0) this.pos += n;
  }

  /**
   * ARRAY/COMPACT_ARRAY count, -1 for null. Every element takes at least `minElem` bytes, so a
   * count larger than the bytes left is rejected before any loop runs.
   */
  arrayLen(compact: boolean, minElem = 1): number {
    const n = compact ? this.uvarint() - 1 : this.i32();
    if (n < -1 || n * minElem > this.end - this.pos) {
      this.fail();
      return -1;
    }
    return n;
  }

  uuid(): string {
    if (!this.has(16)) return "";
    const s = this.buf.toString("hex", this.pos, this.pos + 16);
    this.pos += 16;
    return s;
  }

  /** TAGGED_FIELDS when `flexible`: skipped (no tag this dissector needs carries data users see). */
  tags(flexible: boolean): void {
    if (!flexible) return;
    let n = this.uvarint();
    if (n > this.end - this.pos) return this.fail();
    while (n-- > 0 && this.ok) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}
