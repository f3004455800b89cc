// Pipeline.tick: on a live capture the clock moves without packets; a request left without a
// response must still come out (NO_RESPONSE) and the idle flow must close.
import { describe, expect, it } from "vitest";
import { EntryStatus, type EntryInit } from "@tapline/protocol";
import { TcpFlag } from "../decode/index.js";
import { selectDissectors } from "../dissectors/registry.js";
import { Pipeline } from "../flows/index.js";
import { tcpFrame } from "../flows/__fixtures__/testkit.js";

describe("Pipeline.tick", () => {
  it("fires the pairing timeout and closes idle flows without packets", () => {
    const entries: EntryInit[] = [];
    const p = new Pipeline({ workerId: "t", dissectors: selectDissectors(["http"]), flowLimits: { pairingTimeoutNs: 60e9, idleTimeoutNs: 120e9 }, onEntry: (e) => entries.push(e) });
    const t0 = 1_763_000_000e9;
    const c = { src: "10.0.0.1", dst: "10.0.0.2", sport: 40000, dport: 80 };
    const s = { src: "10.0.0.2", dst: "10.0.0.1", sport: 80, dport: 40000 };
    const req = Buffer.from("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    p.pushPacket(1, t0, tcpFrame({ ...c, seq: 100, flags: TcpFlag.SYN }));
    p.pushPacket(1, t0 + 1e5, tcpFrame({ ...s, seq: 500, ack: 101, flags: TcpFlag.SYN | TcpFlag.ACK }));
    p.pushPacket(1, t0 + 2e5, tcpFrame({ ...c, seq: 101, ack: 501, flags: TcpFlag.ACK }));
    p.pushPacket(1, t0 + 3e5, tcpFrame({ ...c, seq: 101, ack: 501, flags: TcpFlag.ACK | TcpFlag.PSH, payload: req }));
    p.tick(t0 + 30e9);
    expect(entries).toEqual([]);
    p.tick(t0 + 10e9); // time never goes back
    p.tick(t0 + 62e9);
    expect(entries.map((e) => [e.status, e.httpRequest?.path])).toEqual([[EntryStatus.NO_RESPONSE, "/slow"]]);
    expect(p.getStats().flowsActive).toBe(1);
    p.tick(t0 + 125e9);
    expect(p.getStats().flowsActive).toBe(0);
    expect(entries).toHaveLength(1);
  });
});
