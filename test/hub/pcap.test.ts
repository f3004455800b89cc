// GET /api/pcap end to end: real loopback traffic (curl against a node HTTP server) captured by
// tcpdump, dissected into entries by the worker's dissectFile, two real HubClients (one per
// "node", each holding half of the flows in a PcapRing) connected to a real hub, and the merged
// pcapng checked with tshark. Also: no worker, a worker answering with an error, a worker that
// never answers.
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startHub, type RunningHub } from "@tapline/hub";
import { HubClient, type HubClientOptions, PcapReader, PcapRing, decodeLink, decodeTcp, dissectFile, newPacketInfo } from "@tapline/worker";
import type { EntryInit, PcapRequest } from "@tapline/protocol";
import { tempDir, waitFor } from "../worker/traffic.js";

const execFileAsync = promisify(execFile);
const TOKEN = "pcap-e2e-token";
const REQUESTS = 6;

function missingTool(): string | null {
  for (const tool of ["tcpdump", "tshark", "capinfos", "curl"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return process.getuid?.() === 0 ? null : "tcpdump on lo needs root";
}
const skip = missingTool();

interface Packet { linktype: number; tsNs: number; data: Buffer; origLen: number; clientPort: number }

const tmp = tempDir("tapline-pcap-e2e-");
let server: Server;
let serverPort = 0;
/** The capture's packets, and per request path its client port and entry. */
const packets: Packet[] = [];
const flows = new Map<string, { clientPort: number; entry: EntryInit }>();

/** tcpdump on lo for the server's port while `traffic` runs; resolves with the file. */
async function capture(port: number, traffic: () => Promise<void>): Promise<string> {
  const file = join(tmp.dir, "lo.pcap");
  const dump = spawn("tcpdump", ["-i", "lo", "--immediate-mode", "-U", "-w", file, `tcp port ${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  dump.stderr!.on("data", (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => dump.on("exit", resolve));
  try {
    await waitFor("tcpdump to listen", () => stderr, (s) => s.includes("listening on"), 10_000);
    await traffic();
    // The last FIN/ACKs reach tcpdump a moment after curl exits.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    dump.kill("SIGINT");
  }
  const code = await exited;
  if (code !== 0) throw new Error(`tcpdump exited ${code}: ${stderr}`);
  return file;
}

function readPackets(file: string): Packet[] {
  const out: Packet[] = [];
  const info = newPacketInfo();
  const reader = new PcapReader((linktype, tsNs, data, origLen) => {
    if (!decodeLink(linktype, data, info) || info.proto !== 6 || !decodeTcp(info)) throw new Error("a non-TCP packet in the capture");
    const clientPort = info.srcPort === serverPort ? info.dstPort : info.srcPort;
    out.push({ linktype, tsNs, data: Buffer.from(data), origLen, clientPort });
  });
  reader.push(readFileSync(file));
  reader.end();
  return out;
}

beforeAll(async () => {
  if (skip) return;
  server = createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverPort = (server.address() as AddressInfo).port;
  // curl runs asynchronously: the server answering it lives in this process.
  const file = await capture(serverPort, async () => {
    for (let i = 0; i < REQUESTS; i++) await execFileAsync("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:${serverPort}/p/${i}`]);
  });
  packets.push(...readPackets(file));
  await dissectFile(file, {
    workerId: "capture",
    onEntry: (entry) => {
      const path = entry.httpRequest?.path;
      if (path && entry.src?.port) flows.set(path, { clientPort: entry.src.port, entry });
    },
  });
  if (flows.size !== REQUESTS) throw new Error(`dissected ${flows.size} of ${REQUESTS} requests from the capture`);
});
afterAll(async () => {
  server?.close();
  tmp.remove();
});

// Per test: a hub and workers that are closed afterwards.
let hub: RunningHub | undefined;
const clients: HubClient[] = [];
const rings: PcapRing[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop(200);
  for (const r of rings.splice(0)) r.close();
  await hub?.close();
  hub = undefined;
});

