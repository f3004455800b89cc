// Where packets are dissected: inline on the reading thread (--threads 1), or sharded by flow
// hash across worker threads (--threads N: N-1 dissecting threads while the main thread reads,
// writes the PCAP ring and talks to the hub).
//
// A dissecting thread that dies (an uncaught exception, an exit) is restarted with backoff; the
// flows it held are lost and counted (threadFlowsLost), and so are the packets in flight to it or
// sent to its shard while it was down (threadPacketsLost). The other shards go on meanwhile.
import { Worker } from "node:worker_threads";
import type { EntryInit } from "@tapline/protocol";
import type { DissectLimits } from "../dissectors/types.js";
import { Pipeline, type FlowLimits, type PipelineStats } from "../flows/index.js";
import { Backoff } from "../runtime/backoff.js";
import { BATCH_BYTES, recordSize, unpackEntries, writeRecord, type FromShard, type K8sEvent, type ShardInit, type ToShard } from "./batch.js";
import { mergeStats } from "./stats.js";
import { allDissectorNames, DissectorSwitch, enabledNames, resolveDissectorNames } from "./switch.js";

export interface EngineOptions {
  /** Put on every entry (entry.workerId). */
  workerId: string;
  /** Entry ids are `${idPrefix}-N` (inline) or `${idPrefix}.S-N` (shard S; `.SrK` after K restarts): unique per worker run. */
  idPrefix: string;
  node: string;
  /** Dissector names new flows are detected with; empty = all. Unknown names throw (callers validate user input first). */
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
  /** Delay before restarting a dead thread: restartMinMs (default 250) doubling to restartMaxMs (default 10 s). */
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Thread deaths and restarts, one line each. */
  log?(message: string): void;
}

/** How the dissecting threads fared (all zero for the inline engine). */
export interface EngineHealth {
  /** Threads started again after dying. */
  threadRestarts: number;
  /** Flows a thread held when it died (per its last answer): their pending entries are lost. */
  threadFlowsLost: number;
  /** Packets in flight to a thread when it died, or pushed to its shard while it was down. */
  threadPacketsLost: number;
  /** Thread shards waiting for their restart now. */
  threadsDown: number;
  lastThreadError: string;
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
  /** Switches the dissectors new flows are detected with (registered names; empty = all); see switch.ts for flows already assigned. */
  setDissectors(names: readonly string[]): void;
  /** The dissectors switched on, in registry order. */
  readonly dissectorsEnabled: string[];
  /** The latest counters, merged over shards (a shard's may be a few seconds old). */
  stats(): PipelineStats;
  health(): EngineHealth;
  /** The running thread of thread shard i; undefined inline or while it is down (tests end it to check the restart). */
  thread(i: number): Worker | undefined;
  /** Closes every flow, delivers the last entries and returns the final counters. */
  finish(): Promise<PipelineStats>;
  /** Stops the threads (after finish, or to abort). */
  close(): Promise<void>;
}

export function createEngine(opts: EngineOptions): DissectEngine {
  const threads = Math.max(1, Math.floor(opts.threads));
  return threads === 1 ? new InlineEngine(opts) : new ShardedEngine(opts, threads - 1, opts.mainShard ?? true);
}

function checkNames(names: readonly string[]): string[] {
  const { names: known, unknown } = resolveDissectorNames(names);
  if (unknown.length) throw new Error(`unknown dissector ${unknown.map((n) => JSON.stringify(n)).join(", ")} (available: ${allDissectorNames().join(", ")})`);
  return known;
}

const noHealth = (): EngineHealth => ({ threadRestarts: 0, threadFlowsLost: 0, threadPacketsLost: 0, threadsDown: 0, lastThreadError: "" });

