import { entryToJson, EntryStatus, Protocol, type EntryInit } from "@tapline/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TcpFlag } from "../decode/index.js";
import type { Dissector, DissectorName } from "../dissectors/types.js";
import { dissectors } from "../dissectors/registry.js";
import { Pipeline } from "./pipeline.js";
import { essence, lineDissector, readFrames, runPipeline, shuffle, subSegment, payloadLength, payloadOf, tcpFrame, type Frame } from "./__fixtures__/testkit.js";

const fixtures = new URL("../capture/__fixtures__/", import.meta.url).pathname;
const frames = readFrames(fixtures + "loopback.pcap");

describe("Pipeline on a real loopback capture", () => {
  const { entries, stats } = runPipeline(frames, [lineDissector()]);
  const line = entries.filter((e) => e.protocol === Protocol.HTTP);

  it("pairs every PING with its PONG, client as src, with timing", () => {
    expect(line.length).toBe(25);
    for (const e of line) {
      expect(e.status).toBe(EntryStatus.COMPLETE);
      expect(e.httpResponse?.reason).toBe(e.httpRequest?.path);
      expect(e.dst).toEqual({ ip: "127.0.0.1", port: 7070 });
      expect(e.src?.port).toBeGreaterThan(1024);
      expect(e.elapsedMs).toBeGreaterThan(0);
      expect(e.elapsedMs).toBeLessThan(1000);
      expect(e.requestSize).toBe(e.responseSize);
      expect(e.transport).toBe("tcp");
    }
    expect(line.map((e) => e.httpRequest?.path)).toContain("10 with a longer line to split");
    expect(new Set(line.map((e) => e.id)).size).toBe(line.length);
    expect(line[0].id).toMatch(/^t-\d+$/);
  });

  it("reports the refused connection as a transport-only entry and ignores undetected HTTP flows", () => {
    const tcp = entries.filter((e) => e.protocol === Protocol.TCP);
    expect(tcp.map((e) => [e.status, e.dst?.port])).toEqual([[EntryStatus.CONNECTION_REFUSED, 7071]]);
    expect(stats.flowsUndetected).toBe(3); // the three curl connections on port 9000
    expect(stats.flowsActive).toBe(0);
    expect(stats.dissectors.line.messages).toBe(25);
  });

  it("finds the protocol by content on an unexpected port (no port hint)", () => {
    const r = runPipeline(frames, [lineDissector([])]);
    expect(r.entries.filter((e) => e.protocol === Protocol.HTTP).length).toBe(25);
  });

  it("orients a mid-stream flow by detection (capture starting after the handshake and first request)", () => {
    // Drop each line connection's handshake and its first data packet (a request).
    const seen = new Set<number>();
    const cut = frames.filter((f) => {
      const sport = f.data.readUInt16BE(34);
      const dport = f.data.readUInt16BE(36);
      if (dport !== 7070 && sport !== 7070) return true;
      const client = dport === 7070 ? sport : dport;
      if (seen.has(client)) return true;
      if (payloadLength(f.data) > 0 && dport === 7070) seen.add(client);
      return false;
    });
    const r = runPipeline(cut, [lineDissector([])]).entries.filter((e) => e.protocol === Protocol.HTTP);
    // The first reply of each of the 3 connections has no request: emitted as a lone response.
    expect(r.length).toBe(25);
    for (const e of r) expect(e.dst?.port).toBe(7070);
    expect(r.filter((e) => !e.httpRequest).length).toBe(3);
  });
});

