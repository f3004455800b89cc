// The TLS section of the worker panel: which processes' TLS plaintext is readable, and why not.
import type { TlsTargetStatus, WorkerStatus } from "../api/client.js";

export interface TlsRow extends TlsTargetStatus {
  key: string;
  /** The worker's node (or id) the process runs on. */
  node: string;
  /** Hooked: its TLS traffic is captured in plaintext. */
  readable: boolean;
}

export interface TlsSummary {
  rows: TlsRow[];
  readable: number;
  /** Processes (or whole workers, pid 0) whose TLS is not readable. */
  unreadable: number;
}

/** Every worker's TLS targets: unreadable ones first (they need the user's attention), then by plaintext bytes. */
export function tlsSummary(workers: WorkerStatus[]): TlsSummary {
  const rows: TlsRow[] = [];
  for (const w of workers) {
    for (const t of w.tlsTargets) {
      rows.push({ ...t, key: `${w.workerId}/${t.pid}/${t.library}`, node: w.node || w.workerId, readable: t.state === "hooked" });
    }
  }
  rows.sort((a, b) => Number(a.readable) - Number(b.readable) || b.bytes - a.bytes || a.pid - b.pid);
  const readable = rows.filter((r) => r.readable).length;
  return { rows, readable, unreadable: rows.length - readable };
}
