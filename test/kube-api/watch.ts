// `?watch=1` streams: one JSON watch event per line ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}),
// replayed from a resourceVersion out of the store's history or, without one, starting with
// synthetic ADDED events for the current state (the API concepts "Efficient detection of
// changes" section). Objects that start or stop matching a selector turn into ADDED/DELETED.
import type { ServerResponse } from "node:http";
import { groupVersion, type ResourceDef } from "./discovery.js";
import { matchFields, matchLabels, type FieldRequirement, type LabelRequirement } from "./selectors.js";
import { gone } from "./status.js";
import type { Change, KubeObject, Store } from "./store.js";
import { toTable } from "./table.js";

export interface WatchRequest {
  def: ResourceDef;
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  resourceVersion?: string;
  /** sendInitialEvents=true (streaming lists): initial ADDED events end with an annotated BOOKMARK. */
  sendInitialEvents?: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  table: boolean;
  includeObject?: string;
}

export function matches(req: Pick<WatchRequest, "def" | "namespace" | "labels" | "fields">, o: KubeObject): boolean {
  if (req.namespace && req.def.namespaced && o.metadata.namespace !== req.namespace) return false;
  return matchLabels(req.labels, o.metadata.labels) && matchFields(req.fields, o);
}

/** Starts a watch on `res`; returns a function that ends it (used when the server closes). */
export function serveWatch(store: Store, req: WatchRequest, res: ServerResponse, bookmarkIntervalMs: number): () => void {
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache, private",
    "Transfer-Encoding": "chunked",
  });
  res.flushHeaders();
  const send = (type: string, object: unknown) => {
    const shown = req.table && type !== "BOOKMARK" && type !== "ERROR" ? toTable(req.def, [object as KubeObject], { resourceVersion: (object as KubeObject).metadata.resourceVersion }, req.includeObject) : object;
    res.write(`${JSON.stringify({ type, object: shown })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) =>
    send("BOOKMARK", {
      kind: req.def.kind,
      apiVersion: groupVersion(req.def),
      metadata: { resourceVersion: String(store.currentRv()), ...(annotations ? { annotations } : {}) },
    });
  const onChange = (c: Change) => {
    if (c.def !== req.def) return;
    const now = matches(req, c.object);
    if (c.type === "ADDED") {
      if (now) send("ADDED", c.object);
    } else if (c.type === "DELETED") {
      if (now) send("DELETED", c.object);
    } else {
      const before = c.old ? matches(req, c.old) : false;
      if (before && now) send("MODIFIED", c.object);
      else if (now) send("ADDED", c.object);
      else if (before) send("DELETED", c.object);
    }
  };

  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: () => void = () => {};
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.end();
  };

  const rv = req.resourceVersion;
  if (!rv || rv === "0" || req.sendInitialEvents) {
    for (const o of store.list(req.def, req.namespace)) if (matches(req, o)) send("ADDED", o);
    if (req.sendInitialEvents && req.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
  } else {
    const n = Number(rv);
    const replay = Number.isFinite(n) ? store.changesSince(n) : undefined;
    if (!replay) {
      send("ERROR", gone(`too old resource version: ${rv} (${store.oldestRv()})`).toStatus());
      end();
      return end;
    }
    for (const c of replay) onChange(c);
  }
  unsubscribe = store.subscribe(onChange);
  if (req.allowBookmarks) {
    const tick = () => {
      bookmark();
      timers[0] = setTimeout(tick, bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, bookmarkIntervalMs);
  }
  if (req.timeoutSeconds && req.timeoutSeconds > 0) timers[1] = setTimeout(end, req.timeoutSeconds * 1000);
  res.on("close", end);
  return end;
}
