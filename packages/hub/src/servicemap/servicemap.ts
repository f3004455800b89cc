// The service map: nodes are pods (namespace/pod), else services (namespace/service), else the
// bare IP (external); one edge per (src, dst, protocol) with count, errors (summarizeEntry's
// isError, stored in is_error), latency percentiles (nearest rank) and bytes.
import { Protocol, parseProtocolName } from "@tapline/protocol";
import type { ServiceMapEdgeInit, ServiceMapNodeInit } from "@tapline/protocol";

export interface EndpointColumns {
  ip: string;
  pod: string;
  namespace: string;
  service: string;
}

export function endpointNode(e: EndpointColumns): ServiceMapNodeInit {
  if (e.pod) return { id: `${e.namespace}/${e.pod}`, name: e.pod, namespace: e.namespace, kind: "pod" };
  if (e.service) return { id: `${e.namespace}/svc/${e.service}`, name: e.service, namespace: e.namespace, kind: "service" };
  return { id: e.ip || "unknown", name: e.ip || "unknown", namespace: "", kind: "external" };
}

export interface MapRow {
  src_ip: string; src_pod: string; src_namespace: string; src_service: string;
  dst_ip: string; dst_pod: string; dst_namespace: string; dst_service: string;
  protocol: string; is_error: number; elapsed_ms: number; size: number;
}

export const MAP_COLUMNS = "src_ip, src_pod, src_namespace, src_service, dst_ip, dst_pod, dst_namespace, dst_service, protocol, is_error, elapsed_ms, size";

interface EdgeAcc {
  src: string; dst: string; protocol: string; count: number; errors: number; bytes: number; latencies: number[];
}

/** Nearest-rank percentile of ascending `sorted` (p in (0, 100]). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export class ServiceMapBuilder {
  private readonly nodes = new Map<string, ServiceMapNodeInit>();
  private readonly edges = new Map<string, EdgeAcc>();

  add(r: MapRow): void {
    const src = endpointNode({ ip: r.src_ip, pod: r.src_pod, namespace: r.src_namespace, service: r.src_service });
    const dst = endpointNode({ ip: r.dst_ip, pod: r.dst_pod, namespace: r.dst_namespace, service: r.dst_service });
    this.nodes.set(src.id!, src);
    this.nodes.set(dst.id!, dst);
    const key = `${src.id}\u0000${dst.id}\u0000${r.protocol}`;
    let e = this.edges.get(key);
    if (!e) this.edges.set(key, (e = { src: src.id!, dst: dst.id!, protocol: r.protocol, count: 0, errors: 0, bytes: 0, latencies: [] }));
    e.count++;
    e.errors += r.is_error ? 1 : 0;
    e.bytes += r.size;
    e.latencies.push(r.elapsed_ms);
  }

  build(): { nodes: ServiceMapNodeInit[]; edges: ServiceMapEdgeInit[] } {
    const edges: ServiceMapEdgeInit[] = [];
    for (const e of this.edges.values()) {
      const sorted = Float64Array.from(e.latencies).sort();
      const arr = Array.from(sorted);
      edges.push({
        src: e.src, dst: e.dst, protocol: parseProtocolName(e.protocol) ?? Protocol.PROTOCOL_UNSPECIFIED,
        count: e.count, errors: e.errors, bytes: e.bytes,
        p50Ms: percentile(arr, 50), p95Ms: percentile(arr, 95), p99Ms: percentile(arr, 99),
      });
    }
    edges.sort((a, b) => (b.count ?? 0) - (a.count ?? 0));
    return { nodes: [...this.nodes.values()].sort((a, b) => a.id!.localeCompare(b.id!)), edges };
  }
}
