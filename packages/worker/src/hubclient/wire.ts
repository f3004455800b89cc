// A WorkerMessage{batch} assembled from entries that are already protobuf-encoded (by a
// dissecting thread, or by send()): the entries' bytes are copied once into the message, never
// decoded. Protobuf wire format: https://protobuf.dev/programming-guides/encoding/
// WorkerMessage { oneof kind { ... EntryBatch batch = 2; ... } }
// EntryBatch { string worker_id = 1; uint64 seq = 2; repeated Entry entries = 3; uint64 dropped_before = 4; }

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, off: number, n: number): number {
  // Exact for integers up to 2^53 (seq values are Date.now()*1000 + count).
  while (n >= 128) {
    buf[off++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[off++] = n;
  return off;
}

export function encodeBatchMessage(workerId: string, seq: number, entries: readonly Uint8Array[]): Uint8Array {
  const id = Buffer.from(workerId, "utf8");
  let body = 1 + varintSize(id.length) + id.length + 1 + varintSize(seq);
  for (const e of entries) body += 1 + varintSize(e.length) + e.length;
  const buf = Buffer.allocUnsafe(1 + varintSize(body) + body);
  let off = 0;
  buf[off++] = (2 << 3) | 2;
  off = writeVarint(buf, off, body);
  buf[off++] = (1 << 3) | 2;
  off = writeVarint(buf, off, id.length);
  off += id.copy(buf, off);
  buf[off++] = (2 << 3) | 0;
  off = writeVarint(buf, off, seq);
  for (const e of entries) {
    buf[off++] = (3 << 3) | 2;
    off = writeVarint(buf, off, e.length);
    buf.set(e, off);
    off += e.length;
  }
  return buf;
}
