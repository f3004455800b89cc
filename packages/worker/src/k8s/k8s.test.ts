import { describe, expect, it } from "vitest";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import type { EndpointInit } from "@tapline/protocol";
import { IpIndex } from "./ipIndex.js";
import { captureFilter, tappedIps, TapTargetError, podMatcher } from "./tapTarget.js";

// Shaped like `kubectl get pod -o json` output from a Deployment's pod.
const pod = (name: string, ns: string, ip: string, extra: Partial<{ node: string; host: boolean; labels: Record<string, string>; ports: number[]; phase: string; rs: string; hash: string }> = {}): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: ns,
    uid: `uid-${ns}-${name}`,
    labels: { ...(extra.labels ?? {}), ...(extra.hash ? { "pod-template-hash": extra.hash } : {}) },
    ownerReferences: extra.rs ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: extra.rs, uid: "rs", controller: true }] : undefined,
  },
  spec: { nodeName: extra.node ?? "node-a", hostNetwork: extra.host, containers: [{ name: "c", image: "x", ports: (extra.ports ?? []).map((p) => ({ containerPort: p })) }] },
  status: { phase: extra.phase ?? "Running", podIP: ip, podIPs: [{ ip }] },
});
const service = (name: string, ns: string, clusterIP: string, selector: Record<string, string>): V1Service => ({
  metadata: { name, namespace: ns },
  spec: { clusterIP, clusterIPs: [clusterIP], selector },
});

describe("IpIndex", () => {
  const index = new IpIndex();
  index.upsertPod(pod("front-7d4b9c-abcde", "shop", "10.1.0.5", { labels: { app: "front" }, rs: "front-7d4b9c", hash: "7d4b9c" }));
  index.upsertPod(pod("cart-0", "shop", "10.1.0.6", { labels: { app: "cart" } }));
  index.upsertPod(pod("node-exporter", "mon", "192.168.0.10", { host: true, ports: [9100] }));
  index.upsertPod(pod("kube-proxy", "kube-system", "192.168.0.10", { host: true, ports: [10256] }));
  index.upsertService(service("cart", "shop", "10.96.0.20", { app: "cart" }));

  const resolve = (ip: string, port = 0) => {
    const ep: EndpointInit = { ip, port };
    index.enrich(ep);
    return ep;
  };

  it("resolves pod IPs to pod, namespace, node, workload and service", () => {
    expect(resolve("10.1.0.5")).toMatchObject({ pod: "front-7d4b9c-abcde", namespace: "shop", node: "node-a", workload: "front" });
    expect(resolve("10.1.0.6")).toMatchObject({ pod: "cart-0", service: "cart" });
  });
  it("resolves service ClusterIPs to the service", () => {
    expect(resolve("10.96.0.20", 80)).toMatchObject({ service: "cart", namespace: "shop" });
    expect(resolve("10.96.0.20").pod).toBeUndefined();
  });
  it("tells host-network pods on one node IP apart by port", () => {
    expect(resolve("192.168.0.10", 9100).pod).toBe("node-exporter");
    expect(resolve("192.168.0.10", 10256).pod).toBe("kube-proxy");
    expect(resolve("192.168.0.10", 22).pod).toBeUndefined();
  });
  it("leaves unknown IPs as they are and forgets deleted or finished pods", () => {
    expect(resolve("8.8.8.8")).toEqual({ ip: "8.8.8.8", port: 0 });
    index.deletePod(pod("cart-0", "shop", "10.1.0.6"));
    expect(resolve("10.1.0.6").pod).toBeUndefined();
    index.upsertPod(pod("job-1", "shop", "10.1.0.7", { phase: "Succeeded" }));
    expect(resolve("10.1.0.7").pod).toBeUndefined();
  });
  it("keeps a pod's new IP after an update", () => {
    const i = new IpIndex();
    i.upsertPod(pod("a", "x", "10.0.0.1"));
    i.upsertPod(pod("a", "x", "10.0.0.2"));
    expect(i.podAt("10.0.0.1")).toBeUndefined();
    expect(i.podAt("10.0.0.2")?.name).toBe("a");
  });
});

describe("tap target", () => {
  const i = new IpIndex();
  i.upsertPod(pod("catalogue-1", "sock-shop", "10.1.0.1"));
  i.upsertPod(pod("front-end-1", "sock-shop", "10.1.0.2"));
  i.upsertPod(pod("orders-1", "sock-shop", "10.1.0.3"));
  i.upsertPod(pod("front-end-2", "other", "10.1.0.4"));
  const pods = i.podsOnNode("node-a");

  it("selects pods by regex and namespaces", () => {
    expect(tappedIps(pods, { podRegex: "(catalo.*|front-end.*)", namespaces: ["sock-shop"] })).toEqual(["10.1.0.1", "10.1.0.2"]);
    expect(tappedIps(pods, { podRegex: "front-end.*", allNamespaces: true })).toEqual(["10.1.0.2", "10.1.0.4"]);
    expect(tappedIps(pods, {})).toHaveLength(4);
  });
  it("rejects an invalid regex with a clear error", () => {
    expect(() => podMatcher({ podRegex: "(unclosed" })).toThrow(TapTargetError);
  });
  it("builds a kernel filter for the tapped IPs that tcpdump accepts", async () => {
    const { execFileSync } = await import("node:child_process");
    for (const f of [captureFilter(["10.1.0.1", "fd00::2"]), captureFilter([]), captureFilter(Array.from({ length: 500 }, (_, n) => `10.2.${n >> 8}.${n & 255}`))]) {
      // -d compiles the filter and prints the program without capturing
      expect(() => execFileSync("tcpdump", ["-i", "lo", "-d", f], { stdio: "pipe" })).not.toThrow();
    }
    expect(captureFilter(["10.1.0.1"])).toBe("(host 10.1.0.1) and (tcp or udp port 53)");
  });
});
