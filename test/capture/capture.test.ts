// tapline-capture end to end: a real node HTTP server in one network namespace,
// curl in the other, the capture on the veth between them, tshark as the judge.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetnsPair, netnsUnavailableReason, type NetnsPair } from "../helpers/netns.js";
import { control as sidecarControl } from "../helpers/sidecarControl.js";

const NATIVE = resolve(import.meta.dirname, "../../native");
const BIN = join(NATIVE, "build/tapline-capture");
const PORT = 8080;
const REQUESTS = 50;

const skipReason = netnsUnavailableReason();
if (skipReason) console.warn(`capture e2e skipped: ${skipReason}`);

const SERVER = `
const http = require("node:http");
http.createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end("hello " + req.url + "\\n");
}).listen(${PORT}, process.argv[1], () => console.log("ready"));
`;

function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  return new Promise((res, rej) => {
    const tick = () => {
      if (check()) return res();
      if (Date.now() - start > timeoutMs) return rej(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
}

function tshark(args: string[]): string {
  return execFileSync("tshark", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

function httpFields(file: string): { methods: string[]; codes: string[]; uris: string[] } {
  const out = tshark(["-r", file, "-T", "fields", "-e", "http.request.method", "-e", "http.response.code", "-e", "http.request.uri"]);
  const methods: string[] = [];
  const codes: string[] = [];
  const uris: string[] = [];
  for (const line of out.split("\n")) {
    const [m, c, u] = line.split("\t");
    if (m) methods.push(m);
    if (c) codes.push(c);
    if (u) uris.push(u);
  }
  return { methods, codes, uris };
}

function malformed(file: string): string {
  return tshark(["-r", file, "-Y", "_ws.malformed"]).trim();
}

type ControlReply = { ok: boolean; error?: string; stats?: Record<string, number> };
const control = (path: string, cmd: object) => sidecarControl<ControlReply>(path, cmd);

describe.skipIf(skipReason !== null)("tapline-capture on a veth pair", () => {
  let pair: NetnsPair;
  let dir: string;

  beforeAll(async () => {
    execFileSync("make", ["-s", "-C", NATIVE], { stdio: "inherit" });
    dir = mkdtempSync(join(tmpdir(), "tl-capture-"));
    pair = await createNetnsPair();
    const server = pair.spawn(pair.b, process.execPath, ["-e", SERVER, pair.ipB]);
    let ready = false;
    server.stdout!.on("data", (d: Buffer) => (ready ||= d.toString().includes("ready")));
    await waitFor(() => ready, "the HTTP server");
  });

  afterAll(async () => {
    await pair?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a capture in ns a; resolves once it has written the pcap header. */
  async function startCapture(out: string, args: string[]): Promise<{ child: ChildProcess; stderr: () => string }> {
    const child = pair.spawn(pair.a, BIN, ["-w", out, ...args]);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await waitFor(
      () => (existsSync(out) && statSync(out).size >= 24) || child.exitCode !== null,
      "the capture to start",
    );
    expect(child.exitCode, stderr).toBeNull();
    return { child, stderr: () => stderr };
  }

  async function requests(tag: string, n: number): Promise<void> {
    const script = `for i in $(seq 1 ${n}); do curl -sf -o /dev/null http://${pair.ipB}:${PORT}/${tag}-$i || exit 1; done`;
    const r = await pair.exec(pair.a, "sh", ["-c", script]);
    expect(r.code, r.stderr).toBe(0);
  }

  async function stop(child: ChildProcess): Promise<void> {
    child.kill("SIGTERM");
    const { code, signal } = await exited(child);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }

  const matrix = [
    { engine: "afpacket", iface: "veth" },
    { engine: "pcap", iface: "veth" },
    { engine: "afpacket", iface: "any" },
    { engine: "pcap", iface: "any" },
  ] as const;

  for (const { engine, iface } of matrix) {
    it(`${engine} on ${iface}: every request and response, nothing malformed, SIGTERM exits 0`, async () => {
      const out = join(dir, `all-${engine}-${iface}.pcap`);
      const dev = iface === "any" ? "any" : pair.ifA;
      const { child, stderr } = await startCapture(out, ["-i", dev, "--engine", engine, "-f", `tcp port ${PORT}`]);
      await requests("r", REQUESTS);
      await stop(child);

      const { methods, codes, uris } = httpFields(out);
      expect(methods).toEqual(Array(REQUESTS).fill("GET"));
      expect(codes).toEqual(Array(REQUESTS).fill("200"));
      expect(new Set(uris).size).toBe(REQUESTS);
      expect(malformed(out)).toBe("");
      expect(tshark(["-r", out, "-T", "fields", "-e", "frame.encap_type"]).trim().split("\n").every((l) => l === "210")).toBe(true);
      const stats = JSON.parse(stderr().trim().split("\n").pop()!);
      expect(stats).toMatchObject({ type: "stats", engine, kernel_dropped: 0 });
      expect(stats.written).toBeGreaterThanOrEqual(REQUESTS * 6);
    });

    it(`${engine} on ${iface}: a filter swapped through the control socket applies to later traffic only`, async () => {
      const out = join(dir, `swap-${engine}-${iface}.pcap`);
      const ctl = join(dir, `ctl-${engine}-${iface}.sock`);
      const dev = iface === "any" ? "any" : pair.ifA;
      const { child } = await startCapture(out, [
        "-i", dev, "--engine", engine, "--control", ctl, "-f", `tcp and not host ${pair.ipB}`,
      ]);
      await requests("before", 10);
      expect(await control(ctl, { filter: "tcp port" })).toMatchObject({ ok: false, error: expect.stringContaining("bad filter") });
      expect(await control(ctl, { filter: `tcp and host ${pair.ipB}` })).toEqual({ ok: true });
      await requests("after", 10);
      const st = await control(ctl, { stats: true });
      expect(st.ok).toBe(true);
      expect(st.stats!.received).toBeGreaterThan(0);
      await stop(child);

      const { uris } = httpFields(out);
      expect(uris.filter((u) => u.startsWith("/before"))).toEqual([]);
      expect(uris.filter((u) => u.startsWith("/after")).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `/after-${i + 1}`).sort(),
      );
      expect(malformed(out)).toBe("");
    });
  }

  it("-r reads pcap and pcapng back through the same writer", async () => {
    const src = join(dir, "all-afpacket-veth.pcap");
    const ng = join(dir, "back.pcapng");
    execFileSync("editcap", ["-F", "pcapng", src, ng]);
    for (const input of [src, ng]) {
      const out = join(dir, `reread-${input.endsWith("ng") ? "ng" : "pcap"}.pcap`);
      const r = await pair.exec(pair.a, BIN, ["-r", input, "-w", out, "-q"]);
      expect(r.code, r.stderr).toBe(0);
      expect(httpFields(out).methods.length).toBe(REQUESTS);
      expect(malformed(out)).toBe("");
    }
  });

  it("a reader closing stdout ends the capture with exit 0", async () => {
    const child = pair.spawn(pair.a, BIN, ["-i", pair.ifA, "-w", "-", "-q", "--flush-ms", "5"]);
    let got = 0;
    child.stdout!.on("data", (d: Buffer) => {
      got += d.length;
      child.stdout!.destroy();
    });
    await waitFor(() => got > 0, "the pcap header on stdout");
    await requests("pipe", 5);
    const { code, signal } = await exited(child);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  const bad = [
    { what: "unknown interface", args: () => ["-i", "nope0"], message: "unknown interface 'nope0'" },
    { what: "bad filter", args: () => ["-i", pair.ifA, "-f", "tcp port"], message: "bad filter 'tcp port'" },
    { what: "bad flag", args: () => ["-i", pair.ifA, "--engine", "dpdk"], message: "--engine 'dpdk'" },
  ];
  for (const { what, args, message } of bad) {
    it(`bad input (${what}): exit 2, one line naming it, no output file`, async () => {
      const out = join(dir, `bad-${what.replace(/ /g, "-")}.pcap`);
      const r = await pair.exec(pair.a, BIN, [...args(), "-w", out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("bad input (unwritable output): exit 2, one line naming the path", async () => {
    const out = join(dir, "missing-dir", "x.pcap");
    const r = await pair.exec(pair.a, BIN, ["-i", pair.ifA, "-w", out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`cannot open output '${out}'`);
    expect(existsSync(out)).toBe(false);
  });
});
