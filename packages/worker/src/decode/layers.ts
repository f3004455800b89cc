// Link, network and transport decoders: pure functions over Buffer + offset that fill a
// caller-owned, reused PacketInfo (no allocation per packet). They never throw: a frame too
// short for its headers returns false.

export const Linktype = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const IpProto = { TCP: 6, UDP: 17 } as const;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** One decoded packet. Reused: copy what you keep. */
export interface PacketInfo {
  /** TLS plaintext synthesized by tapline-capture --tls (SLL2 ARPHRD 0xFFFD), not wire bytes. */
  tls: boolean;
  /**
   * Captured on the loopback of a meshed pod (tapline-capture --mesh, SLL2 ARPHRD 0xFFFC): the
   * network namespace's inode, else 0. Loopback 4-tuples repeat across pods, so flows are kept
   * apart by it.
   */
  meshNs: number;
  /** 4 or 6; 0 when the frame carries no IP packet. */
  ipVersion: number;
  /** IPv4 addresses as unsigned 32-bit numbers. */
  src4: number;
  dst4: number;
  /** IPv6 addresses as 32 hex digits (only for ipVersion 6). */
  src6: string;
  dst6: string;
  /** IP protocol of the transport header (6 TCP, 17 UDP, ...). */
  proto: number;
  /** Where the IP payload (transport header) lives: the frame, or a reassembled datagram. */
  l4: Buffer;
  l4Off: number;
  l4End: number;
  /** Set for an IP fragment: the fragment's offset in bytes, whether more follow, and the datagram id. */
  fragOffset: number;
  moreFragments: boolean;
  fragId: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  tcpFlags: number;
  payloadOff: number;
  payloadEnd: number;
}

export function newPacketInfo(): PacketInfo {
  return {
    tls: false,
    meshNs: 0,
    ipVersion: 0,
    src4: 0,
    dst4: 0,
    src6: "",
    dst6: "",
    proto: 0,
    l4: Buffer.alloc(0),
    l4Off: 0,
    l4End: 0,
    fragOffset: 0,
    moreFragments: false,
    fragId: 0,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    tcpFlags: 0,
    payloadOff: 0,
    payloadEnd: 0,
  };
}

/** native/src/sll2.h: the ARPHRD type tapline-capture puts on SSL_read/SSL_write plaintext. */
export const ARPHRD_TLS_PLAINTEXT = 0xfffd;
/** native/src/sll2.h: loopback of a meshed pod; address = proxy pid, netns inode (big-endian u32 each). */
export const ARPHRD_MESH_LOOPBACK = 0xfffc;

// Big-endian reads by index: Buffer#readUInt16BE/32BE validate their offset in a JS wrapper,
// which costs on every packet until the optimizing compiler inlines them (a 200 MB file is
// read in half a second, much of it before then). Callers check the bounds first.
function u16(b: Buffer, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/**
 * Strips the link layer and decodes the IP header. Returns false when the frame is not IP
 * or is too short. Fills ip fields, proto, l4/l4Off/l4End and fragment fields.
 */
export function decodeLink(linktype: number, buf: Buffer, out: PacketInfo): boolean {
  return decodeLinkAt(linktype, buf, 0, buf.length, out);
}

/**
 * decodeLink of the frame buf[start, end) (a record inside a reader's chunk, without a view made
 * for it); the offsets it fills in are into `buf`.
 */
export function decodeLinkAt(linktype: number, buf: Buffer, start: number, end: number, out: PacketInfo): boolean {
  let off: number;
  let etherType: number;
  out.tls = false;
  out.meshNs = 0;
  switch (linktype) {
    case Linktype.ETHERNET: {
      if (end - start < 14) return false;
      off = start + 12;
      etherType = u16(buf, off);
      // IEEE 802.1Q / 802.1ad / old QinQ tags: 4 bytes each, possibly stacked.
      while ((etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100) && off + 6 <= end) {
        off += 4;
        etherType = u16(buf, off);
      }
      off += 2;
      break;
    }
    case Linktype.RAW:
    case Linktype.IPV4:
    case Linktype.IPV6:
    case 12: // DLT_RAW on OpenBSD-derived writers
    case 14: {
      if (end - start < 1) return false;
      off = start;
      const v = buf[start] >> 4;
      etherType = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
      break;
    }
    case Linktype.LINUX_SLL: // packet type, ARPHRD, addr len, addr[8], protocol
      if (end - start < 16) return false;
      off = start + 16;
      etherType = u16(buf, start + 14);
      break;
    case Linktype.LINUX_SLL2: // protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr[8]
      if (end - start < 20) return false;
      off = start + 20;
      etherType = u16(buf, start);
      const hatype = u16(buf, start + 8);
      out.tls = hatype === ARPHRD_TLS_PLAINTEXT;
      if (hatype === ARPHRD_MESH_LOOPBACK) out.meshNs = buf[start + 11] >= 8 ? u32(buf, start + 16) || 1 : 1;
      break;
    case Linktype.NULL:
    case Linktype.LOOP: {
      // A 4-byte address family; NULL is in the writer's byte order, LOOP in network order.
      if (end - start < 4) return false;
      off = start + 4;
      let fam = u32(buf, start);
      if (fam > 0xffff) fam = buf.readUInt32LE(start);
      etherType = fam === 2 ? ETH_IPV4 : fam === 10 || fam === 24 || fam === 28 || fam === 30 ? ETH_IPV6 : 0;
      break;
    }
    default:
      return false;
  }
  if (etherType === ETH_IPV4) return decodeIPv4(buf, off, out, end);
  if (etherType === ETH_IPV6) return decodeIPv6(buf, off, out, end);
  return false;
}

/** RFC 791 §3.1. Header checksums are not checked: captures of offloaded traffic carry bad ones. */
export function decodeIPv4(buf: Buffer, off: number, out: PacketInfo, limit = buf.length): boolean {
  if (off + 20 > limit) return false;
  const vihl = buf[off];
  if (vihl >> 4 !== 4) return false;
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20 || off + ihl > limit) return false;
  const total = u16(buf, off + 2);
  // Trust the shorter of the IP length and what was captured (Ethernet pads small frames).
  const end = Math.min(off + Math.max(total, ihl), limit);
  const frag = u16(buf, off + 6);
  out.ipVersion = 4;
  out.fragId = u16(buf, off + 4);
  out.moreFragments = (frag & 0x2000) !== 0;
  out.fragOffset = (frag & 0x1fff) * 8;
  out.proto = buf[off + 9];
  out.src4 = u32(buf, off + 12);
  out.dst4 = u32(buf, off + 16);
  out.l4 = buf;
  out.l4Off = off + ihl;
  out.l4End = end;
  return true;
}

