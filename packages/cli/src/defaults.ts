// Every resource name, label, selector, image, port and default setting of a Tapline
// deployment lives here, so the CLI, the manifests, the Helm chart and `clean` agree.
import { cliVersion } from "./version.js";

export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF = "tapline";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const NAME_LABEL = "app.kubernetes.io/name";
/** `clean`, `check` and `logs` find our objects with this selector alone. */
export const PART_OF_SELECTOR = `${PART_OF_LABEL}=${PART_OF}`;

/** Server-side apply field manager; every object we own is applied by it. */
export const FIELD_MANAGER = "tapline";

export const DEFAULT_RELEASE_NAMESPACE = "tapline";

export const NAMES = {
  serviceAccount: "tapline",
  clusterRole: "tapline",
  clusterRoleBinding: "tapline",
  tokenSecret: "tapline-token",
  tapConfigMap: "tapline-tap",
  hubDeployment: "tapline-hub",
  hubService: "tapline-hub",
  hubContainer: "hub",
  workerDaemonSet: "tapline-worker",
  workerContainer: "worker",
  priorityClass: "tapline-worker",
} as const;

export const COMPONENTS = { hub: "hub", worker: "worker" } as const;

/** Pod selectors of the hub Deployment and the worker DaemonSet (immutable once created). */
export const HUB_SELECTOR: Record<string, string> = { [NAME_LABEL]: NAMES.hubDeployment, [COMPONENT_LABEL]: COMPONENTS.hub };
export const WORKER_SELECTOR: Record<string, string> = { [NAME_LABEL]: NAMES.workerDaemonSet, [COMPONENT_LABEL]: COMPONENTS.worker };

export const HUB_PORT = 8899;
export const HUB_PORT_NAME = "http";

/** The key of the worker-to-hub token in the token Secret. */
export const TOKEN_KEY = "token";
/** Keys of the tap-target ConfigMap, read (and watched) by the hub and the workers. */
export const TAP_KEYS = { podRegex: "podRegex", namespaces: "namespaces" } as const;
/** Where the tap-target ConfigMap is mounted; kubelet refreshes it in place, no restart. */
export const TAP_CONFIG_MOUNT = "/etc/tapline/tap";
/** The worker's PCAP ring and the capture sidecar's control socket (SPEC §2). */
export const WORKER_STATE_DIR = "/var/lib/tapline/worker";
/** Where the worker image installs the native capture sidecar (deploy/worker.Dockerfile). */
export const CAPTURE_BINARY = "/usr/local/bin/tapline-capture";
/** Where the hub image holds the built UI (deploy/hub.Dockerfile). */
export const HUB_UI_DIR = "/app/ui";
export const HUB_DATA_DIR = "/var/lib/tapline/hub";

export const DEFAULT_IMAGE_REGISTRY = "ghcr.io/tapline";
export const IMAGE_NAMES = { hub: "tapline-hub", worker: "tapline-worker" } as const;
export function defaultImageTag(): string {
  return `v${cliVersion()}`;
}

/** Linux capabilities of the capture sidecar: AF_PACKET capture (SPEC §2, §5 Secure). */
export const CAPTURE_CAPABILITIES = ["NET_RAW", "NET_ADMIN"] as const;
/** Added with --tls: eBPF uprobes on libssl / Go crypto/tls in other processes. */
export const TLS_CAPABILITIES = ["BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"] as const;
/**
 * Added with --mesh: the sidecar opens /proc/PID/ns/net of each Envoy (uid 1337, so a ptrace
 * access check: SYS_PTRACE, ptrace(2) "Ptrace access mode checking") and setns(2)es into that
 * network namespace (CAP_SYS_ADMIN in its own and the target's user namespace). SYS_PTRACE is
 * shared with TLS_CAPABILITIES and listed once when both are asked.
 */
export const MESH_CAPABILITIES = ["SYS_PTRACE", "SYS_ADMIN"] as const;

/** Verbs the CLI needs (checked by `tapline check` with SelfSubjectAccessReview). */
export interface AccessNeed {
  verb: string;
  group: string;
  resource: string;
  /** Namespaced needs are checked in the release namespace; others cluster-wide. */
  namespaced: boolean;
  why: string;
}

/** The workers' and hub's ClusterRole: read-only, exactly these resources (SPEC §2 Deploy). */
export const WATCHED_RESOURCES = ["pods", "services", "endpoints", "namespaces", "nodes"] as const;
export const WATCH_VERBS = ["get", "list", "watch"] as const;

const cliWrites: Array<[string, string, boolean]> = [
  ["", "namespaces", false],
  ["", "serviceaccounts", true],
  ["", "secrets", true],
  ["", "configmaps", true],
  ["", "services", true],
  ["apps", "deployments", true],
  ["apps", "daemonsets", true],
  ["rbac.authorization.k8s.io", "clusterroles", false],
  ["rbac.authorization.k8s.io", "clusterrolebindings", false],
  ["scheduling.k8s.io", "priorityclasses", false],
];

export const CLI_ACCESS: AccessNeed[] = [
  ...cliWrites.flatMap(([group, resource, namespaced]) =>
    ["get", "create", "patch", "delete"].map((verb) => ({ verb, group, resource, namespaced, why: "tap/clean" })),
  ),
  { verb: "list", group: "", resource: "pods", namespaced: false, why: "list tapped pods" },
  { verb: "watch", group: "", resource: "pods", namespaced: true, why: "progress while deploying" },
  { verb: "create", group: "", resource: "pods/portforward", namespaced: true, why: "reach the hub" },
  { verb: "get", group: "", resource: "pods/log", namespaced: true, why: "tapline logs" },
  { verb: "list", group: "", resource: "events", namespaced: true, why: "image pull errors" },
  // Granting a ClusterRole requires holding its permissions (RBAC escalation check).
  ...WATCHED_RESOURCES.flatMap((resource) =>
    WATCH_VERBS.map((verb) => ({ verb, group: "", resource, namespaced: false, why: "workers (granted via ClusterRole)" })),
  ),
];

/** Labels every object we create carries. */
export function commonLabels(component?: string): Record<string, string> {
  const labels: Record<string, string> = { [PART_OF_LABEL]: PART_OF };
  if (component) labels[COMPONENT_LABEL] = component;
  return labels;
}

export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
