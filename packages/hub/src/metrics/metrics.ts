// Prometheus metrics of one hub (own registry, so several hubs in one process stay apart):
// per-edge request/error counters and latency histograms, ingest counters, storage gauges.
import { Counter, Gauge, Registry } from "prom-client";
import type { Metric } from "prom-client";
import { protocolName, summarizeEntry } from "@tapline/protocol";
import type { Entry } from "@tapline/protocol";
import { endpointNode } from "../servicemap/index.js";
import { columnIndex } from "../filter/columns.js";
import type { ColumnValue } from "../filter/columns.js";

type Labels = "src" | "dst" | "protocol";
type EdgeLabels = Record<Labels, string>;
/** A sample as prom-client's metrics return them from get() (metricName: a histogram's _bucket, _sum, _count). */
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Bound on distinct edges with their own series (cardinality guard). */
const MAX_EDGES = 5000;
const IS_ERROR = columnIndex("is_error");
/** Upper bounds (seconds) of tapline_request_duration_seconds. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One edge's series, counted here rather than through prom-client's children: a child's
 * observe() hashes its labels and looks its bucket up by a float-keyed property on every call,
 * which cost about 1 µs per entry at ingest (bench/hub). The values are read at scrape time.
 */
class EdgeSeries {
  requests = 0;
  errors = 0;
  /** Latency observations per bucket (not cumulative); beyond the last bound only in count. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  sum = 0;
  count = 0;
  /** The observe() call that last saw this edge, and the index of its first entry there. */
  batch = -1;
  firstIndex = 0;
  constructor(readonly labels: EdgeLabels) {}
}

/** One combination of raw endpoint fields seen at ingest, and its edge. */
interface RawEndpoints {
  srcIp: string; srcPod: string; srcNs: string; srcSvc: string;
  dstIp: string; dstPod: string; dstNs: string; dstSvc: string;
  protocol: number;
  series: EdgeSeries;
  /** Another combination with the same hash. */
  next: RawEndpoints | undefined;
}

/** FNV-1a over a string's UTF-16 units, then a separator so that ("ab", "") and ("a", "b") differ. */
function hashText(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ 0x10000, 0x01000193);
}

/**
 * A metric family read from the edges at scrape time, in prom-client's shape: its registry
 * formats it exactly as it formats a Counter's or Histogram's values (series in the order they
 * were first counted, histogram buckets cumulative with le first, then +Inf, _sum, _count).
 */
class EdgeFamily {
  readonly aggregator = "sum" as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram",
    private readonly values: () => Sample[],
  ) {}

  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator });
  }

  /** Registry.resetMetrics(): the series are the hub's own state, kept. */
  reset(): void {}
}

export class HubMetrics {
  readonly registry = new Registry();
  readonly batches = new Counter({ name: "tapline_hub_ingest_batches_total", help: "Entry batches received from workers", registers: [this.registry] });
  readonly rejected = new Counter({ name: "tapline_hub_ingest_rejected_connections_total", help: "Worker connections closed for a bad or missing token", registers: [this.registry] });
  readonly badMessages = new Counter({ name: "tapline_hub_ingest_bad_messages_total", help: "Undecodable worker messages", registers: [this.registry] });
  /** Edges in the order their series were created (prom-client's order: first counted). */
  private readonly edges = new Map<string, EdgeSeries>();
  /**
   * Edges with errors, in the order prom-client created their series when the counters were
   * moved once per batch: by batch, then by the edge's first entry in that batch.
   */
  private readonly erring: EdgeSeries[] = [];
  private readonly newlyErring: EdgeSeries[] = [];
  private batchNo = 0;
  /**
   * Raw endpoint fields and protocol -> edge, so the node ids are worked out once per combination.
   * Keyed by a hash of the fields (chained on collision): a joined 9-part key string cost a
   * concatenation and a flattened copy per entry (observe 0.34 -> 0.13 µs per entry, bench entries, min of 60 runs).
   */
  private readonly byEndpoints = new Map<number, RawEndpoints>();
  private rawKeys = 0;

