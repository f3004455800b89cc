// The store's inserts on a worker_thread with its own SQLite connection to the same file (WAL: the
// main thread's connection keeps reading while it writes), so that on two cores receiving,
// decoding and redacting the next group (main thread) overlaps with writing this one. The thread
// runs only the insert transaction of a group; what follows from its outcome (counts, eviction,
// diskFull, acknowledgements) stays with EntryStore on the main thread.
// A group travels as one transferred buffer of packed rows (store/rowpack.ts); a reply is one
// byte per row (1: new). Replies come back in order on a MessageChannel; an Int32Array on shared
// memory counts them, so the main thread can wait for one without its event loop
// (Atomics.wait + receiveMessageOnPort): that is the backpressure (at most `maxInFlight` groups
// queued) and how synchronous callers see every earlier write committed.
import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";

export interface WriterOptions {
  path: string;
  pragmas: string[];
  insertSql: string;
  dataSql: string;
  seqSql: string;
  /** Per insert value (rowid, id, worker_id, COLUMNS…): text (else a number), as packed. */
  textValues: boolean[];
}

export interface WriterReply {
  /** Per row: 1 new, 0 duplicate (all 0 when `error`). */
  out: Uint8Array;
  /** The group's packed rows, handed back for reuse. */
  bytes?: Uint8Array;
  error?: { code?: string; message: string };
}

/** Waiting longer than this for the thread means it is gone. */
const WAIT_MS = 60_000;

// Plain JavaScript, run with `eval`: the same text works from src (vitest) and from dist.
// The row reader follows store/rowpack.ts's layout.
const THREAD_SOURCE = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.sqlite);
const { port, done, textValues } = workerData;
const counter = new Int32Array(done);
const db = new Database(workerData.path);
for (const p of workerData.pragmas) db.pragma(p);
const insert = db.prepare(workerData.insertSql);
const data = db.prepare(workerData.dataSql);
const seq = db.prepare(workerData.seqSql);
const width = textValues.length;
const args = new Array(width);
const units = new Array(width).fill(0);
const tx = db.transaction((g, out) => {
  const buf = Buffer.from(g.bytes.buffer, g.bytes.byteOffset, g.bytes.byteLength);
  let pos = 0;
  for (let r = 0; r < g.count; r++) {
    for (let i = 0; i < width; i++) {
      if (textValues[i]) {
        units[i] = buf.readUInt32LE(pos);
        pos += 4;
      } else {
        args[i] = buf.readDoubleLE(pos);
        pos += 8;
      }
    }
    const t = buf.readUInt32LE(pos);
    const text = buf.toString("utf16le", pos + 4, pos + 4 + t);
    pos += 4 + t;
    for (let i = 0, at = 0; i < width; i++) {
      if (textValues[i]) {
        args[i] = text.slice(at, at + units[i]);
        at += units[i];
      }
    }
    const n = buf.readUInt32LE(pos);
    const entry = buf.subarray(pos + 4, pos + 4 + n);
    pos += 4 + n;
    if (insert.run(args).changes === 1) {
      data.run(args[0], entry); // the rowid, given by the store
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
  if (g === "analyze") {
    let error;
    try {
      db.exec("ANALYZE");
    } catch (err) {
      error = { code: err.code, message: String(err.message) };
    }
    port.postMessage({ out: new Uint8Array(0), error });
    signal();
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
  // The group's buffer goes back with the answer, for the next group to be packed into.
  port.postMessage({ out, error, bytes: g.bytes }, [out.buffer, g.bytes.buffer]);
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
  /** Set when the thread died: the store writes on its own connection from then on. */
  failed: Error | undefined;

  constructor(options: WriterOptions, private readonly maxInFlight = 2) {
    const { port1, port2 } = new MessageChannel();
    const done = new SharedArrayBuffer(4);
    this.counter = new Int32Array(done);
    this.port = port1;
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { ...options, sqlite, port: port2, done }, transferList: [port2] });
    // A dead thread answers nothing: its groups are answered as failed writes.
    const died = (err: Error) => {
      if (this.failed || this.closed) return;
      this.failed = err;
      const error = { message: `store writer thread: ${err.message}` };
      for (const done of this.waiting.splice(0)) done({ out: new Uint8Array(0), error });
    };
    this.worker.on("error", died);
    this.worker.on("exit", (code) => died(new Error(`exited with code ${code}`)));
    this.worker.unref();
    this.port.on("message", (reply: WriterReply) => this.take(reply));
    this.port.unref();
  }

  /** Groups posted and not yet answered. */
  get inFlight(): number {
    return this.waiting.length;
  }

  /**
   * Queues a group (`count` rows packed in `bytes`, whose buffer is transferred; seqs flat:
   * worker id, seq, …); `done` gets the reply. Waits first while `maxInFlight` groups are queued.
   */
  write(bytes: Uint8Array, count: number, seqs: (string | number)[], done: (reply: WriterReply) => void): void {
    if (this.closed) throw new Error("store: writer closed");
    while (this.waiting.length >= this.maxInFlight) this.waitOne();
    this.waiting.push(done);
    this.port.postMessage({ bytes, count, seqs }, [bytes.buffer as ArrayBuffer]);
    this.posted++;
  }

  /**
   * Queues an ANALYZE on the thread's connection, after the groups posted so far (the main
   * connection must reload the statistics to see them: `ANALYZE sqlite_schema`).
   */
  analyze(done: (reply: WriterReply) => void): void {
    if (this.closed) throw new Error("store: writer closed");
    while (this.waiting.length >= this.maxInFlight) this.waitOne();
    this.waiting.push(done);
    this.port.postMessage("analyze");
    this.posted++;
  }

  /** Returns when every group posted so far is committed (or failed) and its `done` has run. */
  drain(): void {
    while (this.waiting.length > 0) this.waitOne();
  }

  close(): void {
    if (this.closed) return;
    this.drain();
    if (this.failed) {
      this.closed = true;
      this.port.close();
      return;
    }
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
      if (this.failed) return; // answered as failed when it died
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