async function startTestHub(pcapTimeoutMs = 5000): Promise<RunningHub> {
  hub = await startHub({ port: 0, token: TOKEN, storagePath: ":memory:", storageLimitBytes: 16 << 20, redact: { defaults: true, keys: [], valuePatterns: [] }, pcapTimeoutMs });
  return hub;
}

/** A real worker connection whose PCAP answers come from `answer`; it sends the entries given. */
async function connectWorker(h: RunningHub, id: string, entries: EntryInit[], answer: HubClientOptions["onPcapRequest"]): Promise<HubClient> {
  const c = new HubClient({ url: h.ingestUrl, token: TOKEN, workerId: id, node: `node-${id}`, version: "e2e", batchMaxMs: 20, onPcapRequest: answer });
  clients.push(c);
  c.start();
  await waitFor(`${id} to connect`, () => c.stats.connected, Boolean);
  for (const e of entries) c.send({ ...e, id: `${id}-${e.id}`, workerId: id });
  return c;
}

/** A ring filled with the capture's packets of the flows on even (0) or odd (1) request numbers. */
function ringOf(parity: number): PcapRing {
  const ports = new Set([...flows].filter(([path]) => Number(path.split("/")[2]) % 2 === parity).map(([, f]) => f.clientPort));
  const ring = new PcapRing({ dir: join(tmp.dir, `ring-${parity}-${rings.length}`), limitBytes: 1 << 20 });
  rings.push(ring);
  for (const p of packets) if (ports.has(p.clientPort)) ring.append(p.linktype, p.tsNs, p.data, p.origLen);
  return ring;
}

function entriesOf(parity: number): EntryInit[] {
  return [...flows].filter(([path]) => Number(path.split("/")[2]) % 2 === parity).map(([, f]) => f.entry);
}

const fromRing = (ring: PcapRing) => (req: PcapRequest) =>
  ring.export(Number(req.sinceNs), Number(req.untilNs), req.flows.map((f) => ({ srcIp: f.srcIp ?? "", srcPort: f.srcPort ?? 0, dstIp: f.dstIp ?? "", dstPort: f.dstPort ?? 0 })));

async function exportPcap(h: RunningHub, filter: string): Promise<{ status: number; headers: Headers; file: string; body: Buffer }> {
  const since = Math.floor(packets[0].tsNs / 1e6) - 60_000; // epoch ms, a minute before the capture
  const res = await fetch(`${h.url}/api/pcap?filter=${encodeURIComponent(filter)}&since=${since}`);
  const body = Buffer.from(await res.arrayBuffer());
  const file = join(tmp.dir, `export-${Date.now()}-${Math.random().toString(36).slice(2)}.pcapng`);
  writeFileSync(file, body);
  return { status: res.status, headers: res.headers, file, body };
}

const tshark = (file: string, ...args: string[]) => execFileSync("tshark", ["-r", file, ...args], { encoding: "utf8", stdio: "pipe" });

async function storedEntries(h: RunningHub, n: number): Promise<void> {
  await waitFor(`${n} entries stored`, () => h.app.store.stats().entries, (c) => c >= n);
}

