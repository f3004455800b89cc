// RECORDS fields (Produce requests, Fetch responses): record batches and legacy message sets.
// Spec: https://kafka.apache.org/documentation/#recordbatch and #messageset (KIP-98 for magic 2).
//
//   RecordBatch (magic 2) => baseOffset:INT64 batchLength:INT32 partitionLeaderEpoch:INT32 magic:INT8
//       crc:UINT32 attributes:INT16 lastOffsetDelta:INT32 baseTimestamp:INT64 maxTimestamp:INT64
//       producerId:INT64 producerEpoch:INT16 baseSequence:INT32 recordsCount:INT32 records...
//     attributes bits 0-2: compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd); the records
//     that follow the header are compressed as one block when compression != 0.
//   Record => length:VARINT attributes:INT8 timestampDelta:VARLONG offsetDelta:VARINT
//       keyLength:VARINT key valueLength:VARINT value headersCount:VARINT
//       [headerKeyLength:VARINT headerKey headerValueLength:VARINT headerValue]
//   Legacy message (magic 0/1) => offset:INT64 messageSize:INT32 crc:INT32 magic:INT8 attributes:INT8
//       [timestamp:INT64 if magic 1] key:BYTES value:BYTES
// A Fetch response may end in a partial batch (the broker cuts at max_bytes); it is ignored.
import { gunzipSync } from "node:zlib";
import type { HeaderInit, KafkaRecordInit } from "@tapline/protocol";
import type { DissectLimits } from "../types.js";
import { MAX_STRING_BYTES, Reader } from "./wire.js";

const BATCH_HEADER = 61; // bytes from baseOffset through recordsCount
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

/** What is kept across one message: the items budget and warnings (each warning once). */
export interface MessageScratch {
  limits: DissectLimits;
  items: number;
  warnings: string[];
}

export function warnOnce(s: MessageScratch, w: string): void {
  if (!s.warnings.includes(w)) s.warnings.push(w);
}

export interface RecordSet {
  count: number;
  records: KafkaRecordInit[];
}

function copyOut(buf: Buffer, start: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, start, start + n);
  return out;
}

/** Reads the record batches in buf[start, end). Never throws; keeps at most `s.items` records. */
export function readRecordSet(buf: Buffer, start: number, end: number, s: MessageScratch): RecordSet {
  const set: RecordSet = { count: 0, records: [] };
  let pos = start;
  while (end - pos >= 17) {
    const batchLength = buf.readInt32BE(pos + 8);
    const batchEnd = pos + 12 + batchLength;
    if (batchLength < 0 || batchEnd > end) break; // partial trailing batch
    const magic = buf.readInt8(pos + 16);
    if (magic === 2) readBatchV2(buf, pos, batchEnd, s, set);
    else if (magic === 0 || magic === 1) readLegacyMessage(buf, pos, batchEnd, magic, s, set);
    else {
      warnOnce(s, `record batch with unknown magic ${magic}`);
      break;
    }
    pos = batchEnd;
  }
  return set;
}

function readBatchV2(buf: Buffer, pos: number, end: number, s: MessageScratch, set: RecordSet): void {
  if (end - pos < BATCH_HEADER) {
    warnOnce(s, "record batch shorter than its header");
    return;
  }
  const baseOffset = new Reader(buf, pos, pos + 8).i64();
  const attributes = buf.readInt16BE(pos + 21);
  const baseTimestamp = new Reader(buf, pos + 27, pos + 35).i64();
  const count = buf.readInt32BE(pos + 57);
  if (count < 0) {
    warnOnce(s, "record batch with a negative record count");
    return;
  }
  set.count += count;
  if (s.items <= 0) return;
  const codec = attributes & 7;
  let r: Reader;
  if (codec === 0) r = new Reader(buf, pos + BATCH_HEADER, end);
  else if (codec === 1) {
    let plain: Buffer;
    try {
      plain = gunzipSync(buf.subarray(pos + BATCH_HEADER, end), { maxOutputLength: s.limits.maxDecodedBytes });
    } catch {
      warnOnce(s, `gzip record batch not decoded (corrupt or over ${s.limits.maxDecodedBytes} bytes)`);
      return;
    }
    r = new Reader(plain);
  } else {
    warnOnce(s, `${CODECS[codec] ?? `codec ${codec}`} record batch: records counted, not decoded`);
    return;
  }
  for (let i = 0; i < count && s.items > 0 && r.remaining > 0; i++) {
    const rec = readRecord(r, baseOffset, baseTimestamp, s);
    if (!rec) {
      warnOnce(s, "malformed record in batch");
      return;
    }
    set.records.push(rec);
    s.items--;
  }
}

