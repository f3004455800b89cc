// pcapng block writers (draft-ietf-opsawg-pcapng §4): the Section Header Block, an Interface
// Description Block with if_tsresol = 9 (nanoseconds) and Enhanced Packet Blocks. Pure: each
// returns a new Buffer in the host's (little-endian) byte order, which the SHB's byte-order
// magic declares.

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;

const pad4 = (n: number) => (n + 3) & ~3;

/** A Section Header Block; `comment` becomes its opt_comment (e.g. why an export is partial). */
export function sectionHeader(comment = ""): Buffer {
  const text = Buffer.from(comment, "utf8").subarray(0, 0xfff0);
  // options: opt_comment (code 1, value padded to 4 bytes), then opt_endofopt
  const options = text.length ? 4 + ((text.length + 3) & ~3) + 4 : 0;
  const total = 28 + options;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(SHB, 0);
  b.writeUInt32LE(total, 4);
  b.writeUInt32LE(BYTE_ORDER_MAGIC, 8);
  b.writeUInt16LE(1, 12); // major
  b.writeUInt16LE(0, 14); // minor
  b.writeBigInt64LE(-1n, 16); // section length unknown
  if (text.length) {
    b.writeUInt16LE(1, 24);
    b.writeUInt16LE(text.length, 26);
    text.copy(b, 28);
  }
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** An interface with the given linktype and nanosecond timestamps. */
export function interfaceDescription(linktype: number, snaplen = 262_144): Buffer {
  // body: linktype u16, reserved u16, snaplen u32, option if_tsresol (4 + 1 padded to 8), end of options (4)
  const total = 8 + 8 + 8 + 4 + 4;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(IDB, 0);
  b.writeUInt32LE(total, 4);
  b.writeUInt16LE(linktype, 8);
  b.writeUInt32LE(snaplen, 12);
  b.writeUInt16LE(OPT_IF_TSRESOL, 16);
  b.writeUInt16LE(1, 18);
  b.writeUInt8(9, 20); // 10^-9 s
  b.writeUInt16LE(OPT_ENDOFOPT, 24);
  b.writeUInt16LE(0, 26);
  b.writeUInt32LE(total, 28);
  return b;
}

/** Writes an Enhanced Packet Block into `out` at `off`; returns the new offset. `out` must hold epbSize(data.length) bytes. */
export function writePacketBlock(out: Buffer, off: number, interfaceId: number, tsNs: number, data: Buffer, origLen: number): number {
  const total = epbSize(data.length);
  out.writeUInt32LE(EPB, off);
  out.writeUInt32LE(total, off + 4);
  out.writeUInt32LE(interfaceId, off + 8);
  // Split the ns timestamp without BigInt: JS numbers hold it to ~256 ns, the schema's precision.
  const hi = Math.floor(tsNs / 4294967296);
  out.writeUInt32LE(hi, off + 12);
  out.writeUInt32LE(tsNs - hi * 4294967296, off + 16);
  out.writeUInt32LE(data.length, off + 20);
  out.writeUInt32LE(origLen, off + 24);
  data.copy(out, off + 28);
  out.fill(0, off + 28 + data.length, off + total - 4);
  out.writeUInt32LE(total, off + total - 4);
  return off + total;
}

export function epbSize(caplen: number): number {
  return 28 + pad4(caplen) + 4;
}
