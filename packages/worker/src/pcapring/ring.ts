// A bounded on-disk ring of the raw packets a worker captured, kept for PCAP export.
// Packets go into pcapng files of at most limit/fileCount bytes; when a file is full the
// next one starts and the oldest is deleted, so the ring never holds more than `limitBytes`
// (plus one write buffer). Export reads the files that overlap a time range and keeps the
// packets of the requested flows, as one pcapng stream.
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync, fstatSync } from "node:fs";
import { join } from "node:path";
import { PcapReader } from "../capture/reader.js";
import { decodeLink, decodeTcp, decodeUdp, ipv4ToString, ipv6ToString, newPacketInfo } from "../decode/index.js";
import { epbSize, interfaceDescription, sectionHeader, writePacketBlock } from "./pcapng.js";

export interface FlowSelector {
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
}

export interface PcapRingOptions {
  dir: string;
  /** Bytes on disk at most (the --pcap-limit). */
  limitBytes: number;
  /** Files the limit is split into; more files = finer eviction, more open/close. */
  fileCount?: number;
}

export interface PcapRingStats {
  files: number;
  bytes: number;
  packets: number;
  evictedFiles: number;
  oldestNs: number;
  newestNs: number;
}

interface RingFile {
  path: string;
  fd: number;
  bytes: number;
  firstNs: number;
  lastNs: number;
  /** linktype -> interface id in this file */
  interfaces: Map<number, number>;
}

const WRITE_BUFFER = 256 * 1024;

export class PcapRing {
  private readonly files: RingFile[] = [];
  private readonly fileLimit: number;
  private readonly fileCount: number;
  private buf = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private seq = 0;
  private packets = 0;
  private evictedFiles = 0;

  constructor(private readonly opts: PcapRingOptions) {
    if (!(opts.limitBytes >= 64 * 1024)) throw new RangeError(`pcap ring limit must be at least 64 KiB, got ${opts.limitBytes}`);
    this.fileCount = Math.max(2, opts.fileCount ?? 8);
    this.fileLimit = Math.floor(opts.limitBytes / this.fileCount);
    rmSync(opts.dir, { recursive: true, force: true });
    mkdirSync(opts.dir, { recursive: true });
  }

  /** Stores one packet; `data` is copied. */
  append(linktype: number, tsNs: number, data: Buffer, origLen: number): void {
    const size = epbSize(data.length);
    let file = this.current();
    if (!file || file.bytes + this.used + size > this.fileLimit) file = this.rotate();
    let iface = file.interfaces.get(linktype);
    if (iface === undefined) {
      iface = file.interfaces.size;
      file.interfaces.set(linktype, iface);
      this.put(interfaceDescription(linktype));
    }
    if (this.used + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
    }
    this.used = writePacketBlock(this.buf, this.used, iface, tsNs, data, origLen);
    if (!file.firstNs) file.firstNs = tsNs;
    file.lastNs = tsNs;
    this.packets++;
  }

  /** Writes buffered blocks to the current file. */
  flush(): void {
    const file = this.current();
    if (!file || this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(file.fd, this.buf, off, this.used - off);
    file.bytes += this.used;
    this.used = 0;
  }

  stats(): PcapRingStats {
    return {
      files: this.files.length,
      bytes: this.files.reduce((n, f) => n + f.bytes, 0) + this.used,
      packets: this.packets,
      evictedFiles: this.evictedFiles,
      oldestNs: this.files[0]?.firstNs ?? 0,
      newestNs: this.current()?.lastNs ?? 0,
    };
  }

  /**
   * The packets in [sinceNs, untilNs] (untilNs 0 = now) of the given flows (either direction;
   * none = every packet), as pcapng chunks in capture order.
   */
  *export(sinceNs: number, untilNs: number, flows: readonly FlowSelector[] = []): Generator<Buffer> {
    this.flush();
    const until = untilNs || Infinity;
    const wanted = new Set<string>();
    for (const f of flows) {
      wanted.add(flowKey(f.srcIp, f.srcPort, f.dstIp, f.dstPort));
      wanted.add(flowKey(f.dstIp, f.dstPort, f.srcIp, f.srcPort));
    }
    yield sectionHeader();
    const outIfaces = new Map<number, number>();
    const info = newPacketInfo();
    let out = Buffer.allocUnsafe(WRITE_BUFFER);
    let used = 0;
    const chunks: Buffer[] = [];
    const onPacket = (linktype: number, tsNs: number, data: Buffer, origLen: number) => {
      if (tsNs < sinceNs || tsNs > until) return;
      if (wanted.size && !matches(linktype, data)) return;
      let iface = outIfaces.get(linktype);
      if (iface === undefined) {
        iface = outIfaces.size;
        outIfaces.set(linktype, iface);
        if (used) chunks.push(Buffer.from(out.subarray(0, used)));
        used = 0;
        chunks.push(interfaceDescription(linktype));
      }
      const size = epbSize(data.length);
      if (used + size > out.length) {
        chunks.push(Buffer.from(out.subarray(0, used)));
        used = 0;
        if (size > out.length) out = Buffer.allocUnsafe(size);
      }
      used = writePacketBlock(out, used, iface, tsNs, data, origLen);
    };
    const matches = (linktype: number, data: Buffer): boolean => {
      if (!decodeLink(linktype, data, info)) return false;
      if (!(info.proto === 6 ? decodeTcp(info) : info.proto === 17 ? decodeUdp(info) : false)) return false;
      const src = info.ipVersion === 4 ? ipv4ToString(info.src4) : ipv6ToString(info.src6);
      const dst = info.ipVersion === 4 ? ipv4ToString(info.dst4) : ipv6ToString(info.dst6);
      return wanted.has(flowKey(src, info.srcPort, dst, info.dstPort));
    };
    for (const file of [...this.files]) {
      if (file.lastNs < sinceNs || file.firstNs > until) continue;
      const reader = new PcapReader(onPacket);
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      let pos = 0;
      let size: number;
      try {
        size = fstatSync(file.fd).size;
      } catch {
        continue; // evicted while we were exporting
      }
      while (pos < size) {
        const n = readSync(file.fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (n <= 0) break;
        pos += n;
        reader.push(chunk.subarray(0, n));
        while (chunks.length) yield chunks.shift()!;
      }
    }
    if (used) chunks.push(Buffer.from(out.subarray(0, used)));
    while (chunks.length) yield chunks.shift()!;
  }

  close(): void {
    this.flush();
    for (const f of this.files) closeSync(f.fd);
    this.files.length = 0;
  }

  private current(): RingFile | undefined {
    return this.files[this.files.length - 1];
  }

  private rotate(): RingFile {
    this.flush();
    const path = join(this.opts.dir, `ring-${String(this.seq++).padStart(8, "0")}.pcapng`);
    const fd = openSync(path, "w+");
    const file: RingFile = { path, fd, bytes: 0, firstNs: 0, lastNs: 0, interfaces: new Map() };
    this.files.push(file);
    while (this.files.length > this.fileCount) {
      const old = this.files.shift()!;
      closeSync(old.fd);
      rmSync(old.path, { force: true });
      this.evictedFiles++;
    }
    this.put(sectionHeader());
    return file;
  }

  private put(block: Buffer): void {
    if (this.used + block.length > this.buf.length) this.flush();
    block.copy(this.buf, this.used);
    this.used += block.length;
  }
}

function flowKey(srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  return `${srcIp}|${srcPort}|${dstIp}|${dstPort}`;
}

/** Bytes a ring directory holds on disk (for tests and stats). */
export function ringDiskBytes(dir: string, files: readonly string[]): number {
  return files.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}
