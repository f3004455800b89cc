import { describe, expect, it } from "vitest";
import { Entry, EntryStatus, Protocol, WorkerMessage } from "@tapline/protocol";
import { encodeBatchMessage } from "./wire.js";

describe("encodeBatchMessage", () => {
  it("frames pre-encoded entries as a WorkerMessage the protobuf decoder reads back", () => {
    const entries = [0, 1, 200].map((i) => ({
      id: `w-${i}`, timestampNs: 1_763_000_000_000_000_000 + i, protocol: Protocol.HTTP, status: EntryStatus.COMPLETE,
      src: { ip: "10.0.0.1", port: 40000 + i }, dst: { ip: "10.0.0.2", port: 80 }, httpRequest: { method: "GET", path: "/x".repeat(i) },
    }));
    const seq = Date.now() * 1000 + 12345; // above 2^32: multi-byte varint
    const bytes = encodeBatchMessage("wörker-1", seq, entries.map((e) => Entry.encode(e).finish()));
    const msg = WorkerMessage.decode(bytes);
    expect(msg.batch?.workerId).toBe("wörker-1");
    expect(Number(msg.batch?.seq)).toBe(seq);
    expect(msg.batch?.entries?.map((e) => e.httpRequest?.path)).toEqual(entries.map((e) => e.httpRequest.path));
    expect(WorkerMessage.decode(encodeBatchMessage("w", 1, [])).batch?.entries).toEqual([]);
  });
});
