import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { EntryStatus, RedisKind } from "@tapline/protocol";
import type { Exchange } from "../types.js";
import { defaultLimits, Direction } from "../types.js";
import { dissectors } from "../registry.js";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { drive, findAll, readFlows, rechunk, tsharkJson } from "../__fixtures__/pcap-streams.js";
import type { Chunk } from "../__fixtures__/pcap-streams.js";
import { redisDissector as redis } from "./index.js";

const FIXTURE = new URL("./__fixtures__/redis.pcap", import.meta.url).pathname;
const flows = readFlows(FIXTURE);
const perFlow = flows.map((f) => drive(redis, f.chunks, { close: f.end }));
const all = perFlow.flatMap((r) => r.exchanges);
const commands = (ex: Exchange[]) => ex.filter((e) => e.redisRequest).map((e) => e.redisRequest!.command);
const c2s = (s: string | Buffer, tsNs = 1): Chunk => ({ direction: Direction.ClientToServer, data: Buffer.from(s), tsNs });
const s2c = (s: string | Buffer, tsNs = 2): Chunk => ({ direction: Direction.ServerToClient, data: Buffer.from(s), tsNs });
const byCommand = (cmd: string, arg?: string) =>
  all.find((e) => e.redisRequest?.command === cmd && (arg === undefined || e.redisRequest.args?.[0] === arg))!;

