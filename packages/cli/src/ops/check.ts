// `tapline check`: each step prints its result as it goes; a failing step is recorded
// and later steps still run where they can (cilium-cli's status habit: partial results,
// gathered errors).
import type { Socket } from "node:net";
import type { KubernetesObject, V1DaemonSet, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { CLI_ACCESS, COMPONENT_LABEL, COMPONENTS, HUB_PORT, NAMES, PART_OF_SELECTOR } from "../defaults.js";
import { errorMessage } from "../errors.js";
import { isPodReady, podFailures } from "../tap/readiness.js";
import { startPortForward } from "./port-forward.js";
import { getWorkers } from "./hub-api.js";

export interface CheckCluster {
  readonly server: string;
  readonly context: string;
  serverVersion(): Promise<string>;
  canI(verb: string, group: string, resource: string, namespace?: string): Promise<{ allowed: boolean; reason?: string }>;
  read<T extends KubernetesObject>(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<T | undefined>;
  listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]>;
  forwardSocket(namespace: string, pod: string, port: number, socket: Socket): Promise<void>;
}

export interface CheckReport {
  ok(line: string): void;
  fail(line: string): void;
}

/** Returns the gathered errors (empty when everything passed). */
export async function check(connectCluster: () => CheckCluster, namespace: string, report: CheckReport): Promise<string[]> {
  const errors: string[] = [];
  const fail = (msg: string) => {
    errors.push(msg);
    report.fail(msg);
  };

  let cluster: CheckCluster;
  try {
    cluster = connectCluster();
    report.ok(`kubeconfig: context "${cluster.context}", API server ${cluster.server}`);
  } catch (err) {
    fail(`kubeconfig: ${errorMessage(err)}`);
    return errors;
  }

  try {
    report.ok(`API reachable: Kubernetes ${await cluster.serverVersion()}`);
  } catch (err) {
    fail(`API: ${errorMessage(err)}`);
    return errors;
  }

  const denied: string[] = [];
  const results = await Promise.allSettled(
    CLI_ACCESS.map(async (need) => ({ need, r: await cluster.canI(need.verb, need.group, need.resource, need.namespaced ? namespace : undefined) })),
  );
  for (const res of results) {
    if (res.status === "rejected") {
      denied.push(`cannot check permissions: ${errorMessage(res.reason)}`);
      break;
    }
    const { need, r } = res.value;
    const what = `${need.verb} ${need.group ? `${need.resource}.${need.group}` : need.resource}${need.namespaced ? ` in namespace "${namespace}"` : " (cluster-wide)"}`;
    if (!r.allowed) denied.push(`forbidden: ${what} (needed for ${need.why})${r.reason ? `: ${r.reason}` : ""}`);
  }
  if (denied.length) denied.forEach(fail);
  else report.ok(`permissions: all ${CLI_ACCESS.length} verbs Tapline needs are allowed`);

  let hubPod: string | undefined;
  try {
    const dep = await cluster.read<V1Deployment>({ apiVersion: "apps/v1", kind: "Deployment", name: NAMES.hubDeployment, namespace });
    const ds = await cluster.read<V1DaemonSet>({ apiVersion: "apps/v1", kind: "DaemonSet", name: NAMES.workerDaemonSet, namespace });
    if (!dep && !ds) {
      fail(`Tapline is not deployed in namespace "${namespace}" (run 'tapline tap')`);
      return errors;
    }
    const pods = await cluster.listPods(namespace, PART_OF_SELECTOR);
    const hub = pods.filter((p) => p.metadata?.labels?.[COMPONENT_LABEL] === COMPONENTS.hub);
    const workers = pods.filter((p) => p.metadata?.labels?.[COMPONENT_LABEL] === COMPONENTS.worker);
    hubPod = hub.find(isPodReady)?.metadata?.name;
    if (hubPod) report.ok(`hub ready: pod ${hubPod}`);
    else fail(`hub not ready (${hub.length} pod${hub.length === 1 ? "" : "s"})`);
    const desired = ds?.status?.desiredNumberScheduled || workers.length;
    const ready = workers.filter(isPodReady).length;
    if (desired > 0 && ready === desired) report.ok(`workers ready: ${ready}/${desired}`);
    else fail(`workers ready: ${ready}/${desired}`);
    for (const f of pods.flatMap(podFailures)) fail(`node ${f.node}: pod ${f.pod} container ${f.container}: ${f.reason}: ${f.message}`);
  } catch (err) {
    fail(`deployment: ${errorMessage(err)}`);
  }

  if (hubPod) {
    const pod = hubPod;
    try {
      const fwd = await startPortForward({ cluster, namespace, pod: async () => pod, remotePort: HUB_PORT, host: "127.0.0.1", port: 0 });
      try {
        const stats = await getWorkers(fwd.url);
        if (stats.length === 0) fail("capture: no worker is connected to the hub");
        for (const w of stats) {
          const { node, name, connected, ...rest } = w;
          report.ok(`capture: worker ${node ?? name ?? "?"}${connected === false ? " (disconnected)" : ""} ${JSON.stringify(rest)}`);
        }
      } finally {
        await fwd.close();
      }
    } catch (err) {
      fail(`capture stats: ${errorMessage(err)}`);
    }
  }
  return errors;
}
