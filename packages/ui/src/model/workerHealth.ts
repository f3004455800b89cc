// The supervision part of the worker panel: what a worker lost or restarted, in words a user
// acts on (a gap means traffic was not captured; lost flows mean missing entries).
import type { WorkerStatus } from "../api/client.js";
import { formatElapsed } from "./format.js";

export interface WorkerHealth {
  /** Short phrases for the status bar, empty when nothing was lost or restarted. */
  problems: string[];
  /** Label/value pairs for the details table, every field present (zeros included). */
  fields: Array<[label: string, value: string]>;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

export function workerHealth(w: WorkerStatus): WorkerHealth {
  const problems: string[] = [];
  if (w.sidecarRestarts) problems.push(`capture restarted ${w.sidecarRestarts}×`);
  if (w.captureGapMs) problems.push(`capture gap ${formatElapsed(w.captureGapMs)}`);
  if (w.threadRestarts) problems.push(`${plural(w.threadRestarts, "thread restart")}`);
  if (w.threadPacketsLost || w.threadFlowsLost) problems.push(`lost ${plural(w.threadPacketsLost, "packet")}, ${plural(w.threadFlowsLost, "flow")}`);
  return {
    problems,
    fields: [
      ["capture", w.captureState || "unknown"],
      ["capture restarts", w.sidecarRestarts.toLocaleString()],
      ["capture gap", w.captureGapMs ? formatElapsed(w.captureGapMs) : "none"],
      ["thread restarts", w.threadRestarts.toLocaleString()],
      ["lost packets", w.threadPacketsLost.toLocaleString()],
      ["lost flows", w.threadFlowsLost.toLocaleString()],
      ["dissectors", w.dissectorsEnabled.length ? w.dissectorsEnabled.join(", ") : "none reported"],
    ],
  };
}
