// One dissecting thread: its own Pipeline over the flows whose hash maps to this shard, its own
// IpIndex fed by the pod/service events the main thread forwards. Entries are enriched and
// protobuf-encoded here and go back in one transferred buffer per batch, with the batch's buffer.
import { parentPort, workerData } from "node:worker_threads";
import { Entry, type EntryInit } from "@tapline/protocol";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { Pipeline } from "../flows/index.js";
import { IpIndex } from "../k8s/ipIndex.js";
import { DissectorSwitch } from "./switch.js";
import { packEntries, readRecords, type FromShard, type K8sEvent, type ShardInit, type ToShard } from "./batch.js";

const init = workerData as ShardInit;
const port = parentPort!;
let index: IpIndex | null = null;
let out: Uint8Array[] = [];
const onEntry = (e: EntryInit) => {
  e.workerId = init.workerId;
  if (index) {
    // Endpoints may be shared by the entries of one flow: enrich copies.
    e.src = { ...e.src };
    e.dst = { ...e.dst };
    index.enrich(e.src);
    index.enrich(e.dst);
  }
  out.push(Entry.encode(e).finish());
};
const dissectors = new DissectorSwitch(init.dissectors);
const pipeline = new Pipeline({
  workerId: `${init.idPrefix}.${init.shard}${init.generation ? `r${init.generation}` : ""}`,
  node: init.node,
  dissectors: dissectors.dissectors,
  limits: init.limits,
  flowLimits: init.flowLimits,
  onEntry,
});
const push = (linktype: number, tsNs: number, data: Buffer) => pipeline.pushPacket(linktype, tsNs, data);
const send = (msg: FromShard, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

function take(): ArrayBuffer | null {
  const packed = packEntries(out);
  out = [];
  return packed;
}

function k8s(ev: K8sEvent): void {
  index ??= new IpIndex();
  if (ev.kind === "pod") {
    if (ev.op === "upsert") index.upsertPod(ev.obj as V1Pod);
    else index.deletePod(ev.obj as V1Pod);
  } else if (ev.op === "upsert") index.upsertService(ev.obj as V1Service);
  else index.deleteService(ev.obj as V1Service);
}

port.on("message", (msg: ToShard) => {
  switch (msg.type) {
    case "batch": {
      readRecords(Buffer.from(msg.buf), msg.used, push);
      const entries = take();
      send({ type: "done", buf: msg.buf, entries, flows: pipeline.getStats().flowsActive }, entries ? [msg.buf, entries] : [msg.buf]);
      return;
    }
    case "tick": {
      pipeline.tick(msg.nowNs);
      const entries = take();
      if (entries) send({ type: "entries", entries }, [entries]);
      return;
    }
    case "k8s":
      k8s(msg.event);
      return;
    case "dissectors":
      dissectors.set(msg.names);
      return;
    case "stats":
      send({ type: "stats", stats: pipeline.getStats() });
      return;
    case "finish": {
      pipeline.finish();
      const entries = take();
      send({ type: "finished", entries, stats: pipeline.getStats() }, entries ? [entries] : []);
      return;
    }
  }
});
