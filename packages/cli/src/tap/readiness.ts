// Waits for the hub and the workers with watches (never polling: SPEC §2, peers flood
// the audit log), reporting progress as it changes and each pod failure once, with the
// message of the pod's latest Warning event.
import type { CoreV1Event, KubernetesObject, V1DaemonSet, V1Pod } from "@kubernetes/client-node";
import { COMPONENT_LABEL, COMPONENTS, NAMES, PART_OF_SELECTOR } from "../defaults.js";
import { RuntimeFailure } from "../errors.js";

export type WatchType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface ReadinessCluster {
  watch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    selectors: { labelSelector?: string; fieldSelector?: string },
    onEvent: (type: WatchType, obj: T) => void,
    onEnd: (err?: Error) => void,
  ): Promise<() => void>;
  listEvents(namespace: string, fieldSelector?: string): Promise<CoreV1Event[]>;
}

/** Container states that mean "this will not start by itself soon". */
const FAILING = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

export interface PodFailure {
  pod: string;
  node: string;
  container: string;
  reason: string;
  message: string;
}

export interface ReadyState {
  hubPod?: string;
  workersReady: number;
  workersDesired: number;
  failures: PodFailure[];
}

export function isPodReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

export function podFailures(p: V1Pod): PodFailure[] {
  const out: Array<PodFailure> = [];
  for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const w = cs.state?.waiting;
    if (w?.reason && FAILING.has(w.reason)) {
      out.push({ pod: p.metadata?.name ?? "?", node: p.spec?.nodeName ?? "(unscheduled)", container: cs.name, reason: w.reason, message: w.message ?? "" });
    }
  }
  return out;
}

export async function waitForReady(opts: {
  cluster: ReadinessCluster;
  namespace: string;
  timeoutMs: number;
  onProgress: (line: string) => void;
}): Promise<ReadyState> {
  const { cluster, namespace } = opts;
  const pods = new Map<string, V1Pod>();
  let desired: number | undefined;
  const reported = new Set<string>();
  const failures = new Map<string, PodFailure>();
  let lastLine = "";
  const stops: Array<() => void> = [];
  let finished = false;
  // A watch may finish starting after readiness was already reached: stop it at once.
  const keep = (stop: () => void) => (finished ? stop() : stops.push(stop));

  const state = (): ReadyState => {
    const all = [...pods.values()];
    const hub = all.find((p) => p.metadata?.labels?.[COMPONENT_LABEL] === COMPONENTS.hub && isPodReady(p));
    const workers = all.filter((p) => p.metadata?.labels?.[COMPONENT_LABEL] === COMPONENTS.worker && !p.metadata?.deletionTimestamp);
    return {
      hubPod: hub?.metadata?.name,
      workersReady: workers.filter(isPodReady).length,
      workersDesired: desired && desired > 0 ? desired : workers.length,
      failures: [...failures.values()],
    };
  };

  try {
    return await new Promise<ReadyState>((resolve, reject) => {
      const timer = setTimeout(() => {
        const s = state();
        const why = s.failures.map((f) => `\n  ${f.node}: ${f.pod}/${f.container}: ${f.reason}: ${f.message}`).join("");
        reject(
          new RuntimeFailure(
            `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for Tapline: hub ${s.hubPod ? "ready" : "not ready"}, workers ${s.workersReady}/${s.workersDesired} ready${why}`,
          ),
        );
      }, opts.timeoutMs);
      stops.push(() => clearTimeout(timer));

      const update = () => {
        const s = state();
        const line = `hub ${s.hubPod ? "ready" : "starting"}, workers ${s.workersReady}/${s.workersDesired} ready`;
        if (line !== lastLine) {
          lastLine = line;
          opts.onProgress(line);
        }
        if (s.hubPod && s.workersDesired > 0 && s.workersReady === s.workersDesired) resolve(s);
      };

      const onPod = (type: WatchType, pod: V1Pod) => {
        const name = pod.metadata?.name;
        if (!name || type === "BOOKMARK") return;
        if (type === "DELETED") pods.delete(name);
        else pods.set(name, pod);
        for (const f of type === "DELETED" ? [] : podFailures(pod)) {
          const key = `${f.pod}/${f.container}/${f.reason}`;
          if (reported.has(key)) continue;
          reported.add(key);
          failures.set(`${f.pod}/${f.container}`, f);
          void describeFailure(cluster, namespace, f).then((msg) => opts.onProgress(msg));
        }
        if (isPodReady(pod)) for (const k of [...failures.keys()]) if (k.startsWith(`${name}/`)) failures.delete(k);
        update();
      };
      const onEnd = (err?: Error) => reject(err ?? new RuntimeFailure("the API server closed the watch"));

      cluster
        .watch<V1Pod>("v1", "Pod", namespace, { labelSelector: PART_OF_SELECTOR }, onPod, onEnd)
        .then(keep, reject);
      cluster
        .watch<V1DaemonSet>(
          "apps/v1",
          "DaemonSet",
          namespace,
          { fieldSelector: `metadata.name=${NAMES.workerDaemonSet}` },
          (type, ds) => {
            if (type === "ADDED" || type === "MODIFIED") {
              desired = ds.status?.desiredNumberScheduled;
              update();
            }
          },
          onEnd,
        )
        .then(keep, reject);
    });
  } finally {
    finished = true;
    for (const stop of stops) stop();
  }
}

/** One line per failure: node, pod, container, reason, and the event's message. */
async function describeFailure(cluster: ReadinessCluster, namespace: string, f: PodFailure): Promise<string> {
  let message = f.message;
  try {
    const events = await cluster.listEvents(namespace, `involvedObject.name=${f.pod}`);
    const warning = events
      .filter((e) => e.type === "Warning")
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? "").localeCompare(String(b.lastTimestamp ?? b.eventTime ?? "")))
      .pop();
    if (warning?.message) message = warning.message;
  } catch {
    // The container status message is still worth showing.
  }
  return `node ${f.node}: pod ${f.pod} container ${f.container}: ${f.reason}${message ? `: ${message}` : ""}`;
}
