// Dissection throughput: `tapline dissect FILE > /dev/null` against `tshark -r FILE -T fields ...`
// on the same generated pcaps (real flows replicated, see gen-pcap.mjs), side by side in one run.
// The ratio against tshark (and the goal) is taken with dissect's default output, the table: one
// line per exchange with its key fields, as tshark -T fields prints one line per frame with the
// requested fields. Also timed: `--format jsonl` (every field of every entry as protobuf JSON,
// bodies base64 up to 64 KiB: 205 MB of output for the 211 MB HTTP file, ratio "jsonlSpeedup"),
// `--format none` (dissection without output) and the pcap reader against `pcap-parser`. Cases: HTTP/1 alone and the mixed
// HTTP/Redis/Kafka file (--size MB each), then Redis, Kafka and HTTP/2+gRPC alone (--proto-size).
// The machine is shared, so every tool runs --runs times, interleaved, and the minimum counts:
// wall seconds (what the goals are stated in) and CPU seconds (user+sys, less disturbed by
// other load). Prints a table and writes bench/results/dissect.json.
//
// usage: node bench/dissect/run.mjs [--size MB] [--proto-size MB] [--runs N] [--cases a,b] [--keep]
//   (pcaps go to /tmp/tapline-bench, removed unless --keep)
import { spawnSync } from "node:child_process";
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const sizeMb = Number(opt("--size", 200)) || 200;
const protoSizeMb = Number(opt("--proto-size", 100)) || 100;
const runs = Math.max(1, Number(opt("--runs", 3)) || 3);
const keep = args.includes("--keep");
const dir = "/tmp/tapline-bench";
mkdirSync(dir, { recursive: true });

