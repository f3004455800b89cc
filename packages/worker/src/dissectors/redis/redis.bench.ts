// Parser throughput of the Redis dissector on the captured fixture streams, repeated.
//   pnpm -C packages/worker exec vitest run --config src/dissectors/__fixtures__/bench.config.ts redis
// One session replays the fixture's plain RESP2/RESP3 connections R times (segments as captured).
// MB/s counts the TCP payload bytes of both directions.
import { test } from "vitest";
import { redisDissector } from "./index.js";
import { benchWorkload, readFlows, reportThroughput, timeRuns } from "../__fixtures__/pcap-streams.js";

const flows = readFlows(new URL("./__fixtures__/redis.pcap", import.meta.url).pathname);
// a connection that ends subscribed or with QUIT cannot be followed by more commands in one session
const plain = flows.filter((f) => !f.chunks.some((c) => c.data.includes("SUBSCRIBE") || c.data.includes("QUIT")));
const workloads = [
  benchWorkload("all command connections (40 KB value included)", plain, 100),
  benchWorkload("small commands (without the 40 KB value)", plain.filter((f) => f.chunks.every((c) => c.data.length < 8000)), 500),
];

test.each(workloads)("$name", (w) => {
  timeRuns(w, () => w.run(redisDissector), 3000);
  reportThroughput("redis", [w]);
});