/** RFC 8200 §3-4: fixed header, then extension headers until a transport protocol. */
export function decodeIPv6(buf: Buffer, off: number, out: PacketInfo, limit = buf.length): boolean {
  if (off + 40 > limit) return false;
  if (buf[off] >> 4 !== 6) return false;
  const end = Math.min(off + 40 + buf.readUInt16BE(off + 4), limit);
  let next = buf[off + 6];
  out.ipVersion = 6;
  out.src6 = buf.toString("hex", off + 8, off + 24);
  out.dst6 = buf.toString("hex", off + 24, off + 40);
  out.fragOffset = 0;
  out.moreFragments = false;
  out.fragId = 0;
  let p = off + 40;
  for (let hops = 0; hops < 16; hops++) {
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      if (p + 8 > end) return false;
      next = buf[p];
      p += (buf[p + 1] + 1) * 8;
    } else if (next === 51) {
      if (p + 8 > end) return false; // RFC 4302 §2.2: AH length is in 4-byte units minus 2
      next = buf[p];
      p += (buf[p + 1] + 2) * 4;
    } else if (next === 44) {
      if (p + 8 > end) return false; // RFC 8200 §4.5
      const fo = buf.readUInt16BE(p + 2);
      out.fragOffset = fo & 0xfff8;
      out.moreFragments = (fo & 1) !== 0;
      out.fragId = buf.readUInt32BE(p + 4);
      next = buf[p];
      p += 8;
    } else break;
  }
  if (p > end) return false;
  out.proto = next;
  out.l4 = buf;
  out.l4Off = p;
  out.l4End = end;
  return true;
}

/** RFC 9293 §3.1. Fills ports, seq/ack, flags and the payload range; false if the header is short. */
export function decodeTcp(out: PacketInfo): boolean {
  const buf = out.l4;
  const off = out.l4Off;
  if (off + 20 > out.l4End) return false;
  const dataOff = (buf[off + 12] >> 4) * 4;
  if (dataOff < 20 || off + dataOff > out.l4End) return false;
  out.srcPort = u16(buf, off);
  out.dstPort = u16(buf, off + 2);
  out.seq = u32(buf, off + 4);
  out.ack = u32(buf, off + 8);
  out.tcpFlags = buf[off + 13];
  out.payloadOff = off + dataOff;
  out.payloadEnd = out.l4End;
  return true;
}

/** RFC 768. The payload ends at the UDP length when it is consistent with the IP payload. */
export function decodeUdp(out: PacketInfo): boolean {
  const buf = out.l4;
  const off = out.l4Off;
  if (off + 8 > out.l4End) return false;
  out.srcPort = u16(buf, off);
  out.dstPort = u16(buf, off + 2);
  const ulen = u16(buf, off + 4);
  out.payloadOff = off + 8;
  out.payloadEnd = ulen >= 8 && off + ulen <= out.l4End ? off + ulen : out.l4End;
  return true;
}

/** Dotted quad for an IPv4 address held as a u32. */
export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952 text form of an IPv6 address given as 32 hex digits (longest zero run compressed). */
export function ipv6ToString(hex: string): string {
  const groups: string[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16).toString(16));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLen).join(":")}`;
}
