// The table of bench/run: every figure of this run's bench/results/*.json beside the peer measured
// in the same run (tcpdump for capture, tshark for dissection) with the ratio, and peak memory.
// Results written before this run started are shown as "not run" (never as new figures).
// Writes bench/results/summary.json.
// usage: node bench/summary.mjs --since <unix seconds> [--status file] [--mode full|quick]
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const results = fileURLToPath(new URL("./results/", import.meta.url));
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const since = Number(arg("--since", 0)) * 1000;
const mode = arg("--mode", "full");
const status = new Map();
const statusFile = arg("--status", "");
if (statusFile && existsSync(statusFile)) {
  for (const line of readFileSync(statusFile, "utf8").split("\n").filter(Boolean)) {
    const [name, rc, seconds] = line.split(" ");
    status.set(name, { ok: rc === "0", seconds: Number(seconds) });
  }
}

/** This run's JSON of a runner, or undefined (not run, failed, or left from an earlier run). */
function fresh(name) {
  const file = `${results}${name}.json`;
  if (!existsSync(file) || statSync(file).mtimeMs < since) return undefined;
  return JSON.parse(readFileSync(file, "utf8"));
}

const rows = [];
const row = (bench, figure, tapline, peer, peerName, higherIsBetter, memory) => {
  const ratio =
    typeof higherIsBetter === "boolean" && typeof tapline === "number" && typeof peer === "number" && peer > 0 && tapline > 0
      ? +(higherIsBetter ? tapline / peer : peer / tapline).toFixed(2)
      : undefined;
  rows.push({ bench, figure, tapline, peer: peerName ? { name: peerName, value: peer } : undefined, ratio, memory });
};
const r1 = (x) => (typeof x === "number" ? Math.round(x * 10) / 10 : x);

const capture = fresh("capture");
if (capture) {
  for (const scenario of Object.keys(capture.scenarios ?? {})) {
    const by = (tool) => capture.results.find((r) => r.scenario === scenario && r.tool === tool);
    const t = by("tapline-capture");
    const d = by("tcpdump");
    if (!t || !d) continue;
    const lossT = t.wire_packets ? (100 * (t.wire_packets - Math.min(t.captured, t.wire_packets))) / t.wire_packets : 0;
    const lossD = d.wire_packets ? (100 * (d.wire_packets - Math.min(d.captured, d.wire_packets))) / d.wire_packets : 0;
    row("capture", `${scenario}: captured pkt/s`, t.captured_pps, d.captured_pps, "tcpdump", true);
    row("capture", `${scenario}: CPU µs/packet`, t.cpu_us_per_packet, d.cpu_us_per_packet, "tcpdump", false);
    row("capture", `${scenario}: packets lost %`, r1(lossT), r1(lossD), "tcpdump", undefined);
  }
}
const dissect = fresh("dissect");
if (dissect) {
  for (const r of dissect.results ?? []) {
    const mem = `${Math.round(r.tapline?.peakRssMB ?? 0)} MB vs tshark ${Math.round(r.tshark?.peakRssMB ?? 0)} MB`;
    row("dissect", `${r.case} (${r.fileMB} MB pcap): MB/s, table`, r.tapline?.MBps, r.tshark?.MBps, "tshark", true, mem);
    if (r.taplineJsonl) row("dissect", `${r.case} (${r.fileMB} MB pcap): MB/s, jsonl`, r.taplineJsonl.MBps, r.tshark?.MBps, "tshark", true);
  }
}
const hub = fresh("hub");
if (hub) {
  const mem = hub.peakRssBytes ? `${Math.round(hub.peakRssBytes / 2 ** 20)} MB` : undefined;
  row("hub", `ingest entries/s (${hub.entries} entries, redaction on)`, hub.ingestEntriesPerSec, undefined, undefined, true, mem);
  for (const [q, v] of Object.entries(hub.queries ?? {})) row("hub", `query p50/p99 ms: ${q}`, `${r1(v.p50Ms)} / ${r1(v.p99Ms)}`, undefined, undefined, false);
}
const ui = fresh("ui");
if (ui) {
  const mem = `hub ${Math.round(ui.hubRssMiB ?? 0)} MiB, browser heap ${Math.round(ui.browserHeapMiB ?? 0)} MiB`;
  row("ui", `fps mean/min at ${ui.rate} entries/s (${ui.rowsInTable} rows)`, `${ui.meanFps} / ${ui.minFps}`, undefined, undefined, true, mem);
}
const worker = fresh("worker");
if (worker) {
  for (const s of worker.summary ?? []) row("worker", `--read, ${s.config ?? `${s.threads} thread(s)`}: MB/s, entries/s`, `${s.mbPerS}, ${s.entriesPerS}`, undefined, undefined, true, `${s.peakRssMb} MB`);
}

const benches = ["capture", "dissect", "hub", "ui", "worker"];
const runs = Object.fromEntries(benches.filter((b) => status.has(b)).map((b) => [b, { ...status.get(b), fresh: rows.some((r) => r.bench === b) }]));
const cols = ["bench", "figure", "tapline", "peer", "ratio", "peak memory"];
const table = rows.map((r) => [r.bench, r.figure, String(r.tapline ?? "-"), r.peer ? `${r.peer.value ?? "-"} (${r.peer.name})` : "-", r.ratio === undefined ? "-" : `${r.ratio}x`, r.memory ?? "-"]);
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((t) => t[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(`\nTapline benchmarks (${mode}, ${new Date().toISOString()}); ratio > 1 means Tapline is better`);
console.log(line(cols));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const t of table) console.log(line(t));
for (const [b, s] of Object.entries(runs)) if (!s.ok || !s.fresh) console.log(`${b}: ${s.ok ? "ran but wrote no new results" : "FAILED"} (${s.seconds} s)`);
writeFileSync(`${results}summary.json`, JSON.stringify({ date: new Date().toISOString(), mode, runs, rows }, null, 2) + "\n");
process.exit(Object.values(runs).every((s) => s.ok && s.fresh) ? 0 : 1);