describe("reassembly properties (segments from the real capture, rewritten)", () => {
  const baseline = runPipeline(frames, [lineDissector()]).entries;

  it("splitting at random boundaries yields identical entries (timing included)", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rand = mulberry(seed);
        const split = frames.flatMap((f): Frame[] => {
          const len = payloadLength(f.data);
          if (len < 2 || (f.data[47] & 0x07) !== 0) return [f];
          const cuts = [0, ...Array.from({ length: 3 }, () => Math.floor(rand() * len)), len].sort((a, b) => a - b);
          const out: Frame[] = [];
          for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1] > cuts[i]) out.push({ ...f, data: subSegment(f.data, cuts[i], cuts[i + 1]) });
          return out;
        });
        const got = runPipeline(split, [lineDissector()]).entries;
        expect(got.map(({ id: _id, ...rest }) => rest)).toEqual(baseline.map(({ id: _id, ...rest }) => rest));
      }),
      { numRuns: 30 },
    );
  });

  it("reordered, duplicated and overlapping segments give the same entries", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const shuffled = shuffle(frames, { rand: mulberry(seed), split: 0.5, overlap: 0.3, duplicate: 0.2, window: 4 });
        const r = runPipeline(shuffled, [lineDissector()]);
        expect(r.entries.map(essence)).toEqual(baseline.map(essence));
        expect(r.stats.gaps).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it("a missing segment becomes a reported gap; the session restarts after it", () => {
    // Remove one request segment in the 20-line connection.
    const idx = frames.findIndex((f) => payloadOf(f.data).toString().startsWith("PING 105"));
    expect(idx).toBeGreaterThan(0);
    const lossy = frames.filter((_, i) => i !== idx);
    const r = runPipeline(lossy, [lineDissector()], { gapTimeoutNs: 1e6 });
    expect(r.stats.gaps).toBe(1);
    expect(r.stats.gapBytes).toBe(9);
    const warned = r.entries.filter((e) => e.warnings?.some((w) => /capture gap: 9 bytes missing \(client to server\)/.test(w)));
    expect(warned.length).toBeGreaterThan(0);
    // Every other request still gets its reply.
    const complete = r.entries.filter((e) => e.status === EntryStatus.COMPLETE && e.httpRequest);
    expect(complete.length).toBeGreaterThanOrEqual(20);
    expect(complete.map((e) => e.httpRequest?.path)).toContain("119");
  });
});

const C = { src: "10.0.0.1", dst: "10.0.0.2", dport: 7070 };

