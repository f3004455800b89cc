// The bytes of one direction that a dissector has not consumed yet, with the capture time of
// each appended piece so the driver can tell a dissector when the byte at its offset arrived.

export class DirBuffer {
  store: Buffer | null = null;
  start = 0;
  end = 0;
  /** Don't call feed again until `end` reaches this (the last `need`). */
  needUntil = 0;
  /** Timestamp of the newest byte. */
  lastNs = 0;
  // Parallel arrays: piece i ends at offset markEnd[i] and arrived at markTs[i].
  private markEnd: number[] = [];
  private markTs: number[] = [];
  private markHead = 0;

  get held(): number {
    return this.end - this.start;
  }

  /** Capture time of the byte at `at` (>= start; asked in increasing order). */
  firstNs(at: number): number {
    while (this.markHead < this.markEnd.length - 1 && this.markEnd[this.markHead] <= at) this.markHead++;
    return this.markHead < this.markTs.length ? this.markTs[this.markHead] : this.lastNs;
  }

  /** Copies buf[off, end) in. The caller has checked the caps. */
  append(buf: Buffer, off: number, end: number, tsNs: number): void {
    const len = end - off;
    if (len <= 0) return;
    if (this.start === this.end) this.reset();
    let store = this.store;
    if (!store || this.end + len > store.length) {
      const held = this.end - this.start;
      if (store && held + len <= store.length && this.start >= store.length / 2) {
        // Enough room once the consumed prefix is dropped.
        store.copyWithin(0, this.start, this.end);
      } else {
        // A first store under 4 KiB is a slice of Node's shared 8 KiB pool: no ArrayBuffer per
        // flow direction (one each cost 4-5% of CPU on many short Kafka/Redis flows).
        let size = store ? store.length : 2048;
        while (size < held + len) size *= 2;
        const grown = Buffer.allocUnsafe(size);
        if (store) store.copy(grown, 0, this.start, this.end);
        this.store = store = grown;
      }
      this.shiftMarks(this.start);
      this.needUntil = Math.max(0, this.needUntil - this.start);
      this.end = held;
      this.start = 0;
    }
    buf.copy(store, this.end, off, end);
    this.end += len;
    this.markEnd.push(this.end);
    this.markTs.push(tsNs);
    this.lastNs = tsNs;
  }

  /** Forgets everything held; returns how many bytes that was. Keeps a small store for reuse. */
  reset(): number {
    const n = this.end - this.start;
    this.start = this.end = this.needUntil = 0;
    this.markEnd.length = this.markTs.length = 0;
    this.markHead = 0;
    if (this.store && this.store.length > 65536) this.store = null;
    return n;
  }

  private shiftMarks(by: number): void {
    const ends = this.markEnd;
    const ts = this.markTs;
    let w = 0;
    for (let i = this.markHead; i < ends.length; i++) {
      const e = ends[i] - by;
      if (e <= 0) continue;
      ends[w] = e;
      ts[w] = ts[i];
      w++;
    }
    ends.length = ts.length = w;
    this.markHead = 0;
  }
}
