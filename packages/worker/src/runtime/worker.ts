// The worker process: capture stream (the sidecar, or a file/stdin with `read`) -> PCAP ring +
// flow-hash sampling -> dissection engine (inline or sharded over threads) -> pod enrichment ->
// hub client. Also: the tap target from the hub becomes the sidecar's kernel filter, and
// WorkerStats go to the hub every few seconds.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Entry, type EntryInit, type PcapRequest, type TapConfig, type WorkerStatsInit } from "@tapline/protocol";
import { CaptureFormatError, openCaptureSource, PcapReader, type ReaderStats } from "../capture/index.js";
import { newPacketInfo } from "../decode/index.js";
import type { DissectLimits } from "../dissectors/types.js";
import type { FlowLimits, PipelineStats } from "../flows/index.js";
import { HubClient, type HubClientOptions, type HubClientStats } from "../hubclient/index.js";
import { MESH_SCOPE_NONE, meshScope } from "../k8s/mesh.js";
import { captureFilter, tappedIps } from "../k8s/tapTarget.js";
import type { PodWatcher } from "../k8s/watcher.js";
import { PcapRing, type PcapRingStats } from "../pcapring/index.js";
import { allDissectorNames, createEngine, enabledNames, flowHash, resolveDissectorNames, type DissectEngine, type EngineHealth } from "../shard/index.js";
import { Sidecar, type SidecarStats } from "./sidecar.js";
import { TlsStatus } from "./tlsStatus.js";

export const WORKER_VERSION = "0.1.0";

export interface WorkerOptions {
  /** ws URL of the hub's worker ingest (ws://host:8899/ws/worker); none = entries only to onEntry. */
  hubUrl?: string;
  token?: string;
  /** Unique per worker; default: the node name, else the host name. */
  workerId?: string;
  /** The node this worker runs on (pods on it are tapped); default NODE_NAME, else the host name. */
  node?: string;
  /** Read a pcap/pcapng file ("-" = stdin) instead of running the sidecar. */
  read?: string;
  /** Interfaces for the sidecar (default ["any"]). */
  interfaces?: string[];
  sidecarPath?: string;
  sidecarArgs?: string[];
  /** A command prefix the sidecar runs under (tests: ["ip", "netns", "exec", NS]). */
  sidecarWrap?: string[];
  /** Capture filter when no cluster tells the tap target (default: everything). */
  filter?: string;
  tls?: boolean;
  /**
   * Capture the loopback of meshed pods too (tapline-capture --mesh): the plaintext between an
   * app and its Envoy sidecar. Scoped to the tapped meshed pods once the cluster says which;
   * every meshed namespace when no cluster is known.
   */
  mesh?: boolean;
  /** Directory for the PCAP ring and the control socket (default: a new temp dir, removed at stop). */
  stateDir?: string;
  /** Bytes the PCAP ring keeps on disk; 0 = no ring. */
  pcapLimitBytes?: number;
  /** Dissectors new flows are detected with (default all); a TapConfig with dissectors replaces this set while it lasts. */
  dissectors?: string[];
  /** Percent of flows dissected (1..100), chosen by a symmetric hash of the 4-tuple. */
  sampleRate?: number;
  /** 1 = dissect on the reading thread; N = N-1 dissecting threads. */
  threads?: number;
  /** With threads > 1: "dissect" (default) = the reading thread dissects a shard too; "read" = it only reads. */
  mainThread?: "dissect" | "read";
  limits?: Partial<DissectLimits>;
  flowLimits?: Partial<FlowLimits>;
  /** A kubeconfig path; false = never try the API; default: in-cluster, $KUBECONFIG or ~/.kube/config when present. */
  kubeconfig?: string | false;
  statsIntervalMs?: number;
  /** Hub client tuning (queue bound, batch size, reconnect delays). */
  hub?: Partial<Pick<HubClientOptions, "maxQueueEntries" | "batchMaxEntries" | "batchMaxMs" | "reconnectMinMs" | "reconnectMaxMs">>;
  sidecarRestartMinMs?: number;
  sidecarRestartMaxMs?: number;
  /** Delay before restarting a dead dissecting thread (default 250 ms doubling to 10 s). */
  threadRestartMinMs?: number;
  threadRestartMaxMs?: number;
  onEntry?(entry: EntryInit): void;
  log?(message: string): void;
}

