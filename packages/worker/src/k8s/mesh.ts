// Which pods carry a service-mesh sidecar (SPEC §2: "detects Envoy/Istio sidecars so mesh
// traffic is seen"), and the scope the capture sidecar's `--mesh` should take from the tap
// target. The node-side half lives in native/src/mesh.c: it finds the namespaces whose Envoy
// runs and captures their loopback; this half tells it which of them are tapped pods.
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { TapConfigInit } from "@tapline/protocol";
import type { PodInfo } from "./ipIndex.js";
import { podMatcher } from "./tapTarget.js";

/** The container Istio's injector adds (a native sidecar in initContainers since Istio 1.19 on k8s >= 1.28). */
export const ISTIO_PROXY_CONTAINER = "istio-proxy";

/** The sidecar's scope that matches no namespace (native/README.md "Service mesh"). */
export const MESH_SCOPE_NONE = "none";

/**
 * "istio" for a pod Istio injected (its status annotation, or an istio-proxy container), "envoy"
 * for another Envoy sidecar (an image named envoy, as Consul Connect and App Mesh inject), else "".
 */
export function meshSidecar(pod: V1Pod): "istio" | "envoy" | "" {
  if (pod.metadata?.annotations?.["sidecar.istio.io/status"]) return "istio";
  const containers: V1Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  if (containers.some((c) => c.name === ISTIO_PROXY_CONTAINER)) return "istio";
  // An init container that runs to completion is no sidecar; a native sidecar restarts "Always".
  const running = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always")];
  if (running.some((c) => /(^|\/)envoy(:|@|$)|\/envoy-?proxy/.test(c.image ?? ""))) return "envoy";
  return "";
}

/**
 * The `mesh_scope` to send the capture sidecar: the IPs of the tapped, meshed pods (so the
 * loopback of untapped meshed pods stays out), or MESH_SCOPE_NONE when there is none.
 * Host-network pods are left out: their loopback is the node's.
 */
export function meshScope(pods: readonly PodInfo[], config: TapConfigInit): string {
  const match = podMatcher(config);
  const ips = new Set<string>();
  for (const p of pods) if (p.meshed && !p.hostNetwork && match(p)) for (const ip of p.ips) ips.add(ip);
  return ips.size ? [...ips].sort().join(",") : MESH_SCOPE_NONE;
}
