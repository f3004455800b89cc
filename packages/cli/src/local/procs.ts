// Local mode without a cluster: which process owns a socket. /proc/<pid>/net/tcp{,6} lists the
// sockets of that process's network namespace with their inodes (proc(5)), and /proc/<pid>/fd
// links name the inodes a process holds ("socket:[123]"), so ip:port -> inode -> process.
// Namespaces are read once each (through any of their processes), so sockets inside the demo's
// network namespaces are found as well as the host's.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { basename } from "node:path";

/** Interpreters whose name says little: the script they run is appended ("node front.mjs"). */
const INTERPRETERS = new Set(["node", "python", "python3", "ruby", "perl", "java", "sh", "bash"]);
/** Remembered sockets at most; beyond this the table starts over (ports get reused anyway). */
const MAX_SOCKETS = 100_000;

export interface ProcessTableOptions {
  /** /proc, or a fixture tree in tests. */
  procRoot?: string;
  /** A failed lookup rescans /proc at most this often. */
  minRescanMs?: number;
  now?: () => number;
}

export class ProcessTable {
  /** "ip:port" (and "*:port" for wildcard listeners) -> process name. */
  private readonly bySocket = new Map<string, string>();
  /** Addresses some local socket is bound to: a wildcard listener only answers for these. */
  private readonly localIps = new Set<string>();
  private lastScan = -Infinity;
  private readonly root: string;
  private readonly minRescanMs: number;
  private readonly now: () => number;
  scans = 0;

  constructor(opts: ProcessTableOptions = {}) {
    this.root = opts.procRoot ?? "/proc";
    this.minRescanMs = opts.minRescanMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The process bound to ip:port, rescanning /proc (rate-limited) when it is not known yet. */
  lookup(ip: string, port: number): string | undefined {
    const hit = this.find(ip, port);
    if (hit !== undefined || this.now() - this.lastScan < this.minRescanMs) return hit;
    this.scan();
    return this.find(ip, port);
  }

  private find(ip: string, port: number): string | undefined {
    const exact = this.bySocket.get(`${ip}:${port}`);
    return exact !== undefined || !this.localIps.has(ip) ? exact : this.bySocket.get(`*:${port}`);
  }

  /** Reads every process's sockets. Sockets of exited processes stay known until overwritten. */
  scan(): void {
    this.lastScan = this.now();
    this.scans++;
    if (this.bySocket.size > MAX_SOCKETS) {
      this.bySocket.clear();
      this.localIps.clear();
    }
    const owner = new Map<string, string>(); // inode -> process name
    const netnsReader = new Map<string, string>(); // netns id -> a pid inside it
    for (const pid of safeList(this.root)) {
      if (!/^\d+$/.test(pid)) continue;
      const dir = `${this.root}/${pid}`;
      const fds = safeList(`${dir}/fd`);
      if (!fds.length) continue;
      let name: string | undefined;
      for (const fd of fds) {
        const link = safeReadlink(`${dir}/fd/${fd}`);
        if (!link?.startsWith("socket:[")) continue;
        name ??= processName(dir);
        owner.set(link.slice(8, -1), name);
      }
      if (name === undefined) continue;
      const ns = safeReadlink(`${dir}/ns/net`) ?? "host";
      if (!netnsReader.has(ns)) netnsReader.set(ns, pid);
    }
    for (const pid of netnsReader.values()) {
      for (const file of ["tcp", "tcp6"]) {
        const text = safeRead(`${this.root}/${pid}/net/${file}`);
        if (text) this.addSockets(text, owner);
      }
    }
  }

  private addSockets(table: string, owner: Map<string, string>): void {
    const lines = table.split("\n");
    // proc(5): "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode"
    for (let i = 1; i < lines.length; i++) {
      const f = lines[i].trim().split(/\s+/);
      if (f.length < 10) continue;
      const colon = f[1].indexOf(":");
      const ip = hexToIp(f[1].slice(0, colon));
      const port = parseInt(f[1].slice(colon + 1), 16);
      if (ip === undefined || !(port > 0)) continue;
      const wildcard = ip === "0.0.0.0" || ip === "::";
      if (!wildcard) this.localIps.add(ip);
      const name = owner.get(f[9]);
      if (name === undefined) continue;
      this.bySocket.set(wildcard ? `*:${port}` : `${ip}:${port}`, name);
    }
  }
}

/** The kernel prints addresses as 32-bit words in host (little-endian) order. */
export function hexToIp(hex: string): string | undefined {
  if (hex.length === 8) {
    const v = parseInt(hex, 16);
    return `${v & 255}.${(v >>> 8) & 255}.${(v >>> 16) & 255}.${v >>> 24}`;
  }
  if (hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const v = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    bytes.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  }
  // ::ffff:a.b.c.d is an IPv4 peer of a dual-stack socket; entries carry the IPv4 form.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
}

function processName(dir: string): string {
  const comm = (safeRead(`${dir}/comm`) ?? "?").trim();
  if (!INTERPRETERS.has(comm)) return comm;
  const argv = (safeRead(`${dir}/cmdline`) ?? "").split("\0");
  const script = argv.slice(1).find((a) => a && !a.startsWith("-"));
  return script ? `${comm} ${basename(script)}` : comm;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // the process exited, or it is not ours to read
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
