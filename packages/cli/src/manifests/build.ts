// The one source of Tapline's Kubernetes objects (SPEC §2 Deploy). The CLI applies
// them, `tap --dry-run` prints them, and the Helm chart's templates are generated from
// them (src/chart/generate.ts), so there is no second copy to keep in step.
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1EnvVar,
  V1Namespace,
  V1PriorityClass,
  V1SecurityContext,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import {
  CAPTURE_CAPABILITIES,
  COMPONENTS,
  CAPTURE_BINARY,
  HUB_DATA_DIR,
  HUB_PORT,
  HUB_UI_DIR,
  HUB_PORT_NAME,
  HUB_SELECTOR,
  IMAGE_NAMES,
  MESH_CAPABILITIES,
  NAMES,
  PART_OF_LABEL,
  PART_OF,
  WORKER_STATE_DIR,
  TAP_CONFIG_MOUNT,
  TAP_KEYS,
  TLS_CAPABILITIES,
  TOKEN_KEY,
  WATCH_VERBS,
  WATCHED_RESOURCES,
  WORKER_SELECTOR,
  commonLabels,
} from "../defaults.js";
import type { ManifestValues } from "../config/schema.js";
import { anyOf, base64, eachArg, joinComma, json, str, unless, when } from "./symbolic.js";

export interface ManifestInput {
  /** The release namespace everything namespaced goes into. */
  namespace: string;
  /** Worker-to-hub token; generated once per install and reused (src/tap/token.ts). */
  token: string;
  values: ManifestValues;
}

/** In apply order: what others refer to comes first. */
export function buildManifests(input: ManifestInput): KubernetesObject[] {
  return [
    namespace(input),
    priorityClass(),
    serviceAccount(input),
    clusterRole(),
    clusterRoleBinding(input),
    tokenSecret(input),
    tapConfigMap(input),
    hubService(input),
    hubDeployment(input),
    workerDaemonSet(input),
  ];
}

function meta(name: string, ns: string | undefined, component?: string) {
  return { name, ...(ns === undefined ? {} : { namespace: ns }), labels: commonLabels(component) };
}

function namespace({ namespace: ns }: ManifestInput): V1Namespace {
  const labels = {
    ...commonLabels(),
    // The workers need host networking and capture capabilities, which only the
    // `privileged` Pod Security level admits (no container is `privileged: true`).
    // The hub alone would pass `restricted`; warn on anything beyond baseline.
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "baseline",
  };
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } };
}

function priorityClass(): V1PriorityClass {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: meta(NAMES.priorityClass, undefined),
    // High enough that a worker is not the first thing evicted on a full node.
    value: 1000000,
    globalDefault: false,
    preemptionPolicy: "PreemptLowerPriority",
    description: "Tapline capture workers: one per node, evicting them blinds the capture.",
  };
}

function serviceAccount({ namespace: ns }: ManifestInput): V1ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(NAMES.serviceAccount, ns) };
}

function clusterRole(): V1ClusterRole {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta(NAMES.clusterRole, undefined),
    // Read-only, and only what IP-to-pod/service resolution needs (SPEC §2).
    rules: [{ apiGroups: [""], resources: [...WATCHED_RESOURCES], verbs: [...WATCH_VERBS] }],
  };
}

function clusterRoleBinding({ namespace: ns }: ManifestInput): V1ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta(NAMES.clusterRoleBinding, undefined),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAMES.clusterRole },
    subjects: [{ kind: "ServiceAccount", name: NAMES.serviceAccount, namespace: ns }],
  };
}

function tokenSecret({ namespace: ns, token }: ManifestInput): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(NAMES.tokenSecret, ns),
    type: "Opaque",
    data: { [TOKEN_KEY]: base64(token) },
  };
}

/** The tap target and redaction rules: mounted into hub and workers, updated in place. */
function tapConfigMap({ namespace: ns, values }: ManifestInput): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(NAMES.tapConfigMap, ns),
    data: {
      [TAP_KEYS.podRegex]: str(values.tap.podRegex),
      [TAP_KEYS.namespaces]: joinComma(values.tap.namespaces),
      redact: json(values.tap.redact),
      defaultRedact: str(values.tap.defaultRedact),
    },
  };
}

function hubService({ namespace: ns }: ManifestInput): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(NAMES.hubService, ns, COMPONENTS.hub),
    spec: {
      type: "ClusterIP",
      selector: HUB_SELECTOR,
      ports: [{ name: HUB_PORT_NAME, port: HUB_PORT, targetPort: HUB_PORT_NAME, protocol: "TCP" }],
    },
  };
}

function image(values: ManifestValues, name: string): string {
  return `${values.image.registry}/${name}:${values.image.tag}`;
}

const tokenEnv: V1EnvVar = {
  name: "TAPLINE_TOKEN",
  valueFrom: { secretKeyRef: { name: NAMES.tokenSecret, key: TOKEN_KEY } },
};
const tapConfigVolume: V1Volume = { name: "tap-config", configMap: { name: NAMES.tapConfigMap } };
const tapConfigMount: V1VolumeMount = { name: "tap-config", mountPath: TAP_CONFIG_MOUNT, readOnly: true };

