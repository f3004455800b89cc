// A symmetric hash of a packet's flow, computed on the reading thread before dissection: both
// directions of a connection get the same value, so they reach the same shard and the same
// sampling decision.
import { decodeLink, IpProto, type PacketInfo } from "../decode/index.js";

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hexHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The flow hash of a frame (an unsigned 32-bit value), or -1 when it is not IP. XOR of the two
 * ends makes it symmetric. IP fragments hash by their address pair only (a non-first fragment
 * has no ports), so all fragments of a datagram stay together; an unfragmented packet of the
 * same flow may land elsewhere, a limit shared with RSS in NICs.
 */
export function flowHash(linktype: number, data: Buffer, p: PacketInfo): number {
  if (!decodeLink(linktype, data, p)) return -1;
  const ips = p.ipVersion === 4 ? (p.src4 ^ p.dst4) >>> 0 : hexHash(p.src6) ^ hexHash(p.dst6);
  let ports = 0;
  const fragmented = p.fragOffset !== 0 || p.moreFragments;
  if (!fragmented && (p.proto === IpProto.TCP || p.proto === IpProto.UDP) && p.l4Off + 4 <= p.l4End) {
    ports = p.l4.readUInt16BE(p.l4Off) ^ p.l4.readUInt16BE(p.l4Off + 2);
  }
  return fmix32(ips ^ Math.imul(ports + 1, 0x9e3779b1) ^ p.proto);
}
