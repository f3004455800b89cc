// The full worker path on a file: `tapline-worker --read FILE --hub …` (reader, flow hash,
// dissection inline or sharded over threads, pod enrichment, protobuf encoding, batches over ws
// until acknowledged) with 1 thread, 2 threads (the reading thread dissects a shard too) and
// 2 threads with a reading-only main thread, on the large generated pcap of
// bench/dissect/gen-pcap.mjs. The hub is sink.mjs (acks, counts, stores nothing: bench/hub
// measures the hub). Reports wall and CPU seconds, MB/s, entries/s and peak RSS side by side;
// writes bench/results/worker.json.
//
// usage: node bench/worker/run.mjs [--size MB] [--rounds N] [--ring]   (--ring turns the 200Mi PCAP ring on)
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const sizeMb = Number(opt("--size", "200"));
const rounds = Number(opt("--rounds", "2"));
const ring = args.includes("--ring");
const dir = "/tmp/tapline-bench-worker";
mkdirSync(dir, { recursive: true });

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 28, cwd: repo, env: { ...process.env, TAPLINE_CPU_REPORT: "1" } });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}: ${r.stderr?.slice(-2000)}`);
  return r;
}

run("pnpm", ["-C", "packages/worker", "build"]);
const file = `${dir}/mixed.pcap`;
run("node", [`${repo}bench/dissect/gen-pcap.mjs`, file, String(sizeMb), "http,redis,kafka"]);
const mb = statSync(file).size / 1e6;

const sink = spawn("node", [`${repo}bench/worker/sink.mjs`], { stdio: ["ignore", "pipe", "inherit"] });
const [first] = await once(sink.stdout.setEncoding("utf8"), "data");
const { url } = JSON.parse(first);

const configs = [
  { name: "1 thread", threads: 1, main: "dissect" },
  { name: "2 threads", threads: 2, main: "dissect" },
  { name: "2 threads, main reads only", threads: 2, main: "read" },
];
const results = [];
for (let round = 0; round < rounds; round++) {
  // Alternate the order so a load change on the shared machine does not favour one side.
  const order = round % 2 ? [...configs].reverse() : configs;
  for (const c of order) {
    const r = run("/usr/bin/time", ["-v", "node", "packages/worker/dist/bin.js", "--read", file, "--threads", String(c.threads), "--main-thread", c.main,
      "--no-kube", "--hub", url, "--token", "bench", "--queue", "1000000", "--pcap-limit", ring ? "200Mi" : "0", "--state-dir", `${dir}/state`]);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
    const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
    const entries = Number(/(\d+) entries/.exec(r.stderr)?.[1] ?? 0);
    const rssMb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)[1]) / 1024;
    const cpu = Number(/Percent of CPU this job got: (\d+)%/.exec(r.stderr)?.[1] ?? 0);
    const cpuSeconds = Number(/User time \(seconds\): ([\d.]+)/.exec(r.stderr)[1]) + Number(/System time \(seconds\): ([\d.]+)/.exec(r.stderr)[1]);
    const sent = Number(/(\d+) sent to the hub/.exec(r.stderr)?.[1] ?? 0);
    if (sent !== entries) throw new Error(`${c.name}: ${entries} entries but ${sent} sent: ${r.stderr.slice(-500)}`);
    // Main thread first, then the busiest others (dissecting thread, V8 helpers): the larger of the
    // first two bounds the wall time on idle cores.
    const threadCpu = (/CPU seconds by thread[^:]*: ([\d., ]+)/.exec(r.stderr)?.[1] ?? "").split(",").map(Number).filter((n) => n > 0);
    results.push({ config: c.name, round, seconds, cpuSeconds, threadCpu, mbPerS: mb / seconds, entries, entriesPerS: entries / seconds, peakRssMb: rssMb, cpuPercent: cpu });
  }
}
sink.kill("SIGTERM");
const [last] = await once(sink.stdout, "data");
const received = JSON.parse(last);
rmSync(dir, { recursive: true, force: true });

const summary = configs.map((c) => {
  const rs = results.filter((r) => r.config === c.name);
  const best = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    config: c.name, bestSeconds: best.seconds, cpuSeconds: +Math.min(...rs.map((r) => r.cpuSeconds)).toFixed(2), mbPerS: +best.mbPerS.toFixed(1),
    entriesPerS: Math.round(best.entriesPerS), entries: best.entries, peakRssMb: +Math.max(...rs.map((r) => r.peakRssMb)).toFixed(0), cpuPercent: best.cpuPercent,
    threadCpu: best.threadCpu.slice(0, c.threads + 1).join(" / "),
  };
});
const load = (await import("node:os")).loadavg()[0].toFixed(1);
console.log(`worker --read on ${mb.toFixed(0)} MB (http+redis+kafka) to an ack-only hub sink, ring ${ring ? "on" : "off"}, best of ${rounds}, load average ${load}`);
console.log("config                       wall s  CPU s  MB/s   entries/s  entries  peak RSS MB  CPU%  CPU s by thread (main / busiest others)");
for (const s of summary) {
  console.log(`${s.config.padEnd(28)} ${s.bestSeconds.toFixed(2).padEnd(7)} ${s.cpuSeconds.toFixed(2).padEnd(6)} ${String(s.mbPerS).padEnd(6)} ${String(s.entriesPerS).padEnd(10)} ${String(s.entries).padEnd(8)} ${String(s.peakRssMb).padEnd(12)} ${String(s.cpuPercent).padEnd(5)} ${s.threadCpu}`);
}
console.log(`sink received ${received.entries} entries in ${received.batches} batches (${rounds * configs.length} runs)`);
mkdirSync(`${repo}bench/results`, { recursive: true });
writeFileSync(`${repo}bench/results/worker.json`, `${JSON.stringify({ date: new Date().toISOString(), sizeMb: mb, ring, loadAverage: Number(load), summary, runs: results, sink: received }, null, 2)}\n`);