class InlineEngine implements DissectEngine {
  readonly shards = 1;
  private readonly pipeline: Pipeline;
  private readonly switch: DissectorSwitch;
  constructor(opts: EngineOptions) {
    this.switch = new DissectorSwitch(checkNames(opts.dissectors));
    this.pipeline = new Pipeline({
      workerId: opts.idPrefix,
      node: opts.node,
      dissectors: this.switch.dissectors,
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
  setDissectors(names: readonly string[]): void {
    this.switch.set(checkNames(names));
  }
  get dissectorsEnabled(): string[] {
    return this.switch.enabled;
  }
  stats(): PipelineStats {
    return this.pipeline.getStats();
  }
  health(): EngineHealth {
    return noHealth();
  }
  thread(): undefined {
    return undefined;
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
  readonly index: number;
  /** null while the thread is down (between its death and its restart). */
  worker: Worker | null;
  /** Times this shard's thread was started again. */
  generation: number;
  free: ArrayBuffer[];
  cur: Buffer | null;
  used: number;
  /** Packets in `cur`. */
  curPackets: number;
  /** Packets of each batch in flight, oldest first (a thread answers its batches in order). */
  inFlight: number[];
  /** Flows the thread holds, per its latest answer. */
  flows: number;
  /** The running thread's latest counters. */
  stats: PipelineStats | null;
  /** Counters of this shard's dead threads (their flows are gone: no active flows, no bytes held). */
  past: PipelineStats | null;
  finished: ((stats: PipelineStats | null) => void) | null;
  readonly backoff: Backoff;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  error: string;
}

/** The thread module: the .ts source under tests (through dev-loader.mjs), the built .js otherwise. */
function threadModule(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./thread.ts" : "./thread.js", import.meta.url);
  const execArgv = fromSource ? ["--conditions=source", "--import", new URL("./dev-loader.mjs", import.meta.url).href] : [];
  return { url, execArgv };
}

/** The key a pod or service is replaced and deleted under, for replaying the state to a new thread. */
function k8sKey(ev: K8sEvent): string {
  const m = (ev.obj as { metadata?: { namespace?: string; name?: string; uid?: string } }).metadata;
  return `${ev.kind}/${m?.namespace ?? ""}/${m?.name ?? m?.uid ?? ""}`;
}

class ShardedEngine implements DissectEngine {
  readonly shards: number;
  private readonly list: Shard[] = [];
  private waiters: (() => void)[] = [];
  private closing = false;
  private names: string[];
  private readonly counts = noHealth();
  /** The pods and services forwarded so far, so a restarted thread starts with the same index. */
  private readonly k8sState = new Map<string, K8sEvent>();
  private readonly module = threadModule();
  /** The reading thread's own shard, when it dissects too. */
  private readonly local: InlineEngine | null;
  /**
   * Flows (of 1024 hash slots) the reading thread dissects itself: half a thread's share, as
   * reading, hashing and copying cost it about as much as dissecting a quarter of the traffic
   * (bench/worker: with 2 threads, main 0.69 CPU-s reading only vs 1.32 CPU-s dissecting all).
   */
  private readonly localShare: number;

  constructor(private readonly opts: EngineOptions, count: number, mainShard: boolean) {
    this.names = checkNames(opts.dissectors);
    this.shards = count + (mainShard ? 1 : 0);
    this.local = mainShard ? new InlineEngine({ ...opts, idPrefix: `${opts.idPrefix}.${count}` }) : null;
    this.localShare = mainShard ? Math.round(1024 / (2 * (count + 1))) : 0;
    for (let index = 0; index < count; index++) {
      const shard: Shard = {
        index, worker: null, generation: 0, free: [], cur: null, used: 0, curPackets: 0, inFlight: [], flows: 0,
        stats: null, past: null, finished: null, backoff: new Backoff(opts.restartMinMs ?? 250, opts.restartMaxMs ?? 10_000),
        startedAt: 0, timer: undefined, error: "",
      };
      this.list.push(shard);
      this.start(shard);
    }
  }

  push(linktype: number, tsNs: number, data: Buffer, hash: number): void {
    // Non-IP frames (hash -1) go to thread shard 0, which counts them as undecodable.
    const h = hash < 0 ? 0 : hash >>> 8;
    if (this.local && h % 1024 < this.localShare) return this.local.push(linktype, tsNs, data);
    const s = this.list[h % this.list.length];
    if (!s.worker) {
      this.counts.threadPacketsLost++;
      return;
    }
    const size = recordSize(data.length);
    if (s.cur && s.used + size > s.cur.length) this.send(s);
    if (!s.cur) {
      const ab = s.free.pop() ?? new ArrayBuffer(Math.max(BATCH_BYTES, size));
      s.cur = Buffer.from(ab.byteLength >= size ? ab : new ArrayBuffer(size));
      s.used = 0;
      s.curPackets = 0;
    }
    s.used = writeRecord(s.cur, s.used, linktype, tsNs, data);
    s.curPackets++;
  }

  flush(): void {
    for (const s of this.list) if (s.worker && s.cur && s.used > 0) this.send(s);
  }

  backpressure(): Promise<void> | undefined {
    if (!this.list.some((s) => s.inFlight.length > MAX_IN_FLIGHT)) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  tick(nowNs: number): void {
    this.flush();
    this.local?.tick(nowNs);
    for (const s of this.list) this.post(s, { type: "tick", nowNs });
  }

  k8s(event: K8sEvent): void {
    if (event.op === "delete") this.k8sState.delete(k8sKey(event));
    else this.k8sState.set(k8sKey(event), event);
    for (const s of this.list) this.post(s, { type: "k8s", event });
  }

  setDissectors(names: readonly string[]): void {
    this.names = checkNames(names);
    this.local?.setDissectors(this.names);
    for (const s of this.list) this.post(s, { type: "dissectors", names: this.names });
  }

  get dissectorsEnabled(): string[] {
    return enabledNames(this.names);
  }

  stats(): PipelineStats {
    for (const s of this.list) this.post(s, { type: "stats" });
    return this.merged();
  }

  health(): EngineHealth {
    return { ...this.counts, threadsDown: this.list.filter((s) => !s.worker).length };
  }

  thread(i: number): Worker | undefined {
    return this.list[i]?.worker ?? undefined;
  }

  async finish(): Promise<PipelineStats> {
    this.flush();
    // A shard whose thread is down (or dies now) has nothing left to finish: its flows were counted lost.
    await Promise.all(
      this.list.map(
        (s) =>
          new Promise<PipelineStats | null>((resolve) => {
            if (!s.worker) return resolve(null);
            s.finished = resolve;
            this.post(s, { type: "finish" });
          }),
      ),
    );
    if (this.local) await this.local.finish();
    return this.merged();
  }

  async close(): Promise<void> {
    this.closing = true; // terminate() ends the threads with exit code 1: not a death to restart
    for (const s of this.list) clearTimeout(s.timer);
    await Promise.all(this.list.map((s) => s.worker?.terminate()));
    this.release();
  }

  private start(s: Shard): void {
    const init: ShardInit = {
      shard: s.index,
      generation: s.generation,
      workerId: this.opts.workerId,
      idPrefix: this.opts.idPrefix,
      node: this.opts.node,
      dissectors: this.names,
      limits: this.opts.limits,
      flowLimits: this.opts.flowLimits,
    };
    const worker = new Worker(this.module.url, { workerData: init, execArgv: this.module.execArgv });
    s.worker = worker;
    s.startedAt = Date.now();
    s.error = "";
    // Events of a thread that was replaced are ignored.
    worker.on("message", (msg: FromShard) => s.worker === worker && this.onMessage(s, msg));
    worker.on("error", (err) => {
      if (s.worker === worker) s.error = err.message;
    });
    worker.on("exit", (code) => s.worker === worker && this.onExit(s, code));
    // A restarted thread resolves the pods and services the others know (queued before its first batch).
    for (const event of this.k8sState.values()) worker.postMessage({ type: "k8s", event } satisfies ToShard);
  }

  private onExit(s: Shard, code: number): void {
    if (this.closing) return;
    s.worker = null;
    const packets = s.inFlight.reduce((a, b) => a + b, 0);
    const flows = s.flows;
    s.inFlight = [];
    s.flows = 0;
    this.counts.threadPacketsLost += packets;
    this.counts.threadFlowsLost += flows;
    if (s.stats) {
      const gone = { ...s.stats, flowsActive: 0, bytesHeld: 0 };
      s.past = s.past ? mergeStats([s.past, gone]) : gone;
      s.stats = null;
    }
    const why = s.error || `exited with code ${code}`;
    this.counts.lastThreadError = `dissecting thread ${s.index}: ${why}`;
    const delay = s.backoff.next(s.startedAt);
    this.opts.log?.(`dissecting thread ${s.index} died (${why}): ${flows} flows and ${packets} packets lost; restarting in ${delay} ms`);
    s.finished?.(null);
    s.finished = null;
    if (!this.list.some((x) => x.inFlight.length > MAX_IN_FLIGHT / 2)) this.release();
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.closing) return;
      s.generation++;
      this.counts.threadRestarts++;
      this.start(s);
      this.opts.log?.(`dissecting thread ${s.index} restarted (restart ${this.counts.threadRestarts})`);
    }, delay);
  }

  private merged(): PipelineStats {
    const have: PipelineStats[] = [];
    for (const s of this.list) {
      if (s.past) have.push(s.past);
      if (s.stats) have.push(s.stats);
    }
    if (this.local) have.push(this.local.stats());
    return have.length ? mergeStats(have) : emptyStats();
  }

  private send(s: Shard): void {
    const buf = s.cur!;
    s.cur = null;
    s.inFlight.push(s.curPackets);
    this.post(s, { type: "batch", buf: buf.buffer as ArrayBuffer, used: s.used }, [buf.buffer as ArrayBuffer]);
  }

  private post(s: Shard, msg: ToShard, transfer: ArrayBuffer[] = []): void {
    s.worker?.postMessage(msg, transfer);
  }

  private onMessage(s: Shard, msg: FromShard): void {
    if (msg.type !== "stats") unpackEntries(msg.entries, this.opts.onEncoded);
    switch (msg.type) {
      case "done":
        s.inFlight.shift();
        s.flows = msg.flows;
        if (msg.buf.byteLength === BATCH_BYTES && s.free.length < MAX_IN_FLIGHT) s.free.push(msg.buf);
        if (!this.list.some((x) => x.inFlight.length > MAX_IN_FLIGHT / 2)) this.release();
        return;
      case "stats":
        s.stats = msg.stats as PipelineStats;
        s.flows = s.stats.flowsActive;
        return;
      case "finished":
        s.stats = msg.stats as PipelineStats;
        s.flows = 0;
        s.finished?.(s.stats);
        s.finished = null;
        return;
      default:
        return;
    }
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function emptyStats(): PipelineStats {
  return new Pipeline({ workerId: "", dissectors: [], onEntry: () => undefined }).getStats();
}
