// tapline-capture --tls end to end: a node https server on 127.0.0.1 and real clients (curl -k,
// python's ssl + http.client, node's https), the plaintext of their SSL_read/SSL_write captured
// through eBPF uprobes into the pcap stream, judged by tshark and by `tapline dissect`.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, control, dissect, exited, NATIVE, run, tlsSkipReason, waitFor } from "./helpers.js";

const PORT = 18000 + (process.pid % 1000);
const NODE = realpathSync(process.execPath);

const skipReason = tlsSkipReason(["curl", "python3", "openssl", "tshark"]);
if (skipReason) console.warn(`tls e2e skipped: ${skipReason}`);

const SERVER = `
const fs = require("node:fs");
require("node:https").createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]) }, (req, res) => {
  let n = 0;
  req.on("data", (d) => (n += d.length));
  req.on("end", () => {
    res.statusCode = req.url.startsWith("/missing") ? 404 : 200;
    res.setHeader("content-type", "text/plain");
    res.end("got " + req.method + " " + req.url + " " + n + "\\n");
  });
}).listen(${PORT}, "127.0.0.1", () => console.log("ready"));
`;

const PYTHON = `
import ssl, http.client, sys
c = http.client.HTTPSConnection("127.0.0.1", ${PORT}, context=ssl._create_unverified_context())
c.request("GET", "/py-get")
r = c.getresponse(); r.read()
c.request("POST", "/missing-py", body=b"x" * 3000)
r2 = c.getresponse(); r2.read()
print(r.status, r2.status)
`;

const NODE_CLIENT = `
const get = (path) => new Promise((res, rej) => require("node:https")
  .get({ host: "127.0.0.1", port: ${PORT}, path, rejectUnauthorized: false }, (r) => { r.resume(); r.on("end", () => res(r.statusCode)); })
  .on("error", rej));
get("/node-get").then((s) => console.log(s));
`;

