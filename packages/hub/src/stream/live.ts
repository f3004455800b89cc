// Live entries to browsers. Ingest never waits for a browser: each client has a bounded queue,
// flushed on a timer as one JSON message per batch; when the queue is full, or the socket's send
// buffer is above its mark, entries are dropped and counted, and the client gets
// {"type":"gap","dropped":n} before its next batch.
import type { Entry } from "@tapline/protocol";
import type { CompiledFilter } from "../query/filter.js";
import { entryJson } from "./json.js";

export interface LiveSocket {
  send(data: string): void;
  readonly bufferedAmount: number;
  readonly readyState: number;
}

export interface LiveOptions {
  /** Entries queued per client between flushes. */
  queueLimit: number;
  /** Send-buffer bytes above which a client is considered slow. */
  maxBufferedBytes: number;
  flushIntervalMs: number;
}

interface Client {
  socket: LiveSocket;
  filter: CompiledFilter;
  queue: Entry[];
  dropped: number;
  droppedTotal: number;
}

const OPEN = 1;

export class LiveStream {
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  sent = 0;
  dropped = 0;

  constructor(private readonly options: LiveOptions) {
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  add(socket: LiveSocket, filter: CompiledFilter): () => void {
    const client: Client = { socket, filter, queue: [], dropped: 0, droppedTotal: 0 };
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Called by ingest with newly stored entries. O(entries × clients) predicate calls, no I/O. */
  publish(entries: Entry[]): void {
    for (const c of this.clients) {
      for (const e of entries) {
        let match: boolean;
        try {
          match = c.filter.predicate(e);
        } catch {
          match = false;
        }
        if (!match) continue;
        if (c.queue.length >= this.options.queueLimit) {
          c.dropped++;
          this.dropped++;
        } else c.queue.push(e);
      }
    }
  }

  flush(): void {
    const cache = new Map<Entry, Record<string, unknown>>();
    for (const c of this.clients) {
      if (c.socket.readyState !== OPEN) continue;
      if (c.queue.length === 0 && c.dropped === 0) continue;
      if (c.socket.bufferedAmount > this.options.maxBufferedBytes) {
        // Slow reader: what cannot be sent now is dropped and counted, never buffered unboundedly.
        c.dropped += c.queue.length;
        this.dropped += c.queue.length;
        c.queue.length = 0;
        continue;
      }
      if (c.dropped > 0) {
        c.droppedTotal += c.dropped;
        c.socket.send(JSON.stringify({ type: "gap", dropped: c.dropped, droppedTotal: c.droppedTotal }));
        c.dropped = 0;
      }
      if (c.queue.length === 0) continue;
      const out = c.queue.map((e) => {
        let j = cache.get(e);
        if (!j) cache.set(e, (j = entryJson(e)));
        return j;
      });
      c.queue.length = 0;
      this.sent += out.length;
      c.socket.send(JSON.stringify({ type: "entries", entries: out }));
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.clients.clear();
  }
}