describe("caps and hostile input", () => {
  it("bounds many half-open flows and reports them as timeouts", () => {
    const syns: Frame[] = [];
    for (let i = 0; i < 3000; i++) {
      syns.push({ linktype: 1, tsNs: 1e9 + i * 1000, data: tcpFrame({ ...C, sport: 10000 + i, seq: i * 7, flags: TcpFlag.SYN }) });
    }
    const r = runPipeline(syns, [lineDissector()], { maxFlows: 500 });
    expect(r.stats.flowsTotal).toBe(3000);
    expect(r.stats.flowsEvicted).toBe(2500);
    expect(r.stats.flowsActive).toBe(0);
    // Evicted ones were not known to have timed out; the 500 left at the end were.
    expect(r.entries.filter((e) => e.status === EntryStatus.CONNECTION_TIMEOUT).length).toBe(500);
  });

  it("holds no more than the per-flow cap behind a huge hole, counting what it drops", () => {
    const pieces: Frame[] = [
      { linktype: 1, tsNs: 1e9, data: tcpFrame({ ...C, sport: 5555, seq: 100, flags: TcpFlag.SYN }) },
      { linktype: 1, tsNs: 1e9, data: tcpFrame({ ...C, sport: 5555, seq: 101, flags: TcpFlag.ACK, payload: Buffer.from("PING 1\n") }) },
    ];
    // 2 MB beyond a hole of 1e9 bytes (seq wraps around 2^32 on the way).
    for (let i = 0; i < 200; i++) {
      const seq = (101 + 1e9 + i * 10_000 + 4_000_000_000) % 2 ** 32;
      pieces.push({ linktype: 1, tsNs: 1e9 + i, data: tcpFrame({ ...C, sport: 5555, seq, flags: TcpFlag.ACK, payload: Buffer.alloc(10_000, 0x41) }) });
    }
    const r = runPipeline(pieces, [lineDissector()], { maxFlowBytes: 256 * 1024, gapTimeoutNs: 60e9 });
    const s = r.stats;
    // The queue never passed the cap: the hole was skipped (a gap) once the cap was reached.
    expect(s.gaps).toBeGreaterThan(0);
    expect(s.outOfOrder).toBeGreaterThan(0);
    expect(s.bytesHeldPeak).toBeLessThanOrEqual(256 * 1024);
    expect(s.bytesHeld).toBe(0);
    expect(r.entries.find((e) => e.httpRequest?.path === "1")?.warnings?.[0]).toMatch(/capture gap/);
  });

  it("drops a flow whose dissector needs more than the buffer cap, and a global cap holds across flows", () => {
    const hungry: Dissector = {
      ...lineDissector(),
      name: "hungry" as DissectorName,
      createSession: () => ({ feed: () => ({ kind: "need", atLeast: 1 << 30 }), close() {} }),
    };
    const f = [
      { linktype: 1, tsNs: 1, data: tcpFrame({ ...C, sport: 1, seq: 0, flags: TcpFlag.SYN }) },
      { linktype: 1, tsNs: 1, data: tcpFrame({ src: C.dst, dst: C.src, sport: C.dport, dport: 1, seq: 0, flags: TcpFlag.SYN | TcpFlag.ACK }) },
      { linktype: 1, tsNs: 2, data: tcpFrame({ ...C, sport: 1, seq: 1, flags: TcpFlag.ACK, payload: Buffer.from("PING x") }) },
      { linktype: 1, tsNs: 3, data: tcpFrame({ ...C, sport: 1, seq: 7, flags: TcpFlag.ACK, payload: Buffer.from("yyyy") }) },
    ];
    const r = runPipeline(f, [hungry]);
    expect(r.stats.flowsDropped).toBe(1);
    expect(r.stats.bytesDropped).toBe(10);
    expect(r.stats.dissectors.hungry.counters.need_over_cap).toBe(1);
    expect(r.entries.map((e) => [e.protocol, e.status, e.warnings])).toEqual([[Protocol.TCP, EntryStatus.TRUNCATED, [expect.stringMatching(/over the cap/)]]]);

    // 50 flows each holding an unfinished 20 KB line against a 256 KB global cap.
    const many: Frame[] = [];
    for (let i = 0; i < 50; i++) {
      many.push({ linktype: 1, tsNs: 1, data: tcpFrame({ ...C, sport: 2000 + i, seq: 0, flags: TcpFlag.SYN }) });
      many.push({ linktype: 1, tsNs: 2, data: tcpFrame({ ...C, sport: 2000 + i, seq: 1, flags: TcpFlag.ACK, payload: Buffer.from("PING " + "z".repeat(20_000)) }) });
    }
    const g = runPipeline(many, [lineDissector()], { maxTotalBytes: 256 * 1024 });
    expect(g.stats.flowsDropped).toBe(50 - Math.floor((256 * 1024) / 20_005));
    expect(g.stats.bytesHeldPeak).toBeLessThanOrEqual(256 * 1024);
  });

  it("counts a throwing dissector as a bug and keeps dissecting other flows", () => {
    let calls = 0;
    const base = lineDissector();
    const flaky: Dissector = {
      ...base,
      createSession(ctx) {
        const s = base.createSession(ctx);
        return { ...s, feed: (...a) => (++calls === 1 ? (JSON.parse("{") as never) : s.feed(...a)) };
      },
    };
    const r = runPipeline(frames, [flaky]);
    expect(r.stats.dissectors.line.bugs).toBe(1);
    expect(r.stats.lastBug).toMatch(/JSON/);
    expect(r.entries.filter((e) => e.status === EntryStatus.COMPLETE).length).toBe(22); // the 2 later connections
  });

  it("never throws on malformed frames of any linktype", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 101, 108, 113, 228, 229, 276, 999), fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 30 }), (lt, datas) => {
        runPipeline(datas.map((d, i) => ({ linktype: lt, tsNs: i, data: Buffer.from(d) })), [lineDissector()]);
      }),
      { numRuns: 300 },
    );
    // Real frames with random bytes flipped (headers included).
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(frames.length - 1), fc.nat(80), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), (edits) => {
        const copy = frames.map((f) => ({ ...f, data: Buffer.from(f.data) }));
        for (const [i, at, v] of edits) if (at < copy[i].data.length) copy[i].data[at] = v;
        runPipeline(copy, [lineDissector()]);
      }),
      { numRuns: 100 },
    );
  });
});

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("pushPacketAt", () => {
  it("gives the entries pushPacket gives, with the frames at offsets inside one shared buffer", () => {
    const frames = readFrames(new URL("../capture/__fixtures__/loopback.pcap", import.meta.url).pathname);
    expect(frames.length).toBeGreaterThan(10);
    const byView = runPipeline(frames, [...dissectors]);
    // every frame at an odd offset of one buffer, with other frames' bytes on both sides
    const all = Buffer.concat(frames.flatMap((f) => [Buffer.from([0xee, 0xee, 0xee]), f.data]));
    const entries: EntryInit[] = [];
    const p = new Pipeline({ workerId: "t", dissectors, onEntry: (e) => entries.push(e) });
    let off = 0;
    for (const f of frames) {
      off += 3;
      p.pushPacketAt(f.linktype, f.tsNs, all, off, off + f.data.length);
      off += f.data.length;
    }
    p.finish();
    expect(byView.entries.length).toBeGreaterThan(2);
    expect(entries.map((e) => entryToJson(e))).toEqual(byView.entries.map((e) => entryToJson(e)));
  });
});
