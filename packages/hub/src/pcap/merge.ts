// Merge of several capture streams (the workers' pcapng answers, or classic pcap) into one
// time-ordered pcapng. Reading and writing use the worker's capture-format modules, so the
// project has one pcap/pcapng reader: every input packet is re-written as an Enhanced Packet
// Block on one interface per link type, with nanosecond timestamps; the packet bytes and
// original lengths are kept as captured.
import { CaptureFormatError, PcapReader, epbSize, interfaceDescription, sectionHeader, writePacketBlock } from "@tapline/worker/pcap";

export class PcapFormatError extends Error {}

interface Packet {
  tsNs: number;
  linktype: number;
  data: Buffer;
  origLen: number;
}

export interface MergeResult {
  data: Buffer;
  packets: number;
  interfaces: number;
}

/** Packets of one capture, in order; a truncated last record is dropped, a non-capture throws. */
export function parseCapture(buf: Buffer): Packet[] {
  const packets: Packet[] = [];
  const reader = new PcapReader((linktype, tsNs, data, origLen) => packets.push({ tsNs, linktype, data: Buffer.from(data), origLen }));
  try {
    reader.push(buf);
    reader.end();
  } catch (err) {
    if (err instanceof CaptureFormatError) throw new PcapFormatError(err.message);
    throw err;
  }
  if (reader.stats.badRecords > 0) throw new PcapFormatError(`bad capture record: ${reader.stats.stoppedReason || "unreadable"}`);
  return packets;
}

/** `comment`: put in the section header (opt_comment), e.g. which workers did not answer. */
export function mergeCaptures(inputs: Buffer[], comment = ""): MergeResult {
  const packets: Packet[] = [];
  for (const input of inputs) if (input.length) for (const p of parseCapture(input)) packets.push(p);
  // Stable sort: packets with equal timestamps keep their input order.
  packets.sort((a, b) => a.tsNs - b.tsNs);
  const interfaces = new Map<number, number>();
  const idbs: Buffer[] = [];
  for (const p of packets) {
    if (interfaces.has(p.linktype)) continue;
    interfaces.set(p.linktype, interfaces.size);
    idbs.push(interfaceDescription(p.linktype));
  }
  const body = Buffer.allocUnsafe(packets.reduce((n, p) => n + epbSize(p.data.length), 0));
  let off = 0;
  for (const p of packets) off = writePacketBlock(body, off, interfaces.get(p.linktype)!, p.tsNs, p.data, p.origLen);
  return { data: Buffer.concat([sectionHeader(comment), ...idbs, body]), packets: packets.length, interfaces: idbs.length };
}
