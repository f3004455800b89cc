// `tapline tap`: resolve the target, list what matches now, apply the manifests with
// server-side apply, wait (watching) for hub and workers, port-forward and open the UI.
import { randomBytes } from "node:crypto";
import type { KubernetesObject, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { Socket } from "node:net";
import { HUB_PORT, HUB_SELECTOR, NAMES, PART_OF_LABEL, PART_OF, TOKEN_KEY, labelSelector } from "../defaults.js";
import type { TaplineConfig, TapTarget } from "../config/schema.js";
import { manifestValuesOf } from "../config/schema.js";
import { buildManifests, manifestsToYaml } from "../manifests/index.js";
import { isPodReady, waitForReady, type ReadinessCluster } from "./readiness.js";
import { startPortForward, type LocalForward } from "../ops/port-forward.js";
import { putTapTarget } from "../ops/hub-api.js";
import { errorMessage } from "../errors.js";

export interface TapCluster extends ReadinessCluster {
  readonly defaultNamespace: string;
  readonly server: string;
  readonly context: string;
  listPods(namespace: string | undefined, labelSelector?: string): Promise<V1Pod[]>;
  read<T extends KubernetesObject>(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<T | undefined>;
  apply<T extends KubernetesObject>(obj: T): Promise<T>;
  forwardSocket(namespace: string, pod: string, port: number, socket: Socket): Promise<void>;
}

export interface TapParams {
  config: TaplineConfig;
  regex: RegExp;
  dryRun: boolean;
  timeoutMs: number;
}

export interface TapOutput {
  /** Progress and status lines (stderr). */
  info(line: string): void;
  /** The result: manifests in --dry-run, else the URL (stdout). */
  out(text: string): void;
}

/** -A → every namespace (empty list); -n → those; else the context's namespace. */
export function resolveTarget(config: TaplineConfig, contextNamespace: string): TapTarget {
  const namespaces = config.allNamespaces ? [] : config.tap.namespaces.length ? config.tap.namespaces : [contextNamespace];
  return { podRegex: config.tap.podRegex, namespaces };
}

export function renderDryRun(config: TaplineConfig, contextNamespace: string, token: string): string {
  const values = manifestValuesOf(config);
  const target = resolveTarget(config, contextNamespace);
  return manifestsToYaml(buildManifests({ namespace: config.releaseNamespace, token, values: { ...values, tap: { ...values.tap, ...target } } }));
}

export function newToken(): string {
  return randomBytes(24).toString("hex");
}

/** The token of an earlier install, so re-tapping never disconnects running workers. */
async function existingToken(cluster: TapCluster, namespace: string): Promise<string | undefined> {
  const secret = await cluster.read<V1Secret>({ apiVersion: "v1", kind: "Secret", name: NAMES.tokenSecret, namespace });
  const b64 = secret?.data?.[TOKEN_KEY];
  return b64 ? Buffer.from(b64, "base64").toString("utf8") : undefined;
}

export async function matchingPods(cluster: TapCluster, target: TapTarget, regex: RegExp): Promise<V1Pod[]> {
  const lists = target.namespaces.length
    ? await Promise.all(target.namespaces.map((ns) => cluster.listPods(ns)))
    : [await cluster.listPods(undefined)];
  return lists
    .flat()
    .filter((p) => p.metadata?.labels?.[PART_OF_LABEL] !== PART_OF && regex.test(p.metadata?.name ?? ""));
}

/** Applies everything and waits; returns the ready hub pod. */
export async function deploy(cluster: TapCluster, params: TapParams, io: TapOutput): Promise<{ hubPod: string; target: TapTarget }> {
  const { config } = params;
  const ns = config.releaseNamespace;
  const target = resolveTarget(config, cluster.defaultNamespace);
  io.info(`context "${cluster.context}" (${cluster.server})`);

  const pods = await matchingPods(cluster, target, params.regex);
  const where = target.namespaces.length ? `namespace${target.namespaces.length > 1 ? "s" : ""} ${target.namespaces.join(", ")}` : "all namespaces";
  if (pods.length === 0) {
    io.info(`no pod matches /${config.tap.podRegex}/ in ${where} right now; pods that start later and match are tapped`);
  } else {
    const names = pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    io.info(`tapping ${pods.length} pod${pods.length > 1 ? "s" : ""} in ${where}: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}`);
  }

  const token = (await existingToken(cluster, ns).catch(() => undefined)) ?? newToken();
  const values = manifestValuesOf(config);
  const objects = buildManifests({ namespace: ns, token, values: { ...values, tap: { ...values.tap, ...target } } });
  for (const obj of objects) {
    await cluster.apply(obj);
    io.info(`applied ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}`);
  }

  const ready = await waitForReady({ cluster, namespace: ns, timeoutMs: params.timeoutMs, onProgress: (l) => io.info(l) });
  return { hubPod: ready.hubPod!, target };
}

/** Port-forwards to the hub; the pod is re-resolved per connection if it has gone. */
export async function forwardHub(
  cluster: TapCluster,
  config: TaplineConfig,
  hubPod: string,
  io: TapOutput,
): Promise<LocalForward> {
  let pod = hubPod;
  return startPortForward({
    cluster,
    namespace: config.releaseNamespace,
    pod: async () => {
      const current = await cluster.read<V1Pod>({ apiVersion: "v1", kind: "Pod", name: pod, namespace: config.releaseNamespace });
      if (!current || current.metadata?.deletionTimestamp) {
        const fresh = await findHubPod(cluster, config.releaseNamespace);
        if (fresh) pod = fresh;
      }
      return pod;
    },
    remotePort: HUB_PORT,
    host: config.proxy.host,
    port: config.proxy.port,
    onError: (err) => io.info(`port-forward: ${errorMessage(err)}`),
  });
}

export async function findHubPod(cluster: { listPods(ns: string | undefined, labelSelector?: string): Promise<V1Pod[]> }, ns: string): Promise<string | undefined> {
  const pods = await cluster.listPods(ns, labelSelector(HUB_SELECTOR));
  return pods.find(isPodReady)?.metadata?.name;
}

/** Pushes the target to the running hub now; the mounted ConfigMap catches up anyway. */
export async function announceTarget(url: string, target: TapTarget, tls: boolean, io: TapOutput): Promise<void> {
  try {
    const r = await putTapTarget(url, target, tls);
    if (r === "unsupported") io.info("the hub reads the new tap target from its mounted ConfigMap (updated within a minute)");
  } catch (err) {
    io.info(`could not tell the hub the new target now (${errorMessage(err)}); it reads it from its ConfigMap`);
  }
}