/** The worker's own view of its counters (a superset of what WorkerStats carries). */
export interface RuntimeStats {
  captureState: string;
  reader: { packets: number; bytes: number; badRecords: number; truncated: number };
  pipeline: PipelineStats;
  /** Packets not dissected because their flow was sampled out. */
  sampledOut: number;
  entries: number;
  hub?: HubClientStats;
  sidecar?: SidecarStats;
  ring?: PcapRingStats;
  podsResolved: boolean;
  filter: string;
  rssBytes: number;
  /** Dissecting thread deaths, restarts and what they cost. */
  threads: EngineHealth;
  /** The dissectors new flows are detected with. */
  dissectorsEnabled: string[];
  /** Configuration the worker ignored (e.g. unknown dissector names in the TapConfig). */
  warnings: string[];
}

export interface RunningWorker {
  /** Resolves when a `read` input has been dissected and delivered (never for a live capture until stop). */
  readonly done: Promise<RuntimeStats>;
  stats(): RuntimeStats;
  workerStats(): WorkerStatsInit;
  readonly sidecar?: Sidecar;
  readonly ring?: PcapRing;
  readonly hub?: HubClient;
  readonly pods?: PodWatcher;
  /** The dissection engine (tests reach a dissecting thread through engine.thread(i)). */
  readonly engine: DissectEngine;
  stop(): Promise<RuntimeStats>;
}

export class WorkerConfigError extends Error {
  override name = "WorkerConfigError";
}

/** Where `make -C native` puts the sidecar, relative to this file (src/ or dist/). */
export const defaultSidecarPath = new URL("../../../../native/build/tapline-capture", import.meta.url).pathname;

