// A group of rows for the store's writer thread (store/writer.ts) packed into one buffer, so that
// handing a group over is one transfer instead of a structured clone of every value (the cost that
// sank the first writer thread: +10-15 µs CPU per entry). Per row, in order:
//   each of the insert's values (rowid, id, worker_id, then the COLUMNS):
//     text value:   u32 LE its length in UTF-16 units
//     number value: f64 LE
//   the text values one after the other: u32 LE byte length, UTF-16 LE
//   the encoded entry: u32 LE byte length, bytes
// The row's text is copied (and, in the thread, read back) once, not value by value: ~15 text
// values a row made 15 calls each way (bench entries: pack 3.2-3.9 -> 2.1-2.2 µs, unpack
// 1.3-1.4 -> 0.7 µs per row). UTF-16, not UTF-8: the thread gets back the very strings, lone
// surrogates included, so SQLite stores the same bytes as when this connection binds them
// (UTF-8 turned a lone surrogate into U+FFFD, where binding stores its 3-byte form).
// Which values are text is fixed per store (`textValues`, sent to the thread once).
// The thread's reader is plain JavaScript inside writer.ts (it runs from an eval'd source); the
// round trip through the real thread is tested in store/store.test.ts.
import type { NewRow } from "./store.js";

const MIN_CAPACITY = 256 << 10;

export class RowPacker {
  private buf: Buffer;
  private pos = 0;
  private readonly spare: Buffer[] = [];
  /** Rows packed since the last take(). */
  count = 0;
  /** Encoded entry bytes packed since the last take(). */
  dataBytes = 0;

  /** `textValues[i]`: value i of a row (rowid, id, worker_id, COLUMNS…) is text, else a number. */
  constructor(private readonly textValues: readonly boolean[]) {
    this.buf = Buffer.allocUnsafeSlow(MIN_CAPACITY);
  }

  add(row: NewRow, rowid: number): void {
    const cols = row.columns;
    // At most 8 bytes per value (a number, or a text's length), 2 per UTF-16 unit of text.
    let units = row.id.length + row.workerId.length;
    for (let i = 0; i < cols.length; i++) {
      const v = cols[i];
      if (this.textValues[3 + i]) units += typeof v === "string" ? v.length : String(v).length;
    }
    this.reserve(8 * (3 + cols.length) + 4 + units * 2 + 4 + row.data.length);
    const buf = this.buf;
    let pos = this.pos;
    buf.writeDoubleLE(rowid, pos);
    buf.writeUInt32LE(row.id.length, pos + 8);
    buf.writeUInt32LE(row.workerId.length, pos + 12);
    pos += 16;
    let text = row.id + row.workerId;
    for (let i = 0; i < cols.length; i++) {
      const v = cols[i];
      if (this.textValues[3 + i]) {
        const s = typeof v === "string" ? v : String(v);
        buf.writeUInt32LE(s.length, pos);
        pos += 4;
        text += s;
      } else {
        buf.writeDoubleLE(typeof v === "number" ? v : Number(v), pos);
        pos += 8;
      }
    }
    const n = buf.write(text, pos + 4, "utf16le");
    buf.writeUInt32LE(n, pos);
    this.pos = pos + 4 + n;
    this.buf.writeUInt32LE(row.data.length, this.pos);
    this.buf.set(row.data, this.pos + 4);
    this.pos += 4 + row.data.length;
    this.count++;
    this.dataBytes += row.data.length;
  }

  /**
   * The packed rows (their buffer is to be transferred); the packer starts empty again, in a
   * buffer given back by recycle() when there is one (fresh external memory for every group
   * made V8 collect more often).
   */
  take(): { bytes: Uint8Array; count: number } {
    const out = { bytes: new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos), count: this.count };
    const spare = this.spare.pop();
    this.buf = spare && spare.length >= this.pos ? spare : Buffer.allocUnsafeSlow(Math.max(MIN_CAPACITY, this.pos));
    this.pos = 0;
    this.count = 0;
    this.dataBytes = 0;
    return out;
  }

  /** A buffer that came back from the writer thread (at most a few are kept). */
  recycle(bytes: Uint8Array): void {
    if (this.spare.length < 3) this.spare.push(Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength));
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