describe("Redis on captures of redis-server + redis-cli", () => {
  test("every connection dissects without errors and every command is answered", () => {
    for (const r of perFlow) expect(r.bad).toEqual([]);
    expect(all.every((e) => e.status === EntryStatus.COMPLETE)).toBe(true);
    expect(all.filter((e) => e.redisRequest && !e.redisResponse)).toEqual([]);
  });

  test("commands, keys and replies", () => {
    expect(byCommand("SET", "greeting").redisRequest).toEqual({ command: "SET", args: ["greeting", "hello"], key: "greeting" });
    expect(byCommand("GET", "greeting").redisResponse!.value).toMatchObject({ kind: RedisKind.BULK_STRING, text: "hello", size: 5 });
    expect(byCommand("HGETALL", "user:1").redisResponse!.value!.elements!.map((e) => e.text)).toEqual(["name", "ada", "lang", "en"]);
    const wrong = byCommand("LPUSH", "greeting").redisResponse!;
    expect(wrong.error).toBe(true);
    expect(wrong.value!.text).toMatch(/^WRONGTYPE/);
    expect(byCommand("NOSUCHCOMMAND").redisResponse!.value!.text).toMatch(/^ERR unknown command/);
    expect(byCommand("CLIENT SETNAME").redisRequest).toMatchObject({ args: ["tapline-fixture"] });
    expect(byCommand("CONFIG GET").redisRequest).toMatchObject({ args: ["maxmemory"] });
    expect(byCommand("STRLEN", "big").redisResponse!.value!.integer).toBe(40000);
  });

  test("big values: args capped, true size kept in the reply tree", () => {
    const set = byCommand("SET", "big");
    expect(set.redisRequest!.args![1]).toHaveLength(1024);
    expect(set.requestSize).toBeGreaterThan(40000);
    const r = drive(redis, flows.find((f) => commands(drive(redis, f.chunks).exchanges).includes("SET"))!.chunks, { limits: { maxBodyBytes: 3 } });
    expect(r.exchanges[0].redisRequest!.args).toEqual(["gre", "hel"]);
  });

  test("a pipeline in one write is paired in order, inline commands included", () => {
    const ex = perFlow.find((r) => commands(r.exchanges).includes("LRANGE"))!.exchanges;
    expect(ex.map((e) => [e.redisRequest!.command, e.redisRequest!.inline ?? false, e.redisResponse!.value!.kind])).toEqual([
      ["SET", false, RedisKind.SIMPLE_STRING], ["INCR", false, RedisKind.INTEGER], ["LPUSH", false, RedisKind.INTEGER],
      ["LRANGE", false, RedisKind.ARRAY], ["GET", false, RedisKind.NULL],
      ["PING", true, RedisKind.SIMPLE_STRING], ["SET", true, RedisKind.SIMPLE_STRING], ["GET", true, RedisKind.BULK_STRING],
      ["CLIENT SETNAME", false, RedisKind.SIMPLE_STRING], ["CONFIG GET", false, RedisKind.ARRAY],
      ["MULTI", false, RedisKind.SIMPLE_STRING], ["INCR", false, RedisKind.SIMPLE_STRING], ["EXEC", false, RedisKind.ARRAY],
    ]);
    expect(ex[7].redisResponse!.value!.text).toBe("42");
  });

  test("RESP3: maps, sets, doubles, big numbers, booleans, verbatim, attributes and pushes", () => {
    const r3 = perFlow.find((r) => commands(r.exchanges).includes("HELLO"))!.exchanges;
    const reply = (cmd: string, arg?: string) => r3.find((e) => e.redisRequest?.command === cmd && (arg === undefined || e.redisRequest.args?.[0] === arg))!.redisResponse!.value!;
    expect(reply("HELLO").kind).toBe(RedisKind.MAP);
    expect(reply("HGETALL").kind).toBe(RedisKind.MAP);
    expect(reply("HGETALL").size).toBe(2);
    expect(reply("SMEMBERS")).toMatchObject({ kind: RedisKind.SET, elements: [{ text: "x" }] });
    expect(reply("GET", "missing").kind).toBe(RedisKind.NULL);
    expect(reply("ZSCORE")).toMatchObject({ kind: RedisKind.DOUBLE, double: 1.5 });
    expect(reply("DEBUG PROTOCOL", "bignum")).toMatchObject({ kind: RedisKind.BIG_NUMBER, text: "1234567999999999999999999999999999999" });
    expect(reply("DEBUG PROTOCOL", "true")).toMatchObject({ kind: RedisKind.BOOLEAN, boolean: true });
    expect(reply("DEBUG PROTOCOL", "verbatim")).toMatchObject({ kind: RedisKind.VERBATIM, text: "This is a verbatim\nstring" });
    expect(reply("DEBUG PROTOCOL", "attrib").text).toBe("Some real reply following the attribute");
    // SUBSCRIBE news sports: two push confirmations answer one command; published messages are pushes
    expect(reply("SUBSCRIBE")).toMatchObject({ kind: RedisKind.PUSH, elements: [{ text: "subscribe" }, { text: "news" }, { integer: 1 }] });
    const pushes = r3.filter((e) => !e.redisRequest);
    expect(pushes.map((e) => e.redisResponse!.value!.elements!.map((v) => v.text).join(" "))).toEqual(["message news breaking", "message sports goal"]);
    expect(reply("PING").text).toBe("PONG");
    expect(reply("UNSUBSCRIBE").kind).toBe(RedisKind.PUSH);
    expect(reply("QUIT").text).toBe("OK");
  });

  test("RESP2 subscriber: the message array is a push, not a reply", () => {
    const sub = perFlow.find((r) => commands(r.exchanges)[0] === "SUBSCRIBE" && r.exchanges.length === 2)!.exchanges;
    expect(sub[0].redisResponse!.value!.kind).toBe(RedisKind.ARRAY);
    expect(sub[1].redisRequest).toBeUndefined();
    expect(sub[1].warnings![0]).toMatch(/push message/);
  });

  test("agrees with tshark: commands per connection, and reply counts on RESP2 connections", async () => {
    const packets = await tsharkJson(FIXTURE, `tcp.port==${flows[0].serverPort},resp`);
    const cmds = new Map<string, string[]>();
    const replies = new Map<string, number>();
    for (const p of packets) {
      const { tcp, resp } = p._source.layers;
      if (!resp) continue;
      const stream = String(tcp["tcp.stream"]);
      if (Number(tcp["tcp.dstport"]) === flows[0].serverPort) {
        for (const arr of findAll(resp, "resp.array")) {
          const values = findAll(arr, "resp.bulk_string.value") as string[];
          // tshark also prints the incomplete head of an array split over segments: skip it
          if (values.length < Number(findAll(arr, "resp.array.length")[0])) continue;
          const first = values[0];
          const word = Buffer.from(first.replaceAll(":", ""), "hex").toString().toUpperCase();
          cmds.set(stream, [...(cmds.get(stream) ?? []), word]);
        }
      } else {
        // top-level values in the segment: each key holds one value or a list of them
        const n = Object.values(resp as Record<string, unknown>).reduce<number>((a, v) => a + (Array.isArray(v) ? v.length : 1), 0);
        replies.set(stream, (replies.get(stream) ?? 0) + n);
      }
    }
    perFlow.forEach((r, i) => {
      const words = r.exchanges.filter((e) => e.redisRequest && !e.redisRequest.inline).map((e) => e.redisRequest!.command!.split(" ")[0]);
      expect(words, `stream ${i}`).toEqual(cmds.get(String(i)) ?? []);
      if (!words.includes("HELLO")) expect(r.exchanges.filter((e) => e.redisResponse).length, `stream ${i}`).toBe(replies.get(String(i)) ?? 0);
    });
  });
});

describe("Redis properties", () => {
  const strip = (ex: Exchange[]) => ex.map((e) => ({ ...e, requestStartNs: 0, responseEndNs: 0 }));

  test("splitting the streams at random boundaries yields the same exchanges", () => {
    const reference = perFlow.map((r) => strip(r.exchanges));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        flows.forEach((f, i) => expect(strip(drive(redis, rechunk(f.chunks, sizes), { close: f.end }).exchanges)).toEqual(reference[i]));
      }),
      { numRuns: 30 },
    );
  });

  test("random bytes never throw, in either direction", () => {
    const resp = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(..."+-:$*_#,(!=%~|>\r\n0123456789".split("")).map((c) => Buffer.from(c)));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.array(resp, { maxLength: 30 }))), (parts) => {
        drive(redis, parts.map(([d, b]) => ({ direction: d ? 1 : 0, data: Buffer.concat(b.map((x) => Buffer.from(x))), tsNs: 1 })));
      }),
      { numRuns: 300 },
    );
  });
});