function kubeconfigUsable(k: string | false | undefined): boolean {
  if (k === false) return false;
  if (k) return true;
  if (process.env.KUBERNETES_SERVICE_HOST) return true;
  const env = process.env.KUBECONFIG;
  return env ? env.split(":").some((p) => existsSync(p)) : existsSync(join(homedir(), ".kube", "config"));
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const log = opts.log ?? (() => undefined);
  const node = opts.node || process.env.NODE_NAME || hostname();
  const workerId = opts.workerId || node;
  // Ids must stay unique across restarts of this worker: the hub de-duplicates on them.
  const idPrefix = `${workerId}-${Date.now().toString(36)}`;
  let sampleRate = opts.sampleRate ?? 100;
  if (!(sampleRate >= 1 && sampleRate <= 100)) throw new WorkerConfigError(`sample rate must be 1..100 percent, got ${opts.sampleRate}`);
  if (opts.hubUrl && !opts.token) throw new WorkerConfigError("a hub token is required (--token, TAPLINE_TOKEN or --token-file)");
  const ownStateDir = !opts.stateDir;
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), "tapline-worker-"));
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };

  let entries = 0;
  let pods: PodWatcher | undefined;
  let hub: HubClient | undefined;
  let engine: DissectEngine;
  const onEntry = (e: EntryInit) => {
    entries++;
    e.workerId = workerId;
    if (pods) {
      // Endpoints may be shared by the entries of one flow: enrich copies.
      e.src = { ...e.src };
      e.dst = { ...e.dst };
      pods.index.enrich(e.src);
      pods.index.enrich(e.dst);
    }
    hub?.send(e);
    opts.onEntry?.(e);
  };
  const onEncoded = (bytes: Uint8Array) => {
    entries++;
    hub?.sendEncoded(bytes);
    if (opts.onEntry) opts.onEntry(Entry.decode(bytes));
  };
  try {
    engine = createEngine({
      workerId,
      idPrefix,
      node,
      dissectors: opts.dissectors ?? [],
      limits: opts.limits,
      flowLimits: opts.flowLimits,
      threads: opts.threads ?? 1,
      mainShard: opts.mainThread !== "read",
      onEntry,
      onEncoded,
      restartMinMs: opts.threadRestartMinMs,
      restartMaxMs: opts.threadRestartMaxMs,
      log,
    });
  } catch (err) {
    throw new WorkerConfigError((err as Error).message);
  }
  cleanups.push(() => engine.close());

  const limit = opts.pcapLimitBytes ?? 200 * 1024 * 1024;
  const ring = limit > 0 ? new PcapRing({ dir: join(stateDir, "ring"), limitBytes: limit }) : undefined;
  if (ring) cleanups.push(() => ring.close());
  if (ownStateDir) cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));

  // ---- the packet path ----
  const info = newPacketInfo();
  let sampledOut = 0;
  const needHash = () => engine.shards > 1 || sampleRate < 100;
  const onPacket = (linktype: number, tsNs: number, data: Buffer, origLen: number) => {
    ring?.append(linktype, tsNs, data, origLen);
    const h = needHash() ? flowHash(linktype, data, info) : -1;
    if (sampleRate < 100 && h >= 0 && h % 100 >= sampleRate) {
      sampledOut++;
      return;
    }
    engine.push(linktype, tsNs, data, h);
  };
  const readerTotals = { packets: 0, bytes: 0, badRecords: 0, truncated: 0 };
  let reader: PcapReader | null = null;
  const readerStats = () => {
    const r = reader?.stats;
    return {
      packets: readerTotals.packets + (r?.packets ?? 0),
      bytes: readerTotals.bytes + (r?.bytes ?? 0),
      badRecords: readerTotals.badRecords + (r?.badRecords ?? 0),
      truncated: readerTotals.truncated + (r?.truncated ?? 0),
    };
  };
  /** Reads one capture stream to its end (one sidecar run, or the --read input). */
  const consume = async (stream: Readable, streaming?: () => void): Promise<ReaderStats> => {
    const r = new PcapReader(onPacket);
    reader = r;
    try {
      for await (const chunk of stream) {
        streaming?.();
        r.push(chunk as Buffer);
        engine.flush();
        const wait = engine.backpressure();
        if (wait) await wait;
        if (r.done) break;
      }
    } finally {
      stream.destroy();
      ring?.flush();
    }
    const s = r.end();
    readerTotals.packets += s.packets;
    readerTotals.bytes += s.bytes;
    readerTotals.badRecords += s.badRecords;
    readerTotals.truncated += s.truncated;
    reader = null;
    return s;
  };

  // ---- tap target -> dissectors ----
  let warnings: string[] = [];
  /**
   * TapConfig.dissectors replaces the worker's own set (--dissectors, default all) while that
   * config lasts; an empty list gives the worker's own set back. Unknown names are ignored with
   * a warning (log and WorkerStats.warnings, cleared by the next config); a list with no known
   * name at all keeps the worker's own set. New flows use the new set; see shard/switch.ts for
   * flows already assigned to a dissector (they keep it until they end).
   */
  const own = resolveDissectorNames(opts.dissectors ?? []).names;
  const applyTapDissectors = (requested: readonly string[]) => {
    const { names, unknown } = resolveDissectorNames(requested);
    warnings = [];
    if (unknown.length) {
      const list = unknown.map((n) => JSON.stringify(n)).join(", ");
      const fallback = names.length ? "" : `; no known name left, so the worker's own set applies (${enabledNames(own).join(", ")})`;
      warnings.push(`tap config: unknown dissector ${list} ignored (available: ${allDissectorNames().join(", ")})${fallback}`);
    }
    const next = names.length ? names : own;
    const before = engine.dissectorsEnabled.join(",");
    engine.setDissectors(next);
    for (const w of warnings) log(w);
    if (engine.dissectorsEnabled.join(",") !== before) log(`dissectors for new flows: ${engine.dissectorsEnabled.join(", ")}`);
  };

  // ---- tap target -> kernel filter ----
  let tap: TapConfig | undefined;
  let filter = opts.filter ?? "";
  let sidecar: Sidecar | undefined;
  const wantedFilter = (): string => {
    if (!pods?.ready) return opts.filter ?? "";
    if (!tap) return captureFilter([]); // nothing tapped until the hub says what
    try {
      return captureFilter(tappedIps(pods.index.podsOnNode(node), tap));
    } catch (err) {
      log(`tap target: ${(err as Error).message}; keeping the previous filter`);
      return filter;
    }
  };
  let filterBusy = Promise.resolve();
  const updateFilter = () => {
    // Serialized: a burst of pod changes sends filters in order, the last one wins.
    filterBusy = filterBusy.then(async () => {
      const next = wantedFilter();
      const changed = next !== filter;
      filter = next;
      if (!sidecar) return; // the sidecar starts with `filter`
      try {
        // Also when unchanged: a send that failed earlier is retried (the sidecar skips repeats).
        await sidecar.setFilter(next);
        if (changed) log(`capture filter: ${next || "(everything)"}`);
      } catch (err) {
        log((err as Error).message);
      }
      if (opts.mesh) {
        // No cluster: every meshed namespace (""); cluster but no tap target yet: none.
        const scope = !pods?.ready ? "" : tap ? meshScope(pods.index.podsOnNode(node), tap) : MESH_SCOPE_NONE;
        const reply = await sidecar.control({ mesh_scope: scope }).catch((err: Error) => ({ ok: false, error: err.message }));
        if (!reply.ok) log(`mesh scope: ${reply.error ?? "refused"}`);
      }
    });
  };

  // ---- pods ----
  // A file being read needs an explicit kubeconfig; a live capture tries whatever config exists.
  if (opts.read ? !!opts.kubeconfig : kubeconfigUsable(opts.kubeconfig)) {
    // Loaded only when a cluster may be there: @kubernetes/client-node takes a while to load.
    const { PodWatcher } = await import("../k8s/watcher.js");
    const w = new PodWatcher({ kubeconfig: opts.kubeconfig || undefined, onChange: updateFilter, onEvent: (ev) => engine.k8s(ev), log, debounceMs: 200 });
    try {
      await Promise.race([w.start(), new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 10 s")), 10_000).unref())]);
      pods = w;
      cleanups.push(() => w.stop());
      log(`resolving pods through the Kubernetes API (${w.index.allPods().length} pods)`);
    } catch (err) {
      void w.stop().catch(() => undefined);
      log(`no Kubernetes API (${(err as Error).message}); entries keep IP addresses`);
    }
  }

  // ---- hub ----
  if (opts.hubUrl) {
    hub = new HubClient({
      url: opts.hubUrl,
      token: opts.token!,
      workerId,
      node,
      version: WORKER_VERSION,
      ...opts.hub,
      onTap: (config) => {
        tap = config;
        applyTapDissectors(config.dissectors ?? []);
        if (config.sampleRate && config.sampleRate >= 1 && config.sampleRate <= 100) sampleRate = config.sampleRate;
        updateFilter();
      },
      onPcapRequest: (req: PcapRequest) => {
        if (!ring) throw new Error("this worker keeps no packets (--pcap-limit 0)");
        return ring.export(Number(req.sinceNs ?? 0), Number(req.untilNs ?? 0), (req.flows ?? []).map((f) => ({
          srcIp: f.srcIp ?? "", srcPort: f.srcPort ?? 0, dstIp: f.dstIp ?? "", dstPort: f.dstPort ?? 0,
        })));
      },
      log,
    });
    hub.start();
  }

  // ---- stats ----
  let tlsStatus: TlsStatus | undefined;
  let captureState = opts.read ? "reading" : "starting";
  const stats = (): RuntimeStats => ({
    captureState: sidecar ? sidecar.stats().state : captureState,
    reader: readerStats(),
    pipeline: engine.stats(),
    sampledOut,
    entries,
    hub: hub?.stats,
    sidecar: sidecar?.stats(),
    ring: ring?.stats(),
    podsResolved: !!pods,
    filter,
    rssBytes: process.memoryUsage.rss(),
    threads: engine.health(),
    dissectorsEnabled: engine.dissectorsEnabled,
    warnings: [...warnings],
  });
  const workerStats = (): WorkerStatsInit => {
    const s = stats();
    const p = s.pipeline;
    const sc = s.sidecar;
    return {
      workerId,
      node,
      timestampNs: Date.now() * 1e6,
      packetsSeen: s.reader.packets,
      packetsDropped: sc?.kernelDropped ?? 0,
      bytesSeen: s.reader.bytes,
      flowsActive: p.flowsActive,
      flowsTotal: p.flowsTotal,
      flowsDropped: p.flowsDropped,
      bytesDropped: p.bytesDropped,
      memoryRss: s.rssBytes,
      entriesSent: s.hub?.entriesSent ?? 0,
      entriesDropped: s.hub?.entriesDropped ?? 0,
      dissectors: Object.entries(p.dissectors).map(([name, d]) => ({ name, messages: d.messages, errors: d.errors + d.bugs })),
      tlsTargets: tlsStatus?.targets(),
      captureState: sc && sc.restarts > 0 ? `${s.captureState} (sidecar restarted ${sc.restarts}x, ${(sc.gapMs / 1000).toFixed(1)} s without capture)` : s.captureState,
      sidecarRestarts: sc?.restarts ?? 0,
      captureGapMs: Math.round(sc?.gapMs ?? 0),
      threadRestarts: s.threads.threadRestarts,
      threadFlowsLost: s.threads.threadFlowsLost,
      threadPacketsLost: s.threads.threadPacketsLost,
      dissectorsEnabled: s.dissectorsEnabled,
      warnings: s.warnings,
    };
  };
  const statsTimer = setInterval(() => hub?.sendStats(workerStats()), opts.statsIntervalMs ?? 5000);
  cleanups.push(() => clearInterval(statsTimer));

  // ---- the capture source ----
  let finished: Promise<RuntimeStats>;
  let stopping = false;
  const stop = async (): Promise<RuntimeStats> => {
    if (!stopping) {
      stopping = true;
      await sidecar?.stop();
      if (!opts.read) {
        await engine.finish().catch(() => undefined);
        hub?.sendStats(workerStats());
      }
    }
    const s = stats();
    await hub?.stop();
    await cleanup();
    return s;
  };
  try {
    if (opts.read) {
      const source = openCaptureSource(opts.read);
      finished = (async () => {
        try {
          await consume(source);
        } catch (err) {
          if (err instanceof CaptureFormatError) throw new WorkerConfigError(`${opts.read}: ${err.message}`);
          const code = (err as NodeJS.ErrnoException).code;
          if (code) throw new WorkerConfigError(`${opts.read}: cannot read (${(err as Error).message})`);
          throw err;
        }
        await engine.finish();
        captureState = "finished";
        hub?.sendStats(workerStats());
        return stats();
      })();
    } else {
      filter = wantedFilter();
      sidecar = new Sidecar({
        path: opts.sidecarPath ?? defaultSidecarPath,
        interfaces: opts.interfaces?.length ? opts.interfaces : ["any"],
        controlPath: join(stateDir, "control.sock"),
        statsIntervalS: 2,
        tls: opts.tls,
        extraArgs: [...(opts.mesh ? ["--mesh"] : []), ...(opts.sidecarArgs ?? [])],
        wrap: opts.sidecarWrap,
        filter: () => filter,
        consume: async (stream, streaming) => void (await consume(stream, streaming)),
        restartMinMs: opts.sidecarRestartMinMs,
        restartMaxMs: opts.sidecarRestartMaxMs,
        log,
      });
      await sidecar.start();
      if (opts.tls) {
        const sc = sidecar;
        tlsStatus = new TlsStatus({ control: (cmd) => sc.control(cmd), podByUid: (uid) => pods?.index.allPods().find((p) => p.uid === uid) });
        tlsStatus.start();
        void tlsStatus.poll();
        cleanups.push(() => tlsStatus?.stop());
      }
      // A wall clock for the flow table: idle flows and unanswered requests close on a quiet link.
      const tickTimer = setInterval(() => engine.tick(Date.now() * 1e6), 1000);
      cleanups.push(() => clearInterval(tickTimer));
      finished = new Promise(() => undefined);
    }
  } catch (err) {
    await stop().catch(() => undefined);
    if (err instanceof Error && err.name === "SidecarError") throw new WorkerConfigError(err.message);
    throw err;
  }
  return { done: finished, stats, workerStats, sidecar, ring, hub, pods, engine, stop };
}
