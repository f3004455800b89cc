// What one table row shows, derived once per entry (not per render).
import { entryFromJson, protocolName, statusName, summarizeEntry } from "@tapline/protocol";
import type { Entry, EndpointInit } from "@tapline/protocol";

export interface EntryRow {
  id: string;
  /** ms since the epoch */
  timeMs: number;
  protocol: string;
  tls: boolean;
  src: string;
  dst: string;
  srcNamespace: string;
  dstNamespace: string;
  method: string;
  target: string;
  status: string;
  isError: boolean;
  elapsedMs: number;
  size: number;
  entryStatus: string;
  entry: Entry;
}

/** "pod (namespace)" when the pod is known, else ip:port; the service name when there is no pod. */
export function endpointLabel(ep: EndpointInit | null | undefined): string {
  if (!ep) return "";
  if (ep.pod) return ep.pod;
  if (ep.service) return ep.service;
  if (ep.process) return `${ep.process} ${formatHostPort(ep.ip ?? "", ep.port ?? 0)}`;
  return formatHostPort(ep.ip ?? "", ep.port ?? 0);
}

export function formatHostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function toRow(entry: Entry): EntryRow {
  const s = summarizeEntry(entry);
  return {
    id: entry.id,
    timeMs: entry.timestampNs / 1e6,
    protocol: protocolName(entry.protocol),
    tls: entry.tls,
    src: endpointLabel(entry.src),
    dst: endpointLabel(entry.dst),
    srcNamespace: entry.src?.namespace ?? "",
    dstNamespace: entry.dst?.namespace ?? "",
    method: s.method,
    target: s.target,
    status: s.status,
    isError: s.isError,
    elapsedMs: entry.elapsedMs,
    size: entry.requestSize + entry.responseSize,
    entryStatus: statusName(entry.status),
    entry,
  };
}

/** Entries arrive from the hub in the protobuf JSON mapping; decode them into typed messages. */
export function rowFromJson(json: Record<string, unknown>): EntryRow | undefined {
  try {
    return toRow(entryFromJson(json));
  } catch {
    return undefined;
  }
}
