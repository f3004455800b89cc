// Merge of several capture streams (pcapng, or classic pcap) into one time-ordered pcapng.
// pcapng: draft-ietf-opsawg-pcapng. Every block: type u32, total length u32, body, total length u32.
// Section Header Block 0x0A0D0D0A (byte-order magic 0x1A2B3C4D), Interface Description Block 1
// (linktype u16, reserved u16, snaplen u32, options; if_tsresol = option 9), Enhanced Packet
// Block 6 (interface id u32, timestamp high u32, low u32, captured len, original len, data, options).
// Classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html): 24-byte header with magic
// 0xA1B2C3D4 (µs) or 0xA1B23C4D (ns), then records ts_sec, ts_frac, incl_len, orig_len, data.
// Interfaces are renumbered across inputs; EPBs are copied with their interface id patched.

export class PcapFormatError extends Error {}

interface Packet {
  /** Nanoseconds since the epoch, for ordering only. */
  ns: bigint;
  block: Buffer;
}

interface Parsed {
  idbs: Buffer[];
  packets: Packet[];
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;

export interface MergeResult {
  data: Buffer;
  packets: number;
  interfaces: number;
}

/** `comment`: put in the section header (opt_comment), e.g. which workers did not answer. */
export function mergeCaptures(inputs: Buffer[], comment = ""): MergeResult {
  const idbs: Buffer[] = [];
  const packets: Packet[] = [];
  for (const input of inputs) {
    if (input.length === 0) continue;
    const parsed = parseCapture(input, idbs.length);
    idbs.push(...parsed.idbs);
    for (const p of parsed.packets) packets.push(p);
  }
  // Stable sort: packets with equal timestamps keep their input order.
  packets.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  const shb = block(SHB, (() => {
    const text = Buffer.from(comment, "utf8").subarray(0, 0xfff0);
    // Options: opt_comment (code 1, padded to 4 bytes), then opt_endofopt.
    const options = text.length ? 4 + ((text.length + 3) & ~3) + 4 : 0;
    const b = Buffer.alloc(16 + options);
    b.writeUInt32LE(0x1a2b3c4d, 0);
    b.writeUInt16LE(1, 4);
    b.writeUInt16LE(0, 6);
    b.writeBigInt64LE(-1n, 8); // section length unknown
    if (text.length) {
      b.writeUInt16LE(1, 16);
      b.writeUInt16LE(text.length, 18);
      text.copy(b, 20);
    }
    return b;
  })());
  const data = Buffer.concat([shb, ...idbs, ...packets.map((p) => p.block)]);
  return { data, packets: packets.length, interfaces: idbs.length };
}

function block(type: number, body: Buffer): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export function parseCapture(buf: Buffer, firstInterface: number): Parsed {
  if (buf.length < 24) throw new PcapFormatError("capture shorter than a header");
  const magicLE = buf.readUInt32LE(0);
  if (magicLE === SHB) return parsePcapng(buf, firstInterface);
  for (const [magic, nano] of [[0xa1b2c3d4, false], [0xa1b23c4d, true]] as const) {
    if (magicLE === magic) return parsePcap(buf, firstInterface, true, nano);
    if (buf.readUInt32BE(0) === magic) return parsePcap(buf, firstInterface, false, nano);
  }
  throw new PcapFormatError(`not a pcap or pcapng stream (magic 0x${magicLE.toString(16)})`);
}

function parsePcapng(buf: Buffer, firstInterface: number): Parsed {
  const out: Parsed = { idbs: [], packets: [] };
  // Per section: the output index and tick length (ns per unit) of each of its interfaces.
  let ifaces: { index: number; unitNs: number; unitDiv: number }[] = [];
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const type = buf.readUInt32LE(pos);
    if (type === SHB) {
      if (buf.readUInt32LE(pos + 8) !== 0x1a2b3c4d) throw new PcapFormatError("big-endian pcapng sections are not supported");
      ifaces = [];
    }
    const total = buf.readUInt32LE(pos + 4);
    if (total < 12 || total % 4 !== 0) throw new PcapFormatError(`bad block length ${total} at ${pos}`);
    if (pos + total > buf.length) break; // truncated last block: the stream ended mid-block
    const body = buf.subarray(pos + 8, pos + total - 4);
    if (type === IDB) {
      if (body.length < 8) throw new PcapFormatError(`short interface block at ${pos}`);
      const res = tsresol(body);
      ifaces.push({ index: firstInterface + out.idbs.length, ...res });
      out.idbs.push(Buffer.from(buf.subarray(pos, pos + total)));
    } else if (type === EPB) {
      if (body.length < 20) throw new PcapFormatError(`short packet block at ${pos}`);
      const iface = ifaces[body.readUInt32LE(0)];
      if (!iface) throw new PcapFormatError(`packet for unknown interface ${body.readUInt32LE(0)} at ${pos}`);
      const ticks = (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8));
      const copy = Buffer.from(buf.subarray(pos, pos + total));
      copy.writeUInt32LE(iface.index, 8);
      out.packets.push({ ns: (ticks * BigInt(iface.unitNs)) / BigInt(iface.unitDiv), block: copy });
    }
    pos += total;
  }
  return out;
}

