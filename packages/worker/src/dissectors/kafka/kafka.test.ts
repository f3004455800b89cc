import { execFileSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryStatus } from "@tapline/protocol";
import { Direction, defaultLimits, type Exchange } from "../types.js";
import { detectKafka, kafkaDissector } from "./index.js";
import { errorName, isFlexible } from "./apis.js";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { drive, fixtureDir, fixtureNames, fixturePorts, loadStreams, type Chunk, type TcpStream } from "./__fixtures__/streams.js";

const fixtures = new Map<string, TcpStream[]>(fixtureNames.map((f) => [f, loadStreams(join(fixtureDir, f))]));
const streamsOf = (f: string): TcpStream[] => fixtures.get(f)!;
const run = (chunks: Iterable<Chunk>, limits = defaultLimits) => drive(kafkaDissector.createSession, chunks, limits);
const all = (f: string): Exchange[] => streamsOf(f).flatMap((s) => run(s.chunks).exchanges);
const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString();

/** The same bytes, cut at other places. */
function rechunk(chunks: Chunk[], cuts: number[]): Chunk[] {
  const out: Chunk[] = [];
  let k = 0;
  for (const { dir, data } of chunks) {
    let pos = 0;
    while (pos < data.length) {
      const n = Math.max(1, Math.min(data.length - pos, cuts[k++ % cuts.length]!));
      out.push({ dir, data: data.subarray(pos, pos + n) });
      pos += n;
    }
  }
  return out;
}

/** A minimal request frame: header v1 + body. */
function request(apiKey: number, version: number, corr: number, clientId: string, body = Buffer.alloc(0)): Buffer {
  const id = Buffer.from(clientId);
  const h = Buffer.alloc(10);
  h.writeInt16BE(apiKey, 0);
  h.writeInt16BE(version, 2);
  h.writeInt32BE(corr, 4);
  h.writeInt16BE(id.length, 8);
  const msg = Buffer.concat([h, id, body]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(msg.length);
  return Buffer.concat([len, msg]);
}

describe("kafka dissector on kafkajs traffic", () => {
  const ex = all("kafkajs.pcap");

  it("decodes produced record batches: keys, values, headers, and a gzip batch", () => {
    const produce = ex.filter((e) => e.kafkaRequest?.apiName === "Produce");
    expect(produce).toHaveLength(2);
    const recs = produce.flatMap((e) => e.kafkaRequest!.topics!.flatMap((t) => t.partitions!.flatMap((p) => p.records ?? [])));
    // partitions are picked by key hash (random for null keys), so look records up by key
    expect(recs.map((r) => text(r.key)).sort()).toEqual(["", "", "order-1", "order-2", "zipped"]);
    const byKey = (k: string) => recs.find((r) => text(r.key) === k)!;
    expect(JSON.parse(text(byKey("order-1").value))).toEqual({ id: 1, item: "socks" });
    expect(byKey("order-1").headers).toEqual([{ name: "trace-id", value: "abc123" }]);
    expect(recs.some((r) => r.valueSize === 300 && text(r.value) === "x".repeat(300))).toBe(true);
    expect(text(byKey("zipped").value)).toBe("compressed ".repeat(40)); // gunzipped
    for (const e of produce) {
      expect(e.kafkaRequest!.acks).toBe(-1);
      expect(e.kafkaRequest!.clientId).toBe("tapline-fixture");
      expect(e.status).toBe(EntryStatus.COMPLETE);
      expect(e.kafkaResponse!.topics![0]!.name).toBe("orders");
    }
  });

  it("decodes fetch responses with high watermarks and records", () => {
    const fetched = ex
      .filter((e) => e.kafkaRequest?.apiName === "Fetch")
      .flatMap((e) => e.kafkaResponse!.topics!.flatMap((t) => t.partitions!));
    expect(fetched.reduce((n, p) => n + (p.recordCount ?? 0), 0)).toBe(5);
    expect(Math.max(...fetched.map((p) => Number(p.offset)))).toBe(3); // partition 0 holds 3 records
  });

  it("decodes metadata, api versions and the consumer group calls", () => {
    const by = (name: string) => ex.filter((e) => e.kafkaRequest?.apiName === name);
    const meta = by("Metadata")[0]!;
    expect(meta.kafkaResponse!.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: fixturePorts["kafkajs.pcap"] }]);
    expect(meta.kafkaResponse!.topics!.map((t) => [t.name, t.partitions!.length])).toEqual([["orders", 2]]);
    const versions = by("ApiVersions")[0]!.kafkaResponse!.apiVersions!;
    expect(versions.find((v) => v.apiKey === 0)).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 7 });
    expect(by("FindCoordinator")[0]!.kafkaRequest!.groupId).toBe("fixture-group");
    const join = by("JoinGroup")[0]!;
    expect(join.kafkaRequest!.summary).toContain("RoundRobinAssigner");
    expect(join.kafkaResponse!.summary).toMatch(/^generation \d+ /);
    for (const name of ["SyncGroup", "Heartbeat", "OffsetCommit", "OffsetFetch", "ListOffsets", "LeaveGroup"]) {
      expect(by(name).length, name).toBeGreaterThan(0);
      expect(by(name).every((e) => e.status === EntryStatus.COMPLETE && !e.kafkaResponse!.errorName), name).toBe(true);
    }
    expect(by("OffsetCommit")[0]!.kafkaRequest!.topics![0]!.partitions![0]!.offset).toBeGreaterThan(0);
  });
});

