// Loopback packets of meshed pods (tapline-capture --mesh, SLL2 ARPHRD 0xFFFC, the namespace's
// inode in the address): the same 127.0.0.1 4-tuple in two pods must stay two connections.
import { Protocol } from "@tapline/protocol";
import { describe, expect, it } from "vitest";
import { httpDissector } from "../dissectors/http/index.js";
import { readFrames, runPipeline } from "./__fixtures__/testkit.js";

// The plaintext frames of __fixtures__/tls-plaintext.pcap (SLL2): two HTTP exchanges on 127.0.0.1.
const plaintext = readFrames(new URL("./__fixtures__/tls-plaintext.pcap", import.meta.url).pathname).filter((f) => f.data.readUInt16BE(8) === 0xfffd);

/** The frames as the mesh capture writes them: ARPHRD 0xFFFC, address = proxy pid, netns inode. */
function meshCopy(inode: number, shiftNs: number) {
  return plaintext.map((f) => {
    const data = Buffer.from(f.data);
    data.writeUInt16BE(0xfffc, 8);
    data[11] = 8;
    data.writeUInt32BE(4242, 12);
    data.writeUInt32BE(inode, 16);
    return { ...f, data, tsNs: f.tsNs + shiftNs };
  });
}

/** Two captures interleaved frame by frame (as two pods' loopbacks arrive in one stream). */
function interleave<T>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]);
    if (i < b.length) out.push(b[i]);
  }
  return out;
}

describe("mesh loopback packets (SLL2 ARPHRD 0xFFFC)", () => {
  it("keep the same 4-tuple in two network namespaces as two connections", () => {
    expect(plaintext.length).toBeGreaterThan(4);
    const { entries, stats } = runPipeline(interleave(meshCopy(1111, 0), meshCopy(2222, 1000)), [httpDissector]);
    const http = entries.filter((e) => e.protocol === Protocol.HTTP);
    expect(http.map((e) => [e.httpRequest?.method, e.httpRequest?.path, e.httpResponse?.status, !!e.tls]).sort()).toEqual([
      ["GET", "/hello", 200, false],
      ["GET", "/hello", 200, false],
      ["POST", "/missing", 404, false],
      ["POST", "/missing", 404, false],
    ]);
    expect(stats.flowsTotal).toBe(4);
  });

  it("in one namespace the second copy is a retransmission (what the marking prevents)", () => {
    const { entries } = runPipeline(interleave(meshCopy(1111, 0), meshCopy(1111, 1000)), [httpDissector]);
    expect(entries.filter((e) => e.protocol === Protocol.HTTP)).toHaveLength(2);
  });
});
