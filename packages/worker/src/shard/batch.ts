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
  | { type: "finish" }
  /** New flows are detected with these dissectors from now on (registered names; empty = all). */
  | { type: "dissectors"; names: string[] }
  | { type: "k8s"; event: K8sEvent };

/** A pod or service change from the watch, replayed into each thread's own IpIndex. */
export interface K8sEvent {
  kind: "pod" | "service";
  op: "upsert" | "delete";
  obj: object;
}

/** Shard thread -> main thread. */
export type FromShard =
  /** `flows`: the flows the thread holds after the batch (lost if it dies now). */
  | { type: "done"; buf: ArrayBuffer; entries: ArrayBuffer | null; flows: number }
  | { type: "entries"; entries: ArrayBuffer | null }
  | { type: "stats"; stats: unknown }
  | { type: "finished"; entries: ArrayBuffer | null; stats: unknown };

/**
 * Entries travel back protobuf-encoded (the thread pays for encoding, the hub client forwards the
 * bytes): one ArrayBuffer of `length u32 LE | Entry bytes` records, transferred.
 */
export function packEntries(encoded: readonly Uint8Array[]): ArrayBuffer | null {
  if (!encoded.length) return null;
  let size = 0;
  for (const e of encoded) size += 4 + e.length;
  const ab = new ArrayBuffer(size);
  const buf = Buffer.from(ab);
  let off = 0;
  for (const e of encoded) {
    buf.writeUInt32LE(e.length, off);
    buf.set(e, off + 4);
    off += 4 + e.length;
  }
  return ab;
}

export function unpackEntries(ab: ArrayBuffer | null, onEntry: (bytes: Uint8Array) => void): void {
  if (!ab) return;
  const buf = Buffer.from(ab);
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt32LE(off);
    onEntry(buf.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
}

export interface ShardInit {
  shard: number;
  /** Restarts of this shard's thread so far: part of entry ids, which must not repeat. */
  generation: number;
  workerId: string;
  idPrefix: string;
  node: string;
  dissectors: string[];
  limits?: object;
  flowLimits?: object;
}
