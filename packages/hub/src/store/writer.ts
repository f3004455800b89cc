// The store's inserts on a worker_thread with its own SQLite connection to the same file (WAL: the
// main thread's connection keeps reading while it writes), so that on two cores decoding and
// redacting the next group (main thread) overlaps with writing this one. The thread only runs the
// insert transaction; what follows from its outcome (counts, eviction, diskFull) stays with
// EntryStore on the main thread.
//
// A group travels as one flat array of the column values (width per row) plus one buffer holding
// every encoded entry back to back (transferred, not copied); a reply is one byte per row (1: new).
// Replies come back in order on a MessageChannel; an Int32Array on shared memory counts them, so
// the main thread can wait for one without its event loop (Atomics.wait + receiveMessageOnPort):
// that is both the backpressure (at most `maxInFlight` groups queued) and how synchronous callers
// see every earlier write committed.
import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";

export interface WriterOptions {
  path: string;
  pragmas: string[];
  insertSql: string;
  dataSql: string;
  seqSql: string;
}

export interface WriterReply {
  /** Per row: 1 new, 0 duplicate (all 0 when `error`). */
  out: Uint8Array;
  error?: { code?: string; message: string };
}

interface WriterGroup {
  count: number;
  width: number;
  values: unknown[];
  blobs: Uint8Array;
  offsets: Uint32Array;
  /** worker id, seq, worker id, seq, … */
  seqs: (string | number)[];
}

/** Waiting longer than this for the thread means it is gone. */
const WAIT_MS = 60_000;

// Plain JavaScript, run with `eval`: the same text works from src (vitest) and from dist.
const THREAD_SOURCE = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const { port, done } = workerData;
const counter = new Int32Array(done);
const db = new Database(workerData.path);
for (const p of workerData.pragmas) db.pragma(p);
const insert = db.prepare(workerData.insertSql);
const data = db.prepare(workerData.dataSql);
const seq = db.prepare(workerData.seqSql);
const tx = db.transaction((g, out) => {
  const args = new Array(g.width);
  for (let r = 0, k = 0; r < g.count; r++) {
    for (let i = 0; i < g.width; i++) args[i] = g.values[k++];
    const res = insert.run(args);
    if (res.changes === 1) {
      data.run(res.lastInsertRowid, g.blobs.subarray(g.offsets[r], g.offsets[r + 1]));
      out[r] = 1;
    }
  }
  for (let i = 0; i < g.seqs.length; i += 2) seq.run(g.seqs[i], g.seqs[i + 1]);
});
function signal() {
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}
port.on("message", (g) => {
  if (g === "close") {
    db.close();
    signal();
    port.close();
    return;
  }
  const out = new Uint8Array(g.count);
  let error;
  try {
    tx(g, out);
  } catch (err) {
    out.fill(0);
    error = { code: err.code, message: String(err.message) };
  }
  port.postMessage({ out, error }, [out.buffer]);
  signal();
});
`;

export class StoreWriter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly counter: Int32Array;
  private readonly waiting: ((reply: WriterReply) => void)[] = [];
  private posted = 0;
  private closed = false;
  failed: Error | undefined;

  constructor(options: WriterOptions, private readonly maxInFlight = 2) {
    const { port1, port2 } = new MessageChannel();
    const done = new SharedArrayBuffer(4);
    this.counter = new Int32Array(done);
    this.port = port1;
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { ...options, sqlite, port: port2, done }, transferList: [port2] });
    // A thread that died (it should not) leaves the store writing on its own connection.
    this.worker.on("error", (err) => { this.failed = err; });
    this.worker.unref();
    this.port.on("message", (reply: WriterReply) => this.take(reply));
    this.port.unref();
  }

  /** Groups posted and not yet answered. */
  get inFlight(): number {
    return this.waiting.length;
  }

  /**
   * Queues a group (rows of `width` values, flat; each row's entry in `blobs` from offsets[i] to
   * offsets[i + 1]); `done` gets the reply. Waits first while `maxInFlight` groups are queued.
   */
  write(width: number, values: unknown[], blobs: Uint8Array, offsets: Uint32Array, seqs: (string | number)[], done: (reply: WriterReply) => void): void {
    if (this.closed) throw new Error("store: writer closed");
    while (this.waiting.length >= this.maxInFlight) this.waitOne();
    this.waiting.push(done);
    const group: WriterGroup = { count: offsets.length - 1, width, values, blobs, offsets, seqs };
    this.port.postMessage(group, [blobs.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer]);
    this.posted++;
  }

  /** Returns when every group posted so far is committed (or failed) and its `done` has run. */
  drain(): void {
    while (this.waiting.length > 0) this.waitOne();
  }

  close(): void {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    const seen = Atomics.load(this.counter, 0);
    this.port.postMessage("close");
    if (Atomics.wait(this.counter, 0, seen, WAIT_MS) === "timed-out") throw new Error("store: the writer thread did not close");
    void this.worker.terminate();
    this.port.close();
  }

  private waitOne(): void {
    const before = this.waiting.length;
    // A reply may already sit in the port (signalled): take it without waiting.
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m) {
        this.take(m.message as WriterReply);
        return;
      }
      const answered = this.posted - before;
      const seen = Atomics.load(this.counter, 0);
      if (seen > answered) continue; // signalled after our last look: the reply is there now
      if (Atomics.wait(this.counter, 0, seen, WAIT_MS) === "timed-out") throw new Error("store: the writer thread stopped answering");
    }
  }

  private take(reply: WriterReply): void {
    const done = this.waiting.shift();
    done?.(reply);
  }
}