describe.skipIf(!!skip)(`PCAP export${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("merges two workers' rings into one time-ordered pcapng of the filtered flows that tshark reads cleanly", async () => {
    const h = await startTestHub();
    await connectWorker(h, "even", entriesOf(0), fromRing(ringOf(0)));
    await connectWorker(h, "odd", entriesOf(1), fromRing(ringOf(1)));
    await storedEntries(h, REQUESTS);

    // Two flows, one held by each worker.
    const wanted = new Set([flows.get("/p/1")!.clientPort, flows.get("/p/4")!.clientPort]);
    const res = await exportPcap(h, 'request.path == "/p/1" or request.path == "/p/4"');
    expect(res.status).toBe(200);
    const expected = packets.filter((p) => wanted.has(p.clientPort)).length;
    expect(Number(res.headers.get("x-tapline-packets"))).toBe(expected);
    expect(res.headers.get("x-tapline-partial")).toBeNull();

    const rows = tshark(res.file, "-T", "fields", "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.dstport").trim().split("\n");
    expect(rows).toHaveLength(expected);
    const times = rows.map((r) => Number(r.split("\t")[0]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const ports = new Set(rows.flatMap((r) => r.split("\t").slice(1).map(Number)).filter((p) => p !== serverPort));
    expect(ports).toEqual(wanted);
    expect(tshark(res.file, "-Y", "_ws.malformed").trim()).toBe("");
    expect(tshark(res.file, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri").trim().split("\n").sort()).toEqual(["/p/1", "/p/4"]);

    // No filter: every packet of every flow, each exactly once.
    const all = await exportPcap(h, "");
    expect(all.status).toBe(200);
    expect(tshark(all.file, "-T", "fields", "-e", "frame.number").trim().split("\n")).toHaveLength(packets.length);
    expect(tshark(all.file, "-Y", "_ws.malformed").trim()).toBe("");
    expect((await exportPcap(h, 'request.path == "/nothing"')).status).toBe(404);
  });

  it("answers 503 with a clear error when no worker is connected", async () => {
    const h = await startTestHub();
    h.app.pipeline.ingest("gone", entriesOf(0));
    const res = await exportPcap(h, "");
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString()).error).toMatch(/no worker connected/);
  });

  it("a worker answering with an error: 502 when it is the only one, a partial file with a note otherwise", async () => {
    const h = await startTestHub();
    const failing = () => { throw new Error("pcap ring unavailable on this node"); };
    await connectWorker(h, "broken", entriesOf(1), failing);
    await storedEntries(h, entriesOf(1).length);
    const only = await exportPcap(h, "");
    expect(only.status).toBe(502);
    expect(JSON.parse(only.body.toString()).workers).toEqual({ broken: "pcap ring unavailable on this node" });

    await connectWorker(h, "even", entriesOf(0), fromRing(ringOf(0)));
    await storedEntries(h, REQUESTS);
    const partial = await exportPcap(h, "");
    expect(partial.status).toBe(200);
    expect(decodeURIComponent(partial.headers.get("x-tapline-partial") ?? "")).toBe("broken: pcap ring unavailable on this node");
    const evenPorts = new Set(entriesOf(0).map((e) => e.src!.port));
    expect(Number(partial.headers.get("x-tapline-packets"))).toBe(packets.filter((p) => evenPorts.has(p.clientPort)).length);
    expect(tshark(partial.file, "-Y", "_ws.malformed").trim()).toBe("");
    expect(execFileSync("capinfos", ["-k", partial.file], { encoding: "utf8", stdio: "pipe" })).toContain("partial export: no packets from broken: pcap ring unavailable");
  });

  it("a worker that never answers times out: the others' packets with a note", async () => {
    const h = await startTestHub(1500);
    const never = async function* (): AsyncGenerator<Uint8Array> {
      await new Promise<never>(() => {});
    };
    await connectWorker(h, "silent", entriesOf(1), never);
    await connectWorker(h, "even", entriesOf(0), fromRing(ringOf(0)));
    await storedEntries(h, REQUESTS);
    const t0 = Date.now();
    const res = await exportPcap(h, "");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(res.status).toBe(200);
    expect(decodeURIComponent(res.headers.get("x-tapline-partial") ?? "")).toBe("silent: timeout");
    expect(Number(res.headers.get("x-tapline-packets"))).toBeGreaterThan(0);
    expect(tshark(res.file, "-Y", "_ws.malformed").trim()).toBe("");
    expect(execFileSync("capinfos", ["-k", res.file], { encoding: "utf8", stdio: "pipe" })).toContain("silent: timeout");
  });
});
