// tapline-capture --mesh end to end: a meshed "pod" built from a network namespace the way an
// Istio sidecar injector builds one, the capture running in the host namespace (as the worker
// DaemonSet does with hostNetwork + hostPID), tshark as the judge.
//
//   ns `client` (10.213.N.1)                          ns `pod` (10.213.N.2)
//   curl -k https://pod:8080/…  ──TLS on the veth──>  iptables PREROUTING 8080 -> 15006
//                                                     "envoy" :15006 TLS -> 127.0.0.6 -> pod:8080 (app)
//   TLS server :9000 (the other       <──TLS──────    "envoy" :15001 <- iptables OUTPUT (uid != 1337)
//   pod's sidecar, answering)                          app GET http://client:9000/upstream
//                                                     "envoy" admin 127.0.0.1:15000 (pilot-agent polls it)
//
// The "envoy" is node started through a symlink named `envoy` (so /proc/PID/comm says envoy)
// as uid 1337, Istio's proxy uid that the OUTPUT rule exempts. It is a TCP/TLS relay with a
// static upstream, not Envoy: no Envoy binary is packaged in Debian or npm. What it shares with
// a real sidecar is what the capture depends on: the process name, the namespace, the iptables
// redirections and where plaintext and ciphertext travel. Real Istio uses mTLS with SPIFFE
// certificates between the sidecars; here the client side is curl with a self-signed server
// certificate, which changes nothing on the wire that matters (the veth only carries TLS).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, statSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dissectFile } from "@tapline/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetnsPair, netnsUnavailableReason, type NetnsPair } from "../helpers/netns.js";
import { control } from "../helpers/sidecarControl.js";

const NATIVE = resolve(import.meta.dirname, "../../native");
const BIN = join(NATIVE, "build/tapline-capture");
const ARPHRD_MESH = 0xfffc;

