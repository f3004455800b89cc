// One direction of a TCP connection, put back in sequence order (RFC 9293 §3.4, §3.10.7.4),
// in the shape of gopacket's tcpassembly: in-order bytes are delivered at once as views of the
// packet (zero copy); only out-of-order bytes are copied and queued, against a byte budget.
//
// Overlaps and retransmissions: FIRST-SEEN WINS. Bytes already delivered, or already queued,
// are never replaced by a later segment covering the same sequence numbers; the later
// segment contributes only the bytes nobody sent before (Linux keeps the first copy the same way).
//
// Holes: a hole is waited for until the oldest queued segment is older than `gapTimeoutNs`, or
// the queue outgrows the per-flow cap; then it is skipped and reported as a gap.

/** Signed distance a - b between two 32-bit sequence numbers (RFC 1982 serial arithmetic). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Shared accounting of bytes held by reassembly and flow buffers, with a global cap. */
export class ByteBudget {
  used = 0;
  peak = 0;
  constructor(readonly cap: number) {}
  /** Reserves n bytes; false (nothing reserved) when that would pass the cap. */
  take(n: number): boolean {
    if (this.used + n > this.cap) return false;
    this.used += n;
    if (this.used > this.peak) this.peak = this.used;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
}

/** Receives the in-order bytes of one direction. `buf` is valid only during the call. */
export interface HalfStreamSink {
  bytes(buf: Buffer, off: number, end: number, tsNs: number): void;
  /** `missing` bytes were skipped; data after the hole follows. */
  gap(missing: number, tsNs: number): void;
}

export interface HalfStreamStats {
  /** Segments wholly before the next expected byte (retransmissions, duplicates). */
  retransmitted: number;
  /** Segments that arrived ahead of a hole and were queued. */
  outOfOrder: number;
  /** Bytes of partly-new segments dropped because they overlapped bytes seen first. */
  overlapBytes: number;
  gaps: number;
  gapBytes: number;
}

interface Queued {
  seq: number;
  data: Buffer;
  tsNs: number;
}

export class HalfStream {
  /** Next expected sequence number; -1 until the first SYN or segment sets it (mid-stream start). */
  nextSeq = -1;
  /** Sequence number just after the last data byte once a FIN was seen; -1 before. */
  finSeq = -1;
  queuedBytes = 0;
  private queue: Queued[] = [];

  constructor(
    private readonly sink: HalfStreamSink,
    private readonly budget: ByteBudget,
    private readonly stats: HalfStreamStats,
  ) {}

  /** True when the FIN's sequence number has been reached. */
  get finished(): boolean {
    return this.finSeq >= 0 && this.nextSeq >= 0 && seqDiff(this.nextSeq, this.finSeq) >= 0;
  }

  get oldestQueuedNs(): number {
    return this.queue.length ? this.queue[0].tsNs : -1;
  }

  /** A SYN (or SYN-ACK) from this direction: its sequence number is the ISN; data starts after it. */
  syn(seq: number): void {
    if (this.nextSeq < 0) this.nextSeq = (seq + 1) >>> 0;
  }

  /**
   * One segment's payload buf[off, end) starting at sequence `seq`. Returns false if the
   * bytes could not be queued within the budget (the caller drops the flow).
   */
  segment(seq: number, buf: Buffer, off: number, end: number, tsNs: number, fin: boolean): boolean {
    const len = end - off;
    if (this.nextSeq < 0) this.nextSeq = seq; // mid-stream: the first segment seen starts the stream
    if (fin) this.finSeq = (seq + len) >>> 0;
    if (len === 0) return true;
    const d = seqDiff(seq, this.nextSeq);
    if (d + len <= 0) {
      this.stats.retransmitted++;
      return true;
    }
    if (d <= 0) {
      if (d < 0) this.stats.overlapBytes += -d;
      this.nextSeq = (this.nextSeq + len + d) >>> 0;
      this.sink.bytes(buf, off - d, end, tsNs);
      if (this.queue.length) this.drain();
      return true;
    }
    this.stats.outOfOrder++;
    return this.enqueue(seq, buf, off, end, tsNs);
  }

  /** Skips the first hole if it is older than `gapTimeoutNs` (or unconditionally with `force`). */
  skipHole(nowNs: number, gapTimeoutNs: number, force = false): void {
    while (this.queue.length && (force || nowNs - this.queue[0].tsNs > gapTimeoutNs)) {
      const head = this.queue[0];
      const missing = seqDiff(head.seq, this.nextSeq);
      if (missing > 0) {
        this.stats.gaps++;
        this.stats.gapBytes += missing;
        this.nextSeq = head.seq;
        this.sink.gap(missing, head.tsNs);
      }
      this.drain();
      if (!force) break;
    }
  }

  /**
   * The peer acknowledged up to `ack`: bytes before it that were never captured will not come
   * (the peer had them), so a hole below `ack` is skipped at once instead of waiting.
   */
  skipAcked(ack: number): void {
    while (this.queue.length && seqDiff(ack, this.nextSeq) > 0 && seqDiff(this.queue[0].seq, this.nextSeq) > 0 && seqDiff(ack, this.queue[0].seq) >= 0) {
      const head = this.queue[0];
      const missing = seqDiff(head.seq, this.nextSeq);
      this.stats.gaps++;
      this.stats.gapBytes += missing;
      this.nextSeq = head.seq;
      this.sink.gap(missing, head.tsNs);
      this.drain();
    }
  }

  /** Forgets queued bytes (flow dropped or closed), returning them to the budget. */
  clear(): number {
    const n = this.queuedBytes;
    this.budget.give(n);
    this.queuedBytes = 0;
    this.queue = [];
    return n;
  }

  private enqueue(seq: number, buf: Buffer, off: number, end: number, tsNs: number): boolean {
    // Keep only the parts of [seq, seq+len) that no queued segment already holds (first seen wins).
    let pieces: number[] = [0, end - off];
    for (const q of this.queue) {
      const qs = seqDiff(q.seq, seq);
      const qe = qs + q.data.length;
      const next: number[] = [];
      for (let i = 0; i < pieces.length; i += 2) {
        const a = pieces[i];
        const b = pieces[i + 1];
        if (qe <= a || qs >= b) {
          next.push(a, b);
          continue;
        }
        if (a < qs) next.push(a, qs);
        if (qe < b) next.push(qe, b);
      }
      pieces = next;
      if (!pieces.length) break;
    }
    let added = 0;
    for (let i = 0; i < pieces.length; i += 2) added += pieces[i + 1] - pieces[i];
    this.stats.overlapBytes += end - off - added;
    if (added === 0) return true;
    if (!this.budget.take(added)) return false;
    this.queuedBytes += added;
    for (let i = 0; i < pieces.length; i += 2) {
      const data = Buffer.from(buf.subarray(off + pieces[i], off + pieces[i + 1]));
      this.queue.push({ seq: (seq + pieces[i]) >>> 0, data, tsNs });
    }
    const base = this.nextSeq;
    this.queue.sort((x, y) => seqDiff(x.seq, base) - seqDiff(y.seq, base));
    return true;
  }

  private drain(): void {
    let i = 0;
    while (i < this.queue.length) {
      const q = this.queue[i];
      const d = seqDiff(q.seq, this.nextSeq);
      if (d > 0) break;
      i++;
      const len = q.data.length;
      this.queuedBytes -= len;
      this.budget.give(len);
      if (d + len <= 0) continue;
      this.nextSeq = (this.nextSeq + len + d) >>> 0;
      this.sink.bytes(q.data, -d, len, q.tsNs);
    }
    if (i) this.queue.splice(0, i);
  }
}
