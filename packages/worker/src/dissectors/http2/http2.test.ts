import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryStatus, Protocol } from "@tapline/protocol";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { drive, readFlows, rechunk, streamBytes, type Chunk, type Flow } from "../__fixtures__/pcap-streams.js";
import { dissectors } from "../registry.js";
import { defaultLimits, Direction, type Exchange } from "../types.js";
import { detectHttp2, http2Dissector, HPACK_UNKNOWN, percentDecode, renderProtobuf } from "./index.js";

const dir = new URL("./__fixtures__/", import.meta.url).pathname;
const ports = JSON.parse(readFileSync(`${dir}ports.json`, "utf8")) as Record<string, number>;
const FILES = ["h2c.pcap", "h2-streams.pcap", "grpc.pcap"];
const flowsOf = new Map(FILES.map((f) => [f, readFlows(dir + f)]));
const dissect = (flow: Flow, limits = {}) => drive(http2Dissector, flow.chunks, { close: flow.end, limits });
const all = (f: string): Exchange[] => flowsOf.get(f)!.flatMap((fl) => dissect(fl).exchanges);
const text = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString();
const line = (e: Exchange) => `${e.httpRequest?.method} ${e.httpRequest?.path} ${e.httpResponse?.status}`;

describe("HTTP/2 on curl --http2-prior-knowledge against node's http2 server", () => {
  const ex = all("h2c.pcap");

  it("one exchange per request, with method, path, status, authority and scheme", () => {
    expect(ex.map(line)).toEqual(["GET /hello 200", "GET /gzip 200", "GET /nope 404", "GET /big 200", "POST /echo 200"]);
    for (const e of ex) {
      expect(e.protocol).toBe(Protocol.HTTP2);
      expect(e.status).toBe(EntryStatus.COMPLETE);
      expect(e.httpRequest).toMatchObject({ version: "HTTP/2", scheme: "http", host: `127.0.0.1:${ports["h2c.pcap"]}`, streamId: 1 });
      expect(e.httpRequest!.headers!.some((h) => h.name?.startsWith(":"))).toBe(false);
      expect(e.httpRequest!.headers).toContainEqual({ name: "user-agent", value: expect.stringMatching(/^curl\//) });
      expect(e.responseEndNs).toBeGreaterThanOrEqual(e.requestStartNs);
    }
    expect(ex[0]!.httpResponse!.headers).toContainEqual({ name: "x-fixture", value: "yes" });
    expect(text(ex[0]!.httpResponse!.body!.data)).toBe("hello from the tapline http2 fixture server\n");
    expect(text(ex[2]!.httpResponse!.body!.data)).toBe("not found\n");
  });

  it("decodes a gzip body, caps a big one spread over many DATA frames, reads a POST body", () => {
    const [, gz, , big, post] = ex;
    expect(gz!.httpResponse!.body).toMatchObject({ decoded: true, contentEncoding: "gzip", decodedSize: 44 * 50 });
    expect(text(gz!.httpResponse!.body!.data)).toBe("hello from the tapline http2 fixture server\n".repeat(50));
    expect(big!.httpResponse!.body).toMatchObject({ size: 100_000, truncated: true });
    expect(big!.httpResponse!.body!.data!.length).toBe(defaultLimits.maxBodyBytes);
    expect(big!.responseSize).toBeGreaterThan(100_000 + 9 * 6); // frame headers counted
    expect(post!.httpRequest!.body).toMatchObject({ size: 3000, contentType: "text/plain" });
    expect(JSON.parse(text(post!.httpResponse!.body!.data))).toEqual({ received: 3000, first: "p".repeat(20) });
  });
});

describe("HTTP/2 streams of a node http2 client on one connection", () => {
  const ex = all("h2-streams.pcap");

  it("pairs interleaved streams by id, with trailers; a cancelled stream is CONNECTION_RESET", () => {
    const [flow] = flowsOf.get("h2-streams.pcap")!;
    // the responses really interleave: stream 3's first DATA comes before stream 1 ends
    expect(flow!.chunks.filter((c) => c.direction === Direction.ServerToClient).length).toBeGreaterThan(8);
    expect(ex.map((e) => [e.httpRequest?.streamId, line(e)])).toEqual([
      [1, "GET /slow?n=1 200"], [3, "GET /slow?n=2 200"], [5, "GET /slow?n=3 200"], [7, "GET /slow?n=4 200"],
      [9, "POST /echo 200"], [11, "GET /slow?n=9 200"], [13, "GET /hello 200"],
    ]);
    for (const e of ex.slice(0, 4)) {
      const n = e.httpRequest!.path!.slice(-1);
      expect(text(e.httpResponse!.body!.data)).toBe([0, 1, 2].map((i) => `stream ${n} part ${i}\n`).join(""));
      expect(e.httpResponse!.trailers).toEqual([{ name: "x-part-count", value: "3" }]);
      expect(e.httpRequest!.headers).toContainEqual({ name: "x-request", value: n });
    }
    const cancelled = ex[5]!;
    expect(cancelled.status).toBe(EntryStatus.CONNECTION_RESET);
    expect(cancelled.warnings).toContain("RST_STREAM CANCEL from the client");
    expect(ex.filter((e) => e !== cancelled).every((e) => e.status === EntryStatus.COMPLETE && !e.warnings)).toBe(true);
    expect(ex[4]!.httpRequest!.body!.size).toBe(5000);
  });

  it("mid-connection start: references to unseen dynamic entries are marked, static and literal fields kept", () => {
    const [flow] = flowsOf.get("h2-streams.pcap")!;
    // start both directions at the frame that carries stream 13's request (client) and after the
    // server's first header block (server): the earlier table insertions were never seen
    const c2s = frames(streamBytes(flow!, Direction.ClientToServer), 24);
    const s2c = frames(streamBytes(flow!, Direction.ServerToClient), 0);
    const firstReq13 = c2s.findIndex((f) => f.type === 1 && f.sid === 13);
    const firstRes = s2c.findIndex((f) => f.type === 1);
    const chunks: Chunk[] = [
      { direction: Direction.ClientToServer, data: Buffer.concat(c2s.slice(firstReq13).map((f) => f.bytes)), tsNs: 1 },
      { direction: Direction.ServerToClient, data: Buffer.concat(s2c.slice(firstRes + 1).map((f) => f.bytes)), tsNs: 2 },
    ];
    const r = drive(http2Dissector, chunks, { close: "fin" });
    expect(r.bad).toEqual([]);
    const hello = r.exchanges.find((e) => e.httpRequest?.streamId === 13)!;
    expect(hello.warnings).toContain(HPACK_UNKNOWN);
    // curl-less node client: :method GET and :path /hello were literals or static; the authority was
    // indexed in the dynamic table by the first request, so it is absent rather than guessed
    expect(hello.httpRequest!.path).toBe("/hello");
    expect(hello.httpRequest!.host).toBe("");
    const mine = [...r.exchanges].filter((e) => e.httpResponse);
    expect(mine.every((e) => (e.warnings ?? []).length > 0)).toBe(true);
  });
});

describe("gRPC (@grpc/grpc-js client and server)", () => {
  const ex = all("grpc.pcap");

  it("service, method, status from trailers (or a Trailers-Only response), percent-decoded message", () => {
    expect(ex.every((e) => e.protocol === Protocol.GRPC)).toBe(true);
    expect(ex.map((e) => [e.grpc!.service, e.grpc!.method, e.grpc!.status])).toEqual([
      ["tapline.fixture.Echo", "Say", 0], ["tapline.fixture.Echo", "Fail", 3], ["tapline.fixture.Echo", "Repeat", 0], ["tapline.fixture.Echo", "Say", 0],
    ]);
    expect(ex[1]!.grpc!.message).toBe("bad name: zoë 100% wrong");
    expect(ex[1]!.httpResponse!.headers).toContainEqual({ name: "grpc-message", value: "bad%20name:%20zo%C3%AB%20100%25%20wrong" });
  });

  it("length-prefixed messages rendered as raw protobuf fields, compressed ones decoded with grpc-encoding", () => {
    const [say, , repeat, zipped] = ex;
    const req = say!.grpc!.requestMessages![0]!;
    expect(req.compressed).toBe(false);
    // SayRequest{name:"tapline", count:7, inner:{values:[1,300,-2] (packed), flag:true}}
    expect(req.decoded).toBe('1: "tapline"\n2: 7\n3 {\n  1: 0x01ac02feffffffffffffffff01\n  2: 1\n}');
    expect(say!.grpc!.responseMessages![0]!.decoded).toBe('1: "hello tapline"\n2: 7');
    expect(repeat!.grpc!.responseMessages!.map((m) => m.decoded)).toEqual([0, 1, 2].map((i) => `1: "tick #${i}"\n2: ${i}`));
    const z = zipped!.grpc!.requestMessages![0]!;
    expect(z.compressed).toBe(true);
    expect(z.decoded).toBe(`1: ${JSON.stringify("compressed ".repeat(20))}\n2: 1`);
    expect(z.length).toBeLessThan(40);
  });

  it("percent-decoding and protobuf rendering of odd input", () => {
    expect(percentDecode("a%2")).toBe("a%2");
    expect(percentDecode("%E2%9C%93 ok")).toBe("✓ ok");
    expect(renderProtobuf(Buffer.from([0x08]))).toBe(""); // truncated varint
    expect(renderProtobuf(Buffer.from([0x0b]))).toBe(""); // group wire type
    expect(renderProtobuf(Buffer.from("0d01000000", "hex"))).toBe("1: 0x01000000 (i32)");
  });
});

describe("HTTP/2 agrees with tshark", () => {
  function oracle(file: string) {
    const out = execFileSync(
      "tshark",
      ["-r", dir + file, "-d", `tcp.port==${ports[file]},http2`, "-Y", "http2", "-T", "json", "--no-duplicate-keys",
        ...["tcp.stream", "http2.headers.method", "http2.headers.path", "http2.headers.status", "http2.header.name", "http2.header.value", "grpc.message_length", "http2.rst_stream.error"].flatMap((f) => ["-e", f])],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    const o = { streams: new Set<string>(), requests: [] as string[], statuses: [] as string[], grpcStatus: [] as string[], grpcLengths: [] as number[], resets: 0 };
    for (const pkt of JSON.parse(out) as { _source: { layers: Record<string, string[]> } }[]) {
      const l = pkt._source.layers;
      o.streams.add(l["tcp.stream"]![0]!);
      const methods = l["http2.headers.method"] ?? [];
      methods.forEach((m, i) => o.requests.push(`${m} ${l["http2.headers.path"]![i]}`));
      o.statuses.push(...(l["http2.headers.status"] ?? []));
      (l["http2.header.name"] ?? []).forEach((n, i) => n === "grpc-status" && o.grpcStatus.push(l["http2.header.value"]![i]!));
      o.grpcLengths.push(...(l["grpc.message_length"] ?? []).map(Number));
      o.resets += (l["http2.rst_stream.error"] ?? []).length;
    }
    return o;
  }

  for (const file of FILES) {
    it(`${file}: requests, statuses, gRPC statuses and message lengths`, () => {
      const want = oracle(file);
      const ex = all(file);
      expect(flowsOf.get(file)!.length).toBe(want.streams.size);
      expect(ex.map((e) => `${e.httpRequest!.method} ${e.httpRequest!.path}`).sort()).toEqual(want.requests.sort());
      expect(ex.map((e) => String(e.httpResponse!.status)).sort()).toEqual(want.statuses.sort());
      expect(ex.filter((e) => e.grpc).map((e) => String(e.grpc!.status)).sort()).toEqual(want.grpcStatus.sort());
      const lengths = ex.flatMap((e) => [...(e.grpc?.requestMessages ?? []), ...(e.grpc?.responseMessages ?? [])].map((m) => m.length));
      expect(lengths.sort()).toEqual(want.grpcLengths.sort());
      expect(ex.filter((e) => e.status === EntryStatus.CONNECTION_RESET).length).toBe(want.resets);
    });
  }
});

describe("HTTP/2 through the worker's pipeline (pcap reader, reassembly, detection among all dissectors)", () => {
  for (const file of FILES) {
    it(`${file}: same exchanges as the session alone, on a non-default port`, () => {
      const { entries, stats } = runPipeline(readFrames(dir + file), [...dissectors]);
      const direct = all(file);
      const key = (e: { httpRequest?: { streamId?: number | null; path?: string | null } | null; status?: EntryStatus | null }) =>
        `${e.httpRequest?.streamId} ${e.httpRequest?.path} ${e.status}`;
      expect(entries.map(key).sort()).toEqual(direct.map(key).sort());
      expect(entries.every((e) => e.dst?.port === ports[file])).toBe(true);
      expect(stats.dissectors.http2!.bugs).toBe(0);
    });
  }

  it("a capture that starts mid-connection is detected from its frames; unseen HPACK state is marked", () => {
    const all = readFrames(dir + "h2-streams.pcap");
    // TCP payload of an Ethernet/IPv4 frame
    const payload = (d: Buffer) => d.subarray(14 + (d[14]! & 15) * 4 + (d[14 + (d[14]! & 15) * 4 + 12]! >> 4) * 4);
    const start = all.findIndex((f) => {
      const p = payload(f.data);
      return p.length > 9 && p[3] === 1 && (p.readUInt32BE(5) & 0x7fffffff) === 13;
    });
    expect(start).toBeGreaterThan(10);
    const { entries, stats } = runPipeline(all.slice(start), [...dissectors]);
    expect(stats.dissectors.http2!.messages).toBe(1);
    const [hello] = entries;
    expect(hello!.protocol).toBe(Protocol.HTTP2);
    expect(hello!.httpRequest).toMatchObject({ path: "/hello", method: "GET", streamId: 13 });
    expect(hello!.httpResponse!.status).toBe(200);
    expect(hello!.warnings).toContain(HPACK_UNKNOWN);
    expect(hello!.src!.port).not.toBe(ports["h2-streams.pcap"]); // orientation from the frames, not guessed
  });

  it("detects the client preface and a server's SETTINGS preface, rejects HTTP/1 and TLS", () => {
    const [flow] = flowsOf.get("h2c.pcap")!;
    expect(detectHttp2(streamBytes(flow!, Direction.ClientToServer), Direction.ClientToServer)).toEqual({ match: true, senderRole: "client" });
    expect(detectHttp2(Buffer.from("PRI * HTTP/2"), Direction.ClientToServer)).toBe("more");
    expect(detectHttp2(streamBytes(flow!, Direction.ServerToClient), Direction.ServerToClient)).toEqual({ match: true, senderRole: "server" });
    expect(detectHttp2(Buffer.from("GET / HTTP/1.1\r\n\r\n"), Direction.ClientToServer)).toBe("no");
    expect(detectHttp2(Buffer.from("160301020001", "hex"), Direction.ClientToServer)).toBe("no");
  });
});

describe("HTTP/2 robustness", () => {
  const flows = FILES.flatMap((f) => flowsOf.get(f)!);
  const summary = (ex: Exchange[]) => JSON.stringify(ex.map((e) => ({ ...e, requestStartNs: 0, responseEndNs: 0 })));

  it("random chunk splits yield identical exchanges", () => {
    const whole = flows.map((f) => summary(dissect(f).exchanges));
    fc.assert(
      fc.property(fc.nat(flows.length - 1), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 12 }), (i, cuts) => {
        const f = flows[i]!;
        expect(summary(drive(http2Dissector, rechunk(f.chunks, cuts), { close: f.end }).exchanges)).toBe(whole[i]);
      }),
      { numRuns: 120 },
    );
  });

  it("random bytes and corrupted real frames never throw and never ask past the buffer cap", () => {
    const limits = { ...defaultLimits, maxBufferBytes: 32 * 1024 };
    const real = flows.filter((f) => f.chunks.length < 200);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1500 }).map((b) => [
            { direction: Direction.ClientToServer, data: Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from(b)]), tsNs: 1 },
            { direction: Direction.ServerToClient, data: Buffer.from(b), tsNs: 2 },
          ]),
          fc.tuple(fc.nat(real.length - 1), fc.nat(), fc.nat(255), fc.integer({ min: 1, max: 100 })).map(([i, at, byte, cut]) => {
            const chunks = real[i]!.chunks.map((c) => ({ ...c, data: Buffer.from(c.data) }));
            const c = chunks[at % chunks.length]!;
            c.data[at % c.data.length] = byte;
            return rechunk(chunks, [cut]);
          }),
        ),
        (chunks: Chunk[]) => {
          let maxNeed = 0;
          const session = http2Dissector.createSession({ emit: () => {}, limits, count: () => {} });
          const pending: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
          for (const c of chunks) {
            let buf = Buffer.concat([pending[c.direction]!, c.data]);
            let off = 0;
            for (let guard = 0; off < buf.length && guard < 1e5; guard++) {
              const r = session.feed(c.direction, buf, off, 0, 0);
              if (r.kind === "need") {
                maxNeed = Math.max(maxNeed, r.atLeast);
                break;
              }
              off += r.kind === "used" ? r.used : Math.max(r.skip, buf.length - off);
            }
            buf = buf.subarray(off);
            pending[c.direction] = Buffer.from(buf);
          }
          session.close("fin", 0);
          expect(maxNeed).toBeLessThanOrEqual(limits.maxBufferBytes);
        },
      ),
      { numRuns: 800 },
    );
  });

  it("a frame over the buffer cap is skipped as it streams; its header block loss is marked", () => {
    const [flow] = flowsOf.get("h2c.pcap")!;
    const r = dissect(flow!, { maxBufferBytes: 20 }); // every HEADERS frame of curl is longer
    expect(r.bad).toEqual([]);
    expect(r.counters.oversize_frame).toBeGreaterThan(0);
    expect(r.exchanges.every((e) => (e.warnings ?? []).some((w) => /over the buffer cap/.test(w)))).toBe(true);
  });

  it("late DATA on a stream whose exchange was emitted opens no new stream (§5.1.1); padding is skipped", () => {
    const frame = (type: number, flags: number, sid: number, payload: Buffer) => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(payload.length, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(sid, 5);
      return Buffer.concat([h, payload]);
    };
    // POST /x (static :method POST, :scheme http, literal :path), answered 404 before the body ends
    const req = frame(1, 0x04, 1, Buffer.from("8386040 22f78".replace(/ /g, ""), "hex"));
    const body = frame(0, 0x09, 1, Buffer.from([3, ...Buffer.from("abc"), 0, 0, 0])); // PADDED: 3 pad bytes
    const res = frame(1, 0x05, 1, Buffer.from("8d", "hex"));
    const r = drive(http2Dissector, [
      { direction: Direction.ClientToServer, data: Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), req]), tsNs: 1 },
      { direction: Direction.ServerToClient, data: res, tsNs: 2 },
      { direction: Direction.ClientToServer, data: body, tsNs: 3 },
    ]);
    expect(r.bad).toEqual([]);
    expect(r.exchanges.map(line)).toEqual(["POST /x 404"]);
    expect(r.exchanges[0]!.status).toBe(EntryStatus.COMPLETE);
  });

  it("open streams are bounded; the oldest leaves as NO_RESPONSE", () => {
    const [flow] = flowsOf.get("h2-streams.pcap")!;
    const r = dissect(flow!, { maxPending: 2 });
    expect(r.counters.pending_evicted).toBeGreaterThan(0);
    expect(r.exchanges.some((e) => e.status === EntryStatus.NO_RESPONSE)).toBe(true);
  });
});

/** Splits one direction's bytes into frames (after `skip` preface bytes). */
function frames(buf: Buffer, skip: number): { type: number; sid: number; bytes: Buffer }[] {
  const out = [];
  for (let p = skip; p + 9 <= buf.length; ) {
    const len = buf.readUIntBE(p, 3);
    out.push({ type: buf[p + 3]!, sid: buf.readUInt32BE(p + 5) & 0x7fffffff, bytes: buf.subarray(p, p + 9 + len) });
    p += 9 + len;
  }
  return out;
}
