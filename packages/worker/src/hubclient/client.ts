// The worker's connection to the hub: EntryBatch messages over one websocket, authenticated
// by the first message (WorkerHello with the token), reconnecting with backoff.
//
// Delivery is at-least-once inside a bounded queue: every batch stays queued until the hub
// acknowledges its seq (HelloAck.last_seq, sent after hello and as batches are stored), and
// unacknowledged batches are sent again after a reconnect; the hub de-duplicates on entry id.
// When the queue is full the oldest batch goes, and if it had never reached the hub its entries
// are counted as dropped and reported to the hub in an entry-less batch's dropped_before and in
// WorkerStats.entries_dropped (never silent).
import WebSocket from "ws";
import { Entry, HubMessage, SCHEMA_VERSION, WorkerMessage } from "@tapline/protocol";
import { encodeBatchMessage } from "./wire.js";
import type { EntryInit, PcapRequest, TapConfig, WorkerStatsInit } from "@tapline/protocol";

export interface HubClientOptions {
  /** e.g. ws://127.0.0.1:8899/ws/worker */
  url: string;
  token: string;
  workerId: string;
  node: string;
  version: string;
  /** Entries held at most (queued + sent but not acknowledged). */
  maxQueueEntries?: number;
  /** A batch is sent when it has this many entries… */
  batchMaxEntries?: number;
  /** …or when its oldest entry has waited this long. */
  batchMaxMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Called with the tap target after connecting and whenever the hub changes it. */
  onTap?(config: TapConfig): void;
  /** Answers the hub's request for raw packets with pcapng chunks. */
  onPcapRequest?(request: PcapRequest): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  log?(message: string): void;
}

export interface HubClientStats {
  connected: boolean;
  entriesQueued: number;
  entriesSent: number;
  /** Entries that never reached the hub because the queue overflowed. */
  entriesDropped: number;
  /** Entries sent but evicted before the hub acknowledged them (probably stored). */
  entriesUnconfirmed: number;
  batchesSent: number;
  reconnects: number;
  lastAckedSeq: number;
  lastError: string;
}

interface QueuedBatch {
  seq: number;
  count: number;
  bytes: Uint8Array;
  sent: boolean;
  /** Sent on some connection (maybe stored): evicting it is "unconfirmed", not "dropped". */
  everSent: boolean;
}

/** Send no more while this much is buffered in the socket: a slow hub must not grow memory. */
const MAX_SOCKET_BUFFER = 8 * 1024 * 1024;

export class HubClient {
  readonly stats: HubClientStats = {
    connected: false,
    entriesQueued: 0,
    entriesSent: 0,
    entriesDropped: 0,
    entriesUnconfirmed: 0,
    batchesSent: 0,
    reconnects: 0,
    lastAckedSeq: 0,
    lastError: "",
  };
  private readonly maxQueue: number;
  private readonly batchMax: number;
  private readonly batchMs: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private ws: WebSocket | undefined;
  private authenticated = false;
  /** Entries of the next batch, protobuf-encoded. */
  private pending: Uint8Array[] = [];
  private queue: QueuedBatch[] = [];
  // seq keeps rising across worker restarts (the hub remembers the last one it stored per worker id).
  private seq = Date.now() * 1000;
  private droppedSinceLastBatch = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private stopped = false;

