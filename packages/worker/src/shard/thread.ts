// One dissecting thread: its own Pipeline over the flows whose hash maps to this shard.
// Entries go back in one message per batch (structured clone), with the batch's buffer.
import { parentPort, workerData } from "node:worker_threads";
import type { EntryInit } from "@tapline/protocol";
import { selectDissectors } from "../dissectors/registry.js";
import { Pipeline } from "../flows/index.js";
import { readRecords, type FromShard, type ShardInit, type ToShard } from "./batch.js";

const init = workerData as ShardInit;
const port = parentPort!;
let out: EntryInit[] = [];
const pipeline = new Pipeline({
  workerId: `${init.idPrefix}.${init.shard}`,
  node: init.node,
  dissectors: selectDissectors(init.dissectors),
  limits: init.limits,
  flowLimits: init.flowLimits,
  onEntry: (e) => out.push(e),
});
const push = (linktype: number, tsNs: number, data: Buffer) => pipeline.pushPacket(linktype, tsNs, data);
const send = (msg: FromShard, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function take(): EntryInit[] {
  const e = out;
  out = [];
  return e;
}

port.on("message", (msg: ToShard) => {
  switch (msg.type) {
    case "batch":
      readRecords(Buffer.from(msg.buf), msg.used, push);
      send({ type: "done", buf: msg.buf, entries: take() }, [msg.buf]);
      return;
    case "tick":
      pipeline.tick(msg.nowNs);
      if (out.length) send({ type: "entries", entries: take() });
      return;
    case "stats":
      send({ type: "stats", stats: pipeline.getStats() });
      return;
    case "finish":
      pipeline.finish();
      send({ type: "finished", entries: take(), stats: pipeline.getStats() });
      return;
  }
});
