// The hub's HTTP and websocket API, as the UI uses it.
import { ServiceMap, parseProtocolName, type WorkerStats } from "@tapline/protocol";
import { rowFromJson } from "../model/entryRow.js";
import type { EntryRow } from "../model/entryRow.js";

export class FilterError extends Error {
  constructor(message: string, readonly position: number | undefined) {
    super(message);
  }
}

export interface EntriesPage {
  rows: EntryRow[];
  /** Cursor for the next (older) page, undefined at the end. */
  before?: string;
}

async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const message = typeof body.error === "string" ? body.error : typeof body.message === "string" ? body.message : `${res.status} ${res.statusText}`;
    if (res.status === 400) throw new FilterError(message, typeof body.position === "number" ? body.position : undefined);
    throw new Error(message);
  }
  return body;
}

function entriesOf(body: unknown): Record<string, unknown>[] {
  if (Array.isArray(body)) return body as Record<string, unknown>[];
  const list = (body as { entries?: unknown }).entries;
  return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
}

export async function fetchEntries(filter: string, limit: number, before?: string, signal?: AbortSignal): Promise<EntriesPage> {
  const q = new URLSearchParams({ filter, limit: String(limit) });
  if (before) q.set("before", before);
  const body = await getJson(`/api/entries?${q}`, signal);
  const rows = entriesOf(body).map(rowFromJson).filter((r): r is EntryRow => !!r);
  const next = (body as { before?: unknown; next?: unknown; nextBefore?: unknown }).next ?? (body as { nextBefore?: unknown }).nextBefore;
  return { rows, before: next != null && next !== "" ? String(next) : undefined };
}

export async function fetchEntry(id: string): Promise<EntryRow | undefined> {
  const body = (await getJson(`/api/entries/${encodeURIComponent(id)}`)) as Record<string, unknown>;
  return rowFromJson((body.entry as Record<string, unknown>) ?? body);
}

export async function fetchServiceMap(filter: string, signal?: AbortSignal): Promise<ServiceMap> {
  const q = new URLSearchParams();
  if (filter) q.set("filter", filter);
  const body = (await getJson(`/api/servicemap?${q}`, signal)) as { nodes?: unknown[]; edges?: Record<string, unknown>[] };
  // The hub names edge protocols as filters do ("http"); the schema's enum wants HTTP.
  const edges = (body.edges ?? []).map((e) => ({ ...e, protocol: typeof e.protocol === "string" ? parseProtocolName(e.protocol) ?? 0 : e.protocol }));
  return ServiceMap.fromObject({ nodes: body.nodes ?? [], edges });
}

/** WorkerStats' supervision counters (fields 17-21), 0 when a worker never reported them. */
const SUPERVISION = ["sidecarRestarts", "captureGapMs", "threadRestarts", "threadFlowsLost", "threadPacketsLost"] as const satisfies readonly (keyof WorkerStats)[];
type SupervisionCounters = Record<(typeof SUPERVISION)[number], number>;

export interface WorkerStatus extends SupervisionCounters {
  workerId: string;
  node: string;
  connected: boolean;
  packetsSeen: number;
  packetsDropped: number;
  flowsActive: number;
  entriesSent: number;
  captureState: string;
  /** Per-process TLS hooking status (WorkerStats.tls_targets), empty without --tls. */
  tlsTargets: TlsTargetStatus[];
  /** The dissectors new flows are detected with. */
  dissectorsEnabled: string[];
  /** Configuration the worker ignored (e.g. an unknown dissector name). */
  warnings: string[];
}

/** One WorkerStats.tls_targets row as the hub's JSON gives it; state: "hooked", "no symbols", "error: …", "unavailable: …". */
export type TlsTargetStatus = { [K in Exclude<keyof WorkerStats["tlsTargets"][number], "$unknowns">]-?: NonNullable<WorkerStats["tlsTargets"][number][K]> };

export async function fetchWorkers(): Promise<WorkerStatus[]> {
  const body = await getJson("/api/workers");
  const list = Array.isArray(body) ? body : ((body as { workers?: unknown[] }).workers ?? []);
  return (list as Record<string, unknown>[]).map((w) => {
    const stats = (w.stats as Record<string, unknown> | undefined) ?? w;
    const num = (k: string) => Number(stats[k] ?? 0);
    return {
      workerId: String(w.id ?? w.workerId ?? ""),
      node: String(w.node ?? stats.node ?? ""),
      connected: w.state === undefined ? w.connected !== false : w.state === "connected",
      packetsSeen: num("packetsSeen"),
      packetsDropped: num("packetsDropped"),
      flowsActive: num("flowsActive"),
      entriesSent: num("entriesSent"),
      captureState: String(stats.captureState ?? ""),
      ...(Object.fromEntries(SUPERVISION.map((k) => [k, num(k)])) as SupervisionCounters),
      dissectorsEnabled: strings(stats.dissectorsEnabled),
      warnings: strings(stats.warnings),
      tlsTargets: (Array.isArray(stats.tlsTargets) ? (stats.tlsTargets as Record<string, unknown>[]) : []).map((t) => ({
        pid: Number(t.pid ?? 0),
        process: String(t.process ?? ""),
        library: String(t.library ?? ""),
        state: String(t.state ?? ""),
        bytes: Number(t.bytes ?? 0),
        pod: String(t.pod ?? ""),
        namespace: String(t.namespace ?? ""),
      })),
    };
  });
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

/** Validates a filter with the hub's parser (a zero-row query); resolves to the error or undefined. */
export async function checkFilter(filter: string, signal?: AbortSignal): Promise<FilterError | undefined> {
  try {
    await getJson(`/api/entries?${new URLSearchParams({ filter, limit: "1" })}`, signal);
    return undefined;
  } catch (e) {
    if (e instanceof FilterError) return e;
    return undefined;
  }
}

export function downloadUrl(kind: "pcap" | "har", filter: string): string {
  const q = new URLSearchParams();
  if (filter) q.set("filter", filter);
  return `/api/${kind}?${q}`;
}

export interface StreamHandlers {
  onRows(rows: EntryRow[]): void;
  onGap(dropped: number): void;
  onError(message: string, position?: number): void;
  onState(connected: boolean): void;
}

/** Live entries over /api/stream; reconnects with backoff until `close()`. */
export function openStream(filter: string, handlers: StreamHandlers): { close(): void } {
  let closed = false;
  let ws: WebSocket | undefined;
  let delay = 500;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/api/stream?${new URLSearchParams({ filter })}`);
    ws.onopen = () => {
      delay = 500;
      handlers.onState(true);
    };
    ws.onmessage = (ev) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(ev.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (msg.type === "gap") handlers.onGap(Number(msg.dropped ?? 0));
      else if (msg.type === "error") handlers.onError(String(msg.error ?? msg.message ?? "error"), typeof msg.position === "number" ? msg.position : undefined);
      else {
        const rows = entriesOf(msg.entries ?? (msg.entry ? [msg.entry] : msg)).map(rowFromJson).filter((r): r is EntryRow => !!r);
        if (rows.length) handlers.onRows(rows);
      }
    };
    ws.onclose = () => {
      handlers.onState(false);
      if (!closed) timer = setTimeout(connect, (delay = Math.min(delay * 2, 10_000)));
    };
  };
  connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    },
  };
}
