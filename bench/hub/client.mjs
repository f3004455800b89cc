// The bench's sending worker, in its own process so that the hub's CPU per entry is measured
// apart from the client's. Driven over IPC by hub.mjs:
//   parent → {url, token, workerId, maker, count, batch}; child encodes every batch up front,
//   connects, says hello, waits for the HelloAck, then → {ready};
//   parent → {go}; child sends the batches (at most `window` unacknowledged batches in flight:
//   the real worker's resend queue is bounded the same way), waits for the HelloAck covering the
//   last seq, then → {done, seconds, cpuMicros}.
import { WorkerMessage, HubMessage, SCHEMA_VERSION } from "../../packages/protocol/dist/index.js";
import WebSocket from "../../packages/hub/node_modules/ws/wrapper.mjs";
import { MAKERS } from "./entries.mjs";

const WINDOW = 64;

process.once("message", async (job) => {
  const make = MAKERS[job.maker];
  const encoded = [];
  for (let i = 0, seq = 1; i < job.count; i += job.batch, seq++) {
    const entries = Array.from({ length: Math.min(job.batch, job.count - i) }, (_, k) => make(i + k));
    encoded.push(WorkerMessage.encode({ batch: { workerId: job.workerId, seq, entries } }).finish());
  }
  const ws = new WebSocket(job.url);
  let acked = -1;
  let wake = () => {};
  ws.on("message", (data) => {
    const m = HubMessage.decode(data);
    if (m.helloAck) acked = Number(m.helloAck.lastSeq);
    wake();
  });
  ws.on("error", (err) => { console.error(err); process.exit(1); });
  await new Promise((r) => ws.once("open", r));
  ws.send(WorkerMessage.encode({ hello: { workerId: job.workerId, node: "bench", version: "bench", token: job.token, schemaVersion: SCHEMA_VERSION } }).finish());
  const until = async (pred) => { while (!pred()) await new Promise((r) => { wake = r; }); };
  await until(() => acked >= 0);
  process.send({ ready: true });
  await new Promise((r) => process.once("message", r));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < encoded.length; i++) {
    await until(() => i + 1 - acked <= WINDOW);
    ws.send(encoded[i]);
  }
  await until(() => acked >= encoded.length);
  const cpu = process.cpuUsage(cpu0);
  process.send({ done: true, seconds: (performance.now() - t0) / 1000, cpuMicros: cpu.user + cpu.system });
  ws.close();
  process.disconnect();
});
