// TLS plaintext from tapline-capture --tls shares its 4-tuple with the connection's ciphertext
// in the same capture; the pipeline keeps the two apart and flags the plaintext's entries.
import { Protocol } from "@tapline/protocol";
import { describe, expect, it } from "vitest";
import { httpDissector } from "../dissectors/http/index.js";
import { readFrames, runPipeline } from "./__fixtures__/testkit.js";

// Captured by __fixtures__/tls-capture.sh: curl -k GET /hello and POST /missing to a node https server.
const frames = readFrames(new URL("./__fixtures__/tls-plaintext.pcap", import.meta.url).pathname);
const isPlaintext = (data: Buffer) => data.readUInt16BE(8) === 0xfffd;

describe("TLS plaintext packets (SLL2 ARPHRD 0xFFFD)", () => {
  it("become HTTP entries flagged tls, apart from the ciphertext of the same connection", () => {
    expect(frames.some((f) => isPlaintext(f.data))).toBe(true);
    const { entries, stats } = runPipeline(frames, [httpDissector]);
    const http = entries.filter((e) => e.protocol === Protocol.HTTP);
    expect(http.map((e) => [e.httpRequest?.method, e.httpRequest?.path, e.httpResponse?.status, e.tls])).toEqual([
      ["GET", "/hello", 200, true],
      ["POST", "/missing", 404, true],
    ]);
    for (const e of http) expect(e.dst).toEqual({ ip: "127.0.0.1", port: 18443 });
    // Each connection is two flows: its ciphertext (undetected, never tls) and its plaintext.
    expect(stats.flowsTotal).toBe(4);
    expect(entries.filter((e) => e.protocol !== Protocol.HTTP).every((e) => !e.tls)).toBe(true);
  });

  it("without the marking the same bytes would be mixed into the ciphertext flow", () => {
    // Rewriting ARPHRD to loopback puts plaintext and ciphertext in one flow: no HTTP entry.
    const unmarked = frames.map((f) => {
      const data = Buffer.from(f.data);
      if (isPlaintext(data)) data.writeUInt16BE(772, 8);
      return { ...f, data };
    });
    const { entries } = runPipeline(unmarked, [httpDissector]);
    expect(entries.filter((e) => e.protocol === Protocol.HTTP)).toEqual([]);
  });
});