  constructor(private readonly opts: HubClientOptions) {
    this.maxQueue = opts.maxQueueEntries ?? 50_000;
    this.batchMax = opts.batchMaxEntries ?? 500;
    this.batchMs = opts.batchMaxMs ?? 200;
    this.minDelay = opts.reconnectMinMs ?? 250;
    this.maxDelay = opts.reconnectMaxMs ?? 10_000;
    this.delay = this.minDelay;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Queues one entry; never blocks. */
  send(entry: EntryInit): void {
    this.sendEncoded(Entry.encode(entry).finish());
  }

  /** Queues one entry already encoded as an Entry message (by a dissecting thread); never blocks. */
  sendEncoded(entry: Uint8Array): void {
    this.pending.push(entry);
    this.stats.entriesQueued++;
    if (this.pending.length >= this.batchMax) this.cutBatch();
    else if (!this.batchTimer) this.batchTimer = setTimeout(() => this.cutBatch(), this.batchMs);
  }

  /** Sends stats now if connected (stats are a snapshot: an old one is worth nothing later). */
  sendStats(stats: WorkerStatsInit): void {
    if (!this.authenticated || !this.ws) return;
    this.ws.send(WorkerMessage.encode({ stats: { ...stats, workerId: this.opts.workerId, node: this.opts.node } }).finish());
  }

  /** Entries not yet acknowledged by the hub. */
  get backlog(): number {
    return this.pending.length + this.queue.reduce((n, b) => n + b.count, 0);
  }

  /** Sends what is queued, waits up to `timeoutMs` for the hub's acknowledgement, then closes. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.cutBatch();
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length && this.authenticated && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.stopped = true;
    clearTimeout(this.batchTimer);
    clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, "worker stopping");
  }

  private cutBatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (!this.pending.length) return;
    const entries = this.pending;
    this.pending = [];
    const seq = ++this.seq;
    const bytes = encodeBatchMessage(this.opts.workerId, seq, entries);
    this.queue.push({ seq, count: entries.length, bytes, sent: false, everSent: false });
    this.enforceBound();
    this.pump();
  }

  private enforceBound(): void {
    let held = this.backlog;
    while (held > this.maxQueue && this.queue.length > 1) {
      const old = this.queue.shift()!;
      held -= old.count;
      if (old.everSent) this.stats.entriesUnconfirmed += old.count;
      else {
        this.stats.entriesDropped += old.count;
        this.droppedSinceLastBatch += old.count;
      }
    }
  }

  /** Sends queued batches that have not been sent on this connection, while the socket keeps up. */
  private pump(): void {
    const ws = this.ws;
    if (!ws || !this.authenticated || ws.readyState !== WebSocket.OPEN) return;
    if (this.droppedSinceLastBatch > 0) {
      // An entry-less batch (seq 0: not part of the acknowledged sequence) carries the overflow count.
      ws.send(WorkerMessage.encode({ batch: { workerId: this.opts.workerId, seq: 0, droppedBefore: this.droppedSinceLastBatch } }).finish());
      this.droppedSinceLastBatch = 0;
    }
    for (const b of this.queue) {
      if (b.sent) continue;
      if (ws.bufferedAmount > MAX_SOCKET_BUFFER) {
        setTimeout(() => this.pump(), 20);
        return;
      }
      ws.send(b.bytes);
      b.sent = true;
      b.everSent = true;
      this.stats.batchesSent++;
      this.stats.entriesSent += b.count;
    }
  }

  private acknowledge(lastSeq: number): void {
    this.stats.lastAckedSeq = Math.max(this.stats.lastAckedSeq, lastSeq);
    while (this.queue.length && this.queue[0].seq <= lastSeq) this.queue.shift();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.opts.url, { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.ws = ws;
    ws.binaryType = "nodebuffer";
    ws.on("open", () => {
      ws.send(
        WorkerMessage.encode({
          hello: { workerId: this.opts.workerId, node: this.opts.node, version: this.opts.version, token: this.opts.token, schemaVersion: SCHEMA_VERSION },
        }).finish(),
      );
    });
    ws.on("message", (data: Buffer) => this.onMessage(ws, data));
    ws.on("error", (err) => {
      this.stats.lastError = err.message;
    });
    ws.on("close", (code, reason) => {
      if (this.ws !== ws) return;
      const wasUp = this.authenticated;
      this.authenticated = false;
      this.stats.connected = false;
      // Everything not acknowledged goes again on the next connection.
      for (const b of this.queue) b.sent = false;
      if (code === 1008) this.stats.lastError = `hub refused this worker: ${reason.toString() || "policy violation"}`;
      this.opts.log?.(`hub connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""}); retrying in ${this.delay} ms`);
      if (this.stopped) return;
      if (wasUp) this.stats.reconnects++;
      this.reconnectTimer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, this.maxDelay);
    });
  }

  private onMessage(ws: WebSocket, data: Buffer): void {
    let msg: HubMessage;
    try {
      msg = HubMessage.decode(data);
    } catch (err) {
      this.opts.log?.(`ignoring a malformed message from the hub: ${(err as Error).message}`);
      return;
    }
    if (msg.helloAck) {
      this.acknowledge(Number(msg.helloAck.lastSeq ?? 0));
      if (!this.authenticated) {
        this.authenticated = true;
        this.stats.connected = true;
        this.stats.lastError = "";
        this.delay = this.minDelay;
        this.opts.log?.(`connected to hub ${this.opts.url}`);
      }
      this.pump();
    }
    if (msg.tap) this.opts.onTap?.(msg.tap as TapConfig);
    if (msg.pcapRequest) void this.answerPcap(ws, msg.pcapRequest as PcapRequest);
  }

  private async answerPcap(ws: WebSocket, request: PcapRequest): Promise<void> {
    const requestId = request.requestId;
    const sendChunk = (chunk: { data?: Uint8Array; last?: boolean; error?: string }) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(WorkerMessage.encode({ pcap: { requestId, ...chunk } }).finish());
    };
    if (!this.opts.onPcapRequest) {
      sendChunk({ last: true, error: "this worker keeps no packets (pcap ring disabled)" });
      return;
    }
    try {
      // Coalesce small blocks into chunks of ~256 KiB to keep message overhead low.
      let parts: Uint8Array[] = [];
      let size = 0;
      for await (const part of this.opts.onPcapRequest(request)) {
        parts.push(part);
        size += part.length;
        if (size >= 256 * 1024) {
          sendChunk({ data: Buffer.concat(parts) });
          parts = [];
          size = 0;
          while (ws.bufferedAmount > MAX_SOCKET_BUFFER && ws.readyState === WebSocket.OPEN) await new Promise((r) => setTimeout(r, 10));
        }
      }
      sendChunk({ data: Buffer.concat(parts), last: true });
    } catch (err) {
      sendChunk({ last: true, error: (err as Error).message });
    }
  }
}