describe("Redis hostile input", () => {
  test("*2147483647 and $2147483647 allocate nothing", () => {
    const before = process.memoryUsage().arrayBuffers;
    const a = drive(redis, [c2s("*2147483647\r\n:1\r\n:2\r\n")], { close: "capture-end" });
    expect(a.bad).toEqual([]);
    const b = drive(redis, [c2s("*1\r\n$3\r\nGET\r\n"), s2c("$2147483647\r\nabc")]);
    expect(b.bad[0]).toMatch(/bulk length 2147483647 over/);
    const c = drive(redis, [c2s("*2\r\n$3\r\nGET\r\n$536870912\r\nxyz")]);
    expect(c.bad).toEqual([]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  test("nesting deeper than the cap is refused", () => {
    const r = drive(redis, [c2s("*1\r\n$4\r\nPING\r\n"), s2c("*1\r\n".repeat(100) + ":1\r\n")]);
    expect(r.bad[0]).toMatch(/nesting deeper/);
  });

  test("huge bulk strings stream through and keep only the cap", () => {
    const value = Buffer.alloc(3_000_000, 0x76);
    const head = Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n`);
    const chunks = rechunk([c2s(Buffer.concat([head, value, Buffer.from("\r\n")]))], [65536]);
    const r = drive(redis, [...chunks, s2c("+OK\r\n")]);
    expect(r.exchanges[0].redisRequest!.args![1]).toHaveLength(1024);
    expect(r.exchanges[0].requestSize).toBe(head.length + value.length + 2);
    expect(r.exchanges[0].redisResponse!.value!.text).toBe("OK");
  });

  test("aggregates keep maxItems elements and say they were truncated", () => {
    const reply = `*5\r\n${":1\r\n".repeat(5)}`;
    const r = drive(redis, [c2s("*2\r\n$6\r\nLRANGE\r\n$1\r\nk\r\n"), s2c(reply)], { limits: { maxItems: 2 } });
    expect(r.exchanges[0].redisResponse!.value).toMatchObject({ size: 5, truncated: true, elements: [{ integer: 1 }, { integer: 1 }] });
  });

  test("bad CRLF after a bulk stops the direction; unanswered commands get the close status", () => {
    const r = drive(redis, [c2s("*1\r\n$4\r\nPINGxx")], { close: "rst" });
    expect(r.bad[0]).toMatch(/CRLF/);
    const s = drive(redis, [c2s("*1\r\n$4\r\nPING\r\n")], { close: "rst" });
    expect(s.exchanges[0].status).toBe(EntryStatus.CONNECTION_RESET);
  });

  test("expire emits old commands as NO_RESPONSE", () => {
    const out: Exchange[] = [];
    const s = redis.createSession({ emit: (e) => out.push(e), limits: defaultLimits, count: () => {} });
    s.feed(Direction.ClientToServer, Buffer.from("*1\r\n$4\r\nPING\r\n"), 0, 100, 100);
    s.expire!(150, 100);
    expect(out).toEqual([]);
    s.expire!(201, 100);
    expect(out[0].status).toBe(EntryStatus.NO_RESPONSE);
  });
});

describe("Redis detect", () => {
  const d = (s: string, dir: Direction = Direction.ClientToServer) => redis.detect(Buffer.from(s), dir);
  test("commands, replies and strangers", () => {
    expect(d("*3\r\n$3\r\nSET\r\n")).toEqual({ match: true, senderRole: "client" });
    expect(d("*2\r\n$3\r\nfoo\r\n", Direction.ServerToClient)).toEqual({ match: true, senderRole: "server" });
    expect(d("+OK\r\n", Direction.ServerToClient)).toEqual({ match: true, senderRole: "server" });
    expect(d("-ERR unknown command\r\n", Direction.ServerToClient)).toEqual({ match: true, senderRole: "server" });
    expect(d("%7\r\n$6\r\nserver", Direction.ServerToClient)).toEqual({ match: true, senderRole: "server" });
    expect(d("*3")).toBe("more");
    expect(d("*3\r\n")).toBe("more");
    expect(d("+OK POP3 server ready\r\n", Direction.ServerToClient)).toBe("no");
    expect(d("GET / HTTP/1.1\r\n")).toBe("no");
    expect(d("*3\r\n:1\r\n")).toBe("no");
  });
});

describe("Redis through the worker's pipeline (pcap reader, TCP reassembly, detection by content)", () => {
  test("same exchanges as the direct replay, on a non-default port", () => {
    const { entries } = runPipeline(readFrames(FIXTURE), [...dissectors]);
    const key = (e: Pick<Exchange, "redisRequest" | "redisResponse">) => `${e.redisRequest?.command} ${e.redisResponse?.value?.kind}`;
    expect(entries.map(key).sort()).toEqual(all.map(key).sort());
    expect(entries.every((e) => e.protocol === redis.protocol)).toBe(true);
  });
});
