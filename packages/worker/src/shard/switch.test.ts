// Switching dissectors while a Pipeline runs: new flows use the new set, flows already assigned
// keep their dissector, a flow that was refused stays refused. Real captures (http.pcap: five
// sequential keep-alive connections; redis.pcap), not crafted bytes.
import { describe, expect, it } from "vitest";
import { Protocol, type EntryInit } from "@tapline/protocol";
import { decodeLink, decodeTcp, newPacketInfo } from "../decode/index.js";
import { Pipeline } from "../flows/index.js";
import { readFrames, type Frame } from "../flows/__fixtures__/testkit.js";
import { DissectorSwitch, enabledNames, resolveDissectorNames } from "./switch.js";

const fixture = (p: string) => new URL(`../dissectors/${p}`, import.meta.url).pathname;
const http = readFrames(fixture("http/__fixtures__/http.pcap"));
const redis = readFrames(fixture("redis/__fixtures__/redis.pcap"));

/** Runs frames through a Pipeline built on a switch; `at` = [frame index, names] switches on the way. */
function run(frames: Frame[], initial: string[], at?: [number, string[]]) {
  const sw = new DissectorSwitch(initial);
  const entries: EntryInit[] = [];
  const p = new Pipeline({ workerId: "t", dissectors: sw.dissectors, onEntry: (e) => entries.push(e) });
  frames.forEach((f, i) => {
    if (at && i === at[0]) sw.set(at[1]);
    p.pushPacket(f.linktype, f.tsNs, f.data);
  });
  p.finish();
  return { entries, stats: p.getStats() };
}

/** The client port of the connection whose SYN is frame `i` or later, per frame index: flows by start. */
function clientPortsStartingFrom(frames: Frame[], from: number): Set<number> {
  const p = newPacketInfo();
  const ports = new Set<number>();
  frames.forEach((f, i) => {
    if (i < from || !decodeLink(f.linktype, f.data, p) || !decodeTcp(p)) return;
    if ((p.tcpFlags & 0x12) === 0x02) ports.add(p.srcPort); // SYN without ACK
  });
  return ports;
}

describe("resolveDissectorNames", () => {
  it("splits known (normalized, once) from unknown names", () => {
    expect(resolveDissectorNames(["Redis", " http ", "bogus", "redis", "", "DNS"])).toEqual({ names: ["redis", "http", "dns"], unknown: ["bogus"] });
    expect(enabledNames([])).toEqual(expect.arrayContaining(["http", "redis", "kafka", "http2", "dns"]));
    expect(enabledNames(["redis", "http"])).toEqual(["http", "redis"]); // registry order
  });
});

describe("DissectorSwitch", () => {
  const allHttp = run(http, []).entries;
  const allRedis = run(redis, []).entries;

  it("finds the captures' entries with every dissector on", () => {
    expect(allHttp.filter((e) => e.protocol === Protocol.HTTP).length).toBeGreaterThanOrEqual(10);
    expect(allRedis.filter((e) => e.protocol === Protocol.REDIS).length).toBeGreaterThanOrEqual(10);
  });

  it("only redis: HTTP flows get no dissector, Redis is untouched", () => {
    const h = run(http, ["redis"]);
    expect(h.entries.filter((e) => e.protocol === Protocol.HTTP)).toEqual([]);
    expect(h.stats.flowsUndetected).toBe(5);
    expect(run(redis, ["redis"]).entries.length).toBe(allRedis.length);
    expect(new DissectorSwitch(["redis"]).enabled).toEqual(["redis"]);
  });

  it("switching off keeps flows already assigned; flows started after get nothing", () => {
    // Frame 10: the first connection has had /hello and /chunked; /gzip … /nope come after the switch.
    const r = run(http, [], [10, ["redis"]]);
    const later = clientPortsStartingFrom(http, 10);
    const expected = allHttp.filter((e) => !later.has(e.src!.port!));
    expect(expected.length).toBeGreaterThanOrEqual(8);
    expect(r.entries.map((e) => e.httpRequest?.path)).toEqual(expected.map((e) => e.httpRequest?.path));
  });

  it("switching on reaches flows started after; a flow refused before stays without a dissector", () => {
    const r = run(http, ["redis"], [10, []]);
    const later = clientPortsStartingFrom(http, 10);
    const expected = allHttp.filter((e) => later.has(e.src!.port!));
    expect(expected.length).toBeGreaterThan(0);
    expect(r.entries.map((e) => e.httpRequest?.path)).toEqual(expected.map((e) => e.httpRequest?.path));
  });
});
