// Parser throughput of the HTTP/1.x dissector on the captured fixture streams, repeated.
//   pnpm -C packages/worker exec vitest run --config src/dissectors/__fixtures__/bench.config.ts http
// One session replays every keep-alive connection of the fixtures R times (segments as
// captured), so the figure covers framing, header parsing, body streaming, decoding and pairing,
// not TCP reassembly. MB/s counts the TCP payload bytes of both directions.
import { test } from "vitest";
import { httpDissector } from "./index.js";
import { benchWorkload, readFlows, reportThroughput, timeRuns } from "../__fixtures__/pcap-streams.js";

const fixture = (name: string) => new URL(`./__fixtures__/${name}.pcap`, import.meta.url).pathname;
// keep-alive connections only: a close-delimited or upgraded connection cannot be repeated in one session
const flows = [...readFlows(fixture("http")), ...readFlows(fixture("http-pipe"))];
const workloads = [
  benchWorkload("all fixture connections (100 KB body included)", flows, 50),
  benchWorkload("small messages (without the 100 KB body)", flows.map((f) => ({ ...f, chunks: f.chunks.filter((c) => c.data.length < 8000) })).filter((f) => f.chunks.length > 0 && !f.chunks.some((c) => c.data.includes("/big "))), 400),
];

test.each(workloads)("$name", (w) => {
  timeRuns(w, () => w.run(httpDissector), 3000);
  reportThroughput("http", [w]);
});
