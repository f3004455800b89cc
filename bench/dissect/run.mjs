// Dissection throughput: `tapline dissect FILE --format jsonl > /dev/null` against
// `tshark -r FILE -T fields ...` on the same generated pcaps (real flows replicated, see
// gen-pcap.mjs), in one run; plus the pcap reader against the `pcap-parser` package.
// Prints a table and writes bench/results/dissect.json.
//
// usage: node bench/dissect/run.mjs [--size MB] [--keep]   (pcaps go to /tmp/tapline-bench, removed unless --keep)
import { spawnSync } from "node:child_process";
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const sizeMb = Number(args[args.indexOf("--size") + 1] || 0) || 200;
const keep = args.includes("--keep");
const dir = "/tmp/tapline-bench";
mkdirSync(dir, { recursive: true });

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}: ${r.stderr?.slice(-2000)}`);
  return r;
}

/** Runs a shell command under /usr/bin/time -v; returns wall seconds, peak RSS and stderr. */
function timed(shell) {
  const r = run("/usr/bin/time", ["-v", "bash", "-c", shell], { cwd: repo });
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const seconds = (Number(wall[1] ?? 0) * 3600) + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, peakRssMb: Number(rss[1]) / 1024, stderr: r.stderr };
}

// Build once through ./tapline, then time the built CLI directly (what ./tapline execs), so a
// source edit elsewhere in the checkout cannot put a rebuild inside a timing.
run(repo + "tapline", ["version"]);
const cli = `node ${repo}packages/cli/dist/bin.js`;

const cases = [
  { name: "http", protos: "http" },
  { name: "mixed", protos: "http,redis,kafka" },
];
const results = [];
for (const c of cases) {
  const file = `${dir}/${c.name}.pcap`;
  const gen = JSON.parse(run("node", [here + "gen-pcap.mjs", file, String(sizeMb), c.protos]).stdout);
  const mb = statSync(file).size / 1e6;

  const t = timed(`${cli} dissect ${file} --format jsonl > /dev/null`);
  const tapEntries = Number(/(\d+) entries/.exec(t.stderr)?.[1] ?? 0);

  // tshark on the same file: the key fields the dissectors produce, decode-as for fixture ports.
  const decodeAs = [
    ...(gen.serverPorts.http ?? []).map((p) => ["-d", `tcp.port==${p},http`]),
    ...(gen.serverPorts.redis ?? []).map((p) => ["-d", `tcp.port==${p},resp`]),
    ...(gen.serverPorts.kafka ?? []).map((p) => ["-d", `tcp.port==${p},kafka`]),
  ].flat();
  const fields = ["http.request.method", "http.request.uri", "http.response.code", "resp.bulk_string.value", "kafka.api_key", "kafka.correlation_id"];
  const out = `${dir}/${c.name}.tshark.tsv`;
  const ts = timed(`tshark -r ${file} ${decodeAs.join(" ")} -T fields ${fields.map((f) => `-e ${f}`).join(" ")} > ${out} 2>/dev/null`);
  const tsharkMessages = readFileSync(out, "utf8").split("\n").filter((l) => l.replace(/\t/g, "").length > 0).length;
  rmSync(out);

  results.push({
    case: c.name,
    protocols: c.protos,
    fileMB: +mb.toFixed(1),
    packets: gen.packets,
    flows: gen.flows,
    tapline: { seconds: t.seconds, MBps: +(mb / t.seconds).toFixed(1), entries: tapEntries, entriesPerSec: Math.round(tapEntries / t.seconds), peakRssMB: +t.peakRssMb.toFixed(0) },
    tshark: { seconds: ts.seconds, MBps: +(mb / ts.seconds).toFixed(1), framesWithFields: tsharkMessages, peakRssMB: +ts.peakRssMb.toFixed(0) },
    speedup: +(ts.seconds / t.seconds).toFixed(1),
  });
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
const reader = await readerBench(`${dir}/http.pcap`);

const machine = { cpus: (await import("node:os")).cpus().length, node: process.version, tshark: run("tshark", ["--version"]).stdout.split("\n")[0] };
const report = { date: new Date().toISOString(), sizeMbTarget: sizeMb, machine, results, reader };
mkdirSync(repo + "bench/results", { recursive: true });
writeFileSync(repo + "bench/results/dissect.json", JSON.stringify(report, null, 2) + "\n");
for (const r of results) {
  console.log(
    `${r.case.padEnd(6)} ${r.fileMB} MB, ${r.packets} packets: tapline ${r.tapline.seconds}s ${r.tapline.MBps} MB/s ${r.tapline.entriesPerSec} entries/s RSS ${r.tapline.peakRssMB} MB | ` +
      `tshark ${r.tshark.seconds}s ${r.tshark.MBps} MB/s RSS ${r.tshark.peakRssMB} MB | ${r.speedup}x`,
  );
}
console.log(`reader: PcapReader ${reader.pcapReader.MBps} MB/s vs pcap-parser ${reader.pcapParser.MBps} MB/s (${reader.packets} packets)`);
if (!keep) for (const c of cases) rmSync(`${dir}/${c.name}.pcap`, { force: true });
