// Incremental reader for classic pcap and pcapng, fed chunk by chunk from any byte stream.
//
// Classic pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html §4-5):
//   file header (24 bytes): magic u32 | major u16 | minor u16 | reserved u32 x2 | snaplen u32 | linktype u32
//     magic a1b2c3d4 = µs timestamps, a1b23c4d = ns timestamps; read in either byte order.
//   record header (16 bytes): ts_sec u32 | ts_frac u32 | caplen u32 | origlen u32, then caplen bytes.
// pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-01.html §3-4):
//   block = type u32 | total_len u32 | body | total_len u32, padded to 4 bytes.
//   SHB 0x0a0d0d0a (byte-order magic 1a2b3c4d starts a section and resets interfaces),
//   IDB 1 (linktype u16, reserved u16, snaplen u32, options: if_tsresol=9, if_tsoffset=14),
//   EPB 6 (if_id, ts_hi, ts_lo, caplen, origlen, data), SPB 3 (origlen, data; interface 0).
//
// Ownership: the `data` handed to onPacket is a view into the reader's current chunk, valid
// only during the callback. The reader copies nothing per packet; the only copy is the tail of
// a chunk that ends mid-record, joined with the next chunk.

/** A file/stream that is not a capture at all (or uses a format this reader does not know). */
export class CaptureFormatError extends Error {
  override name = "CaptureFormatError";
}

export type PacketHandler = (linktype: number, tsNs: number, data: Buffer, origLen: number) => void;

/**
 * A PacketHandler without a view per packet: the record is data[start, end) of the reader's
 * chunk (lent for the call, as `data` above). Making a Buffer view for every record was ~3% of a
 * dissect of a 200 MB file.
 */
export type PacketRangeHandler = (linktype: number, tsNs: number, data: Buffer, start: number, end: number, origLen: number) => void;

/** What a reader hands records to: a view per packet, or ranges of its chunk. */
export type PacketSink = PacketHandler | { onRange: PacketRangeHandler };

