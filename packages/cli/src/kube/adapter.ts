// The only module that touches @kubernetes/client-node. Domain modules (src/tap, src/ops)
// declare the narrow interface they need; this class implements all of them and turns
// client errors into sentences a person understands (SPEC §2: no kubeconfig, context not
// found, API unreachable with its address, forbidden with verb and resource).
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { Socket } from "node:net";
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  PortForward,
  VersionApi,
  Watch,
  type CoreV1Event,
  type KubernetesObject,
  type V1Pod,
} from "@kubernetes/client-node";
import { FIELD_MANAGER } from "../defaults.js";
import { RuntimeFailure, UsageError } from "../errors.js";

export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
export type StopWatch = () => void;

/** Plural REST names of the kinds Tapline reads, writes, watches and deletes. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  Namespace: { plural: "namespaces", namespaced: false },
  PriorityClass: { plural: "priorityclasses", namespaced: false },
  ClusterRole: { plural: "clusterroles", namespaced: false },
  ClusterRoleBinding: { plural: "clusterrolebindings", namespaced: false },
  ServiceAccount: { plural: "serviceaccounts", namespaced: true },
  Secret: { plural: "secrets", namespaced: true },
  ConfigMap: { plural: "configmaps", namespaced: true },
  Service: { plural: "services", namespaced: true },
  Deployment: { plural: "deployments", namespaced: true },
  DaemonSet: { plural: "daemonsets", namespaced: true },
  Pod: { plural: "pods", namespaced: true },
  Event: { plural: "events", namespaced: true },
};

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

function collectionPath(apiVersion: string, kind: string, namespace?: string): string {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`unsupported kind ${kind}`);
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return r.namespaced && namespace ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

/** Which kubeconfig file is used: --kubeconfig, then $KUBECONFIG (first file), then ~/.kube/config. */
export function kubeconfigCandidates(flag?: string): string[] {
  if (flag) return [flag];
  const env = process.env.KUBECONFIG;
  if (env) return env.split(delimiter).filter(Boolean);
  return [join(homedir(), ".kube", "config")];
}

export class KubeClient {
  readonly server: string;
  readonly context: string;
  /** The current context's namespace (or "default"). */
  readonly defaultNamespace: string;
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;