/** Pod Security `baseline` (and `restricted`) compliant: no privileges at all. */
const hubSecurity: V1SecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

function hubDeployment({ namespace: ns, values }: ManifestInput): V1Deployment {
  const podLabels = { ...HUB_SELECTOR, [PART_OF_LABEL]: PART_OF };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(NAMES.hubDeployment, ns, COMPONENTS.hub),
    spec: {
      replicas: 1,
      // One SQLite store on an emptyDir: never two hubs at once.
      strategy: { type: "Recreate" },
      selector: { matchLabels: HUB_SELECTOR },
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: NAMES.serviceAccount,
          securityContext: { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: NAMES.hubContainer,
              image: image(values, IMAGE_NAMES.hub),
              imagePullPolicy: values.image.pullPolicy,
              ports: [{ name: HUB_PORT_NAME, containerPort: HUB_PORT, protocol: "TCP" }],
              args: [
                "--host", "0.0.0.0",
                "--port", String(HUB_PORT),
                "--storage", `${HUB_DATA_DIR}/entries.db`,
                "--storage-limit", values.tap.storageLimit,
                "--ui-dir", HUB_UI_DIR,
                ...eachArg("--redact", values.tap.redact),
                ...unless(values.tap.defaultRedact, ["--no-default-redact"]),
              ],
              env: [tokenEnv, { name: "TAPLINE_TAP_CONFIG", value: TAP_CONFIG_MOUNT }],
              readinessProbe: { httpGet: { path: "/api/health", port: HUB_PORT_NAME }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: "/api/health", port: HUB_PORT_NAME }, periodSeconds: 20, failureThreshold: 6 },
              resources: values.hub.resources,
              securityContext: hubSecurity,
              // Read-only root: SQLite's store and its temporary files get their own volumes.
              volumeMounts: [tapConfigMount, { name: "data", mountPath: HUB_DATA_DIR }, { name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [tapConfigVolume, { name: "data", emptyDir: {} }, { name: "tmp", emptyDir: {} }],
        },
      },
    },
  };
}

function workerDaemonSet({ namespace: ns, values }: ManifestInput): V1DaemonSet {
  const podLabels = { ...WORKER_SELECTOR, [PART_OF_LABEL]: PART_OF };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta(NAMES.workerDaemonSet, ns, COMPONENTS.worker),
    spec: {
      selector: { matchLabels: WORKER_SELECTOR },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%" } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: NAMES.serviceAccount,
          priorityClassName: NAMES.priorityClass,
          // Capture on the node's interfaces (`any`, the pods' veths).
          hostNetwork: true,
          // Only TLS capture (uprobes on other processes' libssl) and mesh capture (their
          // /proc/PID/ns/net) need to see other processes.
          hostPID: anyOf(values.tap.tls, values.tap.mesh),
          dnsPolicy: "ClusterFirstWithHostNet",
          nodeSelector: values.worker.nodeSelector,
          tolerations: values.worker.tolerations,
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              // The worker runs the native capture sidecar (tapline-capture) as its child
              // process over a unix socket, so the capture capabilities sit on this container.
              name: NAMES.workerContainer,
              image: image(values, IMAGE_NAMES.worker),
              imagePullPolicy: values.image.pullPolicy,
              args: [
                "--hub", `ws://${NAMES.hubService}.${ns}.svc:${HUB_PORT}/ws/worker`,
                "--sidecar", CAPTURE_BINARY,
                "--state-dir", WORKER_STATE_DIR,
                "--pcap-limit", values.tap.pcapLimit,
                ...when(values.tap.tls, ["--tls"]),
                ...when(values.tap.mesh, ["--mesh"]),
              ],
              env: [
                tokenEnv,
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                // Node 20 sizes its heap from the node's memory; the worker restarts itself with a
                // heap limit at half of this (packages/worker/src/runtime/heap.ts).
                {
                  name: "TAPLINE_MEMORY_LIMIT_MIB",
                  valueFrom: { resourceFieldRef: { containerName: NAMES.workerContainer, resource: "limits.memory", divisor: "1Mi" } },
                },
              ],
              resources: values.worker.resources,
              securityContext: {
                // Named capabilities instead of `privileged: true` (SPEC §5 Secure).
                privileged: false,
                allowPrivilegeEscalation: false,
                runAsUser: 0,
                capabilities: { drop: ["ALL"], add: [...CAPTURE_CAPABILITIES, ...optionalCapabilities(values)] },
              },
              volumeMounts: [tapConfigMount, { name: "state", mountPath: WORKER_STATE_DIR }],
            },
          ],
          volumes: [tapConfigVolume, { name: "state", emptyDir: {} }],
        },
      },
    },
  };
}

/**
 * The capabilities --tls and --mesh add, each once, in their lists' order: a capability
 * both need is present when either is asked.
 */
function optionalCapabilities(values: ManifestValues): string[] {
  const sets: Array<[boolean, readonly string[]]> = [[values.tap.tls, TLS_CAPABILITIES], [values.tap.mesh, MESH_CAPABILITIES]];
  const caps = [...new Set(sets.flatMap(([, list]) => list))];
  return caps.flatMap((cap) => when(anyOf(...sets.filter(([, list]) => list.includes(cap)).map(([flag]) => flag)), [cap]));
}
