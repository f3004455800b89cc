// ServiceMap (hub API) to graph elements: one node per workload, grouped by namespace,
// one edge per (src, dst, protocol) with a label users can read at a glance.
import { protocolName } from "@tapline/protocol";
import type { ServiceMap } from "@tapline/protocol";

export interface GraphNode {
  id: string;
  label: string;
  parent?: string;
  kind: string;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  protocol: string;
  label: string;
  count: number;
  errorRate: number;
  p50: number;
  p95: number;
  p99: number;
  /** The traffic filter that shows this edge's entries. */
  filter: string;
  srcNode: GraphNode;
  dstNode: GraphNode;
}

export interface Graph {
  nodes: GraphNode[];
  namespaces: GraphNode[];
  edges: GraphEdge[];
}

export function buildGraph(map: ServiceMap): Graph {
  const nodes = new Map<string, GraphNode>();
  const namespaces = new Map<string, GraphNode>();
  for (const n of map.nodes) {
    const id = n.id ?? "";
    const parent = n.namespace ? `ns:${n.namespace}` : undefined;
    if (parent && !namespaces.has(parent)) namespaces.set(parent, { id: parent, label: n.namespace ?? "", kind: "namespace" });
    nodes.set(id, { id, label: n.name || id, parent, kind: n.kind || "pod" });
  }
  const edges: GraphEdge[] = [];
  for (const e of map.edges) {
    const src = e.src ?? "";
    const dst = e.dst ?? "";
    for (const id of [src, dst]) if (!nodes.has(id)) nodes.set(id, { id, label: id, kind: "external" });
    const srcNode = nodes.get(src)!;
    const dstNode = nodes.get(dst)!;
    const protocol = protocolName(e.protocol);
    const count = Number(e.count);
    const errorRate = count ? Number(e.errors) / count : 0;
    edges.push({
      id: `${src}->${dst}:${protocol}`,
      source: src,
      target: dst,
      protocol,
      count,
      errorRate,
      p50: e.p50Ms ?? 0,
      p95: e.p95Ms ?? 0,
      p99: e.p99Ms ?? 0,
      label: `${protocol} ${count}${errorRate > 0 ? ` · ${(errorRate * 100).toFixed(errorRate < 0.1 ? 1 : 0)}% err` : ""}`,
      filter: edgeFilter(protocol, srcNode, dstNode),
      srcNode,
      dstNode,
    });
  }
  return { nodes: [...nodes.values()], namespaces: [...namespaces.values()], edges };
}

function endpointClause(side: "src" | "dst", node: GraphNode, namespace: string | undefined): string {
  if (node.kind === "external" || !namespace) {
    const [ip, port] = splitIpPort(node.id);
    return port ? `${side}.ip == ${quote(ip)}` : `${side}.ip == ${quote(node.id)}`;
  }
  const field = node.kind === "service" ? "service" : node.kind === "workload" ? "workload" : "pod";
  return `${side}.${field} == ${quote(node.label)} and ${side}.namespace == ${quote(namespace)}`;
}

function splitIpPort(id: string): [string, string | undefined] {
  const m = /^(.*):(\d+)$/.exec(id);
  return m && !id.includes("::") ? [m[1], m[2]] : [id, undefined];
}

export function edgeFilter(protocol: string, src: GraphNode, dst: GraphNode): string {
  const ns = (n: GraphNode) => (n.parent?.startsWith("ns:") ? n.parent.slice(3) : undefined);
  return `${protocol} and ${endpointClause("src", src, ns(src))} and ${endpointClause("dst", dst, ns(dst))}`;
}

export function quote(s: string): string {
  return JSON.stringify(s);
}
