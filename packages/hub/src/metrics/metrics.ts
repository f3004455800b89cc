// Prometheus metrics of one hub (own registry, so several hubs in one process stay apart):
// per-edge request/error counters and latency histograms, ingest counters, storage gauges.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { protocolName, summarizeEntry } from "@tapline/protocol";
import type { Entry } from "@tapline/protocol";
import { endpointNode } from "../servicemap/index.js";
import { columnIndex } from "../filter/columns.js";
import type { ColumnValue } from "../filter/columns.js";

type Labels = "src" | "dst" | "protocol";

interface EdgeChildren {
  requests: ReturnType<Counter<Labels>["labels"]>;
  errors: ReturnType<Counter<Labels>["labels"]>;
  latency: ReturnType<Histogram<Labels>["labels"]>;
}

/** Bound on distinct edges with their own series (cardinality guard). */
const MAX_EDGES = 5000;
const IS_ERROR = columnIndex("is_error");

export class HubMetrics {
  readonly registry = new Registry();
  readonly batches = new Counter({ name: "tapline_hub_ingest_batches_total", help: "Entry batches received from workers", registers: [this.registry] });
  readonly rejected = new Counter({ name: "tapline_hub_ingest_rejected_connections_total", help: "Worker connections closed for a bad or missing token", registers: [this.registry] });
  readonly badMessages = new Counter({ name: "tapline_hub_ingest_bad_messages_total", help: "Undecodable worker messages", registers: [this.registry] });
  private readonly requests = new Counter<Labels>({ name: "tapline_requests_total", help: "Entries per service map edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry] });
  private readonly errors = new Counter<Labels>({ name: "tapline_request_errors_total", help: "Error entries per edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry] });
  private readonly latency = new Histogram<Labels>({
    name: "tapline_request_duration_seconds", help: "Entry latency per edge", labelNames: ["src", "dst", "protocol"], registers: [this.registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  private readonly edges = new Map<string, EdgeChildren>();
  /** Raw endpoint fields and protocol -> edge, so the node ids are worked out once per combination. */
  private readonly byEndpoints = new Map<string, EdgeChildren>();

  constructor(sources: { counters: () => Record<string, number>; storage: () => Record<string, number> }) {
    const registry = this.registry;
    new Gauge({
      name: "tapline_hub_ingest_entries", help: "Ingest counters since start (entries stored, duplicates, redacted, invalid)", labelNames: ["kind"], registers: [registry],
      collect() { for (const [k, v] of Object.entries(sources.counters())) this.set({ kind: k }, v); },
    });
    new Gauge({
      name: "tapline_hub_storage", help: "Storage gauges (bytes used/on disk/limit, entries, evicted)", labelNames: ["kind"], registers: [registry],
      collect() { for (const [k, v] of Object.entries(sources.storage())) this.set({ kind: k }, v); },
    });
  }

  /**
   * Per batch: edges are found by their raw endpoint fields; counters move once per edge.
   * `columns` (the stored column values, index for index) spares working out isError again.
   */
  observe(entries: Entry[], columns?: ColumnValue[][]): void {
    const touched = new Map<EdgeChildren, { requests: number; errors: number }>();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const s = e.src;
      const d = e.dst;
      const raw = `${s?.ip ?? ""}\u0000${s?.pod ?? ""}\u0000${s?.namespace ?? ""}\u0000${s?.service ?? ""}\u0000${d?.ip ?? ""}\u0000${d?.pod ?? ""}\u0000${d?.namespace ?? ""}\u0000${d?.service ?? ""}\u0000${e.protocol ?? 0}`;
      let c = this.byEndpoints.get(raw);
      if (!c) {
        c = this.edge(e);
        if (!c) continue;
        // Bounded like the edges: many raw combinations may share an edge.
        if (this.byEndpoints.size >= MAX_EDGES * 4) this.byEndpoints.clear();
        this.byEndpoints.set(raw, c);
      }
      let t = touched.get(c);
      if (!t) touched.set(c, (t = { requests: 0, errors: 0 }));
      t.requests++;
      if (columns ? columns[i][IS_ERROR] === 1 : summarizeEntry(e).isError) t.errors++;
      c.latency.observe((e.elapsedMs ?? 0) / 1000);
    }
    for (const [c, t] of touched) {
      c.requests.inc(t.requests);
      if (t.errors) c.errors.inc(t.errors);
    }
  }

  private edge(e: Entry): EdgeChildren | undefined {
    const src = endpointNode({ ip: e.src?.ip ?? "", pod: e.src?.pod ?? "", namespace: e.src?.namespace ?? "", service: e.src?.service ?? "" }).id!;
    const dst = endpointNode({ ip: e.dst?.ip ?? "", pod: e.dst?.pod ?? "", namespace: e.dst?.namespace ?? "", service: e.dst?.service ?? "" }).id!;
    const protocol = protocolName(e.protocol);
    const key = `${src}\u0000${dst}\u0000${protocol}`;
    let c = this.edges.get(key);
    if (!c) {
      if (this.edges.size >= MAX_EDGES) return undefined;
      const labels = { src, dst, protocol };
      c = { requests: this.requests.labels(labels), errors: this.errors.labels(labels), latency: this.latency.labels(labels) };
      this.edges.set(key, c);
    }
    return c;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