  constructor(sources: { counters: () => Record<string, number>; storage: () => Record<string, number> }) {
    const registry = this.registry;
    const families = [
      new EdgeFamily("tapline_requests_total", "Entries per service map edge", "counter", () => [...this.edges.values()].map((s) => ({ labels: s.labels, value: s.requests }))),
      new EdgeFamily("tapline_request_errors_total", "Error entries per edge", "counter", () => this.erring.map((s) => ({ labels: s.labels, value: s.errors }))),
      new EdgeFamily("tapline_request_duration_seconds", "Entry latency per edge", "histogram", () => this.latencyValues()),
    ];
    // Duck-typed like prom-client's own metrics: the registry reads name, help, type and get().
    for (const f of families) registry.registerMetric(f as unknown as Metric);
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
   * Per batch: edges are found by their raw endpoint fields. `columns` (the stored column values,
   * index for index) spares working out isError again.
   */
  observe(entries: Entry[], columns?: ColumnValue[][]): void {
    const batch = this.batchNo++;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const s = e.src;
      const d = e.dst;
      const srcIp = s?.ip ?? "", srcPod = s?.pod ?? "", srcNs = s?.namespace ?? "", srcSvc = s?.service ?? "";
      const dstIp = d?.ip ?? "", dstPod = d?.pod ?? "", dstNs = d?.namespace ?? "", dstSvc = d?.service ?? "";
      const protocol = e.protocol ?? 0;
      let h = hashText(hashText(hashText(hashText(0x811c9dc5 ^ protocol, srcIp), srcPod), srcNs), srcSvc);
      h = hashText(hashText(hashText(hashText(h, dstIp), dstPod), dstNs), dstSvc);
      let k = this.byEndpoints.get(h);
      while (k && !(k.srcIp === srcIp && k.srcPod === srcPod && k.srcNs === srcNs && k.srcSvc === srcSvc
        && k.dstIp === dstIp && k.dstPod === dstPod && k.dstNs === dstNs && k.dstSvc === dstSvc && k.protocol === protocol)) k = k.next;
      let c = k?.series;
      if (!c) {
        c = this.edge(e);
        if (!c) continue;
        // Bounded like the edges: many raw combinations may share an edge.
        if (this.rawKeys >= MAX_EDGES * 4) {
          this.byEndpoints.clear();
          this.rawKeys = 0;
        }
        this.byEndpoints.set(h, { srcIp, srcPod, srcNs, srcSvc, dstIp, dstPod, dstNs, dstSvc, protocol, series: c, next: this.byEndpoints.get(h) });
        this.rawKeys++;
      }
      if (c.batch !== batch) {
        c.batch = batch;
        c.firstIndex = i;
      }
      c.requests++;
      if (columns ? columns[i][IS_ERROR] === 1 : summarizeEntry(e).isError) {
        if (c.errors++ === 0) this.newlyErring.push(c);
      }
      const seconds = (e.elapsedMs ?? 0) / 1000;
      // A worker may send any double; prom-client would throw on a non-finite one.
      if (!Number.isFinite(seconds)) continue;
      let b = 0;
      while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
      if (b < LATENCY_BUCKETS.length) c.buckets[b]++;
      c.sum += seconds;
      c.count++;
    }
    if (this.newlyErring.length > 0) {
      this.newlyErring.sort((a, b) => a.firstIndex - b.firstIndex);
      for (const c of this.newlyErring) this.erring.push(c);
      this.newlyErring.length = 0;
    }
  }

  private edge(e: Entry): EdgeSeries | undefined {
    const src = endpointNode({ ip: e.src?.ip ?? "", pod: e.src?.pod ?? "", namespace: e.src?.namespace ?? "", service: e.src?.service ?? "" }).id!;
    const dst = endpointNode({ ip: e.dst?.ip ?? "", pod: e.dst?.pod ?? "", namespace: e.dst?.namespace ?? "", service: e.dst?.service ?? "" }).id!;
    const protocol = protocolName(e.protocol);
    const key = `${src}\u0000${dst}\u0000${protocol}`;
    let c = this.edges.get(key);
    if (!c) {
      if (this.edges.size >= MAX_EDGES) return undefined;
      c = new EdgeSeries({ src, dst, protocol });
      this.edges.set(key, c);
    }
    return c;
  }

  /** The histogram's values as prom-client lays them out (Histogram.get()). */
  private latencyValues(): Sample[] {
    const name = "tapline_request_duration_seconds";
    const out: Sample[] = [];
    for (const s of this.edges.values()) {
      if (s.count === 0) continue; // prom-client creates a series at its first observation
      let acc = 0;
      for (let b = 0; b < LATENCY_BUCKETS.length; b++) {
        acc += s.buckets[b];
        out.push({ labels: { le: LATENCY_BUCKETS[b], ...s.labels }, value: acc, metricName: `${name}_bucket` });
      }
      out.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${name}_bucket` });
      out.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
      out.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
    }
    return out;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
