import { describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { podInfo, type PodInfo } from "./ipIndex.js";
import { meshScope, meshSidecar, MESH_SCOPE_NONE } from "./mesh.js";

// Shaped like what Istio's injector and others leave on a pod (kubectl get pod -o json, trimmed).
const pod = (name: string, ip: string, spec: Partial<V1Pod["spec"]> = {}, annotations?: Record<string, string>, host = false): V1Pod => ({
  metadata: { name, namespace: "shop", uid: `uid-${name}`, annotations },
  spec: { nodeName: "node-a", hostNetwork: host, containers: [{ name: "app", image: "shop/app:1" }], ...spec },
  status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
});

describe("meshSidecar", () => {
  it("recognises Istio by annotation, sidecar container or native sidecar, and other Envoy sidecars by image", () => {
    expect(meshSidecar(pod("a", "10.1.0.1", {}, { "sidecar.istio.io/status": '{"containers":["istio-proxy"]}' }))).toBe("istio");
    expect(meshSidecar(pod("b", "10.1.0.2", { containers: [{ name: "app" }, { name: "istio-proxy", image: "docker.io/istio/proxyv2:1.22.0" }] }))).toBe("istio");
    expect(meshSidecar(pod("c", "10.1.0.3", { initContainers: [{ name: "istio-proxy", restartPolicy: "Always" }] }))).toBe("istio");
    expect(meshSidecar(pod("d", "10.1.0.4", { containers: [{ name: "app" }, { name: "envoy-sidecar", image: "envoyproxy/envoy:v1.30.1" }] }))).toBe("envoy");
    expect(meshSidecar(pod("e", "10.1.0.5", { initContainers: [{ name: "setup", image: "envoyproxy/envoy:v1.30.1" }] }))).toBe("");
    expect(meshSidecar(pod("f", "10.1.0.6", { containers: [{ name: "app", image: "shop/envoy-admin-ui:2" }] }))).toBe("");
    expect(meshSidecar(pod("g", "10.1.0.7"))).toBe("");
  });
});

describe("meshScope", () => {
  const istio = { "sidecar.istio.io/status": "{}" };
  const pods = [
    pod("front-1", "10.1.0.5", {}, istio),
    pod("front-2", "10.1.0.6", {}, istio),
    pod("cart-1", "10.1.0.7"),
    pod("gateway", "192.168.0.10", {}, istio, true),
  ].map((p) => podInfo(p)!) as PodInfo[];

  it("lists the tapped meshed pods' IPs, leaving out plain and host-network pods", () => {
    expect(pods.map((p) => p.meshed)).toEqual([true, true, false, true]);
    expect(meshScope(pods, { podRegex: ".*", namespaces: ["shop"] })).toBe("10.1.0.5,10.1.0.6");
    expect(meshScope(pods, { podRegex: "front-2", namespaces: ["shop"] })).toBe("10.1.0.6");
  });

  it("says none when no tapped pod is meshed", () => {
    expect(meshScope(pods, { podRegex: "cart", namespaces: ["shop"] })).toBe(MESH_SCOPE_NONE);
    expect(meshScope(pods, { podRegex: ".*", namespaces: ["other"] })).toBe(MESH_SCOPE_NONE);
  });
});
