import { describe, expect, test } from "vitest";
import fc from "fast-check";
import zlib from "node:zlib";
import { EntryStatus } from "@tapline/protocol";
import type { Exchange } from "../types.js";
import { defaultLimits, Direction } from "../types.js";
import { dissectors } from "../registry.js";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { drive, findAll, readFlows, rechunk, streamBytes, tsharkJson } from "../__fixtures__/pcap-streams.js";
import type { Chunk, Flow } from "../__fixtures__/pcap-streams.js";
import { httpDissector as http } from "./index.js";
import { parseFields } from "./wire.js";

const fixture = (name: string) => new URL(`./__fixtures__/${name}.pcap`, import.meta.url).pathname;
const FIXTURES = ["http", "http-pipe", "http10", "http-ws"];
// tshark 4.0 treats node's HEAD response (no Content-Length) as delimited by close, so the
// pipelined 404 after it becomes "body"; RFC 9112 §6.3 item 1 says a HEAD response has none.
const TSHARK_MISSES: Record<string, string[]> = { "http-pipe": ["404"] };

function dissect(name: string): { flow: Flow; exchanges: Exchange[]; bad: string[] }[] {
  return readFlows(fixture(name)).map((flow) => ({ flow, ...drive(http, flow.chunks, { close: flow.end }) }));
}
const all = (name: string) => dissect(name).flatMap((r) => r.exchanges);
const text = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString();
const c2s = (s: string | Buffer, tsNs = 1): Chunk => ({ direction: Direction.ClientToServer, data: Buffer.from(s), tsNs });
const s2c = (s: string | Buffer, tsNs = 2): Chunk => ({ direction: Direction.ServerToClient, data: Buffer.from(s), tsNs });

