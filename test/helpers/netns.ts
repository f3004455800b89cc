// Two network namespaces joined by a veth pair, for tests that need real
// traffic on a real interface without touching the host's network.
//
//   ns `a` (veth `tl0`, 10.213.N.1/24)  <── veth ──>  ns `b` (veth `tl1`, 10.213.N.2/24)
//
// Namespace names start with `tl-<pid>-`, so a later run can tell leftovers of
// a dead process from namespaces another live run still uses. Addresses exist
// only inside the namespaces. Cleanup kills what was spawned inside and deletes
// both namespaces (which destroys the veth pair); it also runs on process exit.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface NetnsPair {
  /** Namespace names. */
  a: string;
  b: string;
  /** Interface names inside `a` and `b`. */
  ifA: string;
  ifB: string;
  /** Addresses of ifA and ifB. */
  ipA: string;
  ipB: string;
  /** Runs a command inside a namespace to completion. */
  exec(ns: string, cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Starts a long-running command inside a namespace; cleanup() kills it. */
  spawn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  cleanup(): Promise<void>;
}

const PREFIX = `tl-${process.pid}-`;
const live = new Set<string>();
const children = new Set<ChildProcess>();
let counter = 0;
let exitHookInstalled = false;

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailableReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (ip netns needs CAP_SYS_ADMIN)";
  try {
    ip(["netns", "list"]);
  } catch (e) {
    return `ip netns unavailable: ${(e as Error).message.split("\n")[0]}`;
  }
  return null;
}

function removeNs(name: string): void {
  try {
    ip(["netns", "del", name]);
  } catch {
    // already gone
  }
  live.delete(name);
}

function killChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
  children.clear();
}

/** Deletes `tl-<pid>-*` namespaces whose creating process has died. */
function sweepStale(): void {
  let list = "";
  try {
    list = ip(["netns", "list"]);
  } catch {
    return;
  }
  for (const line of list.split("\n")) {
    const m = /^(tl-(\d+)-\S+)/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      removeNs(m[1]!);
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    killChildren();
    for (const name of [...live]) removeNs(name);
  });
}

export async function createNetnsPair(): Promise<NetnsPair> {
  installExitHook();
  sweepStale();
  const n = counter++;
  const subnet = 1 + (n % 250);
  const a = `${PREFIX}${n}a`;
  const b = `${PREFIX}${n}b`;
  const ifA = "tl0";
  const ifB = "tl1";
  const ipA = `10.213.${subnet}.1`;
  const ipB = `10.213.${subnet}.2`;
  const mine = new Set<ChildProcess>();
  try {
    ip(["netns", "add", a]);
    live.add(a);
    ip(["netns", "add", b]);
    live.add(b);
    // Created directly inside the namespaces: no name ever exists on the host.
    ip(["link", "add", "name", ifA, "netns", a, "type", "veth", "peer", "name", ifB, "netns", b]);
    ip(["-n", a, "addr", "add", `${ipA}/24`, "dev", ifA]);
    ip(["-n", b, "addr", "add", `${ipB}/24`, "dev", ifB]);
    for (const [ns, dev] of [[a, ifA], [b, ifB]] as const) {
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "link", "set", dev, "up"]);
    }
  } catch (e) {
    removeNs(a);
    removeNs(b);
    throw e;
  }

  const pair: NetnsPair = {
    a,
    b,
    ifA,
    ifB,
    ipA,
    ipB,
    exec(ns, cmd, args, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
        child.on("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr });
        });
        // A command that exits without reading its input closes the pipe: EPIPE here is not an error.
        child.stdin!.on("error", () => undefined);
        child.stdin!.end(opts.input ?? "");
      });
    },
    spawn(ns, cmd, args, opts = {}) {
      // `ip netns exec` execs the command, so the child's pid is the command's.
      const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"], ...opts });
      children.add(child);
      mine.add(child);
      child.on("exit", () => {
        children.delete(child);
        mine.delete(child);
      });
      return child;
    },
    async cleanup() {
      const waits: Promise<void>[] = [];
      for (const c of mine) {
        if (c.exitCode === null && c.signalCode === null) {
          waits.push(new Promise((r) => c.once("exit", () => r())));
          c.kill("SIGKILL");
        }
      }
      await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 2000))]);
      removeNs(a);
      removeNs(b);
    },
  };
  return pair;
}
