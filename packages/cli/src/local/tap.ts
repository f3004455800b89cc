// `tapline tap --local`: the capture sidecar (supervised by an in-process worker) and the hub on
// this machine. Entries take the cluster's path: worker -> websocket ingest (token, redaction)
// -> storage -> API/UI, so what a user sees locally is what a cluster shows.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { EndpointInit, EntryInit } from "@tapline/protocol";
import type { PodWatcher, RunningWorker } from "@tapline/worker";
import { RuntimeFailure, UsageError } from "../errors.js";
import { displayUrl, startLocalHub } from "./hub.js";
import { NameMap } from "./names.js";
import { ProcessTable } from "./procs.js";

export interface LocalTapParams {
  interfaces: string[];
  tls: boolean;
  /** Also capture the loopback of Envoy/Istio-meshed network namespaces on this machine. */
  mesh?: boolean;
  host: string;
  port: number;
  storageLimitBytes: number;
  pcapLimitBytes: number;
  redact: string[];
  defaultRedact: boolean;
  /** `--names FILE`: IP -> namespace/pod. */
  names?: NameMap;
  /** Capture inside this network namespace (`ip netns exec`), e.g. the demo's. */
  netns?: string;
  /** An extra capture filter (pcap syntax), and-ed with the hub-port exclusion. */
  filter?: string;
  /** A kubeconfig path, false = never ask a cluster, undefined = $KUBECONFIG or ~/.kube/config if present. */
  kubeconfig?: string | false;
  kubeContext?: string;
  sidecarPath?: string;
  log(line: string): void;
}

export interface LocalTap {
  url: string;
  /** The hub's own address (127.0.0.1 form), for API calls. */
  apiUrl: string;
  worker: RunningWorker;
  stop(): Promise<void>;
}

/** Rejects when the machine cannot capture at all, naming why (before anything starts). */
function checkCapture(p: LocalTapParams, sidecar: string): void {
  if (!existsSync(sidecar)) throw new RuntimeFailure(`capture sidecar not found at ${sidecar}: run 'make -C native' (or 'make setup')`);
  if (typeof process.getuid === "function" && process.getuid() !== 0 && !p.netns) {
    p.log("not root: capturing needs CAP_NET_RAW (run with sudo, or give native/build/tapline-capture the capability)");
  }
}

function kubeconfigPresent(k: string | false | undefined): string | undefined {
  if (k === false) return undefined;
  if (k) return k;
  const env = process.env.KUBECONFIG?.split(":").find((p) => existsSync(p));
  if (env) return env;
  const home = join(homedir(), ".kube", "config");
  return existsSync(home) ? home : undefined;
}

/** Pod names from a cluster when a kubeconfig answers within a few seconds, else undefined. */
async function watchPods(p: LocalTapParams): Promise<PodWatcher | undefined> {
  const kubeconfig = kubeconfigPresent(p.kubeconfig);
  if (!kubeconfig) return undefined;
  const { PodWatcher } = await import("@tapline/worker");
  const w = new PodWatcher({ kubeconfig, context: p.kubeContext, log: p.log });
  try {
    await Promise.race([w.start(), new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 5 s")), 5000).unref())]);
    p.log(`naming pods through the cluster of ${kubeconfig} (${w.index.allPods().length} pods)`);
    return w;
  } catch (err) {
    void w.stop().catch(() => undefined);
    p.log(`no cluster (${(err as Error).message}); endpoints show IP:port and process names`);
    return undefined;
  }
}

export async function startLocalTap(p: LocalTapParams): Promise<LocalTap> {
  const { startWorker, HubClient, defaultSidecarPath } = await import("@tapline/worker");
  const sidecarPath = p.sidecarPath ?? process.env.TAPLINE_CAPTURE ?? defaultSidecarPath;
  checkCapture(p, sidecarPath);
  const dir = mkdtempSync(join(tmpdir(), "tapline-local-"));
  const undo: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  let stopping = false;
  const log = (line: string) => void (stopping || p.log(line));
  const stop = async () => {
    stopping = true;
    for (const u of undo.splice(0).reverse()) await u();
  };
  try {
    const { hub, token } = await startLocalHub({
      host: p.host, port: p.port, storagePath: join(dir, "entries.sqlite"), storageLimitBytes: p.storageLimitBytes,
      redact: p.redact, defaultRedact: p.defaultRedact, log: p.log,
    });
    undo.push(() => hub.close());

    const pods = await watchPods(p);
    if (pods) undo.push(() => pods.stop());
    const procs = new ProcessTable();
    const name = (shared: EndpointInit | null | undefined): EndpointInit => {
      // A flow's entries share their endpoint objects: name a copy.
      const ep = { ...shared };
      if (!(p.names?.enrich(ep))) pods?.index.enrich(ep);
      const proc = procs.lookup(ep.ip ?? "", ep.port ?? 0);
      if (proc) ep.process = proc;
      return ep;
    };

    const node = hostname();
    const workerId = `local-${node}`;
    let worker: RunningWorker | undefined;
    const client = new HubClient({
      url: hub.ingestUrl, token, workerId, node, version: "local",
      batchMaxMs: 100,
      onPcapRequest: (req) => {
        if (!worker?.ring) throw new Error("no packets kept (--pcap-limit 0)");
        return worker.ring.export(Number(req.sinceNs ?? 0), Number(req.untilNs ?? 0), (req.flows ?? []).map((f) => ({
          srcIp: f.srcIp ?? "", srcPort: f.srcPort ?? 0, dstIp: f.dstIp ?? "", dstPort: f.dstPort ?? 0,
        })));
      },
      log: (m) => log(`hub client: ${m}`),
    });
    client.start();
    undo.push(() => client.stop());

    // The hub's own port is excluded: the UI's and this worker's connections to it would
    // otherwise be captured and shown, and each shown entry would make more.
    const filter = [`not (tcp port ${p.port})`, p.filter ? `(${p.filter})` : ""].filter(Boolean).join(" and ");
    const w = await startWorker({
      node,
      workerId,
      interfaces: p.interfaces,
      tls: p.tls,
      mesh: p.mesh,
      filter,
      kubeconfig: false,
      sidecarPath,
      sidecarWrap: p.netns ? ["ip", "netns", "exec", p.netns] : undefined,
      pcapLimitBytes: p.pcapLimitBytes,
      stateDir: join(dir, "worker"),
      threads: 1,
      onEntry: (e: EntryInit) => {
        e.src = name(e.src);
        e.dst = name(e.dst);
        client.send(e);
      },
      log: (m) => log(`worker: ${m}`),
    }).catch((err: Error) => {
      if (err.name === "WorkerConfigError") throw new UsageError(err.message);
      throw err;
    });
    worker = w;
    // Stopped before the hub client, so the entries its last flows close into are delivered.
    undo.push(async () => void (await w.stop()));
    const statsTimer = setInterval(() => client.sendStats(w.workerStats()), 2000);
    undo.push(() => clearInterval(statsTimer));
    return { url: displayUrl(p.host, p.port), apiUrl: hub.url, worker: w, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
