// Capture benchmark: the same fixed-volume traffic between two network
// namespaces, captured on the sending veth by tapline-capture and by tcpdump,
// one after the other in one run. Reports packets/s, kernel drops, missed
// packets (wire count minus captured) and CPU seconds of the capture process.
//   node bench/capture/bench.mjs   (root; run.sh builds native first)
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const BIN = join(root, "native/build/tapline-capture");
const BLAST = join(here, "blast.mjs");
const OUT = join(root, "bench/results/capture.json");
const PORT = 5201;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

const A = `tl-${process.pid}-bencha`;
const B = `tl-${process.pid}-benchb`;
const IP_B = "10.213.250.2";
const ip = (...args) => execFileSync("ip", args, { encoding: "utf8" });

function cleanup() {
  for (const ns of [A, B]) {
    try {
      for (const pid of ip("netns", "pids", ns).split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
    } catch {}
    try {
      ip("netns", "del", ns);
    } catch {}
  }
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

const scenarios = [
  { name: "tcp-bulk-1GiB", note: "TCP, TSO super-packets as pods send them", args: ["client", IP_B, PORT, 1 << 30] },
  { name: "udp-1400B-1Gbps", note: "200k UDP datagrams of 1400 B paced to 1 Gbit/s", args: ["udp", IP_B, PORT, 200000, 1400, 1000] },
  { name: "udp-64B-max", note: "300k UDP datagrams of 64 B, as fast as node sends", args: ["udp", IP_B, PORT, 300000, 64] },
];

const tools = [
  { name: "tapline-capture", cmd: BIN, args: ["-i", "tl0", "-w", "/dev/null"] },
  { name: "tapline-capture --engine pcap", cmd: BIN, args: ["-i", "tl0", "--engine", "pcap", "-w", "/dev/null"] },
  { name: "tcpdump", cmd: "tcpdump", args: ["-i", "tl0", "-n", "-s", "262144", "-w", "/dev/null"] },
];

// Tools alternate within each round, so drift in the traffic generator's speed
// (it shares the two cores with the capture) hits every tool alike.
const ROUNDS = 2;
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function linkPackets() {
  const s = JSON.parse(ip("-n", A, "-s", "-j", "link", "show", "tl0"))[0].stats64;
  return s.rx.packets + s.tx.packets;
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
}

function run(ns, cmd, args) {
  const child = spawn("ip", ["netns", "exec", ns, cmd, ...args.map(String)], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise((r) => child.on("exit", (code) => r({ code, stdout, stderr })));
  return { child, done };
}

function parseCounts(tool, stderr) {
  if (tool.cmd === BIN) {
    const s = JSON.parse(stderr.trim().split("\n").pop());
    return { captured: s.received, dropped: s.kernel_dropped };
  }
  const num = (re) => Number((re.exec(stderr) ?? [])[1] ?? NaN);
  return { captured: num(/(\d+) packets captured/), dropped: num(/(\d+) packets dropped by kernel/) };
}

async function main() {
  const started = Date.now();
  cleanup();
  ip("netns", "add", A);
  ip("netns", "add", B);
  ip("link", "add", "name", "tl0", "netns", A, "type", "veth", "peer", "name", "tl1", "netns", B);
  ip("-n", A, "addr", "add", "10.213.250.1/24", "dev", "tl0");
  ip("-n", B, "addr", "add", `${IP_B}/24`, "dev", "tl1");
  ip("-n", A, "link", "set", "tl0", "up");
  ip("-n", B, "link", "set", "tl1", "up");
  const server = run(B, process.execPath, [BLAST, "server", IP_B, PORT]);
  let ready = false;
  server.child.stdout.on("data", (d) => (ready ||= String(d).includes("ready")));
  for (let i = 0; i < 200 && !ready; i++) await sleep(25);
  if (!ready) throw new Error("blast server did not start");
  await sleep(300);

  const runs = [];
  for (const sc of scenarios) {
    for (let round = 0; round < ROUNDS; round++)
    for (const tool of tools) {
      const cap = run(A, tool.cmd, tool.args);
      await sleep(400); // socket bound, ring mapped
      const before = linkPackets();
      const cpuBefore = cpuSeconds(cap.child.pid); // start-up cost excluded
      const blast = run(A, process.execPath, [BLAST, ...sc.args]);
      const b = await blast.done;
      if (b.code !== 0) throw new Error(`blaster failed: ${b.stderr}`);
      const { seconds } = JSON.parse(b.stdout);
      await sleep(1100); // tcpdump hands over partly filled ring blocks after 1 s
      const wire = linkPackets() - before;
      const cpu = cpuSeconds(cap.child.pid) - cpuBefore;
      cap.child.kill("SIGINT");
      const c = await cap.done;
      const { captured, dropped } = parseCounts(tool, c.stderr);
      const row = {
        scenario: sc.name,
        tool: tool.name,
        round,
        wire_packets: wire,
        captured,
        kernel_dropped: dropped,
        missed: Math.max(0, wire - captured),
        seconds: Number(seconds.toFixed(3)),
        captured_pps: Math.round(captured / seconds),
        cpu_seconds: Number(cpu.toFixed(2)),
        exit_code: c.code,
      };
      runs.push(row);
      process.stderr.write(`${sc.name} ${tool.name}: ${JSON.stringify(row)}\n`);
    }
  }
  server.child.kill("SIGKILL");

  // One row per scenario and tool: medians of rate and CPU, sums of losses.
  const results = [];
  for (const sc of scenarios)
    for (const tool of tools) {
      const rs = runs.filter((r) => r.scenario === sc.name && r.tool === tool.name);
      const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
      results.push({
        scenario: sc.name,
        tool: tool.name,
        rounds: rs.length,
        wire_packets: sum("wire_packets"),
        captured: sum("captured"),
        kernel_dropped: sum("kernel_dropped"),
        missed: sum("missed"),
        seconds: Number(median(rs.map((r) => r.seconds)).toFixed(3)),
        captured_pps: Math.round(median(rs.map((r) => r.captured_pps))),
        cpu_seconds: Number(median(rs.map((r) => r.cpu_seconds)).toFixed(2)),
        cpu_us_per_packet: Number(((sum("cpu_seconds") / Math.max(1, sum("captured"))) * 1e6).toFixed(3)),
      });
    }

  const ratios = scenarios.map((sc) => {
    const t = results.find((r) => r.scenario === sc.name && r.tool === "tapline-capture");
    const d = results.find((r) => r.scenario === sc.name && r.tool === "tcpdump");
    return {
      scenario: sc.name,
      pps_ratio_vs_tcpdump: Number((t.captured_pps / d.captured_pps).toFixed(3)),
      cpu_per_packet_ratio_vs_tcpdump: Number((t.cpu_us_per_packet / Math.max(d.cpu_us_per_packet, 0.001)).toFixed(3)),
    };
  });

  const head = ["scenario", "tool", "wire pkts", "captured", "k.drops", "missed", "secs", "pkts/s", "cpu s", "cpu us/pkt"];
  const rows = results.map((r) => [r.scenario, r.tool, r.wire_packets, r.captured, r.kernel_dropped, r.missed, r.seconds, r.captured_pps, r.cpu_seconds, r.cpu_us_per_packet].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log("");
  for (const r of ratios) console.log(`${r.scenario}: tapline/tcpdump packets/s ${r.pps_ratio_vs_tcpdump}, CPU per packet ${r.cpu_per_packet_ratio_vs_tcpdump}`);

  mkdirSync(dirname(OUT), { recursive: true });
  const report = {
    benchmark: "capture",
    date: new Date().toISOString(),
    host: { kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(), cpus: Number(execFileSync("nproc", { encoding: "utf8" })) },
    method: "median of 2 alternating runs per tool; veth pair between two network namespaces; capture on the sender's veth (both directions); wire_packets from the veth's rx+tx counters; cpu_seconds = utime+stime of the capture process from just before the traffic until just before SIGINT",
    scenarios: Object.fromEntries(scenarios.map((s) => [s.name, s.note])),
    rounds: ROUNDS,
    results,
    ratios,
    runs,
    duration_s: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  writeFileSync(OUT, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwrote ${OUT} (${report.duration_s} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
