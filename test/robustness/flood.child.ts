// Run as a child process (adversarial.test.ts) under a chosen --max-old-space-size: the 1M
// half-open SYN flood through the real Pipeline, printing peak RSS/heap and the outcome as JSON.
import { getHeapStatistics } from "node:v8";
import { Pipeline, dissectors } from "@tapline/worker";
import { Conn, CONTROL, ETHERNET, synFlood } from "./frames.js";

const flowLimits = { maxFlowBytes: 1 << 20, maxTotalBytes: 32 << 20, maxFlows: 100_000 };
let control = 0;
const p = new Pipeline({
  workerId: "flood",
  dissectors,
  flowLimits,
  onEntry: (e) => void (e.httpRequest?.path === "/control" && e.httpResponse?.status === 200 && control++),
});
const ctl = new Conn(CONTROL.src, 41009, CONTROL.dst, CONTROL.dport);
function* frames() {
  yield* synFlood(999_000, "10.3.255.2", 80);
  yield* ctl.open();
  yield* synFlood(500, "10.3.255.3", 80);
  yield* ctl.send(0, Buffer.from("GET /control HTTP/1.1\r\nHost: ok\r\n\r\n"));
  yield* ctl.send(1, Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  yield* synFlood(500, "10.3.255.4", 80);
}
let ts = 1_700_000_000e9;
let n = 0;
let peakRss = 0;
let peakHeap = 0;
for (const f of frames()) {
  p.pushPacket(ETHERNET, (ts += 1000), f);
  if ((++n & 8191) === 0) {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }
}
p.finish();
const s = p.getStats();
const mb = (b: number) => Math.round(b / 2 ** 20);
console.log(JSON.stringify({ heapLimitMb: mb(getHeapStatistics().heap_size_limit), peakRssMb: mb(peakRss), peakHeapMb: mb(peakHeap), flowsTotal: s.flowsTotal, flowsEvicted: s.flowsEvicted, control }));