describe("HTTP/1.x on captures of node http + curl", () => {
  test("keep-alive connection: every framing case", () => {
    const ex = all("http");
    expect(ex.map((e) => `${e.httpRequest?.method} ${e.httpRequest?.path} ${e.httpResponse?.status}`)).toEqual([
      "GET /hello 200", "GET /chunked 200", "GET /gzip 200", "GET /deflate 200", "GET /br 200", "GET /empty 204",
      "GET /big 200", "GET /nope 404", "HEAD /hello 200", "GET /etag 304", "POST /upload 200", "POST /upload?chunked=1 200",
    ]);
    expect(ex.every((e) => e.status === EntryStatus.COMPLETE)).toBe(true);
    const [hello, chunked, gz, defl, br, empty, big] = ex;
    // duplicate fields kept, in order
    expect(hello.httpResponse!.headers!.filter((h) => h.name === "X-Dup").map((h) => h.value)).toEqual(["one", "two"]);
    expect(hello.httpRequest!.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(text(hello.httpResponse!.body!.data)).toBe("hello\n");
    // chunked with a trailer field
    expect(text(chunked.httpResponse!.body!.data)).toBe("first chunk;second chunk;last");
    expect(chunked.httpResponse!.trailers).toEqual([{ name: "X-Checksum", value: "abc123" }]);
    const expected = "hello from tapline fixture server\n".repeat(40);
    for (const e of [gz, defl, br]) {
      const b = e.httpResponse!.body!;
      expect(b.decoded).toBe(true);
      expect(text(b.data)).toBe(expected);
      expect(b.size).toBeLessThan(expected.length);
      expect(b.decodedSize).toBe(expected.length);
    }
    expect(empty.httpResponse!.body).toBeUndefined();
    expect(big.httpResponse!.body).toMatchObject({ size: 100_000, truncated: true });
    expect(big.httpResponse!.body!.data!.length).toBe(65536);
    expect(big.responseSize).toBeGreaterThan(100_000);
    expect(big.responseEndNs).toBeGreaterThanOrEqual(big.requestStartNs);
  });

  test("HEAD and 304 carry no body, 100-continue is informational, uploads stream", () => {
    const ex = all("http");
    const head = ex.find((e) => e.httpRequest?.method === "HEAD")!;
    expect(head.httpResponse!.body).toBeUndefined();
    expect(ex.find((e) => e.httpResponse?.status === 304)!.httpResponse!.body).toBeUndefined();
    const [upload, chunkedUpload] = ex.filter((e) => e.httpRequest?.method === "POST");
    expect(upload.httpResponse!.informational).toEqual([100]);
    expect(upload.httpRequest!.body!.size).toBe(3000);
    expect(chunkedUpload.httpRequest!.body!.size).toBe(3000);
    expect(JSON.parse(text(chunkedUpload.httpResponse!.body!.data))).toEqual({ received: 3000 });
  });

  test("pipelined requests are answered in order", () => {
    const ex = all("http-pipe");
    const [flow] = readFlows(fixture("http-pipe"));
    const statusLines = streamBytes(flow, Direction.ServerToClient).toString("latin1").match(/^HTTP\/1\.1 \d{3}/gm);
    expect(statusLines).toHaveLength(3);
    expect(ex.map((e) => [e.httpRequest?.method, e.httpRequest?.path, e.httpResponse?.status, e.httpResponse?.body?.size ?? 0])).toEqual([
      ["GET", "/hello?n=1", 200, 6], ["HEAD", "/hello?n=2", 200, 0], ["GET", "/missing", 404, 10],
    ]);
  });

  test("HTTP/1.0 response delimited by connection close completes on close", () => {
    const [e] = all("http10");
    expect(e.httpRequest!.version).toBe("HTTP/1.0");
    expect(e.status).toBe(EntryStatus.COMPLETE);
    expect(text(e.httpResponse!.body!.data)).toBe("streamed part one\nstreamed part two\n");
  });

  test("websocket upgrade: 101 noted, later frames not dissected", () => {
    const [r] = dissect("http-ws");
    expect(r.exchanges).toHaveLength(1);
    expect(r.exchanges[0].httpRequest!.upgrade).toBe(true);
    expect(r.exchanges[0].httpResponse!.status).toBe(101);
    expect(r.exchanges[0].warnings!.join()).toMatch(/websocket/);
    expect(r.bad.length).toBeGreaterThan(0); // the frames after the upgrade
  });

  test.each(FIXTURES)("agrees with tshark on %s (methods, targets, status codes per connection)", async (name) => {
    const flows = readFlows(fixture(name));
    const packets = await tsharkJson(fixture(name), `tcp.port==${flows[0].serverPort},http`);
    const theirs = new Map<string, string[]>();
    for (const p of packets) {
      const layers = p._source.layers;
      if (!layers.http) continue;
      const stream = String(findAll(layers.tcp, "tcp.stream")[0]);
      const list = theirs.get(stream) ?? [];
      for (const pdu of Array.isArray(layers.http) ? layers.http : [layers.http]) {
        const method = findAll(pdu, "http.request.method")[0];
        if (method) list.push(`${method} ${findAll(pdu, "http.request.uri")[0]}`);
        const code = findAll(pdu, "http.response.code")[0];
        if (code) list.push(String(code));
      }
      theirs.set(stream, list);
    }
    const ours = new Map<string, string[]>();
    flows.forEach((flow, i) => {
      const list: string[] = [];
      for (const e of drive(http, flow.chunks, { close: flow.end }).exchanges) {
        if (e.httpRequest) list.push(`${e.httpRequest.method} ${e.httpRequest.path}`);
        for (const s of e.httpResponse?.informational ?? []) list.push(String(s));
        if (e.httpResponse) list.push(String(e.httpResponse.status));
      }
      ours.set(String(i), list);
    });
    // tshark lists each message in capture order; compare as sorted lists per connection
    const misses = [...(TSHARK_MISSES[name] ?? [])];
    for (const [k, v] of theirs) {
      const mine = (ours.get(k) ?? []).filter((x) => {
        const i = misses.indexOf(x);
        return i < 0 || (misses.splice(i, 1), false);
      });
      expect(mine.sort(), `stream ${k}`).toEqual([...v].sort());
    }
    expect(misses).toEqual([]);
    expect([...ours.values()].flat().length).toBe([...theirs.values()].flat().length + (TSHARK_MISSES[name]?.length ?? 0));
  });
});

describe("HTTP/1.x properties", () => {
  const flows = FIXTURES.flatMap((n) => readFlows(fixture(n)));
  const strip = (ex: Exchange[]) => ex.map((e) => ({ ...e, requestStartNs: 0, responseEndNs: 0 }));

  test("splitting the streams at random boundaries yields the same exchanges", () => {
    const reference = flows.map((f) => strip(drive(http, f.chunks, { close: f.end }).exchanges));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        flows.forEach((f, i) => {
          expect(strip(drive(http, rechunk(f.chunks, sizes), { close: f.end }).exchanges)).toEqual(reference[i]);
        });
      }),
      { numRuns: 40 },
    );
  });

  test("random bytes never throw, in either direction", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 300 }))), (parts) => {
        drive(http, parts.map(([d, b]) => ({ direction: d ? 1 : 0, data: Buffer.from(b), tsNs: 1 })));
      }),
      { numRuns: 300 },
    );
  });

  test("random mutations of real requests never throw", () => {
    const req = Buffer.from("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n");
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(req.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (muts) => {
        const b = Buffer.from(req);
        for (const [i, v] of muts) b[i] = v;
        drive(http, [c2s(b), s2c("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("HTTP/1.x hostile and unusual input", () => {
  test("a header section over the cap is refused without waiting for its end", () => {
    const r = drive(http, [c2s(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(70 * 1024)}`)]);
    expect(r.bad[0]).toMatch(/header section over/);
  });

  test("chunk size FFFFFFFFFFFF is refused", () => {
    const r = drive(http, [
      c2s("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
      s2c("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\nabc"),
    ]);
    expect(r.bad).toEqual([expect.stringMatching(/chunk size over/)]);
    expect(r.exchanges[0].httpResponse!.status).toBe(200);
    expect(r.exchanges[0].status).toBe(EntryStatus.TRUNCATED);
  });

  test("chunk extensions are ignored, obs-fold joins lines, bare LF is tolerated", () => {
    const r = drive(http, [
      c2s("GET /a HTTP/1.1\nHost: a\nX-Folded: one\n  two\n\n"),
      s2c("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=val\r\nabc\r\n0;last\r\n\r\n"),
    ]);
    const [e] = r.exchanges;
    expect(e.httpRequest!.headers).toContainEqual({ name: "X-Folded", value: "one two" });
    expect(text(e.httpResponse!.body!.data)).toBe("abc");
  });

  test("conflicting Content-Length values stop the direction", () => {
    const r = drive(http, [c2s("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")]);
    expect(r.bad[0]).toMatch(/conflicting Content-Length/);
  });

  test("a gzip bomb is decoded only up to maxDecodedBytes and marked truncated", () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const r = drive(
      http,
      [c2s("GET / HTTP/1.1\r\n\r\n"), s2c(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`), s2c(bomb)],
      { limits: { maxDecodedBytes: 256 * 1024, maxBodyBytes: 1024 * 1024 } },
    );
    const b = r.exchanges[0].httpResponse!.body!;
    expect(b.size).toBe(bomb.length);
    expect(b.truncated).toBe(true);
    expect(b.decodedSize).toBeLessThanOrEqual(256 * 1024);
    expect(b.decodedSize).toBeGreaterThan(0);
  });

  test("a large body streams through without being buffered", () => {
    const session = http.createSession({ emit: () => {}, limits: { ...defaultLimits, maxBodyBytes: 16 }, count: () => {} });
    const head = Buffer.from("POST / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n");
    expect(session.feed(0, head, 0, 1, 1)).toEqual({ kind: "used", used: head.length });
    const chunk = Buffer.alloc(64 * 1024);
    // every feed consumes the whole chunk: the driver never has to hold body bytes
    for (let i = 0; i < 10; i++) expect(session.feed(0, chunk, 0, 1, 1)).toEqual({ kind: "used", used: chunk.length });
  });

  test("unanswered requests: reset, closed, expired and over the pending limit", () => {
    expect(drive(http, [c2s("GET /a HTTP/1.1\r\n\r\n")], { close: "rst" }).exchanges[0].status).toBe(EntryStatus.CONNECTION_RESET);
    expect(drive(http, [c2s("GET /a HTTP/1.1\r\n\r\n")], { close: "fin" }).exchanges[0].status).toBe(EntryStatus.CLOSED_EARLY);
    const out: Exchange[] = [];
    const s = http.createSession({ emit: (e) => out.push(e), limits: { maxBodyBytes: 16, maxDecodedBytes: 16, maxBufferBytes: 1 << 16, maxDetectBytes: 1 << 14, maxItems: 8, maxPending: 2 }, count: () => {} });
    const req = Buffer.from("GET /p HTTP/1.1\r\n\r\n");
    for (let i = 0; i < 3; i++) s.feed(0, req, 0, 1000 * i, 1000 * i);
    expect(out.map((e) => e.status)).toEqual([EntryStatus.NO_RESPONSE]);
    s.expire!(1000 + 1500 + 1, 1500); // the request at t=1000 is older than 1500 ns, the one at 2000 is not
    expect(out.length).toBe(2);
    expect(out[1].warnings![0]).toMatch(/timeout/);
  });

  test("a response before any request is reported alone", () => {
    const r = drive(http, [s2c("HTTP/1.1 204 No Content\r\n\r\n")]);
    expect(r.exchanges[0].httpRequest).toBeUndefined();
    expect(r.exchanges[0].httpResponse!.status).toBe(204);
  });
});

describe("HTTP/1.x detect", () => {
  const d = (s: string) => http.detect(Buffer.from(s), Direction.ClientToServer);
  test.each([
    ["GET /index.html HTTP/1.1\r\nHost: x\r\n", { match: true, senderRole: "client" }],
    ["PROPFIND /dav HTTP/1.1\r\n", { match: true, senderRole: "client" }],
    ["HTTP/1.1 200 OK\r\n", { match: true, senderRole: "server" }],
    ["HTTP/1.0 404", { match: true, senderRole: "server" }],
    ["GE", "more"],
    ["GET /still-coming", "more"],
    ["HTTP/1", "more"],
    ["BREW /pot HTTP/1.1\r\n", "no"],
    ["GET / SPDY/3\r\n", "no"],
    ["*3\r\n$3\r\nSET\r\n", "no"],
    ["\x16\x03\x01\x02\x00", "no"],
  ])("%j", (input, expected) => expect(d(input)).toEqual(expected));
});

describe("HTTP/1.x through the worker's pipeline (pcap reader, TCP reassembly, detection by content)", () => {
  test.each(FIXTURES)("%s: same exchanges as the direct replay, on a non-default port", (name) => {
    const { entries } = runPipeline(readFrames(fixture(name)), [...dissectors]);
    const direct = all(name);
    const key = (e: Pick<Exchange, "httpRequest" | "httpResponse">) => `${e.httpRequest?.method} ${e.httpRequest?.path} ${e.httpResponse?.status}`;
    expect(entries.map(key)).toEqual(direct.map(key));
    expect(entries.every((e) => e.protocol === http.protocol)).toBe(true);
  });
});

describe("HTTP/1.x lenient field parsing", () => {
  test("a field line without a colon is noted, and the message still frames by its Content-Length", () => {
    const r = drive(http, [
      { direction: Direction.ClientToServer, data: Buffer.from("POST /f HTTP/1.1\r\nNoColonHere\r\nContent-Length: 2\r\n\r\nokGET /g HTTP/1.1\r\n\r\n"), tsNs: 1 },
    ]);
    expect(r.bad).toEqual([]);
    expect(r.exchanges.map((e) => [e.httpRequest!.path, e.httpRequest!.body?.size])).toEqual([["/f", 2], ["/g", undefined]]);
    expect(r.exchanges[0].warnings!.join()).toMatch(/without a name and colon/);
  });
});

describe("HTTP/1.x framing field names and values", () => {
  const fields = (lines: string) => parseFields(lines + "\r\n", 0, 100);

  test("names and the usual single values match in any ASCII case", () => {
    const f = fields("CONTENT-LENGTH: 3\r\ntransfer-ENCODING: Chunked\r\nConnection: Keep-Alive\r\nHOST: a\r\ncontent-TYPE: text/x\r\nUpgrade: h2c\r\n");
    expect(f).toMatchObject({ contentLength: 3, transferEncoding: true, chunked: true, connectionKeepAlive: true, host: "a", contentType: "text/x", upgrade: "h2c" });
    expect(fields("Connection: CLOSE\r\n").connectionClose).toBe(true);
    expect(fields("Connection: Upgrade, close\r\n").connectionClose).toBe(true);
    expect(fields("Transfer-Encoding: chunked, gzip\r\n").chunked).toBe(false);
    expect(fields("Content-Length: 7, 7\r\n").contentLength).toBe(7);
  });

  test("a CR inside a name does not pass for the hyphen ('\\r' | 0x20 is '-')", () => {
    const f = fields("content\rlength: 5\r\ntransfer\rencoding: chunked\r\n");
    expect(f.contentLength).toBe(-1);
    expect(f.transferEncoding).toBe(false);
    expect(f.headers.map((h) => h.name)).toEqual(["content\rlength", "transfer\rencoding"]);
  });

  test("a second, different Content-Length is still a conflict", () => {
    expect(fields("Content-Length: 5\r\nContent-Length: 6\r\n").error).toMatch(/conflicting/);
    expect(fields("Content-Length: 5x\r\n").error).toMatch(/invalid Content-Length/);
  });
});