/** if_tsresol (option 9) as ns = ticks * unitNs / unitDiv; default microseconds. */
function tsresol(idbBody: Buffer): { unitNs: number; unitDiv: number } {
  let p = 8;
  while (p + 4 <= idbBody.length) {
    const code = idbBody.readUInt16LE(p);
    const len = idbBody.readUInt16LE(p + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1 && p + 4 < idbBody.length) {
      const v = idbBody[p + 4];
      if (v & 0x80) return { unitNs: 1e9, unitDiv: 2 ** Math.min(52, v & 0x7f) };
      return v <= 9 ? { unitNs: 10 ** (9 - v), unitDiv: 1 } : { unitNs: 1, unitDiv: 10 ** Math.min(15, v - 9) };
    }
    p += 4 + ((len + 3) & ~3);
  }
  return { unitNs: 1000, unitDiv: 1 };
}

function parsePcap(buf: Buffer, firstInterface: number, le: boolean, nano: boolean): Parsed {
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const snaplen = u32(16);
  const linktype = u32(20) & 0xffff;
  // IDB body: linktype, reserved, snaplen, then if_tsresol=9 for nanosecond files, opt_endofopt.
  const idbBody = Buffer.alloc(nano ? 20 : 8);
  idbBody.writeUInt16LE(linktype, 0);
  idbBody.writeUInt32LE(snaplen, 4);
  if (nano) {
    idbBody.writeUInt16LE(9, 8);
    idbBody.writeUInt16LE(1, 10);
    idbBody[12] = 9;
  }
  const out: Parsed = { idbs: [block(IDB, idbBody)], packets: [] };
  const unit = nano ? 1n : 1000n;
  const perSec = nano ? 1_000_000_000n : 1_000_000n;
  let pos = 24;
  while (pos + 16 <= buf.length) {
    const sec = BigInt(u32(pos));
    const frac = BigInt(u32(pos + 4));
    const incl = u32(pos + 8);
    const orig = u32(pos + 12);
    if (incl > 262144 * 4) throw new PcapFormatError(`record length ${incl} too large at ${pos}`);
    if (pos + 16 + incl > buf.length) break; // truncated last record
    const ticks = sec * perSec + frac;
    const body = Buffer.alloc(20 + incl);
    body.writeUInt32LE(firstInterface, 0);
    body.writeUInt32LE(Number(ticks >> 32n), 4);
    body.writeUInt32LE(Number(ticks & 0xffffffffn), 8);
    body.writeUInt32LE(incl, 12);
    body.writeUInt32LE(orig, 16);
    buf.copy(body, 20, pos + 16, pos + 16 + incl);
    out.packets.push({ ns: ticks * unit, block: block(EPB, body) });
    pos += 16 + incl;
  }
  return out;
}
