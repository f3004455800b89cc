import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { CaptureFormatError, PcapReader, readCaptureFile, readCaptureStream } from "./index.js";

const fixtures = new URL("./__fixtures__/", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "tapline-reader-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Pkt {
  linktype: number;
  tsNs: number;
  len: number;
  origLen: number;
  hex: string;
}

function readAll(bytes: Buffer, chunkSizes?: number[]): { pkts: Pkt[]; reader: PcapReader } {
  const pkts: Pkt[] = [];
  const reader = new PcapReader((linktype, tsNs, data, origLen) =>
    pkts.push({ linktype, tsNs, len: data.length, origLen, hex: data.toString("hex") }),
  );
  if (!chunkSizes) reader.push(bytes);
  else pushInChunks(reader, bytes, chunkSizes);
  reader.end();
  return { pkts, reader };
}

/** Pushes `bytes` in chunks of the given sizes, cycled. */
function pushInChunks(reader: PcapReader, bytes: Buffer, chunkSizes: number[]): void {
  let off = 0;
  for (let i = 0; off < bytes.length; i++) {
    const n = chunkSizes[i % chunkSizes.length];
    reader.push(bytes.subarray(off, off + n));
    off += n;
  }
}

/** The oracle: tshark's frame length, captured length and epoch time (ns digits) per frame. */
function tsharkFrames(path: string): { len: number; capLen: number; epoch: string }[] {
  const out = execFileSync("tshark", ["-r", path, "-T", "fields", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.time_epoch"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return out
    .trim()
    .split("\n")
    .map((l) => {
      const [len, capLen, epoch] = l.split("\t");
      return { len: Number(len), capLen: Number(capLen), epoch };
    });
}

function epochNs(epoch: string): number {
  const [s, frac = ""] = epoch.split(".");
  return Number(s) * 1e9 + Number(frac.padEnd(9, "0").slice(0, 9));
}

/** Rewrites a little-endian classic pcap as big-endian (header and record fields swapped). */
function toBigEndian(le: Buffer): Buffer {
  const be = Buffer.from(le);
  be.writeUInt32BE(le.readUInt32LE(0), 0);
  be.writeUInt16BE(le.readUInt16LE(4), 4);
  be.writeUInt16BE(le.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) be.writeUInt32BE(le.readUInt32LE(o), o);
  let off = 24;
  while (off + 16 <= le.length) {
    for (let i = 0; i < 16; i += 4) be.writeUInt32BE(le.readUInt32LE(off + i), off + i);
    off += 16 + le.readUInt32LE(off + 8);
  }
  return be;
}

describe("PcapReader against tshark", () => {
  const files = ["loopback.pcap", "loopback-ns.pcap", "loopback.pcapng", "sll.pcap", "sll2.pcap"];
  for (const name of files) {
    it(`reads ${name} frame for frame like tshark`, () => {
      const path = fixtures + name;
      const { pkts, reader } = readAll(readFileSync(path));
      const oracle = tsharkFrames(path);
      expect(pkts.length).toBe(oracle.length);
      expect(reader.stats.truncated + reader.stats.badRecords).toBe(0);
      pkts.forEach((p, i) => {
        expect(p.origLen).toBe(oracle[i].len);
        expect(p.len).toBe(oracle[i].capLen);
        // JS numbers hold epoch ns to ~256 ns.
        expect(Math.abs(p.tsNs - epochNs(oracle[i].epoch))).toBeLessThan(1000);
      });
    });
  }

  it("keeps nanosecond digits of a nanosecond pcap", () => {
    const path = fixtures + "loopback-ns.pcap";
    const { pkts } = readAll(readFileSync(path));
    const bytes = readFileSync(path);
    expect(bytes.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(pkts[0].tsNs).toBe(bytes.readUInt32LE(24) * 1e9 + bytes.readUInt32LE(28));
  });

  it("reads a big-endian pcap the same as the little-endian one", () => {
    const le = readFileSync(fixtures + "loopback.pcap");
    const bePath = join(tmp, "be.pcap");
    writeFileSync(bePath, toBigEndian(le));
    const a = readAll(le).pkts;
    const b = readAll(readFileSync(bePath)).pkts;
    expect(b).toEqual(a);
    expect(tsharkFrames(bePath).length).toBe(a.length); // tshark agrees the rewrite is a valid capture
  });

  it("yields identical packets however the stream is chunked", () => {
    for (const name of ["loopback.pcap", "loopback.pcapng"]) {
      const bytes = readFileSync(fixtures + name);
      const whole = readAll(bytes).pkts;
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }), (sizes) => {
          expect(readAll(bytes, sizes).pkts).toEqual(whole);
        }),
        { numRuns: 60 },
      );
    }
  });

  it("honours pcapng if_tsresol and per-interface linktypes", () => {
    // Two interfaces: Ethernet with µs (default) and raw IPv4 (228) with 2^-10 s resolution.
    const shb = block(0x0a0d0d0a, Buffer.from("4d3c2b1a01000000ffffffffffffffff", "hex"));
    const idb0 = block(1, Buffer.from("01000000ffff0000", "hex"));
    const idb1 = block(1, Buffer.concat([Buffer.from("e4000000ffff0000", "hex"), Buffer.from("09000100" + "8a000000" + "00000000", "hex")]));
    const epb = (ifid: number, hi: number, lo: number, data: Buffer) => {
      const h = Buffer.alloc(20);
      h.writeUInt32LE(ifid, 0);
      h.writeUInt32LE(hi, 4);
      h.writeUInt32LE(lo, 8);
      h.writeUInt32LE(data.length, 12);
      h.writeUInt32LE(data.length, 16);
      return block(6, Buffer.concat([h, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
    };
    const file = Buffer.concat([shb, idb0, idb1, epb(0, 0, 1_500_000, Buffer.alloc(14)), epb(1, 0, 3 * 1024 + 512, Buffer.alloc(20))]);
    const { pkts } = readAll(file);
    expect(pkts.map((p) => [p.linktype, p.tsNs, p.len])).toEqual([
      [1, 1.5e9, 14],
      [228, 3.5e9, 20],
    ]);
  });
});

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

describe("readCaptureFile (one reused read buffer)", () => {
  it("yields the same packets as a stream of fresh chunks, records crossing many 1 MiB reads", async () => {
    // ~5 MB of records of varied sizes (up to 64 KiB) with distinct bytes, so a packet view
    // that outlived its read (the buffer is overwritten by the next read) would show.
    const parts: Buffer[] = [Buffer.from("d4c3b2a1020004000000000000000000ffff000001000000", "hex")];
    let seed = 7;
    for (let i = 0; parts.length < 400; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const len = 1 + (seed % 65535);
      const rec = Buffer.alloc(16 + len);
      rec.writeUInt32LE(i, 0);
      rec.writeUInt32LE(len, 8);
      rec.writeUInt32LE(len, 12);
      for (let k = 0; k < len; k++) rec[16 + k] = (i * 31 + k) & 0xff;
      parts.push(rec);
    }
    const file = join(tmp, "big.pcap");
    writeFileSync(file, Buffer.concat(parts));
    const viaFile: Buffer[] = [];
    const fileStats = await readCaptureFile(file, (_lt, _ts, data) => viaFile.push(Buffer.from(data)));
    const viaStream: Buffer[] = [];
    await readCaptureStream(Readable.from([readFileSync(file)]), (_lt, _ts, data) => viaStream.push(Buffer.from(data)));
    expect(fileStats.packets).toBe(399);
    expect(viaFile.length).toBe(399);
    for (let i = 0; i < viaStream.length; i++) expect(viaFile[i].equals(viaStream[i])).toBe(true);
  });

  it("rejects a file that is not a capture, and a missing file, with an error", async () => {
    const file = join(tmp, "not-a-capture.txt");
    writeFileSync(file, "hello, this is text\n".repeat(10));
    await expect(readCaptureFile(file, () => {})).rejects.toThrow(CaptureFormatError);
    await expect(readCaptureFile(join(tmp, "missing.pcap"), () => {})).rejects.toThrow(/ENOENT/);
  });
});

describe("PcapReader on bad input", () => {
  it("rejects a file that is not a capture with a clear error", async () => {
    const r = new PcapReader(() => {});
    expect(() => r.push(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))).toThrow(CaptureFormatError);
    expect(() => r.push(Buffer.from("GET / HTTP/1.1\r\n"))).toThrow(/not a pcap\/pcapng capture/);
    await expect(readCaptureStream(Readable.from([Buffer.alloc(0)]), () => {})).rejects.toThrow(/empty input/);
  });

  it("stops cleanly at a truncated record, with the packets before it", () => {
    const bytes = readFileSync(fixtures + "loopback.pcap");
    const whole = readAll(bytes).pkts;
    for (const name of ["loopback.pcap", "loopback.pcapng"]) {
      const b = readFileSync(fixtures + name);
      const cut = b.subarray(0, b.length - 30);
      const { pkts, reader } = readAll(cut);
      expect(reader.stats.truncated).toBe(1);
      expect(pkts.length).toBe(whole.length - 1);
    }
  });

  it("stops with a counted error at a bogus record length and never throws on corrupted files", () => {
    const bytes = Buffer.from(readFileSync(fixtures + "loopback.pcap"));
    bytes.writeUInt32LE(0x7fffffff, 24 + 8); // first record's caplen
    const { pkts, reader } = readAll(bytes);
    expect(pkts.length).toBe(0);
    expect(reader.stats.badRecords).toBe(1);
    expect(reader.stats.stoppedReason).toMatch(/caplen/);
    for (const name of ["loopback.pcap", "loopback.pcapng"]) {
      const orig = readFileSync(fixtures + name);
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(orig.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 40 }), (edits) => {
          const b = Buffer.from(orig);
          for (const [at, v] of edits) if (at >= 4) b[at] = v; // keep the magic: a capture, hostile inside
          const r = new PcapReader(() => {});
          r.push(b);
          r.end();
        }),
        { numRuns: 200 },
      );
    }
  });
});

describe("PcapReader with a range sink", () => {
  /** The same records through { onRange }, each read out of the chunk it lies in. */
  function readRanges(bytes: Buffer, chunkSizes: number[]): Pkt[] {
    const pkts: Pkt[] = [];
    const reader = new PcapReader({
      onRange: (linktype, tsNs, data, start, end, origLen) =>
        pkts.push({ linktype, tsNs, len: end - start, origLen, hex: data.toString("hex", start, end) }),
    });
    pushInChunks(reader, bytes, chunkSizes);
    reader.end();
    return pkts;
  }

  it.each(["loopback.pcap", "loopback.pcapng", "sll.pcap", "sll2.pcap"])("%s: the records the view handler gets, split anywhere", (name) => {
    const bytes = readFileSync(join(fixtures, name));
    const views = readAll(bytes).pkts;
    expect(views.length).toBeGreaterThan(5);
    for (const sizes of [[bytes.length], [1000], [7, 333, 64]]) expect(readRanges(bytes, sizes)).toEqual(views);
  });
});
