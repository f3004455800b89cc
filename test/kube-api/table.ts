// Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` turns a get,
// list or watch answer into a meta.k8s.io/v1 Table, which is what `kubectl get` prints.
// Columns follow pkg/printers/internalversion for the resources kubectl users look at.
import type { ResourceDef } from "./discovery.js";
import type { KubeObject } from "./store.js";

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

function age(ts: string | undefined): string {
  if (!ts) return "<unknown>";
  let s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 10) return s ? `${m}m${s}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const col = (name: string, type = "string", priority = 0, format?: string): Column => ({
  name,
  type,
  ...(format ? { format } : {}),
  description: name,
  priority,
});

function podStatusReason(p: KubeObject): string {
  if (p.metadata.deletionTimestamp) return "Terminating";
  for (const cs of p.status?.containerStatuses ?? []) if (cs.state?.waiting?.reason) return cs.state.waiting.reason;
  return p.status?.reason ?? p.status?.phase ?? "Unknown";
}

function columnsFor(def: ResourceDef): { columns: Column[]; cells: (o: KubeObject) => unknown[] } {
  const name = col("Name", "string", 0, "name");
  switch (def.resource) {
    case "pods":
      return {
        columns: [name, col("Ready"), col("Status"), col("Restarts", "string"), col("Age"), col("IP", "string", 1), col("Node", "string", 1)],
        cells: (p) => {
          const cs: { ready?: boolean; restartCount?: number }[] = p.status?.containerStatuses ?? [];
          const total = (p.spec?.containers ?? []).length;
          return [
            p.metadata.name,
            `${cs.filter((c) => c.ready).length}/${total}`,
            podStatusReason(p),
            String(cs.reduce((n, c) => n + (c.restartCount ?? 0), 0)),
            age(p.metadata.creationTimestamp),
            p.status?.podIP ?? "<none>",
            p.spec?.nodeName ?? "<none>",
          ];
        },
      };
    case "deployments":
      return {
        columns: [name, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), col("Age")],
        cells: (d) => [
          d.metadata.name,
          `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
          d.status?.updatedReplicas ?? 0,
          d.status?.availableReplicas ?? 0,
          age(d.metadata.creationTimestamp),
        ],
      };
    case "daemonsets":
      return {
        columns: [name, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), col("Up-to-date", "integer"), col("Available", "integer"), col("Node Selector"), col("Age")],
        cells: (d) => [
          d.metadata.name,
          d.status?.desiredNumberScheduled ?? 0,
          d.status?.currentNumberScheduled ?? 0,
          d.status?.numberReady ?? 0,
          d.status?.updatedNumberScheduled ?? 0,
          d.status?.numberAvailable ?? 0,
          Object.entries(d.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>",
          age(d.metadata.creationTimestamp),
        ],
      };
    case "services":
      return {
        columns: [name, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), col("Age")],
        cells: (s) => [
          s.metadata.name,
          s.spec?.type ?? "ClusterIP",
          s.spec?.clusterIP ?? "<none>",
          "<none>",
          (s.spec?.ports ?? []).map((p: { port: number; protocol?: string }) => `${p.port}/${p.protocol ?? "TCP"}`).join(",") || "<none>",
          age(s.metadata.creationTimestamp),
        ],
      };
    case "replicasets":
      return {
        columns: [name, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), col("Age")],
        cells: (r) => [r.metadata.name, r.spec?.replicas ?? 0, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age(r.metadata.creationTimestamp)],
      };
    case "configmaps":
      return {
        columns: [name, col("Data", "integer"), col("Age")],
        cells: (c) => [c.metadata.name, Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, age(c.metadata.creationTimestamp)],
      };
    case "secrets":
      return {
        columns: [name, col("Type"), col("Data", "integer"), col("Age")],
        cells: (c) => [c.metadata.name, c.type ?? "Opaque", Object.keys(c.data ?? {}).length + Object.keys(c.stringData ?? {}).length, age(c.metadata.creationTimestamp)],
      };
    case "serviceaccounts":
      return {
        columns: [name, col("Secrets", "integer"), col("Age")],
        cells: (c) => [c.metadata.name, (c.secrets ?? []).length, age(c.metadata.creationTimestamp)],
      };
    case "endpoints":
      return {
        columns: [name, col("Endpoints"), col("Age")],
        cells: (e) => {
          const eps = (e.subsets ?? []).flatMap((s: { addresses?: { ip: string }[]; ports?: { port: number }[] }) =>
            (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])),
          );
          return [e.metadata.name, eps.join(",") || "<none>", age(e.metadata.creationTimestamp)];
        },
      };
    case "namespaces":
      return {
        columns: [name, col("Status"), col("Age")],
        cells: (n) => [n.metadata.name, n.status?.phase ?? "Active", age(n.metadata.creationTimestamp)],
      };
    case "nodes":
      return {
        columns: [name, col("Status"), col("Roles"), col("Age"), col("Version")],
        cells: (n) => {
          const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready");
          return [n.metadata.name, ready?.status === "True" ? "Ready" : "NotReady", "<none>", age(n.metadata.creationTimestamp), n.status?.nodeInfo?.kubeletVersion ?? ""];
        },
      };
    case "events":
      return {
        columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")],
        cells: (e) => [
          age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp),
          e.type ?? "",
          e.reason ?? "",
          `${String(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
          e.message ?? "",
        ],
      };
    default:
      return {
        columns: [name, col("Created At", "date", 0)],
        cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
      };
  }
}

export function toTable(def: ResourceDef, objects: KubeObject[], listMeta: Record<string, unknown>, includeObject: string | undefined): unknown {
  const { columns, cells } = columnsFor(def);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: columns,
    rows: objects.map((o) => ({
      cells: cells(o),
      ...(includeObject === "None"
        ? {}
        : {
            object:
              includeObject === "Object"
                ? o
                : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
          }),
    })),
  };
}
