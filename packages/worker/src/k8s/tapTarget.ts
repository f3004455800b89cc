// Which pods on this node are tapped, and the kernel filter that keeps only their traffic.
import type { TapConfigInit } from "@tapline/protocol";
import type { PodInfo } from "./ipIndex.js";

export class TapTargetError extends Error {}

/** Compiles the pod regex once; an invalid one is a clear error (the CLI validates it first). */
export function podMatcher(config: TapConfigInit): (pod: PodInfo) => boolean {
  let re: RegExp;
  try {
    re = new RegExp(config.podRegex || ".*");
  } catch (err) {
    throw new TapTargetError(`invalid pod regex ${JSON.stringify(config.podRegex)}: ${(err as Error).message}`);
  }
  const namespaces = new Set(config.namespaces ?? []);
  const all = config.allNamespaces || namespaces.size === 0;
  return (pod) => (all || namespaces.has(pod.namespace)) && re.test(pod.name);
}

/** IPs of the tapped pods among `pods`, sorted (host-network pods are tapped by their node IP). */
export function tappedIps(pods: readonly PodInfo[], config: TapConfigInit): string[] {
  const match = podMatcher(config);
  const ips = new Set<string>();
  for (const p of pods) if (match(p)) for (const ip of p.ips) ips.add(ip);
  return [...ips].sort();
}

/** Classic BPF allows 4096 instructions; each `host` test costs about 8 (IPv4 and IPv6 paths). */
const MAX_HOSTS = 400;

/**
 * A libpcap filter for the tapped IPs: TCP to or from them, plus DNS. With no tapped IP the
 * filter matches nothing (the sidecar keeps running and the filter is swapped in later).
 */
export function captureFilter(ips: readonly string[]): string {
  if (!ips.length) return "tcp and host 0.0.0.0 and host 255.255.255.255"; // matches no packet
  if (ips.length > MAX_HOSTS) {
    // Too many pods for per-host tests: capture TCP and DNS of every pod and filter in the worker.
    return "tcp or udp port 53";
  }
  const hosts = ips.map((ip) => `host ${ip}`).join(" or ");
  return `(${hosts}) and (tcp or udp port 53)`;
}
