// tapline-capture --tls on Go programs: a Go HTTPS server and client (test/tls/gotls, standard
// library only) built with Debian's golang-go, their crypto/tls.(*Conn).Read/Write plaintext
// captured through uprobes on the functions' entries and RET instructions, judged by
// `tapline dissect`, tshark and objdump (the RETs the sidecar found). The same program is built a
// second time with -ldflags="-s -w", as most Go container images are: no .symtab, so the sidecar
// finds the functions in .gopclntab, and the plaintext must come out exactly as for the first.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, control, dissect, exited, NATIVE, ROOT, run, tlsSkipReason, waitFor, type DissectEntry } from "./helpers.js";

const PORT = 19000 + (process.pid % 1000);
const STRIPPED_PORT = 21000 + (process.pid % 1000);
const SOURCE = join(ROOT, "test/tls/gotls/main.go");

const skipReason = tlsSkipReason(["go", "openssl", "tshark", "objdump"]);
if (skipReason) console.warn(`go tls e2e skipped: ${skipReason}${skipReason.startsWith("go ") ? " (apt-get install golang-go)" : ""}`);

/**
 * The RET instructions of one function, as objdump decodes them: the oracle for the sidecar's
 * decoder. Address and size come from `nm` on `symbols` (the unstripped twin when `binary` has no
 * .symtab: -s -w leaves the code where it was, which the native unit tests check).
 */
function objdumpRets(binary: string, symbol: string, symbols = binary): number {
  const syms = run("nm", ["-S", symbols]);
  const line = syms.split("\n").find((l) => l.endsWith(` ${symbol}`));
  if (!line) throw new Error(`${symbol} not in ${symbols}`);
  const [addr, size] = line.split(" ").map((x) => parseInt(x, 16));
  const asm = run("objdump", ["-d", "--no-show-raw-insn", `--start-address=${addr}`, `--stop-address=${addr + size}`, binary]);
  return asm.split("\n").filter((l) => /\tret\s*$/.test(l)).length;
}

/** What the sidecar said about one hooked binary with -v: where the symbols came from and the RETs it found. */
function hookLine(stderr: string, binary: string): { source: string; read: number; write: number } | null {
  const esc = binary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`${esc} \\(go1\\.[0-9.]+, symbols from (\\.symtab|\\.gopclntab)\\): crypto/tls Read with (\\d+) returns, Write with (\\d+) returns`).exec(stderr);
  return m ? { source: m[1], read: Number(m[2]), write: Number(m[3]) } : null;
}

/** An HTTP entry reduced to what must not depend on how the binary was built. */
function shape(e: DissectEntry): string {
  return JSON.stringify([e.protocol, e.tls, e.httpRequest?.method, e.httpRequest?.path, e.httpResponse?.status]);
}

