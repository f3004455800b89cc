// IP (and port) to pod / service / workload, from the pods and services a watch delivers.
// Pure: the watcher (watcher.ts) feeds it; tests feed it real pod objects.
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import type { EndpointInit } from "@tapline/protocol";
import { meshSidecar } from "./mesh.js";

export interface PodInfo {
  uid: string;
  name: string;
  namespace: string;
  node: string;
  ips: string[];
  hostNetwork: boolean;
  labels: Record<string, string>;
  workload: string;
  /** container ports, for resolving host-network pods that share the node's IP */
  ports: number[];
  phase: string;
  /** runs a mesh sidecar (./mesh.ts): its plaintext is on its own loopback, not on the veth */
  meshed: boolean;
}

interface ServiceInfo {
  key: string;
  name: string;
  namespace: string;
  clusterIps: string[];
  selector: Record<string, string>;
}

export function podInfo(pod: V1Pod): PodInfo | undefined {
  const meta = pod.metadata;
  if (!meta?.name || !meta.namespace) return undefined;
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (!ips.length && pod.status?.podIP) ips.push(pod.status.podIP);
  return {
    uid: meta.uid ?? `${meta.namespace}/${meta.name}`,
    name: meta.name,
    namespace: meta.namespace,
    node: pod.spec?.nodeName ?? "",
    ips,
    hostNetwork: !!pod.spec?.hostNetwork,
    labels: meta.labels ?? {},
    workload: workloadOf(pod),
    ports: (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.hostPort ?? p.containerPort)).filter((p): p is number => !!p),
    phase: pod.status?.phase ?? "",
    meshed: meshSidecar(pod) !== "",
  };
}

/** The owning workload: a ReplicaSet's Deployment (its name less the pod-template-hash), else the owner's name. */
export function workloadOf(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return "";
  const hash = pod.metadata?.labels?.["pod-template-hash"];
  if (owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}

export class IpIndex {
  private readonly pods = new Map<string, PodInfo>();
  private readonly services = new Map<string, ServiceInfo>();
  /** pod IP -> pod (not host-network) */
  private readonly byIp = new Map<string, PodInfo>();
  /** node IP -> host-network pods on it */
  private readonly hostPods = new Map<string, PodInfo[]>();
  private readonly byClusterIp = new Map<string, ServiceInfo>();
  private version = 0;

  /** Increases on every change; lets callers cache derived values. */
  get generation(): number {
    return this.version;
  }

  upsertPod(pod: V1Pod): void {
    const info = podInfo(pod);
    if (!info) return;
    this.removePod(info.uid);
    if (info.phase === "Succeeded" || info.phase === "Failed") return; // its IP may be reused
    this.pods.set(info.uid, info);
    for (const ip of info.ips) {
      if (info.hostNetwork) this.hostPods.set(ip, [...(this.hostPods.get(ip) ?? []), info]);
      else this.byIp.set(ip, info);
    }
    this.version++;
  }

  deletePod(pod: V1Pod): void {
    const info = podInfo(pod);
    if (info) this.removePod(info.uid);
  }

  upsertService(svc: V1Service): void {
    const meta = svc.metadata;
    if (!meta?.name || !meta.namespace) return;
    const key = `${meta.namespace}/${meta.name}`;
    this.deleteService(svc);
    const clusterIps = (svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter((ip) => ip && ip !== "None");
    const info: ServiceInfo = { key, name: meta.name, namespace: meta.namespace, clusterIps, selector: svc.spec?.selector ?? {} };
    this.services.set(key, info);
    for (const ip of clusterIps) this.byClusterIp.set(ip, info);
    this.version++;
  }

  deleteService(svc: V1Service): void {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const old = this.services.get(key);
    if (!old) return;
    this.services.delete(key);
    for (const ip of old.clusterIps) if (this.byClusterIp.get(ip) === old) this.byClusterIp.delete(ip);
    this.version++;
  }

  /** The pod behind ip:port (a host-network pod is told apart by its ports), or undefined. */
  podAt(ip: string, port = 0): PodInfo | undefined {
    const pod = this.byIp.get(ip);
    if (pod) return pod;
    const host = this.hostPods.get(ip);
    if (!host?.length) return undefined;
    return host.find((p) => p.ports.includes(port)) ?? (host.length === 1 && !port ? host[0] : undefined);
  }

  /** Fills pod, namespace, service, node and workload of an endpoint from its ip and port. */
  enrich(ep: EndpointInit): void {
    const ip = ep.ip ?? "";
    const svc = this.byClusterIp.get(ip);
    if (svc) {
      ep.service = svc.name;
      ep.namespace = svc.namespace;
      return;
    }
    const pod = this.podAt(ip, ep.port ?? 0);
    if (!pod) return;
    ep.pod = pod.name;
    ep.namespace = pod.namespace;
    ep.node = pod.node;
    ep.workload = pod.workload;
    const service = this.serviceOf(pod);
    if (service) ep.service = service;
  }

  /** The first service (by name) whose selector matches the pod's labels. */
  serviceOf(pod: PodInfo): string {
    let best = "";
    for (const s of this.services.values()) {
      if (s.namespace !== pod.namespace) continue;
      const sel = Object.entries(s.selector);
      if (!sel.length || !sel.every(([k, v]) => pod.labels[k] === v)) continue;
      if (!best || s.name < best) best = s.name;
    }
    return best;
  }

  podsOnNode(node: string): PodInfo[] {
    return [...this.pods.values()].filter((p) => p.node === node);
  }

  allPods(): PodInfo[] {
    return [...this.pods.values()];
  }

  private removePod(uid: string): void {
    const old = this.pods.get(uid);
    if (!old) return;
    this.pods.delete(uid);
    for (const ip of old.ips) {
      if (old.hostNetwork) {
        const rest = (this.hostPods.get(ip) ?? []).filter((p) => p.uid !== uid);
        if (rest.length) this.hostPods.set(ip, rest);
        else this.hostPods.delete(ip);
      } else if (this.byIp.get(ip)?.uid === uid) this.byIp.delete(ip);
    }
    this.version++;
  }
}
