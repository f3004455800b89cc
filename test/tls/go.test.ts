// tapline-capture --tls on Go programs: a Go HTTPS server and client (test/tls/gotls, standard
// library only) built with Debian's golang-go, their crypto/tls.(*Conn).Read/Write plaintext
// captured through uprobes on the functions' entries and RET instructions, judged by
// `tapline dissect`, tshark and objdump (the RETs the sidecar found).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, control, dissect, exited, NATIVE, ROOT, run, tlsSkipReason, waitFor } from "./helpers.js";

const PORT = 19000 + (process.pid % 1000);
const SOURCE = join(ROOT, "test/tls/gotls/main.go");

const skipReason = tlsSkipReason(["go", "openssl", "tshark", "objdump"]);
if (skipReason) console.warn(`go tls e2e skipped: ${skipReason}${skipReason.startsWith("go ") ? " (apt-get install golang-go)" : ""}`);

/** The RET instructions of one function, as objdump decodes them: the oracle for the sidecar's decoder. */
function objdumpRets(binary: string, symbol: string): number {
  const syms = run("nm", ["-S", binary]);
  const line = syms.split("\n").find((l) => l.endsWith(` ${symbol}`));
  if (!line) throw new Error(`${symbol} not in ${binary}`);
  const [addr, size] = line.split(" ").map((x) => parseInt(x, 16));
  const asm = run("objdump", ["-d", "--no-show-raw-insn", `--start-address=${addr}`, `--stop-address=${addr + size}`, binary]);
  return asm.split("\n").filter((l) => /\tret\s*$/.test(l)).length;
}

describe.skipIf(skipReason !== null)("tapline-capture --tls on Go crypto/tls", () => {
  let dir: string;
  let gotls: string;
  let server: ChildProcess;
  const children: ChildProcess[] = [];
  let pcap: string;
  let status: Record<string, unknown>;
  let stderr = "";
  let unavailable = "";
  let clientOut = "";

  beforeAll(async () => {
    run("make", ["-s", "-C", NATIVE]);
    dir = mkdtempSync(join(tmpdir(), "tl-gotls-"));
    gotls = join(dir, "gotls");
    // Offline and self-contained: the standard library only, caches in the temp dir.
    const env = { ...process.env, GOCACHE: join(dir, "gocache"), GOPATH: join(dir, "gopath"), GOTOOLCHAIN: "local", GOFLAGS: "", GO111MODULE: "on", CGO_ENABLED: "0" };
    run("go", ["build", "-o", gotls, SOURCE], env);
    run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=localhost"]);

    server = spawn(gotls, ["server", `127.0.0.1:${PORT}`, join(dir, "cert.pem"), join(dir, "key.pem")], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(server);
    let ready = false;
    server.stdout!.on("data", (d: Buffer) => (ready ||= d.toString().includes("ready")));
    await waitFor(() => ready, "the Go https server");

    pcap = join(dir, "go.pcap");
    const sock = join(dir, "control.sock");
    // -v: the sidecar names the RET count it found per function (and libbpf's messages).
    const cap = spawn(BIN, ["-i", "lo", "--tls", "-v", "-f", `tcp port ${PORT}`, "-w", pcap, "--control", sock], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(cap);
    cap.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    // The running server's binary is found by the /proc scan; the client, a later process of the same file, is covered by it.
    await waitFor(() => /--tls unavailable/.test(stderr) || stderr.includes(`"library":"${gotls}","state":"hooked"`) || cap.exitCode !== null, "the Go binary to be hooked");
    expect(cap.exitCode, stderr).toBeNull();
    unavailable = /--tls unavailable: (.*)/.exec(stderr)?.[1] ?? "";
    await waitFor(() => existsSync(sock), "the control socket");

    const base = `https://127.0.0.1:${PORT}`;
    clientOut = run(gotls, ["client", `${base}/go-get`, `POST ${base}/missing-go`, `h2 ${base}/go-h2`]);
    status = await control(sock, { tls: true });
    await new Promise((r) => setTimeout(r, 300)); // the last records reach the ring and the file
    cap.kill("SIGINT");
    expect(await exited(cap)).toBe(0);
  }, 120_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the client really talked HTTP/1.1 and HTTP/2 over TLS", () => {
    expect(clientOut).toContain("200 got GET /go-get 0 HTTP/1.1");
    expect(clientOut).toContain("404 got POST /missing-go 3000 HTTP/1.1");
    expect(clientOut).toContain("200 got GET /go-h2 0 HTTP/2.0");
  });

  it("probes every RET of Read and Write, as objdump decodes them", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const m = /\(go1\.[0-9.]+\): crypto\/tls Read with (\d+) returns, Write with (\d+) returns/.exec(stderr);
    expect(m, stderr.split("\n").filter((l) => !l.startsWith("libbpf")).join("\n")).not.toBeNull();
    const read = objdumpRets(gotls, "crypto/tls.(*Conn).Read");
    const write = objdumpRets(gotls, "crypto/tls.(*Conn).Write");
    expect(read).toBeGreaterThan(1);
    expect([Number(m![1]), Number(m![2])]).toEqual([read, write]);
  });

  it("reports the Go processes as hooked with their bytes", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const tls = status.tls as { enabled: boolean; counters: Record<string, number>; targets: { pid: number; comm: string; library: string; state: string; bytes: number }[] };
    expect(tls.enabled).toBe(true);
    const srv = tls.targets.find((t) => t.pid === server.pid);
    expect(srv, JSON.stringify(tls.targets.filter((t) => t.library === gotls))).toMatchObject({ comm: "gotls", library: gotls, state: "hooked" });
    expect(srv!.bytes).toBeGreaterThan(3000); // at least the POST body it read
    // The hooks are machine-wide: TLS calls of other processes on a shared machine (not on a TCP
    // socket, or gone before attribution) may be counted here; the Go flows themselves must not be.
    expect(tls.counters.unattributed).toBeLessThanOrEqual(3);
    expect(tls.counters.lost).toBe(0);
  });

  it("dissects the plaintext as HTTP and HTTP/2 entries flagged tls", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const entries = dissect(pcap);
    const byPath = new Map(entries.filter((e) => e.httpRequest).map((e) => [e.httpRequest!.path, e]));
    const want: [string, string, string, number][] = [
      ["/go-get", "HTTP", "GET", 200],
      ["/missing-go", "HTTP", "POST", 404],
      ["/go-h2", "HTTP2", "GET", 200],
    ];
    for (const [path, protocol, method, status] of want) {
      const e = byPath.get(path);
      expect(e, `${path} in ${JSON.stringify([...byPath.keys()])}`).toBeDefined();
      expect(e).toMatchObject({ protocol, tls: true, httpRequest: { method }, httpResponse: { status }, dst: { ip: "127.0.0.1", port: PORT } });
    }
    // Every HTTP entry came from the plaintext: the ciphertext flows stay TCP.
    expect(entries.filter((e) => e.protocol.startsWith("HTTP")).every((e) => e.tls === true)).toBe(true);
  });

  it("writes marked packets tshark reads as the same HTTP", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    expect(run("tshark", ["-r", pcap, "-Y", "_ws.malformed"]).trim()).toBe("");
    const only = join(dir, "plaintext-only.pcap");
    run("tshark", ["-r", pcap, "-Y", "sll.hatype == 0xfffd", "-w", only]);
    const uris = run("tshark", ["-r", only, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri"]).split("\n");
    expect(uris).toContain("/go-get");
    expect(uris).toContain("/missing-go");
  });
});