function hasIptables(): boolean {
  try {
    execFileSync("iptables", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const skipReason = netnsUnavailableReason() ?? (hasIptables() ? null : "iptables missing (scripts/setup.sh installs it)");
if (skipReason) console.warn(`mesh e2e skipped: ${skipReason}`);

const APP = `
const http = require("node:http");
const [upstreamHost] = process.argv.slice(1);
http.createServer((req, res) => {
  if (req.url === "/call") {
    // an outbound call: iptables sends it to the sidecar's 15001, which carries it over TLS
    http.get({ host: upstreamHost, port: 9000, path: "/upstream" }, (up) => {
      let body = "";
      up.on("data", (d) => (body += d)).on("end", () => res.end("called: " + body));
    }).on("error", (e) => { res.statusCode = 502; res.end(e.message); });
    return;
  }
  res.end("hello from the app " + req.url + "\\n");
}).listen(8080, "0.0.0.0", () => console.log("ready"));
`;

// The sidecar: inbound TLS on 15006 relayed in plaintext to the app from 127.0.0.6 (what Istio
// >= 1.10 does), outbound plaintext on 15001 relayed over TLS to a static upstream, and an admin
// port that must stay out of the capture.
const ENVOY = `
const fs = require("node:fs"), net = require("node:net"), tls = require("node:tls"), http = require("node:http");
const [dir, podIp, upstreamHost] = process.argv.slice(2); // run as a file: argv[1] is the script
const creds = { key: fs.readFileSync(dir + "/key.pem"), cert: fs.readFileSync(dir + "/cert.pem") };
const relay = (a, b) => { a.pipe(b).on("error", () => a.destroy()); b.pipe(a).on("error", () => b.destroy()); a.on("error", () => b.destroy()); b.on("error", () => a.destroy()); };
let up = 0; const ready = () => ++up === 3 && console.log("ready");
tls.createServer(creds, (s) => relay(s, net.connect({ host: podIp, port: 8080, localAddress: "127.0.0.6" }))).listen(15006, ready);
net.createServer((s) => relay(s, tls.connect({ host: upstreamHost, port: 9000, rejectUnauthorized: false }))).listen(15001, ready);
http.createServer((req, res) => res.end("server_info: live\\n")).listen(15000, "127.0.0.1", ready);
`;

const UPSTREAM = `
const fs = require("node:fs"), https = require("node:https");
const dir = process.argv[1];
https.createServer({ key: fs.readFileSync(dir + "/key.pem"), cert: fs.readFileSync(dir + "/cert.pem") },
  (req, res) => res.end("upstream " + req.url)).listen(9000, () => console.log("ready"));
`;

function waitReady(child: ChildProcess, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((res, rej) => {
    let err = "";
    const timer = setTimeout(() => rej(new Error(`${what} not ready: ${err}`)), timeoutMs);
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        clearTimeout(timer);
        res();
      }
    });
    child.on("exit", (code) => rej(new Error(`${what} exited with ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}

type Frame = { hatype: number; pkttype: number; src: string; dst: string; sport: number; dport: number; flags: number; method: string; uri: string; code: string; addr: string };

function frames(file: string): Frame[] {
  const fields = ["sll.hatype", "sll.pkttype", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.flags", "http.request.method", "http.request.uri", "http.response.code", "sll.src.other"];
  const out = execFileSync("tshark", ["-r", file, "-T", "fields", ...fields.flatMap((f) => ["-e", f])], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.split("\n").filter(Boolean).map((l) => {
    const c = l.split("\t");
    return { hatype: Number(c[0]), pkttype: Number(c[1]), src: c[2]!, dst: c[3]!, sport: Number(c[4]), dport: Number(c[5]), flags: Number(c[6]), method: c[7]!, uri: c[8]!, code: c[9]!, addr: c[10] ?? "" };
  });
}

function tshark(args: string[]): string {
  return execFileSync("tshark", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

type MeshNs = { netns: number; pid: number; proxy: string; state: string; packets: number; addresses: string[] };
type MeshReply = { ok: boolean; error?: string; mesh?: { enabled: boolean; filter: string; scope: string[] | null; netns: MeshNs[] } };

async function meshStatus(sock: string): Promise<MeshReply> {
  return control<MeshReply>(sock, { mesh: true });
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe.skipIf(skipReason !== null)("tapline-capture --mesh on a meshed pod namespace", () => {
  let pair: NetnsPair;
  let dir: string;
  let envoy: ChildProcess;
  let meshCap: ChildProcess, plainCap: ChildProcess, vethCap: ChildProcess;
  const meshPcap = () => join(dir, "mesh.pcap");
  const plainPcap = () => join(dir, "plain.pcap");
  const vethPcap = () => join(dir, "veth.pcap");
  const sock = () => join(dir, "mesh.sock");
  let status: MeshReply;

  beforeAll(async () => {
    execFileSync("make", ["-s", "-C", NATIVE], { stdio: "inherit" });
    dir = mkdtempSync(join(tmpdir(), "tl-mesh-"));
    chmodSync(dir, 0o755); // the sidecar runs as uid 1337 and reads its certificate here
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=pod"], { stdio: "ignore" });
    chmodSync(join(dir, "key.pem"), 0o644);
    writeFileSync(join(dir, "envoy.js"), ENVOY);
    symlinkSync(process.execPath, join(dir, "envoy"));

    pair = await createNetnsPair();
    const { a: client, b: pod, ipA, ipB, ifB } = pair;
    // Istio's istio-init rules, reduced to this pod's one app port and one upstream.
    const ipt = (args: string[]) => execFileSync("ip", ["netns", "exec", pod, "iptables", "-t", "nat", ...args]);
    ipt(["-A", "PREROUTING", "-i", ifB, "-p", "tcp", "--dport", "8080", "-j", "REDIRECT", "--to-ports", "15006"]);
    ipt(["-A", "OUTPUT", "-p", "tcp", "-d", ipA, "--dport", "9000", "-m", "owner", "!", "--uid-owner", "1337", "-j", "REDIRECT", "--to-ports", "15001"]);

    const upstream = pair.spawn(client, process.execPath, ["-e", UPSTREAM, dir]);
    const app = pair.spawn(pod, process.execPath, ["-e", APP, ipA]);
    envoy = pair.spawn(pod, "setpriv", ["--reuid=1337", "--regid=1337", "--clear-groups", join(dir, "envoy"), join(dir, "envoy.js"), dir, ipB, ipA]);
    await Promise.all([waitReady(upstream, "upstream"), waitReady(app, "app"), waitReady(envoy, "envoy")]);

    // Three captures of the same exchanges: host namespace with --mesh, host namespace
    // without, and the pod's veth from inside (what a capture on the node's veth sees).
    const filter = `tcp and host ${ipB}`;
    meshCap = spawn(BIN, ["-i", "any", "-f", filter, "--mesh", "--control", sock(), "-w", meshPcap()], { stdio: ["ignore", "ignore", "pipe"] });
    plainCap = spawn(BIN, ["-i", "any", "-f", filter, "-w", plainPcap(), "-q"], { stdio: ["ignore", "ignore", "pipe"] });
    vethCap = pair.spawn(pod, BIN, ["-i", ifB, "-w", vethPcap(), "-q"]);
    // each capture writes its pcap header once its socket is bound
    await until("the captures to start", async () => [plainPcap(), vethPcap()].every((f) => existsSync(f) && statSync(f).size >= 24), (v) => v);
    status = await until("the pod namespace to be captured", () => meshStatus(sock()).catch(() => ({ ok: false }) as MeshReply), (r) => !!r.mesh?.netns.some((n) => n.state === "capturing"));

    const curl = (path: string) => pair.exec(client, "curl", ["-sk", "--max-time", "5", `https://${ipB}:8080${path}`]);
    for (const path of ["/hello", "/call"]) {
      const r = await curl(path);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(path === "/call" ? /called: upstream \/upstream/ : /hello from the app/);
    }
    // pilot-agent's kind of traffic: the Envoy admin port on the loopback
    const admin = await pair.exec(pod, "curl", ["-s", "--max-time", "5", "http://127.0.0.1:15000/stats"]);
    expect(admin.stdout).toContain("server_info");
    await new Promise((r) => setTimeout(r, 300)); // past the ring's block timeout and the flush
    for (const c of [meshCap, plainCap, vethCap]) c.kill("SIGTERM");
    await Promise.all([exited(meshCap), exited(plainCap), exited(vethCap)]);
  });

  afterAll(async () => {
    for (const c of [meshCap, plainCap, vethCap]) if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await pair?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds the namespace by its envoy process and reports it on the control socket", () => {
    const ns = status.mesh!.netns;
    expect(ns).toHaveLength(1); // the client namespace runs no proxy
    expect(ns[0]).toMatchObject({ proxy: "envoy", pid: envoy.pid, state: "capturing", addresses: [pair.ipB] });
    expect(status.mesh!.filter).toBe("tcp and (port 15001 or not portrange 15000-15090)");
  });

  it("captures the plaintext app <-> sidecar exchanges on the pod's loopback, marked", () => {
    const f = frames(meshPcap());
    const mesh = f.filter((x) => x.hatype === ARPHRD_MESH);
    const requests = mesh.filter((x) => x.method).map((x) => `${x.method} ${x.uri} ${x.src}->${x.dst}:${x.dport}`);
    // inbound: Envoy -> app from 127.0.0.6; outbound: app -> 127.0.0.1:15001 after REDIRECT
    expect(requests.sort()).toEqual([
      `GET /call 127.0.0.6->${pair.ipB}:8080`,
      `GET /hello 127.0.0.6->${pair.ipB}:8080`,
      `GET /upstream ${pair.ipB}->127.0.0.1:15001`,
    ]);
    // The sidecar's replies on 15001 arrive un-NATed (from the upstream's address); the capture
    // gives them back the sidecar's address so both directions form one connection.
    const responses = mesh.filter((x) => x.code).map((x) => `${x.code} ${x.src}:${x.sport}->${x.dst}`);
    expect(responses.filter((r) => r.includes(":15001->"))).toEqual([`200 127.0.0.1:15001->${pair.ipB}`]);
    expect(responses.filter((r) => r.includes(":8080->127.0.0.6"))).toHaveLength(2);
    expect(mesh.some((x) => x.src === pair.ipA || x.dst === pair.ipA)).toBe(false);
    // The host namespace has no route to these namespaces: nothing else was captured.
    expect(f.length).toBe(mesh.length);
    // Loopback hands each packet to a packet socket twice; only the incoming copy is kept:
    // three connections, three SYNs.
    expect(mesh.filter((x) => x.flags === 0x002).length).toBe(3);
    expect(mesh.every((x) => x.pkttype === 0)).toBe(true);
    // The mark's address: proxy pid then namespace inode, both big-endian.
    const ns = status.mesh!.netns[0]!;
    const hex = (n: number) => n.toString(16).padStart(8, "0");
    const addr = mesh[0]!.addr.replace(/:/g, "");
    expect(addr).toBe(hex(ns.pid) + hex(ns.netns % 2 ** 32));
    expect(tshark(["-r", meshPcap(), "-Y", "_ws.malformed"]).trim()).toBe("");
  });

  it("leaves out the Envoy admin and control ports (15000-15090 except 15001)", () => {
    const ports = frames(meshPcap()).flatMap((x) => [x.sport, x.dport]);
    expect(ports.filter((p) => p >= 15000 && p <= 15090 && p !== 15001)).toEqual([]);
    expect(frames(meshPcap()).some((x) => x.uri === "/stats")).toBe(false);
  });

  it("without --mesh the same capture sees none of it, and the pod's veth carries only TLS", () => {
    expect(frames(plainPcap())).toEqual([]);
    const veth = frames(vethPcap());
    expect(veth.filter((x) => x.method || x.code)).toEqual([]);
    expect(veth.some((x) => x.dport === 8080 || x.sport === 8080)).toBe(true);
    // tshark takes 8080 for HTTP unless told: read both ports as TLS. Three ClientHellos: two
    // inbound from curl, one outbound from the sidecar to the upstream.
    const hellos = tshark(["-r", vethPcap(), "-d", "tcp.port==8080,tls", "-d", "tcp.port==9000,tls", "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.dstport"]);
    expect(hellos.trim().split("\n").sort()).toEqual(["8080", "8080", "9000"]);
  });

  it("the worker dissects the marked loopback packets into HTTP entries", async () => {
    const http: string[] = [];
    await dissectFile(meshPcap(), {
      onEntry: (e) => {
        if (e.httpRequest) http.push(`${e.httpRequest.method} ${e.httpRequest.path} ${e.httpResponse?.status ?? "-"}`);
      },
    });
    expect(http.sort()).toEqual(["GET /call 200", "GET /hello 200", "GET /upstream 200"]);
  });
});

describe.skipIf(skipReason !== null)("tapline-capture --mesh follows namespaces and scope", () => {
  let pair: NetnsPair;
  let dir: string;
  let cap: ChildProcess;

  beforeAll(async () => {
    execFileSync("make", ["-s", "-C", NATIVE], { stdio: "inherit" });
    dir = mkdtempSync(join(tmpdir(), "tl-mesh-"));
    symlinkSync(process.execPath, join(dir, "envoy"));
    pair = await createNetnsPair();
    cap = spawn(BIN, ["-i", "lo", "-f", "tcp port 1", "--mesh-scope", "192.0.2.1", "--control", join(dir, "c.sock"), "-w", "/dev/null", "-q"], { stdio: ["ignore", "ignore", "pipe"] });
  });

  afterAll(async () => {
    if (cap && cap.exitCode === null) cap.kill("SIGKILL");
    await pair?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ignores a proxy by another name, honours the scope, and lets go of a namespace whose proxy exits", async () => {
    const sock = join(dir, "c.sock");
    const st = () => meshStatus(sock).catch(() => ({ ok: false }) as MeshReply);
    const keep = `setInterval(() => {}, 1000)`;
    // a relay that is not called envoy: not a mesh
    const other = pair.spawn(pair.b, process.execPath, ["-e", keep]);
    await until("a scan", st, (r) => r.ok);
    await new Promise((r) => setTimeout(r, 2300)); // one more scan with the process running
    expect((await st()).mesh!.netns).toEqual([]);
    other.kill("SIGKILL");

    const envoy = pair.spawn(pair.b, join(dir, "envoy"), ["-e", keep]);
    let r = await until("the envoy namespace", st, (v) => (v.mesh?.netns.length ?? 0) === 1);
    expect(r.mesh!.netns[0]).toMatchObject({ pid: envoy.pid, state: "out of scope", addresses: [pair.ipB] });
    expect(await control(sock, { mesh_scope: `${pair.ipA},${pair.ipB}` })).toEqual({ ok: true });
    r = await st();
    expect(r.mesh!.netns[0]!.state).toBe("capturing");
    expect(r.mesh!.scope).toEqual([pair.ipA, pair.ipB]);
    expect(await control(sock, { mesh_scope: "10.0.0.999" })).toMatchObject({ ok: false, error: expect.stringContaining("10.0.0.999") });
    expect(await control(sock, { mesh_filter: "tcp port" })).toMatchObject({ ok: false, error: expect.stringContaining("bad filter") });
    expect(await control(sock, { mesh_filter: "tcp port 8080" })).toEqual({ ok: true });
    expect((await st()).mesh!.filter).toBe("tcp port 8080");

    envoy.kill("SIGKILL");
    await until("the namespace to be let go", st, (v) => v.mesh?.netns.length === 0);
    const stats = await control<{ ok: boolean; stats: { mesh: { netns: number; capturing: number } } }>(sock, { stats: true });
    expect(stats.stats.mesh).toMatchObject({ netns: 0, capturing: 0 });
  });
});
