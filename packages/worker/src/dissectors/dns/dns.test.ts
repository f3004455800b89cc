import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EntryStatus, Protocol, type EntryInit } from "@tapline/protocol";
import { readFrames, runPipeline } from "../../flows/__fixtures__/testkit.js";
import { drive, readFlows, rechunk } from "../__fixtures__/pcap-streams.js";
import { dissectors, selectDissectors } from "../registry.js";
import { defaultLimits, Direction, type Exchange } from "../types.js";
import { dnsDissector, dnsTcpDissector, parseMessage, readName } from "./index.js";

const dir = new URL("./__fixtures__/", import.meta.url).pathname;
const PCAP = `${dir}dns.pcap`;
const PORT = (JSON.parse(readFileSync(`${dir}ports.json`, "utf8")) as Record<string, number>)["dns.pcap"]!;
const frames = readFrames(PCAP);
const { entries } = runPipeline(frames, [...dissectors]);
const q = (e: EntryInit) => `${e.dnsRequest?.questions?.[0]?.name ?? e.dnsResponse?.id} ${e.dnsRequest?.questions?.[0]?.type ?? ""}`;
const byQuestion = new Map(entries.map((e) => [q(e), e]));
const answers = (name: string) => byQuestion.get(name)!.dnsResponse!.answers!.map((a) => `${a.name} ${a.type} ${a.ttl} ${a.data}`);

