// Merging the counters of several per-thread Pipelines into one PipelineStats.
import type { DissectorStats, PipelineStats } from "../flows/index.js";

export function mergeStats(parts: readonly PipelineStats[]): PipelineStats {
  const out = structuredClone(parts[0]);
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i];
    for (const key of Object.keys(p) as (keyof PipelineStats)[]) {
      const v = p[key];
      if (typeof v === "number") (out[key] as number) += v;
    }
    if (p.lastBug) out.lastBug = p.lastBug;
    for (const [name, d] of Object.entries(p.dissectors)) {
      const o: DissectorStats = (out.dissectors[name] ??= { messages: 0, errors: 0, bugs: 0, counters: {} });
      o.messages += d.messages;
      o.errors += d.errors;
      o.bugs += d.bugs;
      for (const [c, n] of Object.entries(d.counters)) o.counters[c] = (o.counters[c] ?? 0) + n;
    }
  }
  return out;
}
