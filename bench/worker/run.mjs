// The full worker path on a file: `tapline-worker --read FILE` (reader, PCAP ring, flow hash,
// dissection inline or sharded over threads, entries counted) with 1 vs 2 (and 3) threads, on the
// large generated pcap of bench/dissect/gen-pcap.mjs. Reports MB/s, entries/s and peak RSS of
// each run side by side; writes bench/results/worker.json.
//
// usage: node bench/worker/run.mjs [--size MB] [--rounds N] [--ring]   (--ring keeps the 200Mi PCAP ring on)
import { spawnSync } from "node:child_process";
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
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 28, cwd: repo });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}: ${r.stderr?.slice(-2000)}`);
  return r;
}

run("pnpm", ["-C", "packages/worker", "build"]);
const file = `${dir}/mixed.pcap`;
run("node", [`${repo}bench/dissect/gen-pcap.mjs`, file, String(sizeMb), "http,redis,kafka"]);
const mb = statSync(file).size / 1e6;

const results = [];
for (let round = 0; round < rounds; round++) {
  // Alternate the order so a load change on the shared machine does not favour one side.
  const order = round % 2 ? [3, 2, 1] : [1, 2, 3];
  for (const threads of order) {
    const r = run("/usr/bin/time", ["-v", "node", "packages/worker/dist/bin.js", "--read", file, "--threads", String(threads), "--no-kube",
      "--output", "none", "--pcap-limit", ring ? "200Mi" : "0", "--state-dir", `${dir}/state`]);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
    const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
    const entries = Number(/(\d+) entries/.exec(r.stderr)?.[1] ?? 0);
    const rssMb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)[1]) / 1024;
    const cpu = Number(/Percent of CPU this job got: (\d+)%/.exec(r.stderr)?.[1] ?? 0);
    results.push({ threads, round, seconds, mbPerS: mb / seconds, entries, entriesPerS: entries / seconds, peakRssMb: rssMb, cpuPercent: cpu });
  }
}
rmSync(dir, { recursive: true, force: true });

const summary = [1, 2, 3].map((threads) => {
  const rs = results.filter((r) => r.threads === threads);
  const best = rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { threads, bestSeconds: best.seconds, mbPerS: +best.mbPerS.toFixed(1), entriesPerS: Math.round(best.entriesPerS), entries: best.entries, peakRssMb: +Math.max(...rs.map((r) => r.peakRssMb)).toFixed(0), cpuPercent: best.cpuPercent };
});
console.log(`worker --read on ${mb.toFixed(0)} MB (http+redis+kafka), ring ${ring ? "on" : "off"}, best of ${rounds}, load ${(await import("node:os")).loadavg()[0].toFixed(1)}`);
console.log("threads  seconds  MB/s   entries/s  entries  peak RSS MB  CPU%");
for (const s of summary) console.log(`${String(s.threads).padEnd(8)} ${s.bestSeconds.toFixed(2).padEnd(8)} ${String(s.mbPerS).padEnd(6)} ${String(s.entriesPerS).padEnd(10)} ${String(s.entries).padEnd(8)} ${String(s.peakRssMb).padEnd(12)} ${s.cpuPercent}`);
mkdirSync(`${repo}bench/results`, { recursive: true });
writeFileSync(`${repo}bench/results/worker.json`, `${JSON.stringify({ date: new Date().toISOString(), sizeMb: mb, ring, summary, runs: results }, null, 2)}\n`);
