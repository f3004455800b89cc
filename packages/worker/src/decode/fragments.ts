// Bounded IP fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6). Only the
// IP payload is rebuilt; fragments are copied because they outlive the frame they came in.
import type { PacketInfo } from "./layers.js";

export interface FragmentLimits {
  /** Datagrams being reassembled at once; the oldest is dropped beyond it. */
  maxDatagrams: number;
  /** Bytes held in fragments across all datagrams. */
  maxBytes: number;
  /** A datagram whose first fragment is older than this is dropped. */
  timeoutNs: number;
}

export const defaultFragmentLimits: FragmentLimits = { maxDatagrams: 1024, maxBytes: 4 * 1024 * 1024, timeoutNs: 30e9 };

/** Largest IP payload: a 16-bit length plus the offset of the last fragment. */
const MAX_DATAGRAM = 65_535;

interface Pending {
  parts: { off: number; data: Buffer }[];
  /** Payload length, known once the last fragment (MF=0) arrived; -1 before. */
  total: number;
  bytes: number;
  firstNs: number;
}

export interface FragmentStats {
  fragments: number;
  reassembled: number;
  /** Datagrams given up: timeout, caps, bogus offsets. */
  dropped: number;
}

export class FragmentTable {
  readonly stats: FragmentStats = { fragments: 0, reassembled: 0, dropped: 0 };
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;

  constructor(private readonly limits: FragmentLimits = defaultFragmentLimits) {}

  /**
   * Adds the fragment described by `p` (its l4 range). Returns true when the datagram is now
   * complete: `p.l4/l4Off/l4End` then point at the reassembled payload.
   */
  add(p: PacketInfo, tsNs: number): boolean {
    this.stats.fragments++;
    const len = p.l4End - p.l4Off;
    if (p.fragOffset + len > MAX_DATAGRAM) {
      this.stats.dropped++;
      return false;
    }
    const key = p.ipVersion === 4 ? `${p.src4}-${p.dst4}-${p.fragId}-${p.proto}` : `${p.src6}-${p.dst6}-${p.fragId}`;
    let d = this.pending.get(key);
    if (!d) {
      this.expire(tsNs);
      if (this.pending.size >= this.limits.maxDatagrams) this.dropOldest();
      d = { parts: [], total: -1, bytes: 0, firstNs: tsNs };
      this.pending.set(key, d);
    }
    while (this.bytes + len > this.limits.maxBytes && this.pending.size > 1) this.dropOldest(key);
    if (this.bytes + len > this.limits.maxBytes) {
      this.remove(key, d);
      this.stats.dropped++;
      return false;
    }
    d.parts.push({ off: p.fragOffset, data: Buffer.from(p.l4.subarray(p.l4Off, p.l4End)) });
    d.bytes += len;
    this.bytes += len;
    if (!p.moreFragments) d.total = p.fragOffset + len;
    if (d.total < 0) return false;
    // Complete when the parts cover [0, total) without a hole (overlaps: later parts overwrite).
    d.parts.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const part of d.parts) {
      if (part.off > covered) return false;
      covered = Math.max(covered, part.off + part.data.length);
    }
    if (covered < d.total) return false;
    const out = Buffer.alloc(d.total);
    for (const part of d.parts) part.data.copy(out, part.off, 0, Math.max(0, Math.min(part.data.length, d.total - part.off)));
    this.remove(key, d);
    this.stats.reassembled++;
    p.l4 = out;
    p.l4Off = 0;
    p.l4End = out.length;
    p.fragOffset = 0;
    p.moreFragments = false;
    return true;
  }

  get bytesHeld(): number {
    return this.bytes;
  }

  private expire(nowNs: number): void {
    for (const [key, d] of this.pending) {
      if (nowNs - d.firstNs <= this.limits.timeoutNs) break; // insertion order = age order
      this.remove(key, d);
      this.stats.dropped++;
    }
  }

  private dropOldest(except?: string): void {
    for (const [key, d] of this.pending) {
      if (key === except) continue;
      this.remove(key, d);
      this.stats.dropped++;
      return;
    }
  }

  private remove(key: string, d: Pending): void {
    this.pending.delete(key);
    this.bytes -= d.bytes;
  }
}
