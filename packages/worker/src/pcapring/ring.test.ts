import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PcapReader } from "../capture/reader.js";
import { PcapRing, ringDiskBytes } from "./ring.js";

// Real loopback HTTP traffic captured with tcpdump (see ../dissectors/http/__fixtures__/capture.sh).
const fixture = new URL("../dissectors/http/__fixtures__/http.pcap", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "tapline-ring-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Pkt { linktype: number; tsNs: number; data: Buffer; origLen: number }
function packetsOf(bytes: Buffer): Pkt[] {
  const out: Pkt[] = [];
  new PcapReader((linktype, tsNs, data, origLen) => out.push({ linktype, tsNs, data: Buffer.from(data), origLen })).push(bytes);
  return out;
}
const tshark = (file: string, ...args: string[]) => execFileSync("tshark", ["-r", file, ...args], { encoding: "utf8" });

describe("pcap ring", () => {
  const packets = packetsOf(readFileSync(fixture));

  it("exports every packet intact as pcapng that tshark reads without malformed packets", () => {
    const ring = new PcapRing({ dir: join(tmp, "all"), limitBytes: 64 * 1024 * 1024 });
    for (const p of packets) ring.append(p.linktype, p.tsNs, p.data, p.origLen);
    const out = join(tmp, "all.pcapng");
    writeFileSync(out, Buffer.concat([...ring.export(0, 0)]));
    ring.close();
    expect(tshark(out, "-T", "fields", "-e", "frame.number").trim().split("\n").length).toBe(packets.length);
    expect(tshark(out, "-Y", "_ws.malformed || _ws.expert.severity == error").trim()).toBe("");
    const back = packetsOf(readFileSync(out));
    expect(back.map((p) => p.data.toString("hex"))).toEqual(packets.map((p) => p.data.toString("hex")));
    // timestamps survive to the schema's precision (JS numbers, ~256 ns at today's epoch)
    back.forEach((p, i) => expect(Math.abs(p.tsNs - packets[i].tsNs)).toBeLessThan(1024));
  });

  it("keeps only the requested flows and time range", () => {
    const ring = new PcapRing({ dir: join(tmp, "flow"), limitBytes: 64 * 1024 * 1024 });
    for (const p of packets) ring.append(p.linktype, p.tsNs, p.data, p.origLen);
    const ports = tshark(fixture.pathname, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport").trim().split("\n").map((l) => l.split("\t"));
    expect(ports.length).toBeGreaterThan(0);
    const [srcIp, srcPort, dstIp, dstPort] = ports[0];
    const out = join(tmp, "flow.pcapng");
    writeFileSync(out, Buffer.concat([...ring.export(0, 0, [{ srcIp, srcPort: Number(srcPort), dstIp, dstPort: Number(dstPort) }])]));
    const expected = tshark(fixture.pathname, "-Y", `tcp.port == ${srcPort}`, "-T", "fields", "-e", "frame.number").trim().split("\n").length;
    expect(tshark(out, "-T", "fields", "-e", "frame.number").trim().split("\n").length).toBe(expected);
    const mid = packets[Math.floor(packets.length / 2)].tsNs;
    const later = packetsOf(Buffer.concat([...ring.export(mid, 0)]));
    expect(later.length).toBe(packets.filter((p) => p.tsNs >= mid).length);
    ring.close();
  });

  it("stays within its byte limit, evicting the oldest packets first", () => {
    const dir = join(tmp, "small");
    const limit = 96 * 1024;
    const ring = new PcapRing({ dir, limitBytes: limit, fileCount: 4 });
    const base = packets[0].tsNs;
    let n = 0;
    for (let round = 0; round < 40; round++) {
      for (const p of packets) ring.append(p.linktype, base + n++ * 1000, p.data, p.origLen);
    }
    ring.flush();
    expect(ringDiskBytes(dir, readdirSync(dir))).toBeLessThanOrEqual(limit);
    const stats = ring.stats();
    expect(stats.evictedFiles).toBeGreaterThan(0);
    const kept = packetsOf(Buffer.concat([...ring.export(0, 0)]));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(n);
    // what is kept is the newest, in order
    expect(kept[kept.length - 1].tsNs).toBe(base + (n - 1) * 1000);
    for (let i = 1; i < kept.length; i++) expect(kept[i].tsNs).toBeGreaterThan(kept[i - 1].tsNs);
    ring.close();
  });

  it("refuses a limit too small to hold a file", () => {
    expect(() => new PcapRing({ dir: join(tmp, "bad"), limitBytes: 10 })).toThrow(/at least 64 KiB/);
  });
});
