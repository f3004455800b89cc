// A group of rows for the store's writer thread (store/writer.ts) packed into one buffer, so that
// handing a group over is one transfer instead of a structured clone of every value (the cost that
// sank the first writer thread: +10-15 µs CPU per entry). Per row, in order: each of the insert's
// values (rowid, id, worker_id, then the COLUMNS), then the encoded entry:
//   text value:   u32 LE byte length, UTF-8 bytes
//   number value: f64 LE
//   entry:        u32 LE byte length, bytes
// Which values are text is fixed per store (`textValues`, sent to the thread once).
// The thread's reader is plain JavaScript inside writer.ts (it runs from an eval'd source); the
// round trip through the real thread is tested in store/writer.test.ts.
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
    // Worst case: 3 UTF-8 bytes per UTF-16 unit, 8 per number, 4 per length.
    let need = 16 + row.data.length + 4 + row.id.length * 3 + row.workerId.length * 3;
    for (const v of row.columns) need += typeof v === "string" ? 4 + v.length * 3 : 8;
    this.reserve(need);
    this.buf.writeDoubleLE(rowid, this.pos);
    this.pos += 8;
    this.text(row.id);
    this.text(row.workerId);
    const cols = row.columns;
    for (let i = 0; i < cols.length; i++) {
      const v = cols[i];
      if (this.textValues[3 + i]) this.text(typeof v === "string" ? v : String(v));
      else {
        this.buf.writeDoubleLE(typeof v === "number" ? v : Number(v), this.pos);
        this.pos += 8;
      }
    }
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

  private text(s: string): void {
    const n = this.buf.write(s, this.pos + 4, "utf8");
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
