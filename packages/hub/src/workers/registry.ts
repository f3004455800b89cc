// Connected (and gone) workers: their hello, latest stats, batch sequence, and the sockets the
// hub uses to push TapConfig and PcapRequests. PCAP answers are collected per request id.
import { randomUUID } from "node:crypto";
import { HubMessage, WorkerStats } from "@tapline/protocol";
import type { PcapChunk, TapConfigInit, WorkerHello } from "@tapline/protocol";

export interface WorkerSocket {
  send(data: Uint8Array): void;
  readonly readyState: number;
}

export interface WorkerInfo {
  id: string;
  node: string;
  version: string;
  schemaVersion: string;
  remote: string;
  state: "connected" | "gone";
  connectedAt: number;
  disconnectedAt: number;
  lastSeq: number;
  batches: number;
  entries: number;
  droppedBefore: number;
  stats: WorkerStats | undefined;
  socket: WorkerSocket | undefined;
}

interface PendingPcap {
  expected: Set<string>;
  chunks: Map<string, Buffer[]>;
  errors: Map<string, string>;
  resolve(): void;
}

export interface PcapAnswers {
  /** Per worker, its pcapng bytes. */
  streams: Map<string, Buffer>;
  /** Per worker, an error it reported or "timeout". */
  errors: Map<string, string>;
}

const OPEN = 1;
/** Gone workers are kept for /api/workers, up to this many. */
const GONE_KEPT = 256;

export class WorkerRegistry {
  private readonly workers = new Map<string, WorkerInfo>();
  private readonly pending = new Map<string, PendingPcap>();
  private tap: TapConfigInit;

  constructor(tap: TapConfigInit = {}) {
    this.tap = tap;
  }

  connect(hello: WorkerHello, socket: WorkerSocket, remote: string, lastSeq: number): WorkerInfo {
    const previous = this.workers.get(hello.workerId);
    const info: WorkerInfo = {
      id: hello.workerId, node: hello.node, version: hello.version, schemaVersion: hello.schemaVersion, remote,
      state: "connected", connectedAt: Date.now(), disconnectedAt: 0, lastSeq,
      batches: previous?.batches ?? 0, entries: previous?.entries ?? 0, droppedBefore: previous?.droppedBefore ?? 0,
      stats: previous?.stats, socket,
    };
    this.workers.set(info.id, info);
    return info;
  }

  disconnect(info: WorkerInfo): void {
    // A newer connection of the same worker id replaced this one: leave it alone.
    if (this.workers.get(info.id) !== info) return;
    info.state = "gone";
    info.disconnectedAt = Date.now();
    info.socket = undefined;
    for (const p of this.pending.values()) if (p.expected.delete(info.id)) { p.errors.set(info.id, "disconnected"); this.settle(p); }
    const gone = [...this.workers.values()].filter((w) => w.state === "gone");
    for (let i = 0; i < gone.length - GONE_KEPT; i++) this.workers.delete(gone[i].id);
  }

  setStats(info: WorkerInfo, stats: WorkerStats): void {
    info.stats = stats;
  }

  connected(): WorkerInfo[] {
    return [...this.workers.values()].filter((w) => w.state === "connected" && w.socket?.readyState === OPEN);
  }

  list(): Record<string, unknown>[] {
    return [...this.workers.values()].map((w) => ({
      id: w.id, node: w.node, version: w.version, schemaVersion: w.schemaVersion, remote: w.remote, state: w.state,
      connectedAt: new Date(w.connectedAt).toISOString(),
      disconnectedAt: w.disconnectedAt ? new Date(w.disconnectedAt).toISOString() : null,
      lastSeq: w.lastSeq, batches: w.batches, entries: w.entries, droppedBefore: w.droppedBefore,
      // defaults: a counter at 0 (no restarts, no gap) and an empty list are answers, not
      // missing data; the UI and `tapline check` read every field without guessing.
      stats: w.stats ? WorkerStats.toObject(w.stats, { longs: Number, enums: String, json: true, defaults: true }) : null,
    }));
  }

  get tapConfig(): TapConfigInit {
    return this.tap;
  }

  /** Replaces the tap target and pushes it to every connected worker. */
  setTap(tap: TapConfigInit): void {
    this.tap = tap;
    const bytes = HubMessage.encode({ tap }).finish();
    for (const w of this.connected()) w.socket!.send(bytes);
  }

  /** Sends the request to every connected worker and resolves when all answered or on timeout. */
  async requestPcap(req: { sinceNs: number; untilNs: number; flows: { srcIp: string; srcPort: number; dstIp: string; dstPort: number }[] }, timeoutMs: number): Promise<PcapAnswers> {
    const requestId = randomUUID();
    const targets = this.connected();
    const pending: PendingPcap = { expected: new Set(targets.map((w) => w.id)), chunks: new Map(), errors: new Map(), resolve: () => {} };
    const done = new Promise<void>((resolve) => { pending.resolve = resolve; });
    this.pending.set(requestId, pending);
    const bytes = HubMessage.encode({ pcapRequest: { requestId, sinceNs: req.sinceNs, untilNs: req.untilNs, flows: req.flows } }).finish();
    for (const w of targets) w.socket!.send(bytes);
    this.settle(pending);
    const timer = setTimeout(() => {
      for (const id of pending.expected) pending.errors.set(id, "timeout");
      pending.expected.clear();
      pending.resolve();
    }, timeoutMs);
    await done;
    clearTimeout(timer);
    this.pending.delete(requestId);
    const streams = new Map<string, Buffer>();
    for (const [id, parts] of pending.chunks) if (!pending.errors.has(id)) streams.set(id, Buffer.concat(parts));
    return { streams, errors: pending.errors };
  }

  /** A PcapChunk from a worker; chunks of unknown or finished requests are ignored. */
  onPcapChunk(info: WorkerInfo, chunk: PcapChunk): void {
    const p = this.pending.get(chunk.requestId);
    if (!p || !p.expected.has(info.id)) return;
    if (chunk.data.length > 0) {
      let parts = p.chunks.get(info.id);
      if (!parts) p.chunks.set(info.id, (parts = []));
      parts.push(Buffer.from(chunk.data));
    }
    if (chunk.error) p.errors.set(info.id, chunk.error);
    if (chunk.last || chunk.error) {
      p.expected.delete(info.id);
      this.settle(p);
    }
  }

  private settle(p: PendingPcap): void {
    if (p.expected.size === 0) p.resolve();
  }
}
