// Where packets are dissected: inline on the reading thread (--threads 1), or sharded by flow
// hash across worker threads (--threads N: N-1 dissecting threads while the main thread reads,
// writes the PCAP ring and talks to the hub).
import { Worker } from "node:worker_threads";
import type { EntryInit } from "@tapline/protocol";
import { selectDissectors } from "../dissectors/registry.js";
import type { DissectLimits } from "../dissectors/types.js";
import { Pipeline, type FlowLimits, type PipelineStats } from "../flows/index.js";
import { BATCH_BYTES, recordSize, unpackEntries, writeRecord, type FromShard, type K8sEvent, type ShardInit, type ToShard } from "./batch.js";
import { mergeStats } from "./stats.js";

export interface EngineOptions {
  /** Put on every entry (entry.workerId). */
  workerId: string;
  /** Entry ids are `${idPrefix}-N` (inline) or `${idPrefix}.S-N` (shard S): unique per worker run. */
  idPrefix: string;
  node: string;
  /** Dissector names; empty = all. Validated by the caller (selectDissectors throws on unknown names). */
  dissectors: string[];
  limits?: Partial<DissectLimits>;
  flowLimits?: Partial<FlowLimits>;
  /** Total threads: 1 = inline; N > 1 = N-1 dissecting threads (plus the reading thread, see mainShard). */
  threads: number;
  /**
   * With threads > 1, the reading thread also dissects one shard (N shards over N threads)
   * instead of only reading (N-1 shards). Default true: measured faster on 2 cores, see bench/worker.
   */
  mainShard?: boolean;
  /** An entry dissected on the reading thread (inline, or its own shard); the caller enriches it. */
  onEntry(entry: EntryInit): void;
  /** An entry from a dissecting thread: workerId set, enriched from forwarded k8s events, protobuf-encoded. Valid during the call. */
  onEncoded(entry: Uint8Array): void;
  onError?(err: Error): void;
}

export interface DissectEngine {
  readonly shards: number;
  /** One frame; `hash` is its flowHash (>= 0) or -1. `data` is only read during the call. */
  push(linktype: number, tsNs: number, data: Buffer, hash: number): void;
  /** End of an input chunk: partial batches go out now (bounded latency on a live capture). */
  flush(): void;
  /** A promise while too many batches are in flight (the reader should wait), else undefined. */
  backpressure(): Promise<void> | undefined;
  /** Wall-clock time passed without packets (see Pipeline.tick). */
  tick(nowNs: number): void;
  /** A pod/service change, for the threads' own IP indexes (the reading thread uses the caller's). */
  k8s(event: K8sEvent): void;
  /** The latest counters, merged over shards (a shard's may be a few seconds old). */
  stats(): PipelineStats;
  /** Closes every flow, delivers the last entries and returns the final counters. */
  finish(): Promise<PipelineStats>;
  /** Stops the threads (after finish, or to abort). */
  close(): Promise<void>;
}

export function createEngine(opts: EngineOptions): DissectEngine {
  const threads = Math.max(1, Math.floor(opts.threads));
  return threads === 1 ? new InlineEngine(opts) : new ShardedEngine(opts, threads - 1, opts.mainShard ?? true);
}

class InlineEngine implements DissectEngine {
  readonly shards = 1;
  private readonly pipeline: Pipeline;
  constructor(opts: EngineOptions) {
    this.pipeline = new Pipeline({
      workerId: opts.idPrefix,
      node: opts.node,
      dissectors: selectDissectors(opts.dissectors),
      limits: opts.limits,
      flowLimits: opts.flowLimits,
      onEntry: opts.onEntry,
    });
  }
  push(linktype: number, tsNs: number, data: Buffer): void {
    this.pipeline.pushPacket(linktype, tsNs, data);
  }
  flush(): void {}
  backpressure(): undefined {
    return undefined;
  }
  tick(nowNs: number): void {
    this.pipeline.tick(nowNs);
  }
  k8s(): void {}
  stats(): PipelineStats {
    return this.pipeline.getStats();
  }
  async finish(): Promise<PipelineStats> {
    this.pipeline.finish();
    return this.pipeline.getStats();
  }
  async close(): Promise<void> {}
}

/** Batches a shard may have in flight before the reader is asked to wait. */
const MAX_IN_FLIGHT = 4;

interface Shard {
  worker: Worker;
  free: ArrayBuffer[];
  cur: Buffer | null;
  used: number;
  inFlight: number;
  stats: PipelineStats | null;
  finished: { resolve(stats: PipelineStats): void; reject(err: Error): void } | null;
}

/** The thread module: the .ts source under tests (through dev-loader.mjs), the built .js otherwise. */
function threadModule(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./thread.ts" : "./thread.js", import.meta.url);
  const execArgv = fromSource ? ["--conditions=source", "--import", new URL("./dev-loader.mjs", import.meta.url).href] : [];
  return { url, execArgv };
}

class ShardedEngine implements DissectEngine {
  readonly shards: number;
  private readonly list: Shard[] = [];
  private waiters: (() => void)[] = [];
  private failed: Error | null = null;
  private closing = false;
  /** The reading thread's own shard, when it dissects too. */
  private readonly local: InlineEngine | null;
  /**
   * Flows (of 1024 hash slots) the reading thread dissects itself: half a thread's share, as
   * reading, hashing and copying cost it about as much as dissecting a quarter of the traffic
   * (bench/worker: with 2 threads, main 0.69 CPU-s reading only vs 1.32 CPU-s dissecting all).
   */
  private readonly localShare: number;