describe("kafka dissector on kcat (librdkafka) traffic", () => {
  const ex = all("kcat.pcap");

  it("reads the flexible ApiVersions v3 request (header v2) and the v0 retry", () => {
    const v3 = ex.filter((e) => e.kafkaRequest?.apiName === "ApiVersions" && e.kafkaRequest.apiVersion === 3);
    expect(v3.length).toBeGreaterThan(0);
    expect(isFlexible(18, 3)).toBe(true);
    for (const e of v3) {
      expect(e.kafkaRequest!.clientId).toBe("rdkafka");
      expect(e.kafkaRequest!.summary).toMatch(/^librdkafka \d/);
      expect(e.kafkaResponse!.errorName).toBe("UNSUPPORTED_VERSION");
    }
    const v0 = ex.find((e) => e.kafkaRequest?.apiName === "ApiVersions" && e.kafkaRequest.apiVersion === 0)!;
    expect(v0.kafkaResponse!.apiVersions!.length).toBeGreaterThan(10);
  });

  it("counts snappy and lz4 batches without decoding them, decodes plain ones", () => {
    const produce = ex.filter((e) => e.kafkaRequest?.apiName === "Produce");
    const warnings = produce.flatMap((e) => e.warnings ?? []);
    expect(warnings.some((w) => w.startsWith("snappy record batch"))).toBe(true);
    expect(warnings.some((w) => w.startsWith("lz4 record batch"))).toBe(true);
    const counts = produce.map((e) => e.kafkaRequest!.topics![0]!.partitions![0]!.recordCount);
    expect(counts.sort()).toEqual([1, 1, 2, 3]);
    const plain = produce.flatMap((e) => e.kafkaRequest!.topics![0]!.partitions![0]!.records ?? []);
    expect(plain.map((r) => `${text(r.key)}:${text(r.value)}`)).toContain("k1:hello");
  });

  it("reports a request left without a response at capture end", () => {
    // kcat -e exits after its last fetch; the broker's long-poll reply never comes
    expect(ex.some((e) => e.kafkaRequest?.apiName === "Fetch" && e.status === EntryStatus.NO_RESPONSE)).toBe(true);
  });
});