export interface ReaderStats {
  format: "pcap" | "pcapng" | "";
  packets: number;
  bytes: number;
  /** Records cut off by the end of the stream (a truncated file). */
  truncated: number;
  /** Records/blocks that could not be parsed (bogus lengths, unknown interface); reading stopped or skipped. */
  badRecords: number;
  /** Why reading stopped before the end of the stream, if it did. */
  stoppedReason: string;
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** Largest record accepted: 256 KiB is libpcap's MAXIMUM_SNAPLEN; a bigger caplen means a corrupt file. */
const MAX_RECORD = 262_144;
/** Largest pcapng block accepted (IDB/SHB options can be long, but not megabytes). */
const MAX_BLOCK = 16 * 1024 * 1024;

interface Iface {
  linktype: number;
  snaplen: number;
  /** Multiply ts units by this to get ns (for resolutions coarser than or equal to 1 ns). */
  mul: number;
  /** Divide ts units by this (for resolutions finer than 1 ns). */
  div: number;
  offsetNs: number;
}

// Record headers read by index: Buffer#readUInt32LE validates its offset in a JS wrapper on
// every call until the optimizing compiler inlines it. Callers check the bounds first.
function u32le(b: Buffer, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

function u32be(b: Buffer, o: number): number {
  return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

export class PcapReader {
  readonly stats: ReaderStats = { format: "", packets: 0, bytes: 0, truncated: 0, badRecords: 0, stoppedReason: "" };
  private rest: Buffer | null = null;
  private le = true;
  private nsPcap = false;
  private linktype = 0;
  private headerDone = false;
  private stopped = false;
  private ifaces: Iface[] = [];

  private readonly onRange: PacketRangeHandler;

  constructor(sink: PacketSink) {
    if (typeof sink === "function") this.onRange = (lt, ts, data, start, end, origLen) => sink(lt, ts, data.subarray(start, end), origLen);
    else this.onRange = sink.onRange;
  }

  /** True once reading stopped for good (a corrupt record); later chunks are ignored. */
  get done(): boolean {
    return this.stopped;
  }

  /** Feeds the next chunk. Throws CaptureFormatError only when the stream's first bytes are not a capture. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    let buf = chunk;
    if (this.rest && this.headerDone) {
      // Complete the record split across chunks by copying only its own bytes, then go on in
      // the new chunk itself (joining whole chunks would copy every byte once more).
      let rest: Buffer = this.rest;
      for (;;) {
        const need = this.recordSize(rest); // grows from the header size to the record size
        if (rest.length >= need) break;
        if (buf.length === 0) {
          this.rest = rest;
          return;
        }
        const take = Math.min(need - rest.length, buf.length);
        rest = Buffer.concat([rest, buf.subarray(0, take)]);
        buf = buf.subarray(take);
      }
      this.rest = null;
      const used = this.stats.format === "pcap" ? this.readPcap(rest, 0) : this.readPcapng(rest, 0);
      if (this.stopped) return;
      if (used < rest.length) {
        this.rest = Buffer.concat([rest.subarray(used), buf]);
        buf = this.rest;
        this.rest = null;
      }
    } else if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let off = 0;
    if (!this.headerDone) {
      const used = this.readHeader(buf);
      if (used < 0) {
        this.rest = Buffer.from(buf); // the chunk is lent: the caller may reuse it
        return;
      }
      off = used;
    }
    off = this.stats.format === "pcap" ? this.readPcap(buf, off) : this.readPcapng(buf, off);
    if (!this.stopped && off < buf.length) this.rest = Buffer.from(buf.subarray(off));
  }

  /** The stream ended: counts a partial record as truncated. Throws CaptureFormatError for an empty/short non-capture. */
  end(): ReaderStats {
    if (!this.headerDone) {
      const n = this.rest?.length ?? 0;
      throw new CaptureFormatError(n === 0 ? "empty input: not a pcap/pcapng capture" : `input too short (${n} bytes) for a pcap/pcapng header`);
    }
    if (this.rest && this.rest.length > 0 && !this.stopped) {
      this.stats.truncated++;
      this.stats.stoppedReason ||= `truncated record at end of input (${this.rest.length} bytes)`;
    }
    this.rest = null;
    return this.stats;
  }

  private stop(reason: string): number {
    this.stopped = true;
    this.stats.badRecords++;
    this.stats.stoppedReason = reason;
    this.rest = null;
    return Number.MAX_SAFE_INTEGER;
  }

  /** Size of the record/block starting `b` (its header size while the header is incomplete). */
  private recordSize(b: Buffer): number {
    if (this.stats.format === "pcap") {
      if (b.length < 16) return 16;
      const caplen = this.le ? b.readUInt32LE(8) : b.readUInt32BE(8);
      return caplen > MAX_RECORD ? 16 : 16 + caplen;
    }
    if (b.length < 12) return 12;
    const total = this.le ? b.readUInt32LE(4) : b.readUInt32BE(4);
    return total < 12 || total > MAX_BLOCK ? 12 : total;
  }

  /** Bytes of file header consumed, or -1 when more bytes are needed to decide. */
  private readHeader(buf: Buffer): number {
    if (buf.length < 4) return -1;
    const magicLe = buf.readUInt32LE(0);
    const magicBe = buf.readUInt32BE(0);
    if (magicLe === PCAPNG_SHB) {
      this.stats.format = "pcapng";
      this.headerDone = true;
      return 0; // the SHB itself is parsed as the first block

    }
    for (const [magic, le] of [
      [magicLe, true],
      [magicBe, false],
    ] as const) {
      if (magic === PCAP_US || magic === PCAP_NS) {
        if (buf.length < 24) return -1;
        this.le = le;
        this.nsPcap = magic === PCAP_NS;
        this.linktype = (le ? buf.readUInt32LE(20) : buf.readUInt32BE(20)) & 0x0fff_ffff; // upper bits: FCS info
        this.stats.format = "pcap";
        this.headerDone = true;
        return 24;
      }
    }
    throw new CaptureFormatError(
      `not a pcap/pcapng capture (first bytes ${buf.subarray(0, 4).toString("hex")}; expected a1b2c3d4, a1b23c4d or 0a0d0d0a)`,
    );
  }

  private readPcap(buf: Buffer, off: number): number {
    const le = this.le;
    const lt = this.linktype;
    const mul = this.nsPcap ? 1 : 1000;
    const len = buf.length;
    while (off + 16 <= len) {
      const sec = le ? u32le(buf, off) : u32be(buf, off);
      const frac = le ? u32le(buf, off + 4) : u32be(buf, off + 4);
      const caplen = le ? u32le(buf, off + 8) : u32be(buf, off + 8);
      const origLen = le ? u32le(buf, off + 12) : u32be(buf, off + 12);
      if (caplen > MAX_RECORD) return this.stop(`corrupt record at byte offset ~${this.stats.bytes}: caplen ${caplen} > ${MAX_RECORD}`);
      const end = off + 16 + caplen;
      if (end > len) break;
      this.stats.packets++;
      this.stats.bytes += caplen;
      this.onRange(lt, sec * 1e9 + frac * mul, buf, off + 16, end, origLen);
      if (this.stopped) return len;
      off = end;
    }
    return off;
  }

  private readPcapng(buf: Buffer, off: number): number {
    const len = buf.length;
    while (off + 12 <= len) {
      // The SHB's type reads the same in both byte orders; its byte-order magic decides the
      // order of everything in its section.
      const type = this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
      if (type === PCAPNG_SHB) {
        const bom = buf.readUInt32LE(off + 8);
        if (bom === PCAPNG_BOM) this.le = true;
        else if (buf.readUInt32BE(off + 8) === PCAPNG_BOM) this.le = false;
        else return this.stop("pcapng section header with a bad byte-order magic");
      }
      const total = this.le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) return this.stop(`corrupt pcapng block length ${total}`);
      if (off + total > len) break;
      const body = off + 8;
      const bodyEnd = off + total - 4;
      switch (type) {
        case PCAPNG_SHB:
          this.ifaces = [];
          break;
        case 1:
          this.readIdb(buf, body, bodyEnd);
          break;
        case 6:
          this.readEpb(buf, body, bodyEnd);
          break;
        case 3:
          this.readSpb(buf, body, bodyEnd);
          break;
        default:
          break; // name resolution, statistics, custom blocks: not needed for dissection
      }
      if (this.stopped) return len;
      off += total;
    }
    return off;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  }

  private u16(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
  }

  private readIdb(buf: Buffer, body: number, end: number): void {
    if (end - body < 8) {
      this.stats.badRecords++;
      this.ifaces.push({ linktype: -1, snaplen: 0, mul: 1000, div: 1, offsetNs: 0 });
      return;
    }
    const iface: Iface = { linktype: this.u16(buf, body), snaplen: this.u32(buf, body + 4), mul: 1000, div: 1, offsetNs: 0 };
    let o = body + 8;
    while (o + 4 <= end) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      const v = o + 4;
      if (code === 0 || v + olen > end) break;
      if (code === 9 && olen >= 1) {
        // if_tsresol: MSB clear = 10^-n seconds, set = 2^-n seconds.
        const r = buf[v];
        const unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        if (unitsPerSec <= 1e9) {
          iface.mul = 1e9 / unitsPerSec;
          iface.div = 1;
        } else {
          iface.mul = 1;
          iface.div = unitsPerSec / 1e9;
        }
      } else if (code === 14 && olen >= 8) {
        // if_tsoffset: seconds added to every timestamp (signed 64).
        const hi = this.le ? buf.readInt32LE(v + 4) : buf.readInt32BE(v);
        const lo = this.le ? buf.readUInt32LE(v) : buf.readUInt32BE(v + 4);
        iface.offsetNs = (hi * 4294967296 + lo) * 1e9;
      }
      o = v + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
  }

  private readEpb(buf: Buffer, body: number, end: number): void {
    if (end - body < 20) {
      this.stats.badRecords++;
      return;
    }
    const iface = this.ifaces[this.u32(buf, body)];
    const caplen = this.u32(buf, body + 12);
    if (!iface || iface.linktype < 0 || body + 20 + caplen > end) {
      this.stats.badRecords++;
      return;
    }
    const units = this.u32(buf, body + 4) * 4294967296 + this.u32(buf, body + 8);
    const tsNs = (iface.div === 1 ? units * iface.mul : units / iface.div) + iface.offsetNs;
    this.stats.packets++;
    this.stats.bytes += caplen;
    this.onRange(iface.linktype, tsNs, buf, body + 20, body + 20 + caplen, this.u32(buf, body + 16));
  }

  private readSpb(buf: Buffer, body: number, end: number): void {
    const iface = this.ifaces[0];
    if (!iface || iface.linktype < 0 || end - body < 4) {
      this.stats.badRecords++;
      return;
    }
    const origLen = this.u32(buf, body);
    // §4.4: captured length = min(original length, snaplen), bounded by the block; no timestamp.
    let caplen = Math.min(origLen, end - body - 4);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    this.stats.packets++;
    this.stats.bytes += caplen;
    this.onRange(iface.linktype, 0, buf, body + 4, body + 4 + caplen, origLen);
  }
}
