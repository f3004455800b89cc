// The one settings tree: `~/.tapline/config.yaml` holds it, flags override it, `--set
// path=value` overrides both, and its `tap`/`image`/`hub`/`worker` parts are exactly the
// Helm chart's values (src/chart/ generates values.yaml from defaultConfig()).
import type { Toleration } from "../flags.js";
import { DEFAULT_IMAGE_REGISTRY, DEFAULT_RELEASE_NAMESPACE, HUB_PORT, defaultImageTag } from "../defaults.js";

export interface ResourceSpec {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** What the hub and the workers are told to capture; changing it never redeploys them. */
export interface TapTarget {
  /** Pods whose name matches this regular expression are tapped. */
  podRegex: string;
  /** Namespaces to tap; empty means every namespace. */
  namespaces: string[];
}

export interface ManifestValues {
  tap: TapTarget & {
    tls: boolean;
    /** Capture the plaintext loopback of Envoy/Istio-meshed pods (hostPID, SYS_ADMIN, SYS_PTRACE). */
    mesh: boolean;
    storageLimit: string;
    pcapLimit: string;
    redact: string[];
    defaultRedact: boolean;
  };
  image: { registry: string; tag: string; pullPolicy: string };
  hub: { resources: ResourceSpec };
  worker: {
    nodeSelector: Record<string, string>;
    tolerations: Toleration[];
    resources: ResourceSpec;
    captureResources: ResourceSpec;
  };
}

export interface TaplineConfig extends ManifestValues {
  releaseNamespace: string;
  /** Tap every namespace (-A); overrides tap.namespaces. */
  allNamespaces: boolean;
  proxy: { host: string; port: number; open: boolean };
  kube: { context: string; kubeconfig: string };
}

export function defaultConfig(): TaplineConfig {
  return {
    releaseNamespace: DEFAULT_RELEASE_NAMESPACE,
    allNamespaces: false,
    tap: {
      podRegex: ".*",
      namespaces: [],
      tls: false,
      mesh: false,
      storageLimit: "500Mi",
      pcapLimit: "200Mi",
      redact: [],
      defaultRedact: true,
    },
    image: { registry: DEFAULT_IMAGE_REGISTRY, tag: defaultImageTag(), pullPolicy: "IfNotPresent" },
    hub: { resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
    worker: {
      nodeSelector: {},
      // Capture on every node, tainted control-plane nodes included, as peers do.
      tolerations: [{ operator: "Exists" }],
      resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      captureResources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    },
    proxy: { host: "127.0.0.1", port: HUB_PORT, open: true },
    kube: { context: "", kubeconfig: "" },
  };
}

export function manifestValuesOf(c: ManifestValues): ManifestValues {
  return { tap: c.tap, image: c.image, hub: c.hub, worker: c.worker };
}
