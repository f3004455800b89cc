// The resource catalogue of the test API server and the discovery documents built from it:
// the legacy /api, /apis and /apis/<group>/<version> shapes (client-node, older kubectl) and
// aggregated discovery v2 (kubectl 1.30+ asks for it in Accept).

export interface ResourceDef {
  group: string; // "" for the core group
  version: string;
  resource: string; // plural, as in URLs
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  /** Subresources served besides the object itself ("status", "log", "portforward", "scale"). */
  subresources: string[];
}

const CRUD = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function def(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: { shortNames?: string[]; subresources?: string[]; verbs?: string[] } = {},
): ResourceDef {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    verbs: extra.verbs ?? CRUD,
    shortNames: extra.shortNames,
    subresources: extra.subresources ?? [],
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  def("", "v1", "namespaces", "Namespace", false, { shortNames: ["ns"], subresources: ["status"], verbs: CRUD.filter((v) => v !== "deletecollection") }),
  def("", "v1", "pods", "Pod", true, { shortNames: ["po"], subresources: ["status", "log", "portforward"] }),
  def("", "v1", "services", "Service", true, { shortNames: ["svc"], subresources: ["status"], verbs: CRUD }),
  def("", "v1", "endpoints", "Endpoints", true, { shortNames: ["ep"] }),
  def("", "v1", "nodes", "Node", false, { shortNames: ["no"], subresources: ["status"] }),
  def("", "v1", "events", "Event", true, { shortNames: ["ev"] }),
  def("", "v1", "configmaps", "ConfigMap", true, { shortNames: ["cm"] }),
  def("", "v1", "secrets", "Secret", true),
  def("", "v1", "serviceaccounts", "ServiceAccount", true, { shortNames: ["sa"] }),
  def("apps", "v1", "deployments", "Deployment", true, { shortNames: ["deploy"], subresources: ["status", "scale"] }),
  def("apps", "v1", "daemonsets", "DaemonSet", true, { shortNames: ["ds"], subresources: ["status"] }),
  def("apps", "v1", "replicasets", "ReplicaSet", true, { shortNames: ["rs"], subresources: ["status", "scale"] }),
  def("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
  def("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
  def("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
  def("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
  def("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false, { shortNames: ["pc"] }),
  def("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, { verbs: ["create"] }),
];

export function groupVersion(d: { group: string; version: string }): string {
  return d.group === "" ? d.version : `${d.group}/${d.version}`;
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function findKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** Group names in the order discovery lists them (core first). */
function groups(): string[] {
  return [...new Set(RESOURCES.map((r) => r.group).filter((g) => g !== ""))];
}

export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-tapline-test",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
};

export function apiVersions(serverAddress: string): unknown {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList(): unknown {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups().map((name) => apiGroup(name)),
  };
}

export function apiGroup(name: string): unknown {
  const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))].map((version) => ({
    groupVersion: `${name}/${version}`,
    version,
  }));
  if (versions.length === 0) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", name, versions, preferredVersion: versions[0] };
}

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ["get", "patch", "update"],
  scale: ["get", "patch", "update"],
  log: ["get"],
  portforward: ["create", "get"],
};

function subresourceKind(d: ResourceDef, sub: string): { group: string; version: string; kind: string } {
  if (sub === "scale") return { group: "autoscaling", version: "v1", kind: "Scale" };
  if (sub === "portforward") return { group: "", version: "v1", kind: "PodPortForwardOptions" };
  return { group: d.group, version: d.version, kind: d.kind };
}

const IN_ALL_CATEGORY = new Set(["pods", "services", "deployments", "daemonsets", "replicasets"]);

/**
 * Aggregated discovery (apidiscovery.k8s.io/v2, KEP-3352): every group, version and resource
 * in one answer to /api or /apis, which kubectl 1.30+ asks for first.
 */
export function aggregatedDiscovery(core: boolean): unknown {
  const names = core ? [""] : groups();
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: names.map((g) => ({
      metadata: g === "" ? {} : { name: g },
      versions: [...new Set(RESOURCES.filter((r) => r.group === g).map((r) => r.version))].map((version) => ({
        version,
        freshness: "Current",
        resources: RESOURCES.filter((r) => r.group === g && r.version === version).map((d) => ({
          resource: d.resource,
          responseKind: { group: d.group, version: d.version, kind: d.kind },
          scope: d.namespaced ? "Namespaced" : "Cluster",
          singularResource: d.singular,
          verbs: d.verbs,
          ...(d.shortNames ? { shortNames: d.shortNames } : {}),
          ...(IN_ALL_CATEGORY.has(d.resource) ? { categories: ["all"] } : {}),
          ...(d.subresources.length
            ? { subresources: d.subresources.map((sub) => ({ subresource: sub, responseKind: subresourceKind(d, sub), verbs: SUBRESOURCE_VERBS[sub] ?? ["get"] })) }
            : {}),
        })),
      })),
    })),
  };
}

export function apiResourceList(group: string, version: string): unknown {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const d of defs) {
    resources.push({
      name: d.resource,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      ...(IN_ALL_CATEGORY.has(d.resource) ? { categories: ["all"] } : {}),
    });
    for (const sub of d.subresources) {
      const k = subresourceKind(d, sub);
      resources.push({
        name: `${d.resource}/${sub}`,
        singularName: "",
        namespaced: d.namespaced,
        kind: k.kind,
        ...(k.group !== d.group ? { group: k.group, version: k.version } : {}),
        verbs: SUBRESOURCE_VERBS[sub] ?? ["get"],
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersion({ group, version }), resources };
}