describe("kafka dissector agrees with tshark", () => {
  type Pdu = { stream: number; corr: number; key?: number; version?: number; topics?: string[] };
  function oracle(file: string): { requests: Pdu[]; responses: Pdu[]; checkedTopics: Pdu[] } {
    const out = execFileSync(
      "tshark",
      ["-r", join(fixtureDir, file), "-d", `tcp.port==${fixturePorts[file]},kafka`, "-Y", "kafka", "-T", "json", "--no-duplicate-keys",
        ...["tcp.stream", "kafka.request_key", "kafka.response_key", "kafka.api_version", "kafka.correlation_id", "kafka.topic_name", "_ws.malformed"].flatMap((f) => ["-e", f])],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    const res = { requests: [] as Pdu[], responses: [] as Pdu[], checkedTopics: [] as Pdu[] };
    for (const pkt of JSON.parse(out) as { _source: { layers: Record<string, string[]> } }[]) {
      const l = pkt._source.layers;
      const stream = Number(l["tcp.stream"]![0]);
      const corr = (l["kafka.correlation_id"] ?? []).map(Number);
      const isReq = !!l["kafka.request_key"];
      corr.forEach((c, i) => {
        const pdu: Pdu = isReq
          ? { stream, corr: c, key: Number(l["kafka.request_key"]![i]), version: Number(l["kafka.api_version"]![i]) }
          : { stream, corr: c };
        (isReq ? res.requests : res.responses).push(pdu);
      });
      // topic names are per frame: comparable when the frame holds one well-formed PDU
      if (corr.length === 1 && !l["_ws.malformed"]) {
        res.checkedTopics.push({ stream, corr: corr[0]!, key: isReq ? 1 : 0, topics: [...new Set(l["kafka.topic_name"] ?? [])].sort() });
      }
    }
    return res;
  }

  for (const file of fixtureNames) {
    it(`${file}: every request and response, with api key, version, correlation id and topics`, () => {
      const want = oracle(file);
      const mine = new Map<string, Exchange>();
      for (const s of streamsOf(file)) for (const e of run(s.chunks).exchanges) mine.set(`${s.index}/${e.kafkaRequest?.correlationId ?? e.kafkaResponse?.correlationId}`, e);
      expect(want.requests.length).toBeGreaterThan(10);
      const reqs = [...mine.values()].filter((e) => e.kafkaRequest);
      expect(reqs.length).toBe(want.requests.length);
      expect([...mine.values()].filter((e) => e.kafkaResponse).length).toBe(want.responses.length);
      for (const p of want.requests) {
        const e = mine.get(`${p.stream}/${p.corr}`);
        expect(e?.kafkaRequest, `request ${p.stream}/${p.corr}`).toBeDefined();
        expect([e!.kafkaRequest!.apiKey, e!.kafkaRequest!.apiVersion]).toEqual([p.key, p.version]);
      }
      for (const p of want.responses) expect(mine.get(`${p.stream}/${p.corr}`)?.kafkaResponse?.correlationId).toBe(p.corr);
      let compared = 0;
      for (const p of want.checkedTopics) {
        const e = mine.get(`${p.stream}/${p.corr}`)!;
        const side = p.key === 1 ? e.kafkaRequest! : e.kafkaResponse!;
        const names = [...new Set((side.topics ?? []).map((t) => t.name!))].sort();
        expect(names, `topics of ${p.key === 1 ? "request" : "response"} ${p.stream}/${p.corr}`).toEqual(p.topics);
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
    });
  }
});

describe("kafka through the worker's pipeline (pcap reader, TCP reassembly, detection by content)", () => {
  for (const file of fixtureNames) {
    it(`${file}: one entry per exchange on a non-default port`, () => {
      const { entries } = runPipeline(readFrames(join(fixtureDir, file)), [kafkaDissector]);
      const direct = all(file);
      expect(entries.length).toBe(direct.length);
      const key = (e: { kafkaRequest?: { correlationId?: number | null; apiName?: string | null } | null }) => `${e.kafkaRequest?.apiName}/${e.kafkaRequest?.correlationId}`;
      expect(entries.map(key).sort()).toEqual(direct.map(key).sort());
      expect(entries.every((e) => e.dst?.port === fixturePorts[file])).toBe(true);
    });
  }
});

describe("kafka detection", () => {
  it("recognises the first request of every fixture stream as a client", () => {
    for (const file of fixtureNames) {
      for (const s of streamsOf(file)) {
        const first = s.chunks.find((c) => c.dir === Direction.ClientToServer)!.data;
        expect(detectKafka(first, Direction.ClientToServer)).toEqual({ match: true, senderRole: "client" });
        expect(detectKafka(first.subarray(0, 6), Direction.ClientToServer)).toBe("more");
      }
    }
  });

  it("rejects HTTP, RESP, TLS and bogus headers", () => {
    for (const s of ["GET / HTTP/1.1\r\n\r\n", "*1\r\n$4\r\nPING\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"]) {
      expect(detectKafka(Buffer.from(s, "latin1"), Direction.ClientToServer)).toBe("no");
    }
    expect(detectKafka(request(500, 0, 1, "x"), Direction.ClientToServer)).toBe("no"); // api key out of range
    expect(detectKafka(request(3, 99, 1, "x"), Direction.ClientToServer)).toBe("no"); // version
    expect(detectKafka(request(3, 1, 1, "bad\x01id"), Direction.ClientToServer)).toBe("no");
    const long = request(3, 1, 1, "abc");
    long.writeInt16BE(200, 12); // client_id longer than the message
    expect(detectKafka(long, Direction.ClientToServer)).toBe("no");
  });
});

describe("kafka robustness", () => {
  it("a 2^31-1 length prefix is refused without asking to buffer it", () => {
    const frame = Buffer.from("7fffffff0003000200000001", "hex");
    const r = run([{ dir: Direction.ClientToServer, data: frame }]);
    expect(r.maxNeed).toBeLessThanOrEqual(4);
    expect(r.bad[0]).toMatch(/length prefix 2147483647/);
    expect(r.counters.get("bad_length")).toBe(1);
  });

  it("a message over the buffer cap is streamed past: header kept, body skipped, pairing continues", () => {
    const limits = { ...defaultLimits, maxBufferBytes: 4096 };
    const body = Buffer.alloc(50_000, 7);
    const big = request(0, 7, 41, "big", body);
    const small = request(18, 0, 42, "next");
    const resp = (corr: number) => Buffer.from(`00000008${corr.toString(16).padStart(8, "0")}00000000`, "hex");
    const chunks = rechunk(
      [
        { dir: Direction.ClientToServer, data: Buffer.concat([big, small]) },
        { dir: Direction.ServerToClient, data: Buffer.concat([resp(41), resp(42)]) },
      ],
      [1500],
    );
    const r = run(chunks, limits);
    expect(r.maxNeed).toBeLessThanOrEqual(limits.maxBufferBytes);
    expect(r.exchanges.map((e) => [e.kafkaRequest?.correlationId, e.kafkaRequest?.clientId, e.status])).toEqual([
      [41, "big", EntryStatus.COMPLETE],
      [42, "next", EntryStatus.COMPLETE],
    ]);
    expect(r.exchanges[0]!.warnings![0]).toMatch(/over the 4096-byte buffer cap/);
    expect(r.exchanges[0]!.requestSize).toBe(big.length);
  });

  it("pending requests are bounded and closed by the flow's outcome", () => {
    const limits = { ...defaultLimits, maxPending: 4 };
    const reqs = Array.from({ length: 6 }, (_, i) => request(12, 0, i, "c", Buffer.from("0001670000000100016d", "hex")));
    const r = run([{ dir: Direction.ClientToServer, data: Buffer.concat(reqs) }], limits);
    expect(r.counters.get("pending_evicted")).toBe(2);
    expect(r.exchanges).toHaveLength(6);
    expect(r.exchanges.every((e) => e.status === EntryStatus.NO_RESPONSE)).toBe(true);
  });

  it("error codes have names", () => {
    expect(errorName(0)).toBe("");
    expect(errorName(3)).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(errorName(35)).toBe("UNSUPPORTED_VERSION");
    expect(errorName(-1)).toBe("UNKNOWN_SERVER_ERROR");
    expect(errorName(9999)).toBe("ERROR_9999");
  });

  const streams = fixtureNames.flatMap((f) => streamsOf(f));
  const summarize = (ex: Exchange[]) => JSON.stringify(ex.map((e) => ({ ...e, requestStartNs: 0, responseEndNs: 0 })));

  it("random chunk splits yield identical exchanges", () => {
    const whole = streams.map((s) => summarize(run(s.chunks).exchanges));
    fc.assert(
      fc.property(fc.nat(streams.length - 1), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (i, cuts) => {
        expect(summarize(run(rechunk(streams[i]!.chunks, cuts)).exchanges)).toBe(whole[i]);
      }),
      { numRuns: 150 },
    );
  });

  it("random bytes and mutated real messages never throw and never ask past the caps", () => {
    const limits = { ...defaultLimits, maxBufferBytes: 64 * 1024 };
    const real = streams.flatMap((s) => s.chunks);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 2000 }).map((b) => [{ dir: Direction.ClientToServer, data: Buffer.from(b) }, { dir: Direction.ServerToClient, data: Buffer.from(b) }]),
          fc.tuple(fc.nat(real.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 64 })).map(([i, at, byte, cut]) => {
            const data = Buffer.from(real[i]!.data);
            data[at % data.length] = byte; // one corrupted byte in a real message (lengths, counts, varints)
            return rechunk([{ dir: real[i]!.dir, data }], [cut]);
          }),
        ),
        (chunks: Chunk[]) => {
          const r = run(chunks, limits);
          expect(r.maxNeed).toBeLessThanOrEqual(limits.maxBufferBytes);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("a valid flow after garbage still dissects", () => {
    const garbage = run([{ dir: Direction.ClientToServer, data: Buffer.from("00000010ffff0000deadbeef0000000000000000", "hex") }]);
    expect(garbage.bad.length).toBe(1);
    const s = streamsOf("kafkajs.pcap")[0]!;
    expect(run(s.chunks).exchanges.length).toBeGreaterThan(0);
  });
});