  constructor(private readonly opts: EngineOptions, count: number, mainShard: boolean) {
    selectDissectors(opts.dissectors); // unknown names fail here, not in a thread
    this.shards = count + (mainShard ? 1 : 0);
    this.local = mainShard ? new InlineEngine({ ...opts, idPrefix: `${opts.idPrefix}.${count}` }) : null;
    this.localShare = mainShard ? Math.round(1024 / (2 * (count + 1))) : 0;
    const { url, execArgv } = threadModule();
    for (let i = 0; i < count; i++) {
      const init: ShardInit = {
        shard: i,
        workerId: opts.workerId,
        idPrefix: opts.idPrefix,
        node: opts.node,
        dissectors: opts.dissectors,
        limits: opts.limits,
        flowLimits: opts.flowLimits,
      };
      const worker = new Worker(url, { workerData: init, execArgv });
      const shard: Shard = { worker, free: [], cur: null, used: 0, inFlight: 0, stats: null, finished: null };
      worker.on("message", (msg: FromShard) => this.onMessage(shard, msg));
      worker.on("error", (err) => this.fail(new Error(`dissecting thread ${i} failed: ${err.message}`)));
      worker.on("exit", (code) => {
        if (code !== 0 && !this.closing) this.fail(new Error(`dissecting thread ${i} exited with code ${code}`));
      });
      this.list.push(shard);
    }
  }

  push(linktype: number, tsNs: number, data: Buffer, hash: number): void {
    // Non-IP frames (hash -1) go to thread shard 0, which counts them as undecodable.
    const h = hash < 0 ? 0 : hash >>> 8;
    if (this.local && h % 1024 < this.localShare) return this.local.push(linktype, tsNs, data);
    const s = this.list[h % this.list.length];
    const size = recordSize(data.length);
    if (s.cur && s.used + size > s.cur.length) this.send(s);
    if (!s.cur) {
      const ab = s.free.pop() ?? new ArrayBuffer(Math.max(BATCH_BYTES, size));
      s.cur = Buffer.from(ab.byteLength >= size ? ab : new ArrayBuffer(size));
      s.used = 0;
    }
    s.used = writeRecord(s.cur, s.used, linktype, tsNs, data);
  }

  flush(): void {
    for (const s of this.list) if (s.cur && s.used > 0) this.send(s);
  }

  backpressure(): Promise<void> | undefined {
    if (this.failed || !this.list.some((s) => s.inFlight > MAX_IN_FLIGHT)) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  tick(nowNs: number): void {
    this.flush();
    this.local?.tick(nowNs);
    for (const s of this.list) this.post(s, { type: "tick", nowNs });
  }

  k8s(event: K8sEvent): void {
    for (const s of this.list) this.post(s, { type: "k8s", event });
  }

  stats(): PipelineStats {
    for (const s of this.list) this.post(s, { type: "stats" });
    const have = this.list.map((s) => s.stats).filter((s): s is PipelineStats => !!s);
    if (this.local) have.push(this.local.stats());
    return have.length ? mergeStats(have) : emptyStats();
  }

  async finish(): Promise<PipelineStats> {
    this.flush();
    if (this.failed) throw this.failed;
    const all = await Promise.all(
      this.list.map(
        (s) =>
          new Promise<PipelineStats>((resolve, reject) => {
            s.finished = { resolve, reject };
            this.post(s, { type: "finish" });
          }),
      ),
    );
    if (this.local) all.push(await this.local.finish());
    return mergeStats(all);
  }

  async close(): Promise<void> {
    this.closing = true; // terminate() ends the threads with exit code 1
    await Promise.all(this.list.map((s) => s.worker.terminate()));
    this.release();
  }

  private send(s: Shard): void {
    const buf = s.cur!;
    s.cur = null;
    s.inFlight++;
    this.post(s, { type: "batch", buf: buf.buffer as ArrayBuffer, used: s.used }, [buf.buffer as ArrayBuffer]);
  }

  private post(s: Shard, msg: ToShard, transfer: ArrayBuffer[] = []): void {
    if (!this.failed) s.worker.postMessage(msg, transfer);
  }

  private onMessage(s: Shard, msg: FromShard): void {
    if (msg.type !== "stats") unpackEntries(msg.entries, this.opts.onEncoded);
    switch (msg.type) {
      case "done":
        s.inFlight--;
        if (msg.buf.byteLength === BATCH_BYTES && s.free.length < MAX_IN_FLIGHT) s.free.push(msg.buf);
        if (!this.list.some((x) => x.inFlight > MAX_IN_FLIGHT / 2)) this.release();
        return;
      case "stats":
        s.stats = msg.stats as PipelineStats;
        return;
      case "finished":
        s.stats = msg.stats as PipelineStats;
        s.finished?.resolve(s.stats);
        return;
      default:
        return;
    }
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.release();
    // Entries of that shard's flows are lost: finishing must not pretend otherwise.
    for (const s of this.list) s.finished?.reject(err);
    this.opts.onError?.(err);
  }
}

function emptyStats(): PipelineStats {
  return new Pipeline({ workerId: "", dissectors: [], onEntry: () => undefined }).getStats();
}