describe("DNS on dig against a node dgram/net server (through the worker's pipeline)", () => {
  it("pairs every query with its response by id and question, on a non-default port, detected by content", () => {
    expect(entries.every((e) => e.protocol === Protocol.DNS && e.dst?.port === PORT)).toBe(true);
    expect(entries.length).toBe(14);
    expect(entries.filter((e) => e.status === EntryStatus.COMPLETE).length).toBe(13);
    for (const e of entries.filter((e) => e.status === EntryStatus.COMPLETE)) {
      expect(e.dnsResponse!.id).toBe(e.dnsRequest!.id);
      expect(e.dnsRequest!.recursionDesired).toBe(true);
      expect(e.elapsedMs).toBeGreaterThanOrEqual(0);
    }
  });

  it("renders A, AAAA, CNAME (via a pointer into an answer), MX, TXT, SRV, PTR, SOA and NS records", () => {
    expect(answers("www.tapline.test A")).toEqual(["www.tapline.test A 300 127.0.0.10"]);
    expect(answers("www.tapline.test AAAA")).toEqual(["www.tapline.test AAAA 300 ::1", "www.tapline.test AAAA 300 fd00::10"]);
    expect(answers("alias.tapline.test A")).toEqual(["alias.tapline.test CNAME 60 www.tapline.test", "www.tapline.test A 300 127.0.0.10"]);
    expect(answers("mail.tapline.test MX")).toEqual(["mail.tapline.test MX 3600 10 mx.tapline.test"]);
    expect(answers("txt.tapline.test TXT")).toEqual(['txt.tapline.test TXT 60 "v=spf1 -all" "hello world"']);
    expect(answers("_http._tcp.tapline.test SRV")).toEqual(["_http._tcp.tapline.test SRV 60 0 5 8080 www.tapline.test"]);
    expect(answers("10.0.0.127.in-addr.arpa PTR")).toEqual(["10.0.0.127.in-addr.arpa PTR 60 www.tapline.test"]);
    expect(answers("tapline.test SOA")).toEqual(["tapline.test SOA 60 ns1.tapline.test admin.tapline.test 1 3600 900 600000 64"]);
    expect(answers("tapline.test NS")).toEqual(["tapline.test NS 60 ns1.tapline.test"]);
  });

  it("NXDOMAIN and REFUSED by name; an unanswered query is NO_RESPONSE; TCP queries are dissected too", () => {
    expect(byQuestion.get("nothing.tapline.test A")!.dnsResponse).toMatchObject({ rcode: "NXDOMAIN", answers: [] });
    expect(byQuestion.get("refused.example A")!.dnsResponse!.rcode).toBe("REFUSED");
    const drop = byQuestion.get("drop.tapline.test A")!;
    expect(drop.status).toBe(EntryStatus.NO_RESPONSE);
    expect(drop.dnsResponse).toBeUndefined();
    const tcp = entries.filter((e) => e.transport === "tcp");
    expect(tcp.map((e) => [q(e), e.dnsResponse?.rcode])).toEqual([["www.tapline.test A", "NOERROR"], ["nothing.tapline.test AAAA", "NXDOMAIN"]]);
    expect(tcp.every((e) => e.status === EntryStatus.COMPLETE && e.requestSize! > 17)).toBe(true);
  });

  it("the pairing timeout (expire) reports the unanswered query before the capture ends", () => {
    const r = runPipeline(frames, [...dissectors], { pairingTimeoutNs: 0.5e9 });
    const i = r.entries.findIndex((e) => q(e) === "drop.tapline.test A");
    expect(r.entries[i]!.status).toBe(EntryStatus.NO_RESPONSE);
    // emitted by expire while later queries were still being captured, not by the final close
    expect(r.entries.slice(i + 1).some((e) => e.transport === "tcp")).toBe(true);
  });

  it("agrees with tshark: ids, questions, rcodes and answer counts", () => {
    const out = execFileSync(
      "tshark",
      ["-r", PCAP, "-d", `udp.port==${PORT},dns`, "-d", `tcp.port==${PORT},dns`, "-Y", "dns", "-T", "json", "--no-duplicate-keys",
        ...["dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "dns.count.answers"].flatMap((f) => ["-e", f])],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    const want = { queries: [] as string[], responses: [] as string[] };
    for (const pkt of JSON.parse(out) as { _source: { layers: Record<string, string[]> } }[]) {
      const l = pkt._source.layers;
      const id = Number(l["dns.id"]![0]);
      if (l["dns.flags.response"]![0] === "0") want.queries.push(`${id} ${l["dns.qry.name"]![0]}`);
      else want.responses.push(`${id} ${l["dns.qry.name"]![0]} rcode=${l["dns.flags.rcode"]![0]} answers=${l["dns.count.answers"]![0]}`);
    }
    const rcodes: Record<string, number> = { NOERROR: 0, NXDOMAIN: 3, REFUSED: 5 };
    expect(entries.map((e) => `${e.dnsRequest!.id} ${e.dnsRequest!.questions![0]!.name}`).sort()).toEqual(want.queries.sort());
    expect(
      entries.filter((e) => e.dnsResponse).map((e) => `${e.dnsResponse!.id} ${e.dnsRequest!.questions![0]!.name} rcode=${rcodes[e.dnsResponse!.rcode!]} answers=${e.dnsResponse!.answers!.length}`).sort(),
    ).toEqual(want.responses.sort());
  });

  it("--dissectors dns selects both transports", () => {
    expect(selectDissectors(["dns"]).map((d) => d.transport)).toEqual(["udp", "tcp"]);
  });
});

describe("DNS wire robustness", () => {
  it("compression loops and forward pointers are refused", () => {
    const self = Buffer.from("000000000000000000000000c00c", "hex"); // a pointer to itself at 12
    expect(readName(self, 12, self.length)).toBeNull();
    const fwd = Buffer.from("000000000000000000000000c00e0000", "hex"); // a pointer forward
    expect(readName(fwd, 12, fwd.length)).toBeNull();
    const ok = Buffer.concat([Buffer.alloc(12), Buffer.from("0361626300c00c", "hex")]);
    expect(readName(ok, 17, ok.length)).toEqual(["abc", 19]);
    const tooLong = Buffer.concat([Buffer.alloc(12), ...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 97)])), Buffer.from([0])]);
    expect(readName(tooLong, 12, tooLong.length)).toBeNull(); // over 255 octets
  });

  it("random bytes and corrupted real messages never throw", () => {
    const msgs = frames.map((f) => f.data.subarray(42)).filter((d) => d.length > 12);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
          fc.tuple(fc.nat(msgs.length - 1), fc.nat(), fc.nat(255)).map(([i, at, v]) => {
            const b = Buffer.from(msgs[i]!);
            b[at % b.length] = v;
            return b;
          }),
        ),
        (b: Buffer) => {
          const got: Exchange[] = [];
          const s = dnsDissector.createSession({ emit: (e) => got.push(e), limits: defaultLimits, count: () => {} });
          s.datagram!(Direction.ClientToServer, b, 1);
          s.datagram!(Direction.ServerToClient, b, 2);
          s.close("capture-end", 3);
          dnsDissector.detect(b, Direction.ClientToServer);
          dnsTcpDissector.detect(b, Direction.ClientToServer);
          const m = parseMessage(b, 0, b.length, 16);
          if (typeof m !== "string") expect(m.answers.length).toBeLessThanOrEqual(16);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("DNS over TCP: random chunk splits give identical exchanges", () => {
    const tcpFlows = readFlows(PCAP).filter((f) => f.chunks.length > 0);
    expect(tcpFlows.length).toBe(2);
    const whole = tcpFlows.map((f) => JSON.stringify(drive(dnsTcpDissector, f.chunks, { close: f.end }).exchanges));
    fc.assert(
      fc.property(fc.nat(1), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), (i, cuts) => {
        const f = tcpFlows[i]!;
        expect(JSON.stringify(drive(dnsTcpDissector, rechunk(f.chunks, cuts), { close: f.end }).exchanges)).toBe(whole[i]);
      }),
      { numRuns: 100 },
    );
  });

  it("a TCP length under a header stops the direction with a reason", () => {
    const r = drive(dnsTcpDissector, [{ direction: Direction.ClientToServer, data: Buffer.from("0004abcd", "hex"), tsNs: 1 }]);
    expect(r.bad[0]).toMatch(/length 4/);
  });
});