describe.skipIf(skipReason !== null)("tapline-capture --tls", () => {
  let dir: string;
  let server: ChildProcess;
  const children: ChildProcess[] = [];
  let withTls: string;
  let withoutTls: string;
  let tlsStatus: Record<string, unknown>;
  let tlsStderr = "";
  let unavailable = "";

  beforeAll(async () => {
    execFileSync("make", ["-s", "-C", NATIVE], { stdio: "inherit" });
    dir = mkdtempSync(join(tmpdir(), "tl-tls-"));
    run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=localhost"]);
    server = spawn(process.execPath, ["-e", SERVER, join(dir, "key.pem"), join(dir, "cert.pem")], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(server);
    let ready = false;
    server.stdout!.on("data", (d: Buffer) => (ready ||= d.toString().includes("ready")));
    await waitFor(() => ready, "the https server");

    // Two captures of the same traffic: with --tls, and without it (the control group).
    withTls = join(dir, "tls.pcap");
    withoutTls = join(dir, "plain.pcap");
    const sock = join(dir, "control.sock");
    const filter = `tcp port ${PORT}`;
    const a = spawn(BIN, ["-i", "lo", "--tls", "-f", filter, "-w", withTls, "--control", sock], { stdio: ["ignore", "ignore", "pipe"] });
    const b = spawn(BIN, ["-i", "lo", "-f", filter, "-w", withoutTls, "-q"], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(a, b);
    a.stderr!.on("data", (d: Buffer) => (tlsStderr += d.toString()));
    // Ready when libssl (hooked for every process) and our node binary (static OpenSSL) are hooked.
    await waitFor(
      () =>
        /--tls unavailable/.test(tlsStderr) ||
        (/"library":"[^"]*libssl\.so[^"]*","state":"hooked"/.test(tlsStderr) && tlsStderr.includes(`"library":"${NODE}","state":"hooked"`)) ||
        a.exitCode !== null,
      "the TLS hooks",
    );
    expect(a.exitCode, tlsStderr).toBeNull();
    unavailable = /--tls unavailable: (.*)/.exec(tlsStderr)?.[1] ?? "";
    await waitFor(() => existsSync(withoutTls) && statSync(withoutTls).size >= 24, "the plain capture");

    const base = `https://127.0.0.1:${PORT}`;
    expect(run("curl", ["-sk", `${base}/curl-get`])).toContain("got GET /curl-get");
    expect(run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-d", "user=alice&password=hunter2", `${base}/missing-curl`])).toBe("404");
    expect(run("python3", ["-c", PYTHON]).trim()).toBe("200 404");
    expect(run(process.execPath, ["-e", NODE_CLIENT]).trim()).toBe("200");

    tlsStatus = await control(sock, { tls: true });
    await new Promise((r) => setTimeout(r, 300)); // the last records reach the ring and the file
    for (const c of [a, b]) c.kill("SIGINT");
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
  }, 120_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("hooks libssl and node's static OpenSSL and reports per-process status", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const tls = tlsStatus.tls as { enabled: boolean; counters: Record<string, number>; targets: { pid: number; library: string; state: string; bytes: number }[] };
    expect(tlsStatus.ok).toBe(true);
    expect(tls.enabled).toBe(true);
    const srv = tls.targets.find((t) => t.pid === server.pid);
    expect(srv, JSON.stringify(tls.targets.slice(0, 5))).toMatchObject({ library: NODE, state: "hooked" });
    expect(srv!.bytes).toBeGreaterThan(0);
    expect(tls.counters.events).toBeGreaterThan(0);
    expect(tls.counters.lost).toBe(0);
    // curl and python went through libssl and are named with it on stderr.
    expect(tlsStderr).toMatch(/"comm":"curl","library":"[^"]*libssl\.so[^"]*","state":"hooked"/);
    expect(tlsStderr).toMatch(/"comm":"python3","library":"[^"]*libssl\.so[^"]*","state":"hooked"/);
  });

  it("writes a stream tshark reads, whose marked packets carry the plaintext HTTP", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    expect(run("tshark", ["-r", withTls, "-Y", "_ws.malformed"]).trim()).toBe("");
    // Only the synthesized packets (SLL2 ARPHRD 0xFFFD): tshark then sees the plaintext flows alone.
    const only = join(dir, "plaintext-only.pcap");
    run("tshark", ["-r", withTls, "-Y", "sll.hatype == 0xfffd", "-w", only]);
    const fields = run("tshark", ["-r", only, "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code"]);
    const uris = fields.split("\n").map((l) => l.split("\t")[1]).filter(Boolean);
    for (const p of ["/curl-get", "/missing-curl", "/py-get", "/missing-py", "/node-get"]) expect(uris).toContain(p);
    expect(fields).toMatch(/\t\t404/);
    expect(run("tshark", ["-r", withoutTls, "-Y", "sll.hatype == 0xfffd"]).trim()).toBe("");
  });

  it("dissects the plaintext as HTTP entries flagged tls, with paths and statuses", (ctx) => {
    if (unavailable) ctx.skip(`BPF unavailable on this machine: ${unavailable}`);
    const http = dissect(withTls).filter((e) => e.protocol === "HTTP");
    const seen = new Map(http.map((e) => [e.httpRequest?.path, e]));
    const want: [string, string, number][] = [
      ["/curl-get", "GET", 200],
      ["/missing-curl", "POST", 404],
      ["/py-get", "GET", 200],
      ["/missing-py", "POST", 404],
      ["/node-get", "GET", 200],
    ];
    for (const [path, method, status] of want) {
      const e = seen.get(path);
      expect(e, `${path} in ${JSON.stringify([...seen.keys()])}`).toBeDefined();
      expect(e!.httpRequest?.method).toBe(method);
      expect(e!.httpResponse?.status).toBe(status);
      expect(e!.tls).toBe(true);
      expect(e!.dst).toEqual({ ip: "127.0.0.1", port: PORT });
    }
    expect(http.every((e) => e.tls === true)).toBe(true);
  });

  it("without BPF permission --tls says why in one line and captures on", async (ctx) => {
    if (spawnSync("sh", ["-c", "command -v setpriv"]).status !== 0) ctx.skip("setpriv is not installed");
    const out = join(dir, "noperm.pcap");
    // Root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: AF_PACKET works, loading BPF does not.
    const drop = ["--inh-caps=-bpf,-perfmon,-sys_admin", "--bounding-set=-bpf,-perfmon,-sys_admin"];
    const c = spawn("setpriv", [...drop, BIN, "-i", "lo", "--tls", "-f", `tcp port ${PORT}`, "-w", out, "-q"], { stdio: ["ignore", "ignore", "pipe"] });
    children.push(c);
    let err = "";
    c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    await waitFor(() => err.includes("\n") || c.exitCode !== null, "the capture's warning");
    expect(err).toMatch(/^tapline-capture: warning: --tls unavailable: permission denied loading BPF programs .*; capturing without TLS\n$/);
    await waitFor(() => existsSync(out) && statSync(out).size >= 24, "the capture to start");
    run("curl", ["-sk", `https://127.0.0.1:${PORT}/after-warning`]);
    await new Promise((r) => setTimeout(r, 200));
    c.kill("SIGINT");
    expect(await exited(c)).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(24 + 1000); // the ciphertext connection was captured
  });

  it("without --tls the same traffic gives no HTTP and no tls entry", () => {
    const entries = dissect(withoutTls);
    expect(entries.length).toBeGreaterThan(0); // the ciphertext connections are there
    expect(entries.filter((e) => e.protocol === "HTTP" || e.tls)).toEqual([]);
  });
});