describe.skipIf(skipReason !== null)("tapline-capture --tls on Go crypto/tls", () => {
  let dir: string;
  let gotls: string;
  let stripped: string;
  let server: ChildProcess;
  let strippedServer: ChildProcess;
  const children: ChildProcess[] = [];
  let pcap: string;
  let status: Record<string, unknown>;
  let stderr = "";
  let unavailable = "";
  let clientOut = "";
  let strippedClientOut = "";

  beforeAll(async () => {
    run("make", ["-s", "-C", NATIVE]);
    dir = mkdtempSync(join(tmpdir(), "tl-gotls-"));
    gotls = join(dir, "gotls");
    // Offline and self-contained: the standard library only, caches in the temp dir.
    const env = { ...process.env, GOCACHE: join(dir, "gocache"), GOPATH: join(dir, "gopath"), GOTOOLCHAIN: "local", GOFLAGS: "", GO111MODULE: "on", CGO_ENABLED: "0" };
    run("go", ["build", "-o", gotls, SOURCE], env);
    stripped = join(dir, "gotls-stripped");
    run("go", ["build", "-ldflags=-s -w", "-o", stripped, SOURCE], env);
    run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=localhost"]);

    const serve = async (binary: string, port: number): Promise<ChildProcess> => {
      const srv = spawn(binary, ["server", `127.0.0.1:${port}`, join(dir, "cert.pem"), join(dir, "key.pem")], { stdio: ["ignore", "pipe", "inherit"] });
      children.push(srv);
      let ready = false;
      srv.stdout!.on("data", (d: Buffer) => (ready ||= d.toString().includes("ready")));
      await waitFor(() => ready, `the Go https server ${binary}`);
      return srv;
    };
    server = await serve(gotls, PORT);
    strippedServer = await serve(stripped, STRIPPED_PORT);

    pcap = join(dir, "go.pcap");
    const sock = join(dir, "control.sock");
    // -v: the sidecar names the RET count it found per function (and libbpf's messages).
    const cap = spawn(BIN, ["-i", "lo", "--tls", "-v", "-f", `tcp port ${PORT} or tcp port ${STRIPPED_PORT}`, "-w", pcap, "--control", sock], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(cap);
    cap.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    // The running server's binary is found by the /proc scan; the client, a later process of the same file, is covered by it.
    const hooked = (b: string) => stderr.includes(`"library":"${b}","state":"hooked"`);
    await waitFor(() => /--tls unavailable/.test(stderr) || (hooked(gotls) && hooked(stripped)) || cap.exitCode !== null, "both Go binaries to be hooked");
    expect(cap.exitCode, stderr).toBeNull();
    unavailable = /--tls unavailable: (.*)/.exec(stderr)?.[1] ?? "";
    await waitFor(() => existsSync(sock), "the control socket");

    const base = `https://127.0.0.1:${PORT}`;
    clientOut = run(gotls, ["client", `${base}/go-get`, `POST ${base}/missing-go`, `h2 ${base}/go-h2`]);
    const sbase = `https://127.0.0.1:${STRIPPED_PORT}`;
    strippedClientOut = run(stripped, ["client", `${sbase}/go-get`, `POST ${sbase}/missing-go`, `h2 ${sbase}/go-h2`]);
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
    expect(strippedClientOut).toBe(clientOut);
  });

  it("probes every RET of Read and Write, as objdump decodes them", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const h = hookLine(stderr, gotls);
    expect(h, stderr.split("\n").filter((l) => !l.startsWith("libbpf")).join("\n")).not.toBeNull();
    const read = objdumpRets(gotls, "crypto/tls.(*Conn).Read");
    const write = objdumpRets(gotls, "crypto/tls.(*Conn).Write");
    expect(read).toBeGreaterThan(1);
    expect(h).toEqual({ source: ".symtab", read, write });
  });

  it("hooks the stripped twin through .gopclntab, with the same RETs", (ctx) => {
    // -s -w really removed the symbol table: the sidecar could not have used it.
    expect(run("readelf", ["-SW", stripped])).not.toMatch(/\.symtab/);
    expect(run("readelf", ["-SW", stripped])).toMatch(/\.gopclntab/);
    expect(spawnSync("nm", [stripped], { encoding: "utf8" }).stderr).toMatch(/no symbols/);
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const h = hookLine(stderr, stripped);
    expect(h, stderr.split("\n").filter((l) => !l.startsWith("libbpf")).join("\n")).not.toBeNull();
    const read = objdumpRets(stripped, "crypto/tls.(*Conn).Read", gotls);
    const write = objdumpRets(stripped, "crypto/tls.(*Conn).Write", gotls);
    expect(h).toEqual({ source: ".gopclntab", read, write });
  });

  it("reports the Go processes as hooked with their bytes", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const tls = status.tls as { enabled: boolean; counters: Record<string, number>; targets: { pid: number; comm: string; library: string; state: string; bytes: number }[] };
    expect(tls.enabled).toBe(true);
    const srv = tls.targets.find((t) => t.pid === server.pid);
    expect(srv, JSON.stringify(tls.targets.filter((t) => t.library === gotls))).toMatchObject({ comm: "gotls", library: gotls, state: "hooked" });
    expect(srv!.bytes).toBeGreaterThan(3000); // at least the POST body it read
    const ssrv = tls.targets.find((t) => t.pid === strippedServer.pid);
    expect(ssrv, JSON.stringify(tls.targets.filter((t) => t.library === stripped))).toMatchObject({ comm: "gotls-stripped", library: stripped, state: "hooked" });
    expect(ssrv!.bytes).toBeGreaterThan(3000); // not byte-equal to the other: HTTP/2 control frames vary
    // The hooks are machine-wide: TLS calls of other processes on a shared machine (not on a TCP
    // socket, or gone before attribution) may be counted here; the Go flows themselves must not be.
    expect(tls.counters.unattributed).toBeLessThanOrEqual(3);
    expect(tls.counters.lost).toBe(0);
  });

  it("dissects the plaintext as HTTP and HTTP/2 entries flagged tls", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const entries = dissect(pcap);
    const byPath = new Map(entries.filter((e) => e.httpRequest && e.dst?.port === PORT).map((e) => [e.httpRequest!.path, e]));
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
    // The stripped twin's exchanges come out exactly the same, on its own port.
    const http = (port: number) => entries.filter((e) => e.httpRequest && e.dst?.port === port).map(shape).sort();
    expect(http(PORT)).toHaveLength(3);
    expect(http(STRIPPED_PORT)).toEqual(http(PORT));
    // Every HTTP entry came from the plaintext: the ciphertext flows stay TCP.
    expect(entries.filter((e) => e.protocol.startsWith("HTTP")).every((e) => e.tls === true)).toBe(true);
  });

  it("writes marked packets tshark reads as the same HTTP", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    expect(run("tshark", ["-r", pcap, "-Y", "_ws.malformed"]).trim()).toBe("");
    const only = join(dir, "plaintext-only.pcap");
    run("tshark", ["-r", pcap, "-Y", "sll.hatype == 0xfffd", "-w", only]);
    const uris = (port: number) => run("tshark", ["-r", only, "-Y", `http.request and tcp.dstport == ${port}`, "-T", "fields", "-e", "http.request.uri"]).split("\n").filter(Boolean);
    expect(uris(PORT)).toContain("/go-get");
    expect(uris(PORT)).toContain("/missing-go");
    expect(uris(STRIPPED_PORT)).toEqual(uris(PORT));
  });
});
