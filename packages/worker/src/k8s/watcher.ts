// The one module of the worker that talks to the Kubernetes API: list+watch (never polling)
// of pods and services across the cluster, so both ends of a connection resolve to pods,
// feeding an IpIndex. Informers relist on 410 Gone and reconnect on errors.
import { CoreV1Api, KubeConfig, ListWatch, Watch } from "@kubernetes/client-node";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { IpIndex } from "./ipIndex.js";

export interface PodWatcherOptions {
  /** A kubeconfig file; default: in-cluster service account, else ~/.kube/config. */
  kubeconfig?: string;
  context?: string;
  /** Called with every change as it is applied (e.g. to replay it into other threads' indexes). */
  onEvent?(event: { kind: "pod" | "service"; op: "upsert" | "delete"; obj: V1Pod | V1Service }): void;
  /** Called (debounced) whenever pods or services changed. */
  onChange?(): void;
  log?(message: string): void;
  debounceMs?: number;
}

export function loadKubeConfig(path?: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return kc;
}

export class PodWatcher {
  readonly index = new IpIndex();
  private informers: ListWatch<V1Pod | V1Service>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private synced = 0;
  private stopped = false;

  constructor(private readonly opts: PodWatcherOptions = {}) {}

  /** Starts both watches; resolves once the initial lists are in (or rejects with the API's error). */
  async start(): Promise<void> {
    const kc = loadKubeConfig(this.opts.kubeconfig, this.opts.context);
    const core = kc.makeApiClient(CoreV1Api);
    const watch = new Watch(kc);
    const pods = new ListWatch<V1Pod>("/api/v1/pods", watch, () => core.listPodForAllNamespaces(), false);
    const services = new ListWatch<V1Service>("/api/v1/services", watch, () => core.listServiceForAllNamespaces(), false);
    const changed = (kind: "pod" | "service", op: "upsert" | "delete", obj: V1Pod | V1Service) => {
      this.opts.onEvent?.({ kind, op, obj });
      this.changed();
    };
    pods.on("add", (p) => (this.index.upsertPod(p), changed("pod", "upsert", p)));
    pods.on("update", (p) => (this.index.upsertPod(p), changed("pod", "upsert", p)));
    pods.on("delete", (p) => (this.index.deletePod(p), changed("pod", "delete", p)));
    services.on("add", (s) => (this.index.upsertService(s), changed("service", "upsert", s)));
    services.on("update", (s) => (this.index.upsertService(s), changed("service", "upsert", s)));
    services.on("delete", (s) => (this.index.deleteService(s), changed("service", "delete", s)));
    for (const inf of [pods, services] as ListWatch<V1Pod | V1Service>[]) {
      inf.on("error", (err: unknown) => {
        if (this.stopped) return; // stop() aborts the watches: not an error, and no restart
        this.opts.log?.(`kubernetes watch error: ${err instanceof Error ? err.message : String(err)}; restarting in 2 s`);
        setTimeout(() => void (this.stopped ? undefined : inf.start().catch(() => undefined)), 2000).unref();
      });
    }
    this.informers = [pods, services] as ListWatch<V1Pod | V1Service>[];
    await Promise.all(this.informers.map((i) => i.start()));
    this.synced = Date.now();
  }

  get ready(): boolean {
    return this.synced > 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.opts.onChange?.();
    }, this.opts.debounceMs ?? 200);
  }
}
