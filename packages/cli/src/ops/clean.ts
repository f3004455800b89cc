// `tapline clean`: deletes every object labelled as ours, cluster-scoped RBAC and
// PriorityClass included, then waits (watching) until they are gone. Idempotent.
import type { KubernetesObject } from "@kubernetes/client-node";
import { PART_OF_SELECTOR } from "../defaults.js";
import { RuntimeFailure } from "../errors.js";
import type { WatchType } from "../tap/readiness.js";

export interface CleanCluster {
  list<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<T[]>;
  delete(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<boolean>;
  watch<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    selectors: { labelSelector?: string },
    onEvent: (type: WatchType, obj: T) => void,
    onEnd: (err?: Error) => void,
  ): Promise<() => void>;
}

/** Dependents first, the namespace last. */
export const OWNED_KINDS: Array<[apiVersion: string, kind: string]> = [
  ["apps/v1", "DaemonSet"],
  ["apps/v1", "Deployment"],
  ["v1", "Service"],
  ["v1", "ConfigMap"],
  ["v1", "Secret"],
  ["v1", "ServiceAccount"],
  ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding"],
  ["rbac.authorization.k8s.io/v1", "ClusterRole"],
  ["scheduling.k8s.io/v1", "PriorityClass"],
  ["v1", "Namespace"],
];

const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

export async function clean(cluster: CleanCluster, opts: { timeoutMs: number; info: (l: string) => void }): Promise<number> {
  let deleted = 0;
  const waits: Array<Promise<void>> = [];
  for (const [apiVersion, kind] of OWNED_KINDS) {
    const found = await cluster.list(apiVersion, kind, undefined, PART_OF_SELECTOR);
    if (!found.length) continue;
    const pending = new Set(found.map(key));
    waits.push(waitGone(cluster, apiVersion, kind, pending, opts.timeoutMs));
    for (const o of found) {
      if (await cluster.delete({ apiVersion, kind, name: o.metadata!.name!, namespace: o.metadata?.namespace })) {
        deleted++;
        opts.info(`deleting ${kind} ${key(o).replace(/^\//, "")}`);
      }
    }
  }
  await Promise.all(waits);
  opts.info(deleted ? `removed ${deleted} objects` : "nothing to remove: no object labelled " + PART_OF_SELECTOR);
  return deleted;
}

/** Resolves when none of `pending` exists any more: watch first, then list, so no deletion is missed. */
async function waitGone(cluster: CleanCluster, apiVersion: string, kind: string, pending: Set<string>, timeoutMs: number): Promise<void> {
  const gone = new Set<string>();
  let stop: (() => void) | undefined;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new RuntimeFailure(`timed out waiting for ${kind} ${[...pending].join(", ")} to be deleted`)),
        timeoutMs,
      );
      const check = () => {
        for (const g of gone) pending.delete(g);
        if (pending.size === 0) resolve();
      };
      cluster
        .watch(apiVersion, kind, undefined, { labelSelector: PART_OF_SELECTOR }, (type, obj) => {
          if (type === "DELETED") {
            gone.add(key(obj));
            check();
          }
        }, (err) => {
          if (err) reject(err);
        })
        .then(async (s) => {
          // The deletions may all have been seen before the watch call returned.
          if (finished) return s();
          stop = s;
          const still = new Set((await cluster.list(apiVersion, kind, undefined, PART_OF_SELECTOR)).map(key));
          for (const p of pending) if (!still.has(p)) gone.add(p);
          check();
        })
        .catch(reject);
    });
  } finally {
    finished = true;
    clearTimeout(timer);
    stop?.();
  }
}
