// Zero-copy split of a WorkerMessage carrying an EntryBatch: the entries are returned as views of
// the received buffer, so an entry the redactor leaves alone is stored as the bytes the worker
// sent (no re-encode). Protobuf wire format: https://protobuf.dev/programming-guides/encoding/
// WorkerMessage { oneof kind { hello = 1; batch = 2; stats = 3; pcap = 4; } }
// EntryBatch { string worker_id = 1; uint64 seq = 2; repeated Entry entries = 3; uint64 dropped_before = 4; }

export interface BatchView {
  workerId: string;
  seq: number;
  droppedBefore: number;
  /** Views into the received buffer (which nothing overwrites: they stay valid while referenced). */
  entries: Uint8Array[];
}

export class WireError extends Error {}

/** The field number of the WorkerMessage's oneof (0 when empty). Throws WireError on bad input. */
export function messageKind(buf: Uint8Array): { field: number; body: Uint8Array } {
  const r = new Reader(buf);
  let last = { field: 0, body: buf.subarray(0, 0) };
  while (r.pos < buf.length) {
    const tag = r.varint();
    const field = tag >>> 3;
    if ((tag & 7) === 2) last = { field, body: r.bytes() };
    else r.skip(tag & 7);
  }
  return last;
}

export function splitBatch(body: Uint8Array): BatchView {
  const r = new Reader(body);
  const out: BatchView = { workerId: "", seq: 0, droppedBefore: 0, entries: [] };
  while (r.pos < body.length) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2: out.workerId = Buffer.from(r.bytes()).toString("utf8"); break;
      case (2 << 3) | 0: out.seq = r.varint(); break;
      case (3 << 3) | 2: out.entries.push(r.bytes()); break;
      case (4 << 3) | 0: out.droppedBefore = r.varint(); break;
      default: r.skip(tag & 7);
    }
  }
  return out;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  /** Unsigned varint as a JS number (exact up to 2^53). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new WireError("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new WireError("varint too long");
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.buf.length - this.pos) throw new WireError("length past the end of the message");
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return view;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0: this.varint(); break;
      case 1: this.advance(8); break;
      case 2: this.bytes(); break;
      case 5: this.advance(4); break;
      default: throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.buf.length - this.pos) throw new WireError("truncated field");
    this.pos += n;
  }
}