function readRecord(r: Reader, baseOffset: number, baseTimestamp: number, s: MessageScratch): KafkaRecordInit | null {
  const length = r.varint();
  if (!r.ok || length < 0 || length > r.remaining) return null;
  const end = r.pos + length;
  const outerEnd = r.end;
  r.end = end;
  r.i8(); // attributes: unused by the protocol today
  const tsDelta = r.varint();
  const offsetDelta = r.varint();
  const rec: KafkaRecordInit = { offset: baseOffset + offsetDelta, timestampMs: baseTimestamp + tsDelta };
  const key = cappedVarBytes(r, s.limits.maxBodyBytes);
  const value = cappedVarBytes(r, s.limits.maxBodyBytes);
  if (key) {
    rec.key = key.data;
    rec.keySize = key.size;
  }
  if (value) {
    rec.value = value.data;
    rec.valueSize = value.size;
  }
  if ((key && key.data.length < key.size) || (value && value.data.length < value.size)) rec.truncated = true;
  const nHeaders = r.varint();
  if (nHeaders < 0 || nHeaders * 2 > r.remaining) r.fail();
  const headers: HeaderInit[] = [];
  for (let i = 0; i < nHeaders && r.ok; i++) {
    const name = varString(r);
    const value = varString(r);
    if (headers.length < s.limits.maxItems) headers.push({ name, value });
  }
  if (headers.length > 0) rec.headers = headers;
  const ok = r.ok;
  r.end = outerEnd;
  r.pos = end;
  return ok ? rec : null;
}

/** VARINT-length bytes (-1 null) copied out up to `cap` bytes; null for a null field. */
function cappedVarBytes(r: Reader, cap: number): { data: Buffer; size: number } | null {
  const n = r.varint();
  if (n < 0) return null;
  if (n > r.remaining) {
    r.fail();
    return null;
  }
  const data = copyOut(r.buf, r.pos, Math.min(n, cap));
  r.pos += n;
  return { data, size: n };
}

function varString(r: Reader): string {
  const n = r.varint();
  if (n < 0) return "";
  if (n > r.remaining) {
    r.fail();
    return "";
  }
  const s = r.buf.toString("utf8", r.pos, r.pos + Math.min(n, MAX_STRING_BYTES));
  r.pos += n;
  return s;
}

function readLegacyMessage(buf: Buffer, pos: number, end: number, magic: number, s: MessageScratch, set: RecordSet): void {
  const r = new Reader(buf, pos, end);
  const offset = r.i64();
  r.skip(4 + 4 + 1); // messageSize, crc, magic
  const attributes = r.i8();
  const timestampMs = magic === 1 ? r.i64() : 0;
  set.count += 1;
  if ((attributes & 7) !== 0) {
    // the value is a compressed inner message set; one wrapper counted
    warnOnce(s, `${CODECS[attributes & 7] ?? "compressed"} legacy message set: inner messages not decoded`);
    return;
  }
  if (s.items <= 0) return;
  const rec: KafkaRecordInit = { offset, timestampMs };
  for (const field of ["key", "value"] as const) {
    const n = r.bytesLen(false);
    if (n < 0) continue;
    const kept = Math.min(n, s.limits.maxBodyBytes);
    rec[field] = copyOut(buf, r.pos, kept);
    rec[field === "key" ? "keySize" : "valueSize"] = n;
    if (kept < n) rec.truncated = true;
    r.pos += n;
  }
  if (!r.ok) return warnOnce(s, "malformed legacy message");
  set.records.push(rec);
  s.items--;
}