function run(cmd, argv, opts = {}, okStatus = [0]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 30, ...opts });
  if (!okStatus.includes(r.status)) throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}: ${r.stderr?.slice(-2000)}`);
  return r;
}

/** Runs a shell command under /usr/bin/time -v; returns wall and CPU seconds, peak RSS and stderr. */
function timed(shell, okStatus) {
  const r = run("/usr/bin/time", ["-v", "bash", "-c", shell], { cwd: repo }, okStatus);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const num = (re) => Number(re.exec(r.stderr)?.[1] ?? 0);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  return { seconds, cpu, peakRssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, stderr: r.stderr };
}

/** The best of several timings: minimum wall and CPU, maximum RSS. */
function best(list) {
  return {
    seconds: Math.min(...list.map((t) => t.seconds)),
    cpu: +Math.min(...list.map((t) => t.cpu)).toFixed(2),
    peakRssMb: Math.max(...list.map((t) => t.peakRssMb)),
    stderr: list[0].stderr,
  };
}

// Build once through ./tapline, then time the built CLI directly (what ./tapline execs), so a
// source edit elsewhere in the checkout cannot put a rebuild inside a timing.
run(repo + "tapline", ["version"]);
const cli = `node ${repo}packages/cli/dist/bin.js`;

// tshark: decode-as for the fixture ports, and the key fields the dissectors produce.
const tsharkDissector = { http: "http", redis: "resp", kafka: "kafka", http2: "http2" };
const tsharkFields = {
  http: ["http.request.method", "http.request.uri", "http.response.code"],
  redis: ["resp.bulk_string.value"],
  kafka: ["kafka.api_key", "kafka.correlation_id"],
  http2: ["http2.headers.method", "http2.headers.path", "http2.headers.status", "grpc.message_length"],
};
// Goals from the issues: HTTP/1 >= 10x tshark and >= 300 MB/s on one core; Redis/Kafka >= 5x.
const goals = { http: { speedup: 10, MBps: 300 }, redis: { speedup: 5 }, kafka: { speedup: 5 } };

const allCases = [
  { name: "http", protos: "http", size: sizeMb },
  { name: "mixed", protos: "http,redis,kafka", size: sizeMb },
  { name: "redis", protos: "redis", size: protoSizeMb },
  { name: "kafka", protos: "kafka", size: protoSizeMb },
  { name: "http2", protos: "http2", size: protoSizeMb },
];
const only = opt("--cases", "").split(",").filter(Boolean);
const cases = only.length ? allCases.filter((c) => only.includes(c.name)) : allCases;
const results = [];
for (const c of cases) {
  const file = `${dir}/${c.name}.pcap`;
  const gen = JSON.parse(run("node", [here + "gen-pcap.mjs", file, String(c.size), c.protos]).stdout);
  const mb = statSync(file).size / 1e6;
  const protos = c.protos.split(",");
  const decodeAs = protos.flatMap((p) => (gen.serverPorts[p] ?? []).map((port) => ["-d", `tcp.port==${port},${tsharkDissector[p]}`])).flat();
  const fields = protos.flatMap((p) => tsharkFields[p]);
  const out = `${dir}/${c.name}.tshark.tsv`;
  const errFile = `${dir}/${c.name}.tshark.err`;
  const tsharkCmd = `tshark -r ${file} ${decodeAs.join(" ")} -T fields ${fields.map((f) => `-e ${f}`).join(" ")} > ${out} 2>${errFile}`;

  const table = [], jsonl = [], none = [], tshark = [];
  for (let i = 0; i < runs; i++) {
    table.push(timed(`${cli} dissect ${file} --format table > /dev/null`));
    jsonl.push(timed(`${cli} dissect ${file} --format jsonl > /dev/null`));
    // tshark exits 2 on some large captures after printing every frame (its message is kept).
    tshark.push(timed(tsharkCmd, [0, 2]));
    none.push(timed(`${cli} dissect ${file} --format none > /dev/null`));
  }
  const t = best(table), j = best(jsonl), n = best(none), ts = best(tshark);
  const tapEntries = Number(/(\d+) entries/.exec(t.stderr)?.[1] ?? 0);
  const tsharkMessages = readFileSync(out, "utf8").split("\n").filter((l) => l.replace(/\t/g, "").length > 0).length;
  rmSync(out);
  const tsharkNote = readFileSync(errFile, "utf8").split("\n").filter((l) => l && !l.includes("Running as user")).slice(0, 3).join("; ");
  rmSync(errFile);
  const goal = goals[c.name];
  const speedup = +(ts.seconds / t.seconds).toFixed(1);
  const MBps = +(mb / t.seconds).toFixed(1);
  results.push({
    case: c.name,
    protocols: c.protos,
    fileMB: +mb.toFixed(1),
    packets: gen.packets,
    flows: gen.flows,
    runs,
    tapline: {
      format: "table",
      seconds: t.seconds, cpuSeconds: t.cpu, MBps, cpuMBps: +(mb / t.cpu).toFixed(1), entries: tapEntries,
      entriesPerSec: Math.round(tapEntries / t.seconds), peakRssMB: +t.peakRssMb.toFixed(0),
    },
    taplineJsonl: { seconds: j.seconds, cpuSeconds: j.cpu, MBps: +(mb / j.seconds).toFixed(1), cpuMBps: +(mb / j.cpu).toFixed(1), peakRssMB: +j.peakRssMb.toFixed(0) },
    taplineNoOutput: { seconds: n.seconds, cpuSeconds: n.cpu, MBps: +(mb / n.seconds).toFixed(1), cpuMBps: +(mb / n.cpu).toFixed(1), peakRssMB: +n.peakRssMb.toFixed(0) },
    tshark: { seconds: ts.seconds, cpuSeconds: ts.cpu, MBps: +(mb / ts.seconds).toFixed(1), framesWithFields: tsharkMessages, peakRssMB: +ts.peakRssMb.toFixed(0), note: tsharkNote || undefined },
    speedup,
    cpuSpeedup: +(ts.cpu / t.cpu).toFixed(1),
    jsonlSpeedup: +(ts.seconds / j.seconds).toFixed(1),
    goal: goal ? { ...goal, met: speedup >= goal.speedup && (!goal.MBps || MBps >= goal.MBps) } : undefined,
  });
  if (!keep && c.name !== "http") rmSync(file, { force: true });
}

// Reader alone: PcapReader (this repo) against pcap-parser 0.2.1 (µs pcap only) on the HTTP file.
async function readerBench(file) {
  const { PcapReader } = await import(repo + "packages/worker/dist/capture/reader.js");
  const pcapp = (await import("pcap-parser")).default;
  const mb = statSync(file).size / 1e6;
  const timeIt = async (fn) => {
    const t0 = process.hrtime.bigint();
    const n = await fn();
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, packets: n };
  };
  const ours = await timeIt(
    () =>
      new Promise((resolve, reject) => {
        let n = 0;
        const r = new PcapReader(() => n++);
        createReadStream(file, { highWaterMark: 1 << 20 })
          .on("data", (c) => r.push(c))
          .on("end", () => (r.end(), resolve(n)))
          .on("error", reject);
      }),
  );
  const theirs = await timeIt(
    () =>
      new Promise((resolve, reject) => {
        let n = 0;
        const p = pcapp.parse(createReadStream(file, { highWaterMark: 1 << 20 }));
        p.on("packet", () => n++);
        p.on("end", () => resolve(n));
        p.on("error", reject);
      }),
  );
  if (ours.packets !== theirs.packets) throw new Error(`packet counts differ: ${ours.packets} vs ${theirs.packets}`);
  return {
    fileMB: +mb.toFixed(1),
    packets: ours.packets,
    pcapReader: { seconds: +ours.seconds.toFixed(3), MBps: +(mb / ours.seconds).toFixed(0) },
    pcapParser: { seconds: +theirs.seconds.toFixed(3), MBps: +(mb / theirs.seconds).toFixed(0) },
    kept: ours.seconds <= theirs.seconds ? "PcapReader (faster)" : "pcap-parser would be faster on µs pcap",
  };
}
const reader = cases.some((c) => c.name === "http") ? await readerBench(`${dir}/http.pcap`) : undefined;

const machine = { cpus: (await import("node:os")).cpus().length, node: process.version, tshark: run("tshark", ["--version"]).stdout.split("\n")[0], loadAvg: (await import("node:os")).loadavg().map((x) => +x.toFixed(1)) };
const report = { date: new Date().toISOString(), sizeMbTarget: sizeMb, protoSizeMbTarget: protoSizeMb, machine, results, reader };
mkdirSync(repo + "bench/results", { recursive: true });
writeFileSync(repo + "bench/results/dissect.json", JSON.stringify(report, null, 2) + "\n");
console.log(`min of ${runs} runs each; load average ${machine.loadAvg.join(" ")} on ${machine.cpus} cores`);
for (const r of results) {
  const g = r.goal ? ` (goal ${r.goal.speedup}x${r.goal.MBps ? `, ${r.goal.MBps} MB/s` : ""}: ${r.goal.met ? "met" : "not met"})` : "";
  console.log(
    `${r.case.padEnd(6)} ${r.fileMB} MB, ${r.packets} packets: tapline table ${r.tapline.seconds}s ${r.tapline.MBps} MB/s (cpu ${r.tapline.cpuSeconds}s, ${r.tapline.cpuMBps} MB/s) ` +
      `${r.tapline.entriesPerSec} entries/s RSS ${r.tapline.peakRssMB} MB; jsonl ${r.taplineJsonl.seconds}s ${r.taplineJsonl.MBps} MB/s (${r.jsonlSpeedup}x); ` +
      `no output ${r.taplineNoOutput.seconds}s (cpu ${r.taplineNoOutput.cpuSeconds}s) | ` +
      `tshark ${r.tshark.seconds}s ${r.tshark.MBps} MB/s (cpu ${r.tshark.cpuSeconds}s) RSS ${r.tshark.peakRssMB} MB | table ${r.speedup}x wall, ${r.cpuSpeedup}x cpu${g}`,
  );
}
if (reader) console.log(`reader: PcapReader ${reader.pcapReader.MBps} MB/s vs pcap-parser ${reader.pcapParser.MBps} MB/s (${reader.packets} packets)`);
if (!keep) rmSync(`${dir}/http.pcap`, { force: true });