  private constructor(private readonly kc: KubeConfig) {
    this.server = kc.getCurrentCluster()?.server ?? "(no server)";
    this.context = kc.getCurrentContext();
    this.defaultNamespace = kc.getContextObject(this.context)?.namespace || "default";
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  static load(opts: KubeOptions): KubeClient {
    const files = kubeconfigCandidates(opts.kubeconfig);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) {
      throw new RuntimeFailure(
        `no kubeconfig found (looked at ${files.join(", ")}); pass --kubeconfig FILE or set KUBECONFIG`,
      );
    }
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(present[0]);
      for (const f of present.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more);
      }
    } catch (err) {
      throw new RuntimeFailure(`cannot read kubeconfig ${present[0]}: ${(err as Error).message}`);
    }
    if (opts.context) {
      if (!kc.getContextObject(opts.context)) {
        const known = kc.getContexts().map((c) => c.name);
        throw new UsageError(
          `context "${opts.context}" not found in ${present.join(", ")} (known: ${known.join(", ") || "none"})`,
        );
      }
      kc.setCurrentContext(opts.context);
    }
    if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
      throw new RuntimeFailure(`kubeconfig ${present[0]} has no current context; pass --context NAME`);
    }
    if (!kc.getCurrentCluster()) throw new RuntimeFailure(`context "${kc.getCurrentContext()}" names no cluster`);
    return new KubeClient(kc);
  }

  /** Wraps a call so that failures name what was attempted and where. */
  private async call<T>(what: { verb: string; resource: string; namespace?: string }, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.explain(err, what);
    }
  }

  explain(err: unknown, what: { verb: string; resource: string; namespace?: string }): Error {
    const where = what.namespace ? ` in namespace "${what.namespace}"` : "";
    if (err instanceof ApiException) {
      const detail = statusMessage(err.body);
      if (err.code === 403) {
        return new KubeError(403, `forbidden: cannot ${what.verb} ${what.resource}${where} (context "${this.context}")${detail ? `: ${detail}` : ""}`);
      }
      if (err.code === 401) return new KubeError(401, `unauthorized at ${this.server}: the credentials of context "${this.context}" were rejected`);
      return new KubeError(err.code, `${what.verb} ${what.resource}${where} failed (HTTP ${err.code})${detail ? `: ${detail}` : ""}`);
    }
    const code = networkCode(err);
    if (code) {
      const why = code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" ? "host not found" : code;
      return new RuntimeFailure(`cannot reach the Kubernetes API at ${this.server} (${why}); is the cluster running and the context "${this.context}" right?`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  async serverVersion(): Promise<string> {
    const v = await this.call({ verb: "get", resource: "/version" }, () => this.kc.makeApiClient(VersionApi).getCode());
    return v.gitVersion;
  }

  /** Server-side apply with our field manager, forcing ownership: idempotent create-or-update. */
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.call({ verb: "apply", resource: `${obj.kind}/${obj.metadata?.name}`, namespace: obj.metadata?.namespace }, () =>
      this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
  }

  async read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.call({ verb: "get", resource: `${ref.kind}/${ref.name}`, namespace: ref.namespace }, () =>
        this.objects.read({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } }),
      )) as T;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
    const res = await this.call({ verb: "list", resource: RESOURCES[kind]?.plural ?? kind, namespace }, () =>
      this.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    return res.items as T[];
  }

  /** Deletes (background propagation); false when it was already gone. */
  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.call({ verb: "delete", resource: `${ref.kind}/${ref.name}`, namespace: ref.namespace }, () =>
        this.objects.delete(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
          undefined, undefined, undefined, undefined, "Background",
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return false;
      throw err;
    }
  }

  async listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]> {
    return this.list<V1Pod>("v1", "Pod", namespace, labelSelector);
  }

  async listEvents(namespace: string, fieldSelector?: string): Promise<CoreV1Event[]> {
    const res = await this.call({ verb: "list", resource: "events", namespace }, () =>
      this.core.listNamespacedEvent({ namespace, fieldSelector }),
    );
    return res.items;
  }

  async podLog(namespace: string, pod: string, container: string): Promise<string> {
    return this.call({ verb: "get", resource: `pods/log ${pod}/${container}`, namespace }, () =>
      this.core.readNamespacedPodLog({ name: pod, namespace, container, tailLines: 10000 }),
    );
  }

  /**
   * Watches without a resourceVersion: the server first sends every existing object as
   * ADDED, then each change. Watches, not polling (SPEC §2, audit log load).
   */
  async watch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    selectors: { labelSelector?: string; fieldSelector?: string },
    onEvent: (type: WatchEventType, obj: T) => void,
    onEnd: (err?: Error) => void,
  ): Promise<StopWatch> {
    const path = collectionPath(apiVersion, kind, namespace);
    const what = { verb: "watch", resource: RESOURCES[kind].plural, namespace };
    const watcher = new Watch(this.kc);
    let stopped = false;
    const controller = await this.call(what, () =>
      watcher.watch(
        path,
        { ...selectors, allowWatchBookmarks: true },
        (type, obj) => {
          if (!stopped) onEvent(type as WatchEventType, obj as T);
        },
        (err) => {
          if (!stopped) onEnd(err ? this.explain(err, what) : undefined);
        },
      ),
    );
    return () => {
      stopped = true;
      controller.abort();
    };
  }

  async canI(verb: string, group: string, resource: string, namespace?: string): Promise<{ allowed: boolean; reason?: string }> {
    const api = this.kc.makeApiClient(AuthorizationV1Api);
    const res = await this.call({ verb: "create", resource: "selfsubjectaccessreviews" }, () =>
      api.createSelfSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: { resourceAttributes: splitSubresource({ verb, group, resource, namespace }) },
        },
      }),
    );
    return { allowed: res.status?.allowed === true, reason: res.status?.reason };
  }

  /** Bridges one local TCP connection to `port` of a pod over the port-forward websocket. */
  async forwardSocket(namespace: string, pod: string, port: number, socket: Socket): Promise<void> {
    const pf = new PortForward(this.kc, true);
    const ws = await this.call({ verb: "create", resource: `pods/portforward ${pod}`, namespace }, () =>
      pf.portForward(namespace, pod, [port], socket, null, socket),
    );
    const conn = typeof ws === "function" ? ws() : ws;
    conn?.on("close", () => socket.end());
    conn?.on("error", () => socket.destroy());
    socket.on("close", () => conn?.close());
    socket.on("error", () => conn?.close());
  }
}

function splitSubresource(a: { verb: string; group: string; resource: string; namespace?: string }) {
  const [resource, subresource] = a.resource.split("/");
  return { verb: a.verb, group: a.group, resource, ...(subresource ? { subresource } : {}), ...(a.namespace ? { namespace: a.namespace } : {}) };
}

export class KubeError extends RuntimeFailure {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function statusMessage(body: unknown): string {
  if (typeof body === "string") {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === "object" && "message" in body) return String((body as { message: unknown }).message);
  return "";
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === "string") {
      const m = /\b(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)\b/.exec(msg);
      if (m) return m[1];
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
