// Packets travel to a shard thread in batches: one ArrayBuffer, transferred (not copied) with
// postMessage and handed back for reuse once the thread has dissected it.
//
// record = caplen u32 LE | linktype u32 LE | tsNs f64 LE | caplen bytes | padding to 8 bytes
// (tsNs is the same double the reader produced, so nothing is lost in transit).

export const RECORD_HEADER = 16;
/** Bytes per batch buffer: large enough for the biggest record (256 KiB snaplen) several times over. */
export const BATCH_BYTES = 1024 * 1024;

export function recordSize(caplen: number): number {
  return (RECORD_HEADER + caplen + 7) & ~7;
}

/** Writes one record at `off`; the caller checked that it fits. Returns the next offset. */
export function writeRecord(buf: Buffer, off: number, linktype: number, tsNs: number, data: Buffer): number {
  buf.writeUInt32LE(data.length, off);
  buf.writeUInt32LE(linktype, off + 4);
  buf.writeDoubleLE(tsNs, off + 8);
  data.copy(buf, off + RECORD_HEADER);
  return off + recordSize(data.length);
}

/** Calls `onPacket` for each record in buf[0, used); `data` is a view valid during the call. */
export function readRecords(buf: Buffer, used: number, onPacket: (linktype: number, tsNs: number, data: Buffer) => void): void {
  let off = 0;
  while (off + RECORD_HEADER <= used) {
    const caplen = buf.readUInt32LE(off);
    const start = off + RECORD_HEADER;
    onPacket(buf.readUInt32LE(off + 4), buf.readDoubleLE(off + 8), buf.subarray(start, start + caplen));
    off += recordSize(caplen);
  }
}

/** Main thread -> shard thread. */
export type ToShard =
  | { type: "batch"; buf: ArrayBuffer; used: number }
  | { type: "tick"; nowNs: number }
  | { type: "stats" }
  | { type: "finish" };

/** Shard thread -> main thread. */
export type FromShard =
  | { type: "done"; buf: ArrayBuffer; entries: unknown[] }
  | { type: "entries"; entries: unknown[] }
  | { type: "stats"; stats: unknown }
  | { type: "finished"; entries: unknown[]; stats: unknown };

export interface ShardInit {
  shard: number;
  idPrefix: string;
  node: string;
  dissectors: string[];
  limits?: object;
  flowLimits?: object;
}
